-- The worklist on PostgreSQL at a million cards (cardbench bench --only pg-worklist).
--
-- Sorted by holder name, a card without one comes first ascending and last descending, as on
-- SQLite; PostgreSQL's default index order puts NULLs the other way round, so the page read
-- neither way along the index and sorted the whole table (a million cards: 100+ ms a page).
-- This index holds them in the page's order: read forward ascending, backward descending.
CREATE INDEX cards_holder_nulls_first_card ON cards (lower(holder) NULLS FIRST, card_id);
DROP INDEX cards_holder_card;
-- The holder search is a case-insensitive prefix, `lower(holder) LIKE lower(?)` (db/translate.rs):
-- a B-tree serves LIKE's prefix only with the pattern operators, whatever the database's collation.
CREATE INDEX cards_holder_prefix ON cards (lower(holder) text_pattern_ops);
