#!/usr/bin/env bash
# Hostile input under load: the node's memory while it is sent 1,000 encoding bombs and
# 1,000 deep bodies (SPEC §8). Loopback only; under a minute. bench/README.md says more.
#   EACH=500 CLIENTS=4 bash bench/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
require_positive EACH CLIENTS
bash scripts/install-deps.sh
build_bench_target outpost_hostile
exec ./build-bench/bench/outpost_hostile
