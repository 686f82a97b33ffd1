#!/usr/bin/env bash
# Fault soak: orders and cancels under load while the delivery service, the product service
# and SQS (fauxqs) change faults at random and the node is killed with SIGKILL; then every
# fault is cleared and everything must converge (bench/fault_soak.cpp says what is checked).
# Loopback only; SOAK_SECONDS per seed plus the time to converge. bench/README.md says more.
#   SEEDS="1 2 3" SOAK_SECONDS=120 CLIENTS=4 KILLS=2 bash bench/fault_soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
. bench/common.sh
require_positive SOAK_SECONDS CLIENTS
[[ ${KILLS:-2} =~ ^[0-9]+$ ]] || { echo "bench: KILLS must be a whole number, not '$KILLS'" >&2; exit 2; }
for seed in $SEEDS; do
  [[ $seed =~ ^[1-9][0-9]*$ ]] || { echo "bench: each of SEEDS must be a positive integer, not '$seed'" >&2; exit 2; }
done
bash scripts/install-deps.sh --with-test-peers
build_bench_target outpost_fault_soak
status=0
for seed in $SEEDS; do
  SEED=$seed ./build-bench/bench/outpost_fault_soak --gtest_brief=1 || status=1
done
exit $status
