//! Has the database changed? For live screens and the outbox sender, which must learn of commits
//! they did not make (another process on the same data directory, e.g. `cardbench` beside the app;
//! on PostgreSQL, another station).

use crate::db::Connection;
use crate::error::Result;

/// A number that differs between two calls on the same connection when another connection
/// committed in between. SQLite: its `data_version` (never changed by `conn`'s own commits).
/// PostgreSQL: the server's WAL insert position, which every commit moves, this connection's own
/// included (so a station also sees its own commits as changes: one spare look, never a missed
/// one). On the store's read connection that is every commit; see
/// [`crate::Store::commits_elsewhere`] for another process's only.
pub fn data_version(conn: &Connection) -> Result<i64> {
    let sql = match conn.engine() {
        crate::db::Engine::Sqlite => "PRAGMA data_version",
        crate::db::Engine::Postgres => "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::BIGINT",
    };
    Ok(conn.query_row(sql, [], |r| r.get(0))?)
}
