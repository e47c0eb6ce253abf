//! What `cardbench bench` needs of the store beyond the tables' own functions: seeding a large
//! worklist in any status, refreshing the planner's statistics, and the plain-SQLite baseline a
//! figure is compared with. Here so the CLI names no SQL.

use std::path::Path;
use std::time::{Duration, Instant};

use cardbench_protocol::ExternalProductionData;
use crate::db::pg::block_on;
use crate::db::{Connection, Engine};
use crate::Store;

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

/// Refreshes the planner's statistics after a bulk fill, as a long-running store has them. On
/// PostgreSQL also VACUUM, which autovacuum would have run by then: it marks the pages all-visible,
/// so the worklist's index-only scans do not visit the table.
pub fn settle_after_fill(store: &Store) -> Result<()> {
    match store.engine() {
        Engine::Sqlite => store.write(analyze),
        // VACUUM runs outside a transaction: on the read connection, which never opens one.
        Engine::Postgres => store.read(|conn| conn.execute_batch("VACUUM ANALYZE").map_err(Into::into)),
    }
}

/// Copies every row of `tables` (in that order) from a SQLite store into a PostgreSQL one with
/// `COPY … FROM STDIN`: a bulk fill for benchmarks, which compare the two engines on the same
/// rows. Nothing is checked ([`crate::move_in`] is the way a station's data moves). Returns the
/// rows copied.
pub fn copy_to_postgres(source: &Store, target: &Store, tables: &[&str]) -> Result<u64> {
    use futures_util::SinkExt as _;
    const CHUNK: usize = 1 << 20;
    let mut copied = 0u64;
    for table in tables {
        let columns: Vec<String> = source.read(|c| {
            c.prepare(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"))?
                .query_map([], |r| r.get(0))?
                .collect::<crate::db::Result<Vec<String>>>()
                .map_err(crate::StoreError::from)
        })?;
        let list = columns.join(", ");
        source.read(|src| -> Result<()> {
            let src = src.as_sqlite().ok_or_else(|| crate::StoreError::Url { url: String::new(), reason: "the source is not SQLite".into() })?;
            target.read(|pg| -> Result<()> {
                let pg = pg.as_postgres().ok_or_else(|| crate::StoreError::Url { url: String::new(), reason: "the target is not PostgreSQL".into() })?;
                let pg = pg.borrow_mut();
                let sink = block_on(pg.client()?.copy_in::<_, bytes::Bytes>(&format!("COPY {table} ({list}) FROM STDIN")))?;
                futures_util::pin_mut!(sink);
                let mut stmt = src.prepare(&format!("SELECT {list} FROM {table}"))?;
                let mut rows = stmt.query([])?;
                let mut buf = bytes::BytesMut::with_capacity(CHUNK + 4096);
                while let Some(row) = rows.next()? {
                    for i in 0..columns.len() {
                        if i > 0 {
                            buf.extend_from_slice(b"\t");
                        }
                        copy_text(&mut buf, row.get_ref(i)?);
                    }
                    buf.extend_from_slice(b"\n");
                    copied += 1;
                    if buf.len() >= CHUNK {
                        block_on(sink.send(buf.split().freeze()))?;
                    }
                }
                if !buf.is_empty() {
                    block_on(sink.send(buf.split().freeze()))?;
                }
                block_on(sink.as_mut().finish())?;
                Ok(())
            })
        })?;
        // Ids were copied as they are: the identity goes on after the highest.
        if columns.iter().any(|c| c == "id") {
            target.read(|pg| {
                pg.execute_batch(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table} HAVING MAX(id) IS NOT NULL"
                ))
                .map_err(crate::StoreError::from)
            })?;
        }
    }
    Ok(copied)
}

/// One value in COPY's text format.
fn copy_text(buf: &mut bytes::BytesMut, value: rusqlite::types::ValueRef<'_>) {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => buf.extend_from_slice(b"\\N"),
        ValueRef::Integer(i) => buf.extend_from_slice(i.to_string().as_bytes()),
        ValueRef::Real(f) => buf.extend_from_slice(f.to_string().as_bytes()),
        ValueRef::Text(t) => {
            for &b in t {
                match b {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.extend_from_slice(&[b]),
                }
            }
        }
        // bytea's hex input, its backslash escaped for COPY.
        ValueRef::Blob(b) => {
            buf.extend_from_slice(b"\\\\x");
            for byte in b {
                buf.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
        }
    }
}
