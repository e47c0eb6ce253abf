-- The outbox serves more than one outbound consumer: each row names where it goes. Every row
-- written before this was for NGOC. Each sender claims only its destination's pending rows, so
-- the pending index leads with the destination.
ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT 'ngoc';
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (destination, id) WHERE sent_at IS NULL;
