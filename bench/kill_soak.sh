#!/usr/bin/env bash
# Kill -9 soak: clients post orders (some with an Idempotency-Key, retried with it when
# unanswered) while the node is killed with SIGKILL at random instants and restarted on the
# same file; then every acknowledged order must be in the file as it was sent, once, with one
# ORDER_CREATED (bench/kill_soak.cpp says what is checked). Loopback only; about a minute
# with the defaults after the build. bench/README.md says more.
#   CYCLES=50 CLIENTS=8 SEED=1234 bash bench/kill_soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
require_positive CYCLES CLIENTS SEED
bash scripts/install-deps.sh
build_bench_target outpost_kill_soak
exec ./build-bench/bench/outpost_kill_soak --gtest_brief=1
