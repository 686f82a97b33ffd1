#!/usr/bin/env bash
# Installs every dependency, checks the layering of src/, builds outpost, and runs all
# tests twice: in a normal build and under AddressSanitizer + UndefinedBehaviorSanitizer.
# First it compiles the Release build that bench/orders.sh measures (-O3 brings warnings
# of its own); last it runs each libFuzzer target for FUZZ_SECONDS (default 15, about
# 2.5 minutes for the nine; scripts/fuzz.sh). Longer runs: `bash scripts/fuzz.sh 600`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-test-peers --with-fuzzing

run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j2
  (cd "$dir" && ctest --output-on-failure -j2 --timeout 600)
}

echo "== layers: every include of src/ points down (scripts/check-layers.sh) =="
bash scripts/check-layers.sh
echo "== build: Release, as bench/orders.sh builds it =="
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=OFF >/dev/null
cmake --build build-release -j2 --target outpost
echo "== tests: normal build =="
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_SANITIZE=ON
echo "== fuzzing: libFuzzer targets of tests/fuzz =="
bash scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
