-- Child keys of inbox, indexed. A request's card is written before its inbox row (the row's id
-- is only known after), so while the pair is written a deferred foreign-key violation is
-- outstanding, and SQLite then checks every new inbox row against each child table. Without
-- these indexes that is a full scan of cards per received message: ingest slowed as the worklist
-- grew (337 msg/s at 20,000 requests, `cardbench bench`).
CREATE INDEX cards_request_inbox ON cards (request_inbox_id);
CREATE INDEX conflicts_inbox ON conflicts (inbox_id);
