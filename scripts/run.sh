#!/usr/bin/env bash
# Installs every dependency, builds outpost, and runs `outpost serve` with its embedded
# defaults (127.0.0.1:8080, ./outpost.db). Arguments are passed to `outpost serve`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j2 --target outpost
exec "$root/build/outpost" serve "$@"
