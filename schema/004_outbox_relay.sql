-- What the outbox relay needs. sent_to: the destinations that have accepted a PENDING
-- event (1 = SNS topic, 2 = SQS queue), so that when one destination accepted and the
-- other did not, a retry goes only to the one still missing it.
-- outbox_pending_by_aggregate: finds, for an event, an earlier PENDING event of the same order,
-- which holds it back (events of one order go out in commit order).

ALTER TABLE outbox_events ADD COLUMN sent_to INTEGER NOT NULL DEFAULT 0;

CREATE INDEX outbox_pending_by_aggregate ON outbox_events (aggregate_id, seq)
  WHERE status = 'PENDING';
