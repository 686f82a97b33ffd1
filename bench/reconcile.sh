#!/usr/bin/env bash
# Reconciliation job cost: one run over 10,000 orders against a fast fake delivery service
# (every delivery unchanged; every delivery IN_TRANSIT, so every order is reconciled), and
# POST /v1/orders throughput and latency with no run in progress and with runs back to
# back. Loopback only; a few minutes. How to run it and read it: bench/README.md.
#   ORDERS=10000 CLIENTS=8 DURATION=10 WARMUP=2 bash bench/reconcile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
require_positive ORDERS CLIENTS DURATION WARMUP
bash scripts/install-deps.sh
build_bench_target outpost_reconcile
tmp_root=${TMPDIR:-/tmp}
echo "nproc $(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
# Every 201 and every run's writes wait for an fsync: on tmpfs the figures would be fiction.
echo "databases under $tmp_root ($(stat -f -c %T "$tmp_root")); set TMPDIR to measure another disk"
exec ./build-bench/bench/outpost_reconcile
