# Sourced by the bench scripts that drive the real binary with the tests' support code.

# Each named variable, when set, must be a positive integer (exit 2 otherwise).
require_positive() {
  local name value
  for name in "$@"; do
    value=${!name:-1}
    [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "bench: $name must be a positive integer, not '$value'" >&2; exit 2; }
  done
}

# Builds outpost and the bench target $1 in build-bench, the Release tree bench/orders.sh
# uses (OUTPOST_TESTS on for the support code; switching it does not rebuild outpost), with
# the output in build-bench/$1-build.log; on failure prints its end and exits 1. Then says
# what is measured.
build_bench_target() {
  local target=$1 log=build-bench/$1-build.log
  mkdir -p build-bench
  if ! { cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=ON &&
    cmake --build build-bench -j2 --target outpost "$target"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "bench: the build failed (full log: $log)" >&2
    exit 1
  fi
  echo "outpost $(git rev-parse --short HEAD 2>/dev/null || echo '?') (plus any uncommitted edits), Release"
}
