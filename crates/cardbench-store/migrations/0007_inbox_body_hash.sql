-- SHA-256 of each received body, so a message that reuses a messageId with another body is told
-- apart from a redelivery (same id, same bytes) without comparing whole bodies. Rows received
-- before this version keep NULL: a later same-id message is then compared byte for byte.
ALTER TABLE inbox ADD COLUMN body_hash BLOB;
