-- Alerts (SPEC §5). An alert has a row here while its condition lasts, so that a restart
-- neither raises it a second time nor forgets to clear it; `outpost status` reads it too.
CREATE TABLE active_alerts (
  name      TEXT PRIMARY KEY,  -- CIRCUIT_BREAKER_OPEN, OUTBOX_BACKLOG, MANUAL_REVIEW_BACKLOG
  details   TEXT NOT NULL,     -- JSON, as it was when the alert was raised
  raised_at INTEGER NOT NULL
);

-- Webhook calls still to be made (alerts.webhook_url), oldest first; a row is written with
-- the alert's change and deleted once the call is answered or given up.
CREATE TABLE alert_webhooks (
  id              INTEGER PRIMARY KEY,
  body            TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  created_at      INTEGER NOT NULL
);

-- Counts /health and /metrics read (SPEC §3), kept by triggers in the transaction of each
-- change, so that asking costs one row however long an outage has made the backlog:
-- outbox:PENDING, outbox:SENT, outbox:FAILED (events by status) and review:open.
CREATE TABLE figure_counts (
  name TEXT PRIMARY KEY,
  n    INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO figure_counts (name, n)
  SELECT 'outbox:' || status, (SELECT COUNT(*) FROM outbox_events e WHERE e.status = s.status)
  FROM (SELECT 'PENDING' AS status UNION ALL SELECT 'SENT' UNION ALL SELECT 'FAILED') s;
INSERT INTO figure_counts (name, n)
  VALUES ('review:open', (SELECT COUNT(*) FROM review_items WHERE resolved_at IS NULL));

CREATE TRIGGER outbox_count_insert AFTER INSERT ON outbox_events BEGIN
  UPDATE figure_counts SET n = n + 1 WHERE name = 'outbox:' || NEW.status;
END;
CREATE TRIGGER outbox_count_update AFTER UPDATE OF status ON outbox_events
  WHEN OLD.status != NEW.status BEGIN
  UPDATE figure_counts SET n = n - 1 WHERE name = 'outbox:' || OLD.status;
  UPDATE figure_counts SET n = n + 1 WHERE name = 'outbox:' || NEW.status;
END;
CREATE TRIGGER outbox_count_delete AFTER DELETE ON outbox_events BEGIN
  UPDATE figure_counts SET n = n - 1 WHERE name = 'outbox:' || OLD.status;
END;

CREATE TRIGGER review_count_insert AFTER INSERT ON review_items
  WHEN NEW.resolved_at IS NULL BEGIN
  UPDATE figure_counts SET n = n + 1 WHERE name = 'review:open';
END;
CREATE TRIGGER review_count_update AFTER UPDATE OF resolved_at ON review_items
  WHEN (OLD.resolved_at IS NULL) != (NEW.resolved_at IS NULL) BEGIN
  UPDATE figure_counts SET n = n + CASE WHEN NEW.resolved_at IS NULL THEN 1 ELSE -1 END
    WHERE name = 'review:open';
END;
CREATE TRIGGER review_count_delete AFTER DELETE ON review_items
  WHEN OLD.resolved_at IS NULL BEGIN
  UPDATE figure_counts SET n = n - 1 WHERE name = 'review:open';
END;
