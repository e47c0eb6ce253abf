-- Cards in hand on a floor of stations. A station that loads a card to produce it takes it: one
-- row per card held, by which station and operator, since when, until when. Another station
-- cannot take or produce the card until the holder releases it (produced, moved on) or stops
-- renewing it and `expires_at` passes (a dead station's card comes free by itself).
CREATE TABLE card_claims (
    card_id    TEXT PRIMARY KEY,
    station    TEXT NOT NULL,
    operator   TEXT NOT NULL,
    taken_at   TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
