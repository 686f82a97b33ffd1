#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on) and runs each for SECONDS (default 15: the nine targets
# take about 2.5 minutes; longer runs are `bash scripts/fuzz.sh 600`), starting from the
# committed corpus. New inputs the fuzzer finds go to build-fuzz/corpus/, never into the
# repository; a crash leaves its input in build-fuzz/ and fails the run.
# Usage: bash scripts/fuzz.sh [SECONDS [TARGET...]]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
# The targets of tests/fuzz/CMakeLists.txt; each has its seed corpus in tests/fuzz/corpus/.
all_targets=(request_parser json_body query_string header_values config sns_answer sqs_answer
  product_answer delivery_answer)
targets=("${@:2}")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
bash scripts/install-deps.sh --with-fuzzing
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DOUTPOST_FUZZ=ON -DOUTPOST_TESTS=OFF >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]/#/fuzz_}"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$target"
  log="build-fuzz/fuzz_$target.log"
  echo "== fuzz: $target for ${seconds}s =="
  # -max_len keeps inputs small and fast (it cuts the large seeds; the unit test
  # FuzzCorpus runs them whole); -rss_limit_mb: growing past it means a leak or an
  # unbounded buffer.
  status=0
  (cd build-fuzz && "./tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=4096 \
    -rss_limit_mb=512 -print_final_stats=1 -artifact_prefix="./$target-" \
    "corpus/$target" "../tests/fuzz/corpus/$target") >"$log" 2>&1 || status=$?
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|peak_rss_mb)" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -60 "$log"
    echo "fuzz: $target failed (exit $status); the input is in build-fuzz/$target-*" >&2
    exit "$status"
  fi
done
