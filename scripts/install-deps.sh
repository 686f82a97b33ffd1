#!/usr/bin/env bash
# Installs every Debian 12 package outpost needs to build, run, test and benchmark.
# Idempotent: packages already present are left alone.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libsqlite3-dev libsqlitecpp-dev libcpp-httplib-dev nlohmann-json3-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libbrotli-dev
  googletest libgtest-dev libgmock-dev
  sqlite3 curl
)
[ "${1:-}" = "--with-bench" ] && packages+=(wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
