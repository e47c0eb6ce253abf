//! What `cardbench bench` needs of the store beyond the tables' own functions: seeding a large
//! worklist in any status, refreshing the planner's statistics, and the plain-SQLite baseline a
//! figure is compared with. Here so the CLI names no SQL.

use std::path::Path;
use std::time::{Duration, Instant};

use cardbench_protocol::ExternalProductionData;
use crate::db::Connection;

use crate::cards::{self, CardStatus, StatusChange};
use crate::error::Result;

/// A card as the worklist benchmark wants it: received at `received_at` and put straight into
/// `status`, without the workflow's steps (no readouts, no messages). Bench data only: a real
/// card changes status through the workflow's transitions.
pub fn seed_card(conn: &Connection, request: &ExternalProductionData, inbox_id: i64, status: CardStatus, received_at: &str) -> Result<()> {
    cards::insert(conn, request, inbox_id, received_at)?;
    if status != CardStatus::Received {
        cards::set_status(conn, &request.card.card_id, status, &StatusChange::default(), received_at)?;
    }
    Ok(())
}

/// Refreshes the query planner's statistics (after a bulk fill, as a long-running store has them).
pub fn analyze(conn: &Connection) -> Result<()> {
    conn.execute_batch("ANALYZE")?;
    Ok(())
}

/// The baseline of the hot-folder figure: `rows` (card, field, value) inserted as they are into
/// one table of a fresh SQLite file at `path`, in one transaction, with the store's durability
/// (WAL, synchronous FULL). Returns the time the insert and commit took.
pub fn plain_insert(path: &Path, rows: &[(String, String, String)]) -> Result<Duration> {
    let raw = rusqlite::Connection::open(path)?;
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE rows (card_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL);",
    )?;
    let start = Instant::now();
    raw.execute_batch("BEGIN IMMEDIATE")?;
    {
        let mut insert = raw.prepare("INSERT INTO rows (card_id, field, value) VALUES (?1, ?2, ?3)")?;
        for (card, field, value) in rows {
            insert.execute((card, field, value))?;
        }
    }
    raw.execute_batch("COMMIT")?;
    Ok(start.elapsed())
}
