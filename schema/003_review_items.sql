-- The manual review queue. An order may be waiting for review for more than one reason
-- (availability unknown, delivery exhausted, ...): one open item per order and kind;
-- resolved items are kept. orders.requires_manual_review says whether any is open.
-- Stored idempotent answers are found by what they created (a delivery id fills one in).

CREATE TABLE review_items (
  id          INTEGER PRIMARY KEY,
  order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,
  reason      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  resolved_at INTEGER,
  resolution  TEXT,
  note        TEXT
);

CREATE UNIQUE INDEX review_items_open ON review_items (order_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX review_items_by_age ON review_items (created_at) WHERE resolved_at IS NULL;

CREATE INDEX idempotency_keys_by_resource ON idempotency_keys (resource_id);
