#!/usr/bin/env bash
# What GET /health and GET /metrics cost with a big file: latency and requests/s under wrk
# against a Release node whose database holds ORDERS orders with one outbox event each
# (default 100,000 and 100,000), first all PENDING (events down: the worst case for the
# pending count), then all SENT; and, for comparison, an empty file. Loopback only; about
# a minute. How to run it and read it: bench/README.md.
#   ORDERS=100000 DURATION=10s CONNECTIONS="1 8" bash bench/monitoring.sh
set -euo pipefail
export LC_NUMERIC=C
cd "$(dirname "$0")/.."

ORDERS=${ORDERS:-100000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"1 8"}
[[ $ORDERS =~ ^[1-9][0-9]*$ ]] || { echo "bench: ORDERS must be a positive integer" >&2; exit 2; }

bash scripts/install-deps.sh --with-bench
log=build-bench/monitoring-build.log
mkdir -p build-bench
if ! { cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build build-bench -j2 --target outpost; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "bench: the build failed (full log: $log)" >&2
  exit 1
fi
binary=$PWD/build-bench/outpost
work=$(mktemp -d "${TMPDIR:-/tmp}/outpost-monitoring.XXXXXX")
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A loopback port nothing answers on.
free_port() {
  local candidate
  for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "bench: no free loopback port found" >&2
  exit 1
}

start_node() {  # $1: database file
  port=$(free_port)
  OUTPOST_DATABASE=$1 OUTPOST_LISTEN=127.0.0.1:$port "$binary" serve >>"$work/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/livez" >/dev/null && return 0
    sleep 0.1
  done
  echo "bench: the node did not start; its log:" >&2
  tail -n 20 "$work/node.log" >&2
  exit 1
}

stop_node() {
  kill "$node_pid"
  wait "$node_pid" || { echo "bench: the node did not stop cleanly" >&2; exit 1; }
  node_pid=""
}

# One real order, taken by a node, copied ORDERS-1 times with new ids; its ORDER_CREATED
# event likewise, one per order. Written with sqlite3 while no node runs.
fill() {  # $1: database file, $2: outbox status for every event
  start_node "$1"
  curl -sf -X POST "http://127.0.0.1:$port/v1/orders" -H 'Content-Type: application/json' \
    -d '{"customerId":"bench","items":[{"productId":"sku-1","quantity":1,"unitPriceCents":250}]}' >/dev/null
  stop_node
  local order_columns event_columns copied_event_columns
  order_columns=$(sqlite3 "$1" "SELECT group_concat(name) FROM pragma_table_info('orders') WHERE name != 'id'")
  event_columns=$(sqlite3 "$1" "SELECT group_concat(name) FROM pragma_table_info('outbox_events')
    WHERE name NOT IN ('seq', 'id', 'aggregate_id', 'status')")
  copied_event_columns=$(sqlite3 "$1" "SELECT group_concat('e.' || name) FROM pragma_table_info('outbox_events')
    WHERE name NOT IN ('seq', 'id', 'aggregate_id', 'status')")
  sqlite3 "$1" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $ORDERS)
INSERT INTO orders (id, $order_columns)
  SELECT printf('bench-%08d', i), $order_columns FROM n, (SELECT * FROM orders LIMIT 1);
INSERT INTO outbox_events (id, aggregate_id, status, $event_columns)
  SELECT 'event-' || o.id, o.id, 'PENDING', $copied_event_columns
  FROM orders o, (SELECT * FROM outbox_events LIMIT 1) e WHERE o.id LIKE 'bench-%';
UPDATE outbox_events SET status = '$2', sent_at = CASE '$2' WHEN 'SENT' THEN created_at END;
COMMIT;
SQL
}

measure() {  # $1: label of the file
  local connections path out
  for path in /health /metrics; do
    for connections in $CONNECTIONS; do
      out=$(wrk -t1 -c"$connections" -d"$DURATION" --latency "http://127.0.0.1:$port$path")
      if grep -q 'Non-2xx' <<<"$out"; then
        echo "bench: $path answered non-2xx:" >&2
        echo "$out" >&2
        exit 1
      fi
      awk -v file="$1" -v path="$path" -v c="$connections" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
        END { printf "%-26s %-9s %3d conn  %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms\n", file, path, c, rps, p50, p99 }' <<<"$out"
    done
  done
}

echo "outpost $(git rev-parse --short HEAD 2>/dev/null || echo '?') (plus any uncommitted edits), Release"
echo "nproc $(nproc); databases under ${TMPDIR:-/tmp} ($(stat -f -c %T "${TMPDIR:-/tmp}"))"

start_node "$work/empty.db"
measure "empty file"
stop_node

for status in PENDING SENT; do
  db=$work/$status.db
  fill "$db" "$status"
  printf 'file: %s orders, %s outbox rows %s, %s MiB\n' \
    "$(sqlite3 "$db" 'SELECT COUNT(*) FROM orders')" \
    "$(sqlite3 "$db" "SELECT COUNT(*) FROM outbox_events WHERE status = '$status'")" "$status" \
    "$(( $(stat -c %s "$db") / 1048576 ))"
  start_node "$db"
  measure "$ORDERS orders, $status"
  stop_node
done
