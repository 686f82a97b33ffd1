-- The last transition of each circuit breaker, so that a restarted node does not hammer a
-- dependency it had just cut off. Wall times are milliseconds since the Unix epoch (UTC).

CREATE TABLE breaker_state (
  name            TEXT PRIMARY KEY,                 -- delivery-service, product-service, ...
  state           TEXT NOT NULL CHECK (state IN ('CLOSED', 'OPEN', 'HALF_OPEN')),
  next_attempt_at INTEGER NOT NULL DEFAULT 0,       -- when an OPEN breaker may try again; else 0
  reason          TEXT,
  updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
