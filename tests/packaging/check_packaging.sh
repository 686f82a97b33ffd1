#!/usr/bin/env bash
# Checks the Debian package and its systemd unit (SPEC §10). Run by CTest (tests/CMakeLists.txt):
#   check_packaging.sh unit-verify   OUTPOST_BINARY   systemd-analyze verify finds nothing to say
#   check_packaging.sh unit-security OUTPOST_BINARY   the unit's exposure is 2.0 or lower
#   check_packaging.sh deb BUILD_DIR OUTPOST_BINARY   the package's files, modes, scripts, Depends
# A missing tool is a failure, never a skip: scripts/install-deps.sh --with-test-peers
# installs systemd (systemd-analyze), dpkg-dev (dpkg-shlibdeps) and file.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
unit=$source_dir/packaging/outpost.service
max_exposure=2.0
checks=0

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { checks=$((checks + 1)); }
need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null ||
      fail "needs $tool (bash scripts/install-deps.sh --with-test-peers installs it)"
  done
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# verify wants ExecStart's binary to exist, so it reads a copy that runs the built one.
check_unit_verify() {
  local binary=$1
  need systemd-analyze
  sed "s|/usr/bin/outpost|$binary|g" "$unit" >"$scratch/outpost.service"
  local said
  said=$(systemd-analyze verify "$scratch/outpost.service" 2>&1) ||
    fail "systemd-analyze verify failed: $said"
  # An unknown key or a bad value is only a warning (exit 0): any word from it fails.
  [ -z "$said" ] || fail "systemd-analyze verify complains: $said"
  pass
  echo "unit checks: passed ($checks checks; systemd-analyze verify has nothing to say)"
}

check_unit_security() {
  need systemd-analyze
  local report level
  report=$(systemd-analyze security --offline=true "$unit" 2>&1) ||
    fail "systemd-analyze security failed: $report"
  level=$(sed -n 's/.*Overall exposure level for outpost.service: \([0-9.]*\).*/\1/p' <<<"$report")
  [ -n "$level" ] || fail "no 'Overall exposure level' line in: $report"
  pass
  awk -v level="$level" -v max="$max_exposure" 'BEGIN { exit !(level <= max) }' ||
    fail "exposure $level is above $max_exposure: $(grep '✗' <<<"$report")"
  pass
  echo "unit checks: passed ($checks checks; $(grep 'Overall exposure level' <<<"$report"))"
}

# The files, owners and modes dpkg-deb -c lists, as "mode owner path" lines.
deb_listing() { dpkg-deb -c "$1" | awk '{ print $1, $2, $6 }' | sort; }

check_deb() {
  local build=$1 binary=$2
  need cpack dpkg-deb dpkg-shlibdeps file
  cpack -G DEB --config "$build/CPackConfig.cmake" -B "$scratch/out" >"$scratch/cpack.log" 2>&1 ||
    fail "cpack failed: $(cat "$scratch/cpack.log")"
  local debs=("$scratch"/out/*.deb)
  if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then fail "cpack made ${debs[*]}, not one .deb"; fi
  local deb=${debs[0]} version
  version=$(dpkg-deb -f "$deb" Version)
  [ "$("$binary" --version)" = "outpost $version" ] ||
    fail "outpost --version says '$("$binary" --version)', the package $version"
  pass
  [ "$(basename "$deb")" = "outpost_${version}_$(dpkg --print-architecture).deb" ] ||
    fail "package file is named $(basename "$deb")"
  pass

  local expected
  expected=$(sort <<'EOF'
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/outpost/
-rw-r--r-- root/root ./etc/outpost/config.json
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/outpost.service
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/outpost
EOF
  )
  [ "$(deb_listing "$deb")" = "$expected" ] ||
    fail "package files differ from SPEC §10 (- expected, + found):
$(diff <(echo "$expected") <(deb_listing "$deb") || true)"
  pass

  dpkg-deb -x "$deb" "$scratch/root"
  cmp -s "$scratch/root/lib/systemd/system/outpost.service" "$unit" ||
    fail "the packaged unit is not packaging/outpost.service"
  pass
  file "$scratch/root/usr/bin/outpost" | grep -q ', stripped' || fail "/usr/bin/outpost is not stripped"
  pass
  local config=$scratch/root/etc/outpost/config.json
  grep -q '"listen": "127.0.0.1:8080"' "$config" || fail "config.json does not listen on loopback"
  pass
  grep -q '"database": "/var/lib/outpost/outpost.db"' "$config" ||
    fail "config.json keeps the database elsewhere than /var/lib/outpost/outpost.db"
  pass
  # The binary takes the file (the database moved to the scratch folder by the environment).
  OUTPOST_DATABASE="$scratch/outpost.db" "$binary" migrate --config "$config" >"$scratch/migrate.log" 2>&1 ||
    fail "outpost migrate refuses the packaged config: $(cat "$scratch/migrate.log")"
  pass

  local depends
  depends=$(dpkg-deb -f "$deb" Depends)
  for package in adduser libsqlite3-0 libcurl4 libssl3; do
    grep -Eq "(^|, )$package( |,|$)" <<<"$depends" || fail "Depends lacks $package: '$depends'"
    pass
  done

  dpkg-deb -e "$deb" "$scratch/control"
  [ "$(cat "$scratch/control/conffiles")" = /etc/outpost/config.json ] ||
    fail "conffiles is '$(cat "$scratch/control/conffiles")'"
  pass
  for script in postinst prerm postrm; do
    local path=$scratch/control/$script
    [ "$(stat -c %a "$path")" = 755 ] || fail "$script has mode $(stat -c %a "$path")"
    [ "$(head -n1 "$path")" = '#!/bin/sh' ] || fail "$script does not start with #!/bin/sh"
    grep -qx 'set -e' "$path" || fail "$script has no 'set -e' line"
    sh -n "$path" || fail "$script: sh -n finds a syntax error"
    pass
  done
  grep -q 'adduser --system --group --home /var/lib/outpost --no-create-home --quiet outpost' \
    "$scratch/control/postinst" || fail "postinst does not create the system user outpost"
  pass
  # shellcheck disable=SC2016 # the script's own $data, as written
  if grep -Eq 'rm .*(/var/lib/outpost|\$data)' "$scratch/control/postrm"; then
    fail "postrm deletes the data folder"
  fi
  pass
  echo "package checks: passed ($checks checks; $(basename "$deb"), Depends: $depends)"
}

case "${1:-}" in
  unit-verify) check_unit_verify "${2:?OUTPOST_BINARY}" ;;
  unit-security) check_unit_security ;;
  deb) check_deb "${2:?BUILD_DIR}" "${3:?OUTPOST_BINARY}" ;;
  *) fail "usage: check_packaging.sh unit-verify|unit-security|deb ..." ;;
esac
