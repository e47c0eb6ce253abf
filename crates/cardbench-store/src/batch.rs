//! What a large write needs from its connection: a savepoint per item, so one item's failure
//! leaves nothing behind while the others still apply in the same transaction, and a larger page
//! cache for the length of the batch.

use crate::db::Connection;

use crate::error::Result;

/// The savepoints the workflow runs its items under (a fixed set, so each statement is prepared
/// once and cached: parsing it again for every item of a 10,000-item batch is measurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Savepoint {
    /// One received message of an ingest batch.
    IngestOne,
    /// One row of a readout batch (an encoder's result file).
    BatchRow,
}

impl Savepoint {
    fn sql(self) -> [&'static str; 3] {
        match self {
            Savepoint::IngestOne => ["SAVEPOINT ingest_one", "RELEASE ingest_one", "ROLLBACK TO ingest_one"],
            Savepoint::BatchRow => ["SAVEPOINT batch_row", "RELEASE batch_row", "ROLLBACK TO batch_row"],
        }
    }
}

fn run(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Opens `savepoint` inside the current transaction.
pub fn savepoint(conn: &Connection, savepoint: Savepoint) -> Result<()> {
    run(conn, savepoint.sql()[0])
}

/// Keeps what was written since `savepoint` opened and closes it.
pub fn release(conn: &Connection, savepoint: Savepoint) -> Result<()> {
    run(conn, savepoint.sql()[1])
}

/// Undoes what was written since `savepoint` opened; it stays open (then [`release`] it).
pub fn roll_back_to(conn: &Connection, savepoint: Savepoint) -> Result<()> {
    run(conn, savepoint.sql()[2])
}

/// Runs `work` with SQLite's page cache at `kib` KiB, then gives the connection its own setting
/// back (also when `work` fails).
pub fn with_page_cache<T, E>(conn: &Connection, kib: u32, work: impl FnOnce() -> Result<T, E>) -> Result<T, E>
where
    E: From<crate::StoreError>,
{
    // SQLite's page cache; PostgreSQL's buffers are the server's.
    let Some(conn) = conn.as_sqlite() else { return work() };
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).map_err(crate::StoreError::from)?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{kib}")).map_err(crate::StoreError::from)?;
    let outcome = work();
    conn.execute_batch(&format!("PRAGMA cache_size = {cache}")).map_err(crate::StoreError::from)?;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch("CREATE TABLE t (x INTEGER)").expect("table");
        Connection::sqlite(conn)
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).expect("count")
    }

    #[test]
    fn a_rolled_back_item_leaves_nothing_and_the_others_stay() -> Result<()> {
        let conn = conn();
        conn.execute_batch("BEGIN")?;
        for (x, fail) in [(1, false), (2, true), (3, false)] {
            savepoint(&conn, Savepoint::BatchRow)?;
            conn.execute("INSERT INTO t VALUES (?1)", [x])?;
            if fail {
                roll_back_to(&conn, Savepoint::BatchRow)?;
            }
            release(&conn, Savepoint::BatchRow)?;
        }
        conn.execute_batch("COMMIT")?;
        assert_eq!(count(&conn), 2);
        Ok(())
    }

    #[test]
    fn the_page_cache_is_given_back() -> Result<()> {
        let conn = conn();
        let before: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        let during = with_page_cache(&conn, 32_000, || conn.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0)).map_err(crate::StoreError::from))?;
        assert_eq!(during, -32_000);
        let failed: Result<()> = with_page_cache(&conn, 16_000, || Err(crate::StoreError::from(rusqlite::Error::InvalidQuery)));
        assert!(failed.is_err());
        assert_eq!(conn.query_row::<i64, _, _>("PRAGMA cache_size", [], |r| r.get(0))?, before);
        Ok(())
    }
}
