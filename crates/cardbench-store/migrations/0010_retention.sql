-- Retention (issue 13): once a card's SHIPPED_OK is older than the configured days, its cardholder
-- data is purged from the rows that held it; the rows stay (ids, statuses, times, counts) and
-- `purged_at` says when. Rows that never held any (REPORT_OK, SHIPPED_OK...) are marked too, so a
-- purge run never looks at a row twice.
ALTER TABLE cards ADD COLUMN purged_at TEXT;
ALTER TABLE inbox ADD COLUMN purged_at TEXT;
ALTER TABLE outbox ADD COLUMN purged_at TEXT;
-- The cards a purge run takes: shipped, answered, not yet purged, by when NGOC answered.
CREATE INDEX cards_retention ON cards (shipped_ok_at) WHERE status = 'shipped_ok' AND purged_at IS NULL;
-- Received messages naming no card (rejected, ignored) are purged by age.
CREATE INDEX inbox_retention ON inbox (received_at) WHERE purged_at IS NULL;
