#!/usr/bin/env bash
# Load benchmark of POST /v1/orders: wrk against a fresh Release node per connection
# count, with a fresh-connection probe beside it. How to run it and read it: bench/README.md.
#   CONNECTIONS="8 64" RUNS=3 DURATION=10s WARMUP=3s THREADS=2 WITH_RELAY=0 bash bench/orders.sh
#   OUTPOST_BINARY=/path/to/outpost bash bench/orders.sh   (measure a given binary)
set -euo pipefail
export LC_NUMERIC=C  # awk and printf must write decimal points whatever the locale

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/node_lib.sh
. "$here/node_lib.sh"
build_dir=$root/build-bench
# OUTPOST_BINARY: measure that binary instead of building one (an A/B of two commits).
given_binary=${OUTPOST_BINARY:-}  # read now: the OUTPOST_* settings are cleared for the node
binary=${given_binary:-$build_dir/outpost}

CONNECTIONS=${CONNECTIONS:-"8 64"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
THREADS=${THREADS:-2}
WITH_RELAY=${WITH_RELAY:-0}  # 1: the node forwards every event to a local fauxqs (SNS + SQS)

order='{"customerId":"bench","items":[{"productId":"sku-1","quantity":1,"unitPriceCents":250}]}'

# Connection counts without goals are measured but not judged.
declare -A goal_ops=([8]=3000 [64]=4000)
declare -A goal_p99_ms=([8]=10 [64]=40)
declare -A goal_rss_mib=([8]=32 [64]=32)

# Per connection count: the figures of every measured run, space-separated.
declare -A ops_runs=() p50_runs=() p99_runs=() cpu_runs=() probe_runs=() peak_rss=()
declare -A invalid=()  # connection counts with a failure: their figures are not judged

failures=()  # real errors: any of them makes the whole benchmark invalid (exit status 1)
temp_dirs=()
conns="" node_pid="" node_status="" node_dir="" node_url="" probe_pid="" probe_stop="" wrk_line=""
clk_tck=""
fauxqs_pid="" relay_env=()
created=0  # orders answered 201 by the current node

fail() {
  failures+=("$*")
  [ -z "$conns" ] || invalid[$conns]=1
  printf '!!!!! FAILED: %s\n' "$*"
}

check_settings() {
  local c
  [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
  [[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, not '$THREADS'"
  [[ $(seconds "$DURATION") =~ ^[1-9][0-9]*$ ]] || die "DURATION must look like 10s, not '$DURATION'"
  [[ $(seconds "$WARMUP") =~ ^[1-9][0-9]*$ ]] || die "WARMUP must look like 3s, not '$WARMUP'"
  [ -n "$CONNECTIONS" ] || die "CONNECTIONS is empty"
  [[ $WITH_RELAY =~ ^[01]$ ]] || die "WITH_RELAY must be 0 or 1, not '$WITH_RELAY'"
  for c in $CONNECTIONS; do
    [[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be positive integers, not '$c'"
  done
}

# fauxqs with a topic, a queue subscribed to it and a direct queue; the node is pointed
# at the topic and the direct queue.
start_fauxqs() {
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench-fauxqs.XXXXXX")
  temp_dirs+=("$dir")
  port=$(free_port)
  launch_fauxqs "$port" "$dir"
  relay_env=(OUTPOST_EVENTS_ENDPOINT_URL="http://127.0.0.1:$port"
    OUTPOST_EVENTS_SNS_TOPIC_ARN=arn:aws:sns:us-east-1:000000000000:events
    OUTPOST_EVENTS_SQS_QUEUE_URL="http://127.0.0.1:$port/000000000000/direct")
  say "relay on: every event goes to fauxqs (pid $fauxqs_pid, port $port): SNS topic + SQS queue"
}

# With the relay on: how far behind it was when the node stopped.
report_outbox() {  # $1 label
  [ "$WITH_RELAY" = 1 ] || return 0
  command -v sqlite3 >/dev/null || return 0
  local pending total
  pending=$(sqlite3 "$node_dir/outpost.db" "SELECT count(*) FROM outbox_events WHERE status = 'PENDING';")
  total=$(sqlite3 "$node_dir/outpost.db" 'SELECT count(*) FROM outbox_events;')
  say "  outbox when the node stopped: $((total - pending)) of $total events sent, $pending PENDING"
  [ "$(sqlite3 "$node_dir/outpost.db" "SELECT count(*) FROM outbox_events WHERE status = 'FAILED';")" = 0 ] ||
    fail "$1: events FAILED"
}

start_node() {
  node_dir=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench.XXXXXX")
  temp_dirs+=("$node_dir")
  launch_node "$node_dir" "${relay_env[@]}" OUTPOST_DATABASE="$node_dir/outpost.db" OUTPOST_NODE_ID=bench
  node_pid=$launched_pid
  node_url=$launched_url
}

# Sets node_status to the node's exit status.
stop_node() {
  local pid=$node_pid
  node_pid=""
  stop_gracefully "$pid"
  node_status=$stopped_status
}

require_node_alive() {
  if ! alive "$node_pid"; then
    tail -n 20 "$node_dir/node.log" >&2
    die "the node died during the benchmark"
  fi
}

# ---- the fresh-connection probe ----

# A request queued behind busy keep-alive connections never shows up in wrk's latencies,
# because wrk only ever measures the connections it already holds. So once a second a new
# connection posts one order; each line of $1 is "<http status> <seconds>".
probe_loop() {
  local result
  while sleep 1 && [ ! -e "$probe_stop" ]; do
    result=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 \
      -H 'Content-Type: application/json' --data "$order" "$node_url/v1/orders") || true
    echo "${result:-000 5}" >>"$1"
  done
}

start_probe() {
  probe_stop=$node_dir/probe.stop
  rm -f "$probe_stop"
  : >"$1"
  probe_loop "$1" &
  probe_pid=$!
}

stop_probe() {
  touch "$probe_stop"
  wait "$probe_pid" || true
  probe_pid=""
}

# ---- wrk ----

run_wrk() {  # $1 connections, $2 duration
  wrk_orders "$node_url" "$1" "$2" "$node_dir/wrk.out"
}

# A benchmark of failures is worthless: every non-2xx answer and socket error is a failure.
check_wrk() {  # $1 label
  local non2xx socket_errors
  non2xx=$(field non2xx "$wrk_line")
  socket_errors=$(field socket_errors "$wrk_line")
  if [ "$non2xx" -ne 0 ] || [ "$socket_errors" -ne 0 ]; then
    fail "$1: $non2xx non-2xx responses, $socket_errors socket errors" \
      "(connect $(field connect "$wrk_line"), read $(field read "$wrk_line")," \
      "write $(field write "$wrk_line"), timeout $(field timeout "$wrk_line"))"
    sed 's/^/      wrk| /' "$node_dir/wrk.out"
  fi
}

# Orders wrk saw answered with 201 (wrk counts statuses >= 400 as errors).
wrk_created() { echo $(($(field requests "$wrk_line") - $(field non2xx "$wrk_line"))); }

# ---- one run, one connection count ----

measure() {  # $1 connections, $2 run number
  local c=$1 label="c=$1 run $2/$RUNS" probes=$node_dir/probes
  local ticks_before ticks_after requests ops p50 p99 cpu worst bad
  ticks_before=$(cpu_ticks "$node_pid")
  start_probe "$probes"
  run_wrk "$c" "$DURATION"
  stop_probe
  require_node_alive
  ticks_after=$(cpu_ticks "$node_pid")
  check_wrk "$label"

  requests=$(field requests "$wrk_line")
  ops=$(awk -v r="$requests" -v d="$(field duration_us "$wrk_line")" 'BEGIN { printf "%.1f", r / (d / 1e6) }')
  p50=$(awk -v u="$(field p50_us "$wrk_line")" 'BEGIN { printf "%.2f", u / 1000 }')
  p99=$(awk -v u="$(field p99_us "$wrk_line")" 'BEGIN { printf "%.2f", u / 1000 }')
  cpu=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$clk_tck" -v r="$requests" \
    'BEGIN { printf "%.1f", (r > 0 ? t / hz * 1e6 / r : 0) }')
  worst=$(awk '$2 > m { m = $2 } END { if (NR == 0) print "-"; else printf "%.1f", m * 1000 }' "$probes")
  bad=$(awk '$1 != 201 { printf "%s%s", sep, $1; sep = ", " }' "$probes")
  if [ -n "$bad" ]; then
    [[ $bad != *000* ]] || bad+=" (000: no answer within 5 s)"
    fail "$label: fresh-connection probe answered $bad instead of 201"
  fi

  printf '  run %d/%d: %8.1f orders/s  p50 %6.2f ms  p99 %6.2f ms  CPU %6.1f µs/order  ' \
    "$2" "$RUNS" "$ops" "$p50" "$p99" "$cpu"
  printf 'probe worst %s ms of %d  (%d requests)\n' "$worst" "$(wc -l <"$probes")" "$requests"

  ops_runs[$c]+="$ops " p50_runs[$c]+="$p50 " p99_runs[$c]+="$p99 "
  cpu_runs[$c]+="$cpu " probe_runs[$c]+="$worst "
  created=$((created + $(wrk_created) + $(awk '$1 == 201' "$probes" | wc -l)))
}

# Every 201 must be a stored order.
count_orders() {  # $1 label, $2 orders answered 201
  if ! command -v sqlite3 >/dev/null; then
    say "  orders in the database: not counted (sqlite3 is not installed)"
    return
  fi
  local stored
  stored=$(sqlite3 "$node_dir/outpost.db" 'SELECT count(*) FROM orders;')
  say "  orders in the database: $stored (answered 201: $2)"
  [ "$stored" -ge "$2" ] || fail "$1: $2 orders answered 201 but only $stored are in the database"
}

bench_connections() {  # $1 connections
  local c=$1 run
  conns=$c
  say ""
  say "== $c connections =="
  start_node
  say "  node pid $node_pid on $node_url, data in $node_dir"
  created=0
  run_wrk "$c" "$WARMUP"
  check_wrk "c=$c warm-up"
  created=$((created + $(wrk_created)))
  say "  warm-up $WARMUP: $(field requests "$wrk_line") requests (not counted)"
  for ((run = 1; run <= RUNS; run++)); do measure "$c" "$run"; done
  peak_rss[$c]=$(peak_rss_mib "$node_pid")
  say "  peak RSS (VmHWM): ${peak_rss[$c]} MiB"
  stop_node
  [ "$node_status" = 0 ] || fail "c=$c: the node exited with status $node_status after SIGTERM"
  count_orders "c=$c" "$created"
  report_outbox "c=$c"
  rm -rf "$node_dir"
  conns=""
}

# ---- summary ----

fmt() {  # $1 decimals, $2 value or "-"
  if [ "$2" = - ]; then printf -- -; else printf '%.*f' "$1" "$2"; fi
}

verdict() {  # $1 value, $2 ">=" or "<=", $3 goal or empty
  printf '%s' "$1"
  [ -n "$3" ] && [ "$1" != - ] || return 0
  if awk -v v="$1" -v g="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? v >= g : v <= g) }'; then
    printf ' met (%s %s)' "$2" "$3"
  else
    printf ' missed (%s %s)' "$2" "$3"
  fi
}

summary() {
  local c
  say ""
  say "== summary: median of $RUNS run(s) of $DURATION per connection count; nproc $(nproc) =="
  # "µ" is two bytes and printf pads bytes, hence one more column in the header.
  printf '%-6s %-26s %-8s %-22s %-13s %-15s %s\n' \
    conns orders/s "p50 ms" "p99 ms" "CPU µs/order" "worst probe ms" "peak RSS MiB"
  for c in $CONNECTIONS; do
    local judged=1 note=""
    if [ -n "${invalid[$c]:-}" ]; then judged="" note="   INVALID: failures above"; fi
    # The goals are for taking orders alone; with the relay on the figures show its cost.
    if [ "$WITH_RELAY" = 1 ] && [ -z "$note" ]; then judged="" note="   (relay on: not judged)"; fi
    # shellcheck disable=SC2086  # the run lists are meant to split
    printf '%-6s %-26s %-8s %-22s %-12s %-15s %s%s\n' "$c" \
      "$(verdict "$(fmt 0 "$(median ${ops_runs[$c]})")" ">=" "${judged:+${goal_ops[$c]:-}}")" \
      "$(fmt 2 "$(median ${p50_runs[$c]})")" \
      "$(verdict "$(fmt 2 "$(median ${p99_runs[$c]})")" "<=" "${judged:+${goal_p99_ms[$c]:-}}")" \
      "$(fmt 0 "$(median ${cpu_runs[$c]})")" \
      "$(fmt 1 "$(median ${probe_runs[$c]})")" \
      "$(verdict "${peak_rss[$c]}" "<=" "${judged:+${goal_rss_mib[$c]:-}}")" "$note"
  done
}

cleanup() {
  if [ -n "$probe_pid" ]; then
    touch "$probe_stop"
    wait "$probe_pid" || true
  fi
  if [ -n "$node_pid" ]; then stop_node; fi
  if [ -n "$fauxqs_pid" ]; then
    kill "$fauxqs_pid" 2>/dev/null || true
    wait "$fauxqs_pid" 2>/dev/null || true
  fi
  rm -rf "${temp_dirs[@]}"
}

main() {
  check_settings
  if [ "$WITH_RELAY" = 1 ]; then
    bash "$root/scripts/install-deps.sh" --with-bench --with-test-peers
  else
    bash "$root/scripts/install-deps.sh" --with-bench
  fi
  build_outpost
  # An OUTPOST_* variable left in the caller's environment would change the node under
  # test (or stop it: unknown keys are refused), so the benchmark runs on defaults only.
  unset "${!OUTPOST_@}"
  clk_tck=$(getconf CLK_TCK)
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local tmp_root=${TMPDIR:-/tmp}
  local measured="outpost $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') (plus any uncommitted edits)"
  [ -z "$given_binary" ] || measured="outpost binary $binary"
  say "$measured, $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2)"
  say "nproc $(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  # Every 201 waits for an fsync: on tmpfs the figures would be fiction.
  say "databases under $tmp_root ($(stat -f -c %T "$tmp_root")); set TMPDIR to measure another disk"
  say "connections: $CONNECTIONS; warm-up $WARMUP; $RUNS run(s) of $DURATION; wrk -t$THREADS"
  [ "$WITH_RELAY" != 1 ] || start_fauxqs

  local c
  for c in $CONNECTIONS; do bench_connections "$c"; done
  summary

  if [ ${#failures[@]} -gt 0 ]; then
    say ""
    say "!!!!! BENCHMARK INVALID: ${#failures[@]} failure(s); the figures above do not count:"
    printf '!!!!!   %s\n' "${failures[@]}"
    exit 1
  fi
}

main "$@"
