# shellcheck shell=bash disable=SC2154,SC2034  # set by the caller; results read by it
# Sourced by the bench scripts that drive a Release node over HTTP (orders.sh,
# endurance.sh): messages, /proc readings of a process, loopback ports, starting and
# stopping a node or fauxqs, wrk's BENCH line and medians. The caller sets `root` (the
# repository), `build_dir`, `binary` (the outpost executable) and `given_binary`
# (OUTPOST_BINARY: measure that binary instead of building one).

say() { printf '%s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# wrk durations ("10s", "2m", "10") in whole seconds.
seconds() {
  case $1 in
    *h) echo $((${1%h} * 3600)) ;;
    *m) echo $((${1%m} * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}

# Builds $binary (Release, no tests) in $build_dir, unless a binary was given.
build_outpost() {
  if [ -n "$given_binary" ]; then
    [ -x "$binary" ] || die "OUTPOST_BINARY is not an executable: $binary"
    say "measuring $binary (not built here)"
    return
  fi
  mkdir -p "$build_dir"
  local log=$build_dir/bench-build.log
  say "building outpost (Release) in $build_dir"
  if ! { cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=OFF &&
    cmake --build "$build_dir" -j2 --target outpost; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "the build failed (full log: $log)"
  fi
}

# ---- /proc readings ----

# A zombie still has a /proc entry, so "exists" is not enough.
alive() {
  local state
  state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# utime + stime in clock ticks; the command name may hold spaces, so cut after its ')'.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

peak_rss_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# ---- processes ----

listen_address() {
  grep '"outpost is taking orders"' "$1" | grep -o '"listen":"[^"]*"' | cut -d'"' -f4 || true
}

# A loopback port nothing answers on.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free loopback port found"
}

# Starts `$binary serve` on a free loopback port with its log in $1/node.log and the
# OUTPOST_*=value settings that follow; sets launched_pid and launched_url once it has
# logged its address and answers /livez.
launch_node() {  # $1 folder, then settings
  local dir=$1 listen="" livez deadline=$((SECONDS + 15))
  shift
  : >"$dir/node.log"
  env OUTPOST_LISTEN=127.0.0.1:0 "$@" "$binary" serve >/dev/null 2>"$dir/node.log" &
  launched_pid=$!
  until listen=$(listen_address "$dir/node.log") && [ -n "$listen" ]; do
    if ! alive "$launched_pid"; then
      cat "$dir/node.log" >&2
      die "the node exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      cat "$dir/node.log" >&2
      die "the node did not log its listen address within 15 s"
    fi
    sleep 0.1
  done
  launched_url=http://$listen
  livez=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$launched_url/livez") || true
  [ "$livez" = 200 ] || die "GET $launched_url/livez answered '$livez', not 200"
}

# SIGTERM, then SIGKILL after 10 s so the script always ends; sets stopped_status to the
# process's exit status.
stop_gracefully() {  # $1 pid
  local deadline=$((SECONDS + 10))
  stopped_status=0
  kill -TERM "$1" 2>/dev/null || true
  while alive "$1" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if alive "$1"; then kill -KILL "$1" 2>/dev/null || true; fi
  wait "$1" 2>/dev/null || stopped_status=$?
}

# fauxqs (scripts/install-deps.sh --with-test-peers) on loopback port $1 with a topic
# "events", a queue "from-topic" subscribed to it and a queue "direct"; its files in $2.
# Sets fauxqs_pid once it answers.
launch_fauxqs() {  # $1 port, $2 folder
  local port=$1 dir=$2 deadline=$((SECONDS + 20))
  cat >"$dir/init.json" <<'JSON'
{"queues": [{"name": "direct"}, {"name": "from-topic"}], "topics": [{"name": "events"}],
 "subscriptions": [{"topic": "events", "queue": "from-topic"}]}
JSON
  FAUXQS_PORT=$port FAUXQS_LOGGER=false FAUXQS_INIT="$dir/init.json" \
    "$root/node_modules/.bin/node" "$root/tests/support/fauxqs_loopback.mjs" >"$dir/fauxqs.log" 2>&1 &
  fauxqs_pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    alive "$fauxqs_pid" || { cat "$dir/fauxqs.log" >&2; die "fauxqs exited during start-up"; }
    [ "$SECONDS" -lt "$deadline" ] || die "fauxqs did not answer on port $port within 20 s"
    sleep 0.1
  done
}

# ---- wrk and figures ----

# POST /v1/orders under wrk with bench/post_order.lua (WRK_PACE_MS paces it); wrk's
# output in $4. Sets wrk_line to the line post_order.lua's done() prints.
wrk_orders() {  # $1 node url, $2 connections, $3 duration, $4 output file
  local threads=$((${THREADS:-2} < $2 ? ${THREADS:-2} : $2))
  if ! timeout "$(($(seconds "$3") + 30))" wrk -t"$threads" -c"$2" -d"$3" --latency \
    -s "$root/bench/post_order.lua" "$1/v1/orders" >"$4" 2>&1; then
    cat "$4" >&2
    die "wrk failed"
  fi
  wrk_line=$(grep '^BENCH ' "$4") || { cat "$4" >&2; die "wrk printed no BENCH line"; }
}

# One field of the line bench/post_order.lua's done() prints.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

median() {
  printf '%s\n' "$@" | awk '$1 != "-" { v[++n] = $1 } END {
    if (n == 0) { print "-"; exit }
    # awk has no sort; runs are few, so insertion sort.
    for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
    print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
