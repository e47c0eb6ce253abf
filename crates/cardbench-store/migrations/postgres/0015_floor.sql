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
