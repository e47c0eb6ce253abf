-- A floor of stations on one store. `sender_leases`: which station sends a destination's outbox
-- rows (NGOC's, a webhook's) until when; a station that stops renewing loses it and another
-- takes over, sending the same rows with the same messageIds. `audit.station`: which station
-- made a change (NULL for changes made before stations had names).
CREATE TABLE sender_leases (
    destination TEXT PRIMARY KEY,
    station     TEXT NOT NULL,
    until       TEXT NOT NULL
);
ALTER TABLE audit ADD COLUMN station TEXT;
-- A message is taken into the worklist once, whichever station receives it: a second accepted
-- row with the same messageId (the same message redelivered to another station while the first
-- was still committing it) is refused by this key, and that station lets the message go back to
-- the queue, to be recognised as a duplicate when it comes again.
CREATE UNIQUE INDEX inbox_accepted_message_id ON inbox (message_id) WHERE outcome = 'accepted' AND message_id IS NOT NULL;
