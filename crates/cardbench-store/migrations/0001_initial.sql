-- Cardbench store, first schema.
-- Times are RFC 3339 UTC text with milliseconds ('2026-11-23T09:40:00.123Z'): they sort as text.
-- The inbox and outbox are the only record of messages already settled on the broker, so nothing
-- here is ever deleted by the workflow; retention is a separate, explicit concern.

-- Every message received, valid or not, with its raw bytes.
CREATE TABLE inbox (
    id             INTEGER PRIMARY KEY,
    message_id     TEXT,                 -- NULL when the message carried none
    subject        TEXT,                 -- NULL when missing
    correlation_id TEXT,
    content_type   TEXT,
    body           BLOB NOT NULL,        -- exactly as received
    delivery_count INTEGER NOT NULL DEFAULT 0,
    received_at    TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'rejected', 'ignored')),
    reason         TEXT,                 -- why rejected or ignored
    card_id        TEXT,                 -- what the message names, for filtering
    shipment_id    TEXT
);
CREATE INDEX inbox_message_id ON inbox (message_id);
CREATE INDEX inbox_received_at ON inbox (received_at);
CREATE INDEX inbox_card_id ON inbox (card_id) WHERE card_id IS NOT NULL;
CREATE INDEX inbox_shipment_id ON inbox (shipment_id) WHERE shipment_id IS NOT NULL;

-- Every message to send, in order. A resend reuses message_id so the broker's duplicate
-- detection drops a copy that did arrive before a crash.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    correlation_id  TEXT,
    body            TEXT NOT NULL,
    card_id         TEXT,
    shipment_id     TEXT,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT,                -- NULL: as soon as possible
    sent_at         TEXT                 -- NULL: not yet accepted by the broker
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_card_id ON outbox (card_id) WHERE card_id IS NOT NULL;
CREATE INDEX outbox_shipment_id ON outbox (shipment_id) WHERE shipment_id IS NOT NULL;
CREATE INDEX outbox_created_at ON outbox (created_at);

CREATE TABLE shipments (
    shipment_id       TEXT PRIMARY KEY,
    organisation_id   TEXT NOT NULL,
    first_received_at TEXT NOT NULL
);
CREATE INDEX shipments_organisation ON shipments (organisation_id);

-- Parcels: one per SHIPPED notification, with exactly its cards and accessories.
CREATE TABLE parcels (
    id            INTEGER PRIMARY KEY,
    shipment_id   TEXT NOT NULL REFERENCES shipments (shipment_id),
    outbox_id     INTEGER NOT NULL UNIQUE REFERENCES outbox (id),
    message_id    TEXT NOT NULL UNIQUE,  -- the SHIPPED messageId; SHIPPED_OK correlates to it
    carrier       TEXT,
    tracking_id   TEXT,
    created_at    TEXT NOT NULL,
    operator      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('awaiting_ok', 'shipped_ok', 'error')),
    answered_at   TEXT,
    error_code    TEXT,
    error_details TEXT
);
CREATE INDEX parcels_shipment ON parcels (shipment_id);
CREATE INDEX parcels_created_at ON parcels (created_at);

CREATE TABLE cards (
    card_id            TEXT PRIMARY KEY,
    organisation_id    TEXT NOT NULL,
    shipment_id        TEXT NOT NULL REFERENCES shipments (shipment_id),
    article_id         TEXT NOT NULL,
    holder             TEXT,             -- for the worklist; PII, masked by the UI where configured
    ordered_at         TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    request_inbox_id   INTEGER NOT NULL REFERENCES inbox (id) DEFERRABLE INITIALLY DEFERRED,
    request_json       TEXT NOT NULL,    -- the typed request, re-serialised; the raw is in inbox
    status             TEXT NOT NULL CHECK (status IN (
                           'received', 'readouts_captured', 'produced', 'report_ok', 'report_error',
                           'shipped', 'shipped_ok', 'ship_error')),
    produced_message_id TEXT,            -- the latest CARD_PRODUCED; REPORT_OK correlates to it
    produced_at        TEXT,
    report_ok_at       TEXT,
    parcel_id          INTEGER REFERENCES parcels (id),
    shipped_ok_at      TEXT,
    last_error_code    TEXT,
    last_error_details TEXT,
    spoil_count        INTEGER NOT NULL DEFAULT 0,
    updated_at         TEXT NOT NULL
);
CREATE INDEX cards_status_received ON cards (status, received_at);
CREATE INDEX cards_received ON cards (received_at);
CREATE INDEX cards_shipment ON cards (shipment_id);
CREATE INDEX cards_organisation_received ON cards (organisation_id, received_at);
CREATE INDEX cards_holder ON cards (holder COLLATE NOCASE);
CREATE INDEX cards_produced_message ON cards (produced_message_id) WHERE produced_message_id IS NOT NULL;

-- Accessories as requested, per card request (a shipment's accessories are the sum).
CREATE TABLE card_accessories (
    card_id      TEXT NOT NULL REFERENCES cards (card_id),
    article_id   TEXT NOT NULL,
    accessory_id TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0)
);
CREATE INDEX card_accessories_card ON card_accessories (card_id);

CREATE TABLE parcel_cards (
    parcel_id INTEGER NOT NULL REFERENCES parcels (id),
    card_id   TEXT NOT NULL REFERENCES cards (card_id),
    PRIMARY KEY (parcel_id, card_id)
);
CREATE INDEX parcel_cards_card ON parcel_cards (card_id);

CREATE TABLE parcel_accessories (
    parcel_id    INTEGER NOT NULL REFERENCES parcels (id),
    article_id   TEXT NOT NULL,
    accessory_id TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0)
);
CREATE INDEX parcel_accessories_parcel ON parcel_accessories (parcel_id);

-- Current readouts of a card, one row per expected field. Cleared when a card is spoiled (the
-- audit log keeps the history). The (field, value) index finds a UID already used by another card.
CREATE TABLE readouts (
    card_id     TEXT NOT NULL REFERENCES cards (card_id),
    field       TEXT NOT NULL,
    value       TEXT NOT NULL,           -- normalised
    source      TEXT NOT NULL,           -- typed, scan, reader, hotfolder, ...
    captured_at TEXT NOT NULL,
    PRIMARY KEY (card_id, field)
);
CREATE INDEX readouts_field_value ON readouts (field, value);

-- A request that reused a cardId with different content: kept for a person to resolve.
CREATE TABLE conflicts (
    id          INTEGER PRIMARY KEY,
    card_id     TEXT NOT NULL,
    inbox_id    INTEGER NOT NULL REFERENCES inbox (id),
    received_at TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution  TEXT,
    resolved_by TEXT,
    resolved_at TEXT
);
CREATE INDEX conflicts_open ON conflicts (card_id) WHERE status = 'open';

-- Who did what, for every state change made by a person.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    operator    TEXT NOT NULL,
    action      TEXT NOT NULL,
    card_id     TEXT,
    shipment_id TEXT,
    details     TEXT                     -- JSON
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_card ON audit (card_id) WHERE card_id IS NOT NULL;

-- Link state as the daemon last saw it, so the CLI and the app can show it from another process.
CREATE TABLE link_status (
    link          TEXT PRIMARY KEY,      -- 'inbound', 'outbound'
    state         TEXT NOT NULL,         -- up, down, retrying
    detail        TEXT,
    since         TEXT NOT NULL,
    next_retry_at TEXT
);
