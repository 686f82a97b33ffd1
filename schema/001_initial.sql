-- Orders, their items and status history; the transactional outbox; idempotency keys;
-- durable background jobs. Wall times are milliseconds since the Unix epoch (UTC).

CREATE TABLE orders (
  id                     TEXT PRIMARY KEY,          -- ORD- + ULID: sorts by creation time
  customer_id            TEXT NOT NULL,
  status                 TEXT NOT NULL,
  shipping_address       TEXT,                      -- JSON object or NULL
  metadata               TEXT,                      -- JSON object or NULL
  requires_manual_review INTEGER NOT NULL DEFAULT 0 CHECK (requires_manual_review IN (0, 1)),
  review_reason          TEXT,
  delivery_id            TEXT,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX orders_by_status ON orders (status, id);

CREATE TABLE order_items (
  order_id         TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line             INTEGER NOT NULL,
  product_id       TEXT NOT NULL,
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents INTEGER,
  PRIMARY KEY (order_id, line)
) WITHOUT ROWID;

CREATE TABLE order_status_history (
  id       INTEGER PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  status   TEXT NOT NULL,
  at       INTEGER NOT NULL,
  reason   TEXT
);

CREATE INDEX order_status_history_by_order ON order_status_history (order_id, id);

-- The design's outbox_events, plus what the relay needs: a commit sequence (events of one
-- aggregate go out in this order), the aggregate id and the next attempt time.
CREATE TABLE outbox_events (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL UNIQUE,             -- the envelope's eventId
  event_type      TEXT NOT NULL,
  aggregate_id    TEXT NOT NULL,
  event_data      TEXT NOT NULL,                    -- the whole envelope, JSON
  status          TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER,
  retry_count     INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  next_attempt_at INTEGER NOT NULL
);

CREATE INDEX outbox_pending ON outbox_events (next_attempt_at, seq) WHERE status = 'PENDING';
CREATE INDEX outbox_by_aggregate ON outbox_events (aggregate_id, seq);
CREATE INDEX outbox_by_status ON outbox_events (status, seq);

CREATE TABLE idempotency_keys (
  key             TEXT PRIMARY KEY,
  request_hash    TEXT NOT NULL,
  response_status INTEGER NOT NULL,
  response_body   TEXT NOT NULL,
  resource_id     TEXT,
  created_at      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Durable background work (delivery initiation, re-checks, compensation): a job is
-- committed with the state change that needs it, so a crash cannot lose it.
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  payload      TEXT NOT NULL DEFAULT '{}',
  status       TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DONE', 'FAILED')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_run_at  INTEGER NOT NULL,
  last_error   TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (kind, aggregate_id)
);

CREATE INDEX jobs_due ON jobs (next_run_at) WHERE status = 'PENDING';
