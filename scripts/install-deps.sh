#!/usr/bin/env bash
# Installs every Debian 12 package outpost needs to build, run, test and benchmark.
# Idempotent: packages already present are left alone.
# Flags: --with-bench (wrk), --with-test-peers (promtool from the prometheus package,
# systemd-analyze from systemd for the unit's checks, and npm ci of package.json: fauxqs
# and a Node 22 binary under node_modules/, skipped when node_modules/ is up to date),
# --with-fuzzing (clang with libFuzzer, and llvm-symbolizer for readable sanitizer reports).
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libsqlite3-dev libsqlitecpp-dev libcpp-httplib-dev nlohmann-json3-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libbrotli-dev
  googletest libgtest-dev libgmock-dev
  sqlite3 curl openssl
  dpkg-dev file  # the package target: CPack runs dpkg-shlibdeps, and file to find binaries
)
with_test_peers=0
for arg in "$@"; do
  case "$arg" in
    --with-bench) packages+=(wrk) ;;
    --with-fuzzing) packages+=(clang libclang-rt-14-dev llvm-14) ;;
    --with-test-peers)
      with_test_peers=1
      packages+=(nodejs prometheus)  # prometheus: promtool checks the /metrics scrape
      packages+=(systemd)  # systemd-analyze verify / security check packaging/outpost.service
      # Debian's npm conflicts with a nodejs that bundles its own npm (NodeSource's).
      command -v npm >/dev/null || packages+=(npm)
      ;;
    *) echo "install-deps.sh: unknown flag $arg" >&2; exit 2 ;;
  esac
done
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
  # Only promtool is wanted: a Prometheus server that the package starts is stopped again.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    $sudo_cmd systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
if [ "$with_test_peers" -eq 1 ]; then
  cd "$(dirname "$0")/.."
  if [ ! -x node_modules/.bin/fauxqs ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
