#!/usr/bin/env bash
# Outbox relay throughput: a 10,000-event backlog drained to the fauxqs emulator, in five
# configurations (queue, topic, both, 4 events per order, no batching). Loopback only;
# about a minute. Prints events/s, drain time and each process's CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-test-peers
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target outpost outpost_relay_drain
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores"
./build/bench/outpost_relay_drain
