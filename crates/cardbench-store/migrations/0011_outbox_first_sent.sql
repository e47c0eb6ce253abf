-- Resend keeps the first send (issue 17): a resend put `sent_at` back to NULL, so the time the
-- message first went out was lost. `first_sent_at` keeps it (set on the first send, never
-- cleared); `resent_count` and `last_resent_at` say how often and when it was put back in line.
ALTER TABLE outbox ADD COLUMN first_sent_at TEXT;
ALTER TABLE outbox ADD COLUMN resent_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_resent_at TEXT;
-- Rows sent before this migration: their only known send is the first.
UPDATE outbox SET first_sent_at = sent_at WHERE sent_at IS NOT NULL;
