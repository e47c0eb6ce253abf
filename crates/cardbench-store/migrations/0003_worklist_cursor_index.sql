-- The worklist pages by (received_at, card_id) > (cursor): only an index on both columns serves
-- that row-value comparison. With received_at alone, a deep page at 300,000 cards took 326 ms p95
-- (cardbench bench); the goal is 20 ms.
CREATE INDEX cards_received_card ON cards (received_at, card_id);
DROP INDEX cards_received;
