//! Has the database changed? For live screens and the outbox sender, which must learn of commits
//! they did not make (another process on the same data directory, e.g. `cardbench` beside the app).

use rusqlite::Connection;

use crate::error::Result;

/// SQLite's `data_version` of `conn`: a number that differs between two calls on the same
/// connection when another connection committed in between (never for `conn`'s own commits).
/// On the store's read connection that is every commit; see [`crate::Store::commits_elsewhere`]
/// for another process's only.
pub fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}
