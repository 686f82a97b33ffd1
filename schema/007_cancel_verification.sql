-- A cancelled order must never keep a live delivery (SPEC §5). A CANCELLED order with a
-- delivery id carries this mark until the delivery service has been read holding that
-- delivery as CANCELLED (or not holding it at all); reconciliation checks every marked
-- order, and cancels the delivery again while it is live. Set whenever an order with a
-- delivery becomes CANCELLED, or a cancelled order gets a delivery id; cleared only by a
-- read of the delivery, never by the cancel call's own answer, so a service that
-- acknowledges a cancel and loses it is caught too.
ALTER TABLE orders ADD COLUMN delivery_cancel_unverified INTEGER NOT NULL DEFAULT 0
  CHECK (delivery_cancel_unverified IN (0, 1));

-- Orders cancelled before this migration are checked once.
UPDATE orders SET delivery_cancel_unverified = 1
  WHERE status = 'CANCELLED' AND delivery_id IS NOT NULL;

-- What reconciliation verifies (the query repeats this WHERE so that SQLite uses it).
CREATE INDEX orders_cancel_unverified ON orders (id) WHERE delivery_cancel_unverified = 1;
