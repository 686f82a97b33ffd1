#!/usr/bin/env bash
# Installs the Debian package in a fresh, minimal Debian 12 root, as a new shop box would,
# and checks what SPEC §10 promises: Depends pulled from Debian, the user, the data folder,
# the conffile, a node that takes an order as user outpost, and a purge that keeps the
# database and says where. Not part of the test command (it needs root, mmdebstrap and the
# Debian mirror); run it by hand after touching packaging/:
#
#   sudo bash packaging/test-install.sh            # builds build-release/outpost_*.deb first
#   sudo bash packaging/test-install.sh FILE.deb   # or installs the package given
#
# The root has no systemd running, like a chroot where a box image is built: the postinst
# enables the unit but cannot start it, so the node is started by hand. Prints
# `install test: passed (N checks)` or the first failure; exit status 0 or 1.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-install.sh: needs root (chroot, mounts)" >&2; exit 2; }
command -v mmdebstrap >/dev/null ||
  { echo "test-install.sh: needs mmdebstrap (apt-get install -y mmdebstrap)" >&2; exit 2; }
started=$SECONDS

deb=${1:-}
if [ -z "$deb" ]; then
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=OFF >/dev/null
  cmake --build build-release -j2 --target package >/dev/null
  deb=$(ls -t build-release/outpost_*.deb | head -n1)
fi
[ -f "$deb" ] || { echo "test-install.sh: no package $deb" >&2; exit 2; }

# The same cached bookworm root as /work/shared/tools/fresh-debian (apt, CA certificates).
cache=/tmp/fresh-debian-bookworm.tar
if [ ! -s "$cache" ]; then
  mmdebstrap --quiet --format=tar --variant=apt --include=ca-certificates,git,procps bookworm "$cache.part"
  mv "$cache.part" "$cache"
fi
root=$(mktemp -d /tmp/outpost-install-root.XXXXXX)
cleanup() {
  for m in dev sys tmp; do umount -R -l "$root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
tar -xf "$cache" -C "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The certificate authorities this machine trusts beyond Debian's (a proxy on the way to the
# mirror may sign with one), as fresh-debian does.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
fi
cp "$deb" "$root/root/"

# The root shares this machine's network: the node gets a free port instead of the
# packaged 8080, which another node here may hold (OUTPOST_LISTEN overrides the key).
port=
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "test-install.sh: no free port" >&2; exit 1; }

cat >"$root/root/install-test.sh" <<'EOF'
set -euo pipefail
checks=0
ok() { checks=$((checks + 1)); }
fail() {
  echo "install test: FAILED: $*"
  exit 1
}
cd /root
deb=$(ls outpost_*.deb)
version=$(dpkg-deb -f "$deb" Version)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >apt.log 2>&1 || fail "apt-get update: $(tail -n3 apt.log)"
# Only the package: its Depends must bring every library (curl is the test's client).
apt-get install -y -qq "./$deb" >install.log 2>&1 || fail "apt-get install: $(tail -n5 install.log)"
ok
apt-get install -y -qq --no-install-recommends curl >>apt.log 2>&1 || fail "apt-get install curl"

[ "$(outpost --version)" = "outpost $version" ] || fail "outpost --version: $(outpost --version)"
ok
IFS=: read -r _ _ _ _ _ home shell <<<"$(getent passwd outpost)" || fail "no user outpost"
if [ "$home" != /var/lib/outpost ] || [ "$shell" != /usr/sbin/nologin ]; then
  fail "user outpost: home $home, shell $shell"
fi
ok
getent group outpost >/dev/null || fail "no group outpost"
ok
[ "$(stat -c '%U:%G %a' /var/lib/outpost)" = "outpost:outpost 750" ] ||
  fail "/var/lib/outpost is $(stat -c '%U:%G %a' /var/lib/outpost)"
ok
dpkg-query -W -f='${Conffiles}' outpost | grep -q '^ /etc/outpost/config.json ' ||
  fail "conffiles: $(dpkg-query -W -f='${Conffiles}' outpost)"
ok
[ -L /etc/systemd/system/multi-user.target.wants/outpost.service ] ||
  fail "the unit is not enabled (deb-systemd-helper)"
ok
# The postinst again (an existing user, an existing folder) must pass too.
apt-get install -y -qq --reinstall "./$deb" >reinstall.log 2>&1 || fail "reinstall: $(tail -n5 reinstall.log)"
ok

# As the unit runs it: user outpost, in /var/lib/outpost, with the packaged config. setpriv
# execs the node (runuser would stay as its parent), so the PID and exit status are its own.
cd /var/lib/outpost
OUTPOST_LISTEN=127.0.0.1:$PORT setpriv --reuid=outpost --regid=outpost --init-groups -- \
  /usr/bin/outpost serve --config /etc/outpost/config.json >/root/node.log 2>&1 &
node=$!
cd /root
base=http://127.0.0.1:$PORT
deadline=$((SECONDS + 30))
until curl -sf "$base/livez" >/dev/null; do
  kill -0 "$node" 2>/dev/null || fail "the node exited: $(tail -n3 node.log)"
  [ $SECONDS -lt $deadline ] || fail "no /livez within 30 s: $(tail -n3 node.log)"
  sleep 0.1
done
ok
status=$(curl -s -o order.json -w '%{http_code}' -X POST "$base/v1/orders" \
  -H 'Content-Type: application/json' \
  -d '{"customerId":"c-1","items":[{"productId":"sku-1","quantity":2}]}')
[ "$status" = 201 ] || fail "POST /v1/orders answered $status: $(cat order.json)"
ok
kill -TERM "$node"
wait "$node" || fail "the node exited $? on SIGTERM: $(tail -n3 node.log)"
ok
[ "$(stat -c %U /var/lib/outpost/outpost.db)" = outpost ] || fail "outpost.db is not outpost's"
ok

apt-get remove -y -qq outpost >remove.log 2>&1 || fail "apt-get remove: $(tail -n5 remove.log)"
[ -f /var/lib/outpost/outpost.db ] || fail "remove deleted the database"
ok
apt-get purge -y outpost >purge.log 2>&1 || fail "apt-get purge: $(tail -n5 purge.log)"
[ -f /var/lib/outpost/outpost.db ] || fail "purge deleted the database"
ok
grep -q 'outpost: your data stays in /var/lib/outpost' purge.log ||
  fail "purge did not say where the data stays: $(cat purge.log)"
ok
state=$(dpkg-query -W -f='${db:Status-Status}' outpost 2>/dev/null || true)
if [ -e /etc/outpost/config.json ] || { [ -n "$state" ] && [ "$state" != not-installed ]; }; then
  fail "purge left the package ($state) or its conffile"
fi
ok
echo "install test: passed ($checks checks)"
EOF

mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
status=0
unshare --pid --fork --mount-proc="$root/proc" chroot "$root" /usr/bin/env -i HOME=/root \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
  PORT="$port" bash /root/install-test.sh || status=$?
echo "test-install.sh: $(basename "$deb") in $((SECONDS - started)) s"
exit "$status"
