#!/usr/bin/env bash
# Time from "delivery service back" to "all 100 queued orders have a delivery id", with the
# default configuration and with a short backoff. Loopback only; about two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target outpost outpost_delivery_recovery
./build/bench/outpost_delivery_recovery
