-- Encoder result files taken from the hot folder (cardbench-devices), by content hash: a file is
-- never applied twice, whatever its name or however often the machine writes it again. Written in
-- the same transaction as the file's rows, so a crash leaves either both or neither.
CREATE TABLE hotfolder_files (
    sha256       TEXT PRIMARY KEY,      -- hex of the file's bytes
    file_name    TEXT NOT NULL,         -- as it arrived
    taken_at     TEXT NOT NULL,
    rows_total   INTEGER NOT NULL,
    rows_applied INTEGER NOT NULL,
    rows_refused INTEGER NOT NULL
);
CREATE INDEX hotfolder_files_taken_at ON hotfolder_files (taken_at);
