#!/usr/bin/env bash
# Offline endurance (SPEC §11): a Release node takes EVENTS events' worth of orders while
# its events destination is down (wrk against its own POST /v1/orders, so every event is
# written by the node's real write path), then order latency with that backlog is compared
# with an empty file's, fauxqs is started and the catch-up is measured (events/s, the CPU
# of the node and of fauxqs, order latency under a paced load while it drains), and the
# file's size is reported before and after retention prunes the sent events.
# Loopback only; about 15 minutes for a million events. Not part of the test suite.
#   EVENTS=1000000 RUNS=3 DURATION=10s CONNECTIONS=8 PACE_MS=50 bash bench/endurance.sh
#   EVENTS=20000 RUNS=1 DURATION=3s bash bench/endurance.sh     (a quick check)
# How to read it: bench/README.md.
set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/node_lib.sh
. "$here/node_lib.sh"
build_dir=$root/build-bench
given_binary=${OUTPOST_BINARY:-}
binary=${given_binary:-$build_dir/outpost}

EVENTS=${EVENTS:-1000000}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-64}
CONNECTIONS=${CONNECTIONS:-8}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
PACE_MS=${PACE_MS:-50}
DRAINED_BELOW=${DRAINED_BELOW:-500}
THREADS=${THREADS:-2}

goal_p99_ratio=2
goal_catch_up=5000

failures=()
temp_dirs=()
work="" clk_tck="" fauxqs_port=""
offline_pid="" offline_url="" empty_pid="" empty_url="" fauxqs_pid="" sampler_pid=""
# Per load kind (saturating, paced) and file (empty, queued): p50/p99 of every run.
declare -A p50_runs=() p99_runs=()
drain_p99s=""

fail() {
  failures+=("$*")
  printf '!!!!! FAILED: %s\n' "$*"
}

check_settings() {
  local name
  for name in EVENTS LOAD_CONNECTIONS CONNECTIONS RUNS PACE_MS DRAINED_BELOW THREADS; do
    [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, not '${!name}'"
  done
  [[ $(seconds "$DURATION") =~ ^[1-9][0-9]*$ ]] || die "DURATION must look like 10s, not '$DURATION'"
}

# ---- what the node says ----

# A whole number from the node's /health (e.g. outboxEventsPending); empty when it did not answer.
health_number() {  # $1 url, $2 name
  curl -s --max-time 5 "$1/health" | grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}

# The sum of a /metrics family's samples (all label sets).
metric_sum() {  # $1 url, $2 family
  curl -s --max-time 5 "$1/metrics" | awk -v f="$2" '$1 == f || index($1, f "{") == 1 { s += $2 } END { printf "%.0f", s }'
}

file_mib() {  # the database and its WAL (gone once the last connection closed)
  local file total=0
  for file in "$1" "$1-wal"; do
    [ ! -e "$file" ] || total=$((total + $(stat -c %s "$file")))
  done
  echo $((total / 1048576))
}

# Every event the node's destination has been seen to receive: fauxqs' queue depth.
queued_at_fauxqs() {
  curl -s --max-time 5 -X POST "http://127.0.0.1:$fauxqs_port/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.GetQueueAttributes' \
    -d "{\"QueueUrl\":\"http://127.0.0.1:$fauxqs_port/000000000000/direct\",\"AttributeNames\":[\"ApproximateNumberOfMessages\"]}" |
    grep -o '"ApproximateNumberOfMessages":"[0-9]*"' | grep -o '[0-9]*'
}

ms() { awk -v u="$(field "$1" "$wrk_line")" 'BEGIN { printf "%.2f", u / 1000 }'; }

check_wrk() {  # $1 label
  local non2xx socket_errors
  non2xx=$(field non2xx "$wrk_line")
  socket_errors=$(field socket_errors "$wrk_line")
  if [ "$non2xx" -ne 0 ] || [ "$socket_errors" -ne 0 ]; then
    fail "$1: $non2xx non-2xx answers, $socket_errors socket errors"
  fi
}

# ---- the nodes ----

node_settings() {  # $1 folder; the events destination is fauxqs' port, down until the drain
  echo OUTPOST_DATABASE="$1/outpost.db" OUTPOST_NODE_ID=endurance \
    OUTPOST_EVENTS_ENDPOINT_URL="http://127.0.0.1:$fauxqs_port" \
    OUTPOST_EVENTS_SQS_QUEUE_URL="http://127.0.0.1:$fauxqs_port/000000000000/direct" \
    OUTPOST_EVENTS_POLL_INTERVAL_MS=1000 OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS=1000
}

start_nodes() {
  mkdir -p "$work/offline" "$work/empty"
  # shellcheck disable=SC2046  # the settings are meant to split
  launch_node "$work/offline" $(node_settings "$work/offline")
  offline_pid=$launched_pid offline_url=$launched_url
  # shellcheck disable=SC2046
  launch_node "$work/empty" $(node_settings "$work/empty")
  empty_pid=$launched_pid empty_url=$launched_url
  say "node with the backlog: pid $offline_pid on $offline_url; node with an empty file: pid $empty_pid on $empty_url"
  say "their events destination: SQS on 127.0.0.1:$fauxqs_port (down until the drain)"
}

# ---- 1. the backlog, taken by the node ----

load_backlog() {
  local pending=0 started=$SECONDS chunk=10 before rate
  say ""
  say "== 1. taking $EVENTS events' worth of orders offline (wrk, $LOAD_CONNECTIONS connections) =="
  while [ "$pending" -lt "$EVENTS" ]; do
    before=$pending
    wrk_orders "$offline_url" "$LOAD_CONNECTIONS" "${chunk}s" "$work/load.out"
    check_wrk "loading"
    pending=$(health_number "$offline_url" outboxEventsPending)
    [ -n "$pending" ] || die "the node did not answer /health while loading"
    rate=$(((pending - before) / chunk))
    [ "$rate" -gt 0 ] || die "the node took no orders in ${chunk} s"
    printf '  %9d / %d events pending after %4d s (%d events/s)\n' "$pending" "$EVENTS" $((SECONDS - started)) "$rate"
    # The last chunk is cut to what is left, so the backlog ends near EVENTS.
    chunk=$(((EVENTS - pending) / rate + 1))
    [ "$chunk" -le 30 ] || chunk=30
  done
  load_seconds=$((SECONDS - started))
  backlog=$pending
  say "  backlog: $backlog events in $load_seconds s; file $(file_mib "$work/offline/outpost.db") MiB"
  [ "$(health_number "$offline_url" failedEventCount)" = 0 ] || fail "events FAILED while offline"
}

# ---- 2. order latency: empty file against the backlog ----

measure_latency() {  # $1 kind (saturating|paced), $2 file (empty|queued), $3 url, $4 run
  local pace=0
  [ "$1" = paced ] && pace=$PACE_MS
  WRK_PACE_MS=$pace wrk_orders "$3" "$CONNECTIONS" "$DURATION" "$work/latency.out"
  check_wrk "$1 $2 run $4"
  p50_runs[$1,$2]+="$(ms p50_us) " p99_runs[$1,$2]+="$(ms p99_us) "
  printf '  run %d %-10s %-6s p50 %7s ms  p99 %7s ms  (%d orders)\n' "$4" "$1" "$2" "$(ms p50_us)" \
    "$(ms p99_us)" "$(field requests "$wrk_line")"
}

compare_latency() {
  local run kind
  say ""
  say "== 2. order latency, $CONNECTIONS connections, $RUNS run(s) of $DURATION each, files alternating =="
  say "  saturating: as many orders as the node takes; paced: each connection waits $PACE_MS ms between orders"
  for ((run = 1; run <= RUNS; run++)); do
    for kind in saturating paced; do
      measure_latency "$kind" empty "$empty_url" "$run"
      measure_latency "$kind" queued "$offline_url" "$run"
    done
  done
  stop_gracefully "$empty_pid"
  empty_pid=""
}

# ---- 3. the catch-up ----

# Once a second: elapsed seconds, PENDING events, events sent, node and fauxqs CPU ticks.
sample_drain() {  # $1 output file
  local start=$SECONDS
  while alive "$offline_pid"; do
    printf '%d %s %s %s %s\n' $((SECONDS - start)) "$(health_number "$offline_url" outboxEventsPending)" \
      "$(metric_sum "$offline_url" outpost_events_sent_total)" "$(cpu_ticks "$offline_pid")" \
      "$(cpu_ticks "$fauxqs_pid")" >>"$1"
    sleep 1
  done
}

drain() {
  local samples=$work/drain.samples pending deadline
  say ""
  say "== 3. the destination returns: fauxqs starts, the node catches up; paced orders go on =="
  mkdir -p "$work/fauxqs"
  # A million messages held in fauxqs' memory need more than node's default heap.
  NODE_OPTIONS=--max-old-space-size=8192 launch_fauxqs "$fauxqs_port" "$work/fauxqs"
  : >"$samples"
  sample_drain "$samples" &
  sampler_pid=$!
  deadline=$((SECONDS + 1800))
  pending=$backlog
  while [ "$pending" -ge "$DRAINED_BELOW" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "the backlog did not drain within 30 minutes"
    WRK_PACE_MS=$PACE_MS wrk_orders "$offline_url" "$CONNECTIONS" "$DURATION" "$work/drain.out"
    check_wrk "paced orders while draining"
    drain_p99s+="$(ms p99_us) "
    pending=$(health_number "$offline_url" outboxEventsPending)
    printf '  %9s events pending; paced orders p50 %6s ms  p99 %6s ms\n' "$pending" "$(ms p50_us)" "$(ms p99_us)"
  done
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  catch_up=$(awk -v below="$DRAINED_BELOW" -v hz="$clk_tck" '
    NR == 1 { t0 = $1; s0 = $3; n0 = $4; f0 = $5 }
    $2 != "" && $2 < below && !done { done = 1; t = $1 - t0; printf "%d %d %.0f %.0f %.0f",
      $3 - s0, t, (t > 0 ? ($3 - s0) / t : 0), ($4 - n0) / hz / t * 100, ($5 - f0) / hz / t * 100 }' "$samples")
  [ -n "$catch_up" ] || die "the samples never saw the backlog under $DRAINED_BELOW"
  read -r drained_events drain_seconds drain_rate node_cpu fauxqs_cpu <<<"$catch_up"
  say "  sent $drained_events events in $drain_seconds s: $drain_rate events/s; CPU node $node_cpu %, fauxqs $fauxqs_cpu % (of one core)"
  [ "$(health_number "$offline_url" failedEventCount)" = 0 ] || fail "events FAILED while draining"
  queued=$(queued_at_fauxqs)
  say "  messages in fauxqs' queue: ${queued:-?} (the node has sent $(metric_sum "$offline_url" outpost_events_sent_total))"
}

# ---- 4. retention ----

retention() {
  local db=$work/offline/outpost.db before sent started=$SECONDS
  say ""
  say "== 4. retention: the node restarted with events.retention_ms=1000 prunes the sent events =="
  stop_gracefully "$offline_pid"
  offline_pid=""
  before=$(file_mib "$db")
  # shellcheck disable=SC2046
  launch_node "$work/offline" $(node_settings "$work/offline") OUTPOST_EVENTS_RETENTION_MS=1000
  offline_pid=$launched_pid offline_url=$launched_url
  sent=1
  while [ "$sent" -gt 0 ]; do
    [ $((SECONDS - started)) -lt 900 ] || die "retention did not prune the sent events within 15 minutes"
    sleep 5
    sent=$(curl -s "$offline_url/metrics" | awk '/^outpost_outbox_events\{.*status="SENT"/ { print $2 }')
    printf '  %9s SENT events kept after %d s\n' "$sent" $((SECONDS - started))
  done
  stop_gracefully "$offline_pid"
  offline_pid=""
  file_before_retention=$before
  file_after_retention=$(file_mib "$db")
  free_mib=$(sqlite3 "$db" 'PRAGMA freelist_count;' | awk -v p="$(sqlite3 "$db" 'PRAGMA page_size;')" '{ printf "%.0f", $1 * p / 1048576 }')
  say "  file ${before} MiB before retention, ${file_after_retention} MiB after ($free_mib MiB of it free pages" \
    "that SQLite reuses for new rows; the file only shrinks with VACUUM) in $((SECONDS - started)) s"
}

# ---- summary ----

verdict() {  # $1 value, $2 ">=" or "<=", $3 goal
  if awk -v v="$1" -v g="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? v >= g : v <= g) }'; then
    printf 'met (%s %s)' "$2" "$3"
  else
    printf 'missed (%s %s)' "$2" "$3"
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

summary() {
  local kind empty queued drained r
  say ""
  say "== summary (nproc $(nproc); medians over $RUNS run(s); compare the ratios, not the absolute figures) =="
  say "  backlog: $backlog events taken by the node itself (wrk, $LOAD_CONNECTIONS connections) in $load_seconds s"
  for kind in saturating paced; do
    # shellcheck disable=SC2086  # the run lists are meant to split
    empty=$(median ${p99_runs[$kind,empty]}) queued=$(median ${p99_runs[$kind,queued]})
    r=$(ratio "$queued" "$empty")
    printf '  order p99, %-10s: empty file %7s ms, %d queued %7s ms: %sx %s\n' "$kind" "$empty" \
      "$backlog" "$queued" "$r" "$(verdict "$r" "<=" "$goal_p99_ratio")"
  done
  # shellcheck disable=SC2086
  drained=$(median $drain_p99s) empty=$(median ${p99_runs[paced,empty]})
  r=$(ratio "$drained" "$empty")
  printf '  order p99, paced while draining: %s ms (median of %d runs) against %s ms: %sx %s\n' \
    "$drained" "$(wc -w <<<"$drain_p99s")" "$empty" "$r" "$(verdict "$r" "<=" "$goal_p99_ratio")"
  printf '  catch-up: %s events/s %s; CPU node %s %%, fauxqs %s %% (2 cores shared)\n' "$drain_rate" \
    "$(verdict "$drain_rate" ">=" "$goal_catch_up")" "$node_cpu" "$fauxqs_cpu"
  say "  file: ${file_before_retention} MiB before retention, ${file_after_retention} MiB after ($free_mib MiB free pages)"
}

cleanup() {
  [ -z "$sampler_pid" ] || { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; }
  [ -z "$offline_pid" ] || stop_gracefully "$offline_pid"
  [ -z "$empty_pid" ] || stop_gracefully "$empty_pid"
  [ -z "$fauxqs_pid" ] || { kill "$fauxqs_pid" 2>/dev/null || true; wait "$fauxqs_pid" 2>/dev/null || true; }
  rm -rf "${temp_dirs[@]}"
}

main() {
  check_settings
  bash "$root/scripts/install-deps.sh" --with-bench --with-test-peers
  build_outpost
  unset "${!OUTPOST_@}"
  clk_tck=$(getconf CLK_TCK)
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  work=$(mktemp -d "${TMPDIR:-/tmp}/outpost-endurance.XXXXXX")
  temp_dirs+=("$work")
  say "outpost $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') (plus any uncommitted edits), $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2)"
  say "nproc $(nproc); files under ${TMPDIR:-/tmp} ($(stat -f -c %T "${TMPDIR:-/tmp}")); product and delivery services not configured"
  fauxqs_port=$(free_port)
  start_nodes
  load_backlog
  compare_latency
  drain
  retention
  summary
  if [ ${#failures[@]} -gt 0 ]; then
    say ""
    say "!!!!! BENCHMARK INVALID: ${#failures[@]} failure(s):"
    printf '!!!!!   %s\n' "${failures[@]}"
    exit 1
  fi
}

main "$@"
