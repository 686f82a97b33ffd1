-- The order saga (SPEC §5): its state and the steps it took, each written in the
-- transaction of the change it records. States: RUNNING (delivery not initiated yet),
-- COMPLETED, COMPENSATING (a cancel is under way), COMPENSATED (cancelled),
-- COMPENSATION_FAILED (the delivery could not be cancelled; staff decide).
-- Reconciliation runs keep their outcome for /health and `outpost status`.

-- The saga lives on its order's row, so that taking an order writes no extra rows:
-- saga_state, and saga_steps, a JSON array of {"step", "at", "data"?} in the order taken.
ALTER TABLE orders ADD COLUMN saga_state TEXT NOT NULL DEFAULT 'RUNNING'
  CHECK (saga_state IN ('RUNNING', 'COMPLETED', 'COMPENSATING', 'COMPENSATED',
                        'COMPENSATION_FAILED'));
ALTER TABLE orders ADD COLUMN saga_steps TEXT NOT NULL DEFAULT '[]';

-- Start-up finds the cancels under way (the query names the state literally).
CREATE INDEX orders_compensating ON orders (updated_at) WHERE saga_state = 'COMPENSATING';

-- Orders taken before this migration: their saga as far as it can be told.
UPDATE orders SET
  saga_state = CASE WHEN status = 'CANCELLED' THEN 'COMPENSATED'
                    WHEN delivery_id IS NOT NULL THEN 'COMPLETED'
                    ELSE 'RUNNING' END,
  saga_steps = json_array(json_object('step', 'ORDER_CREATED', 'at', created_at));

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
