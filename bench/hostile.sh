#!/usr/bin/env bash
# Hostile input under load: the node's memory while it is sent 1,000 encoding bombs and
# 1,000 deep bodies (SPEC §8). Loopback only; under a minute. bench/README.md says more.
#   EACH=500 CLIENTS=4 bash bench/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for name in EACH CLIENTS; do
  value=${!name:-1}
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "bench: $name must be a positive integer, not '$value'" >&2; exit 2; }
done
bash scripts/install-deps.sh
log=build-bench/hostile-build.log
mkdir -p build-bench
if ! { cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=ON &&
  cmake --build build-bench -j2 --target outpost outpost_hostile; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "bench: the build failed (full log: $log)" >&2
  exit 1
fi
echo "outpost $(git rev-parse --short HEAD 2>/dev/null || echo '?') (plus any uncommitted edits), Release"
exec ./build-bench/bench/outpost_hostile
