-- Reporting to the bureau's own systems. `events` is the event log (the card API pages it by id);
-- each row's body is the envelope exactly as sent to a subscriber, written in the transaction of
-- the change it reports. `subscribers` are the webhooks and forwarding sinks; each gets its own
-- outbox destination (`webhook:<name>`, `forward:<name>`), so delivery reuses the outbox's
-- ordering, retries, resend and inspection. `delivery_attempts` keeps every HTTP attempt of a row.
-- Checks are ORs, not IN lists (see check_rewrite.rs: an IN list costs a b-tree per insert).
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    created     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    card_id     TEXT,
    shipment_id TEXT,
    body        TEXT NOT NULL
);
CREATE INDEX events_card ON events (card_id) WHERE card_id IS NOT NULL;
CREATE INDEX events_shipment ON events (shipment_id) WHERE shipment_id IS NOT NULL;

CREATE TABLE subscribers (
    name          TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind = 'webhook' OR kind = 'forward'),
    url           TEXT NOT NULL,
    topics        TEXT NOT NULL,
    settings      TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    paused_at     TEXT,
    paused_reason TEXT,
    removed_at    TEXT
);

CREATE TABLE delivery_attempts (
    id         INTEGER PRIMARY KEY,
    outbox_id  INTEGER NOT NULL REFERENCES outbox (id),
    at         TEXT NOT NULL,
    status     INTEGER,
    latency_ms INTEGER NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome = 'delivered' OR outcome = 'retry' OR outcome = 'permanent' OR outcome = 'stopped'),
    error      TEXT,
    response   TEXT
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, id);
