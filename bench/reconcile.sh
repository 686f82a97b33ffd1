#!/usr/bin/env bash
# Reconciliation job cost: one run over 10,000 orders against a fast fake delivery service
# (every delivery unchanged; every delivery IN_TRANSIT, so every order is reconciled), and
# POST /v1/orders throughput and latency with no run in progress and with runs back to
# back. Loopback only; a few minutes. How to run it and read it: bench/README.md.
#   ORDERS=10000 CLIENTS=8 DURATION=10 WARMUP=2 bash bench/reconcile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for name in ORDERS CLIENTS DURATION WARMUP; do
  value=${!name:-1}
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "bench: $name must be a positive integer, not '$value'" >&2; exit 2; }
done
bash scripts/install-deps.sh
# build-bench is the Release tree bench/orders.sh uses; the tests' support code is needed
# here, so OUTPOST_TESTS is on (switching it does not rebuild outpost).
log=build-bench/reconcile-build.log
mkdir -p build-bench
if ! { cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=ON &&
  cmake --build build-bench -j2 --target outpost outpost_reconcile; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "bench: the build failed (full log: $log)" >&2
  exit 1
fi
tmp_root=${TMPDIR:-/tmp}
echo "outpost $(git rev-parse --short HEAD 2>/dev/null || echo '?') (plus any uncommitted edits), Release"
echo "nproc $(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
# Every 201 and every run's writes wait for an fsync: on tmpfs the figures would be fiction.
echo "databases under $tmp_root ($(stat -f -c %T "$tmp_root")); set TMPDIR to measure another disk"
exec ./build-bench/bench/outpost_reconcile
