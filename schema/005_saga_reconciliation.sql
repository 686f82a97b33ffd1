-- The order saga (SPEC §5): its state and the steps it took, each written in the
-- transaction of the change it records. States: RUNNING (delivery not initiated yet),
-- COMPLETED, COMPENSATING (a cancel is under way), COMPENSATED (cancelled),
-- COMPENSATION_FAILED (the delivery could not be cancelled; staff decide).
-- Reconciliation runs keep their outcome for /health and `outpost status`.

CREATE TABLE sagas (
  order_id   TEXT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
  state      TEXT NOT NULL CHECK (state IN ('RUNNING', 'COMPLETED', 'COMPENSATING',
                                            'COMPENSATED', 'COMPENSATION_FAILED')),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Start-up finds the cancels under way (the query names the state literally).
CREATE INDEX sagas_compensating ON sagas (updated_at) WHERE state = 'COMPENSATING';

CREATE TABLE saga_steps (
  id       INTEGER PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  step     TEXT NOT NULL,
  data     TEXT NOT NULL DEFAULT '{}',   -- JSON object
  at       INTEGER NOT NULL
);

CREATE INDEX saga_steps_by_order ON saga_steps (order_id, id);

-- Orders taken before this migration: their saga as far as it can be told.
INSERT INTO sagas (order_id, state, updated_at)
  SELECT id,
         CASE WHEN status = 'CANCELLED' THEN 'COMPENSATED'
              WHEN delivery_id IS NOT NULL THEN 'COMPLETED'
              ELSE 'RUNNING' END,
         updated_at
    FROM orders;
INSERT INTO saga_steps (order_id, step, at) SELECT id, 'ORDER_CREATED', created_at FROM orders;

-- What reconciliation asks the delivery service about: orders with a delivery that are
-- not final (the query repeats this WHERE so that SQLite uses the index).
CREATE INDEX orders_to_reconcile ON orders (id)
  WHERE delivery_id IS NOT NULL AND status NOT IN ('DELIVERED', 'CANCELLED');

CREATE TABLE reconciliation_runs (
  id          INTEGER PRIMARY KEY,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('HEALTHY', 'DEGRADED', 'FAILED')),
  checked     INTEGER NOT NULL,   -- orders whose delivery status was read
  reconciled  INTEGER NOT NULL,   -- status changes applied
  flagged     INTEGER NOT NULL,   -- sent to manual review
  failed      INTEGER NOT NULL,   -- orders that could not be checked
  error       TEXT                -- why the run could not work (FAILED), or the first failure
);

-- Review items resolved by staff: who asked what (approve, cancel).
CREATE INDEX review_items_by_order ON review_items (order_id, id);
