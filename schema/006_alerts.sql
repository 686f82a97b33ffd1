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
