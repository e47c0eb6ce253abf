-- Nothing changes on SQLite: its worklist indexes already serve every sort (NULLs first
-- ascending is SQLite's own order) and the holder search (LIKE on the NOCASE index). The
-- PostgreSQL twin adds what that engine needs for the same queries.
SELECT 1;
