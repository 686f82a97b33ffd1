-- wrk script for bench/orders.sh: every request posts the same small order.
-- done() prints one machine-readable line that orders.sh parses; wrk's own report is
-- printed above it and kept for diagnosis only.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"customerId":"bench","items":[{"productId":"sku-1","quantity":1,"unitPriceCents":250}]}'

-- WRK_PACE_MS: each connection waits this long after an answer before its next request
-- (a paced load, as a shop's tills make, instead of as many orders as the node takes).
-- wrk starts its latency clock when a request is sent, so the wait is not counted.
local pace_ms = tonumber(os.getenv("WRK_PACE_MS") or "")
if pace_ms and pace_ms > 0 then
  function delay()
    return pace_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  -- wrk counts any status >= 400 in errors.status (its "Non-2xx or 3xx responses").
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%.0f p99_us=%.0f socket_errors=%d" ..
    " connect=%d read=%d write=%d timeout=%d non2xx=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout, e.status))
end
