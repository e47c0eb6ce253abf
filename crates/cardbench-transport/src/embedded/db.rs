//! The queue file: connection settings, schema, and running SQLite work off the async runtime.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::EmbeddedOptions;
use crate::{TransportError, TransportErrorKind};

/// Bumped when the schema changes; a file with a newer version is refused rather than misread.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL
);
-- AUTOINCREMENT: a seq is never reused, so it orders a queue and names a message for good.
CREATE TABLE IF NOT EXISTS message (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id       INTEGER NOT NULL REFERENCES queue(id),
    message_id     TEXT,
    subject        TEXT,
    correlation_id TEXT,
    content_type   TEXT,
    body           BLOB NOT NULL,
    enqueued_ms    INTEGER NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS message_by_queue ON message(queue_id, seq);
-- messageIds seen per queue, kept for the duplicate-detection window after the message is gone.
CREATE TABLE IF NOT EXISTS seen_id (
    queue_id   INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    seen_ms    INTEGER NOT NULL,
    PRIMARY KEY (queue_id, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_id_by_time ON seen_id(seen_ms);
";

pub(crate) fn sql_error(context: &str, e: rusqlite::Error) -> TransportError {
    TransportError::new(TransportErrorKind::Other, format!("embedded queues: {context}: {e}"))
}

/// Opens a connection with the settings every user of the file needs, and creates the schema.
pub(crate) fn open(path: &Path, options: &EmbeddedOptions) -> Result<Connection, TransportError> {
    let mut conn = Connection::open(path).map_err(|e| {
        TransportError::new(TransportErrorKind::Connection, format!("cannot open {}: {e}", path.display()))
    })?;
    // busy_timeout first: switching to WAL and creating the schema may meet another process.
    conn.busy_timeout(options.busy_timeout).map_err(|e| sql_error("busy_timeout", e))?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| sql_error("journal_mode=WAL", e))?;
    // FULL: a send reported Ok must survive a power cut; the other side relies on it.
    conn.pragma_update(None, "synchronous", "FULL").map_err(|e| sql_error("synchronous=FULL", e))?;
    conn.set_prepared_statement_cache_capacity(32);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("schema", e))?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| sql_error("schema version", e))?;
    if version > SCHEMA_VERSION {
        return Err(TransportError::new(
            TransportErrorKind::Other,
            format!("{} was written by a newer Cardbench (queue schema {version})", path.display()),
        ));
    }
    if version < SCHEMA_VERSION {
        tx.execute_batch(SCHEMA).map_err(|e| sql_error("create schema", e))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|e| sql_error("schema version", e))?;
    }
    tx.commit().map_err(|e| sql_error("schema", e))?;
    Ok(conn)
}

/// Queue names are identifiers (Service Bus allows up to 260 characters).
pub(crate) fn check_queue_name(queue: &str) -> Result<(), TransportError> {
    if queue.is_empty() || queue.len() > 260 || queue.chars().any(char::is_control) {
        return Err(TransportError::new(TransportErrorKind::NotFound, format!("invalid queue name {queue:?}")));
    }
    Ok(())
}

/// The id of `name`, creating the queue on first use.
pub(crate) fn ensure_queue(conn: &mut Connection, name: &str) -> Result<i64, TransportError> {
    if let Some(id) = queue_id(conn, name)? {
        return Ok(id);
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("create queue", e))?;
    tx.execute("INSERT OR IGNORE INTO queue (name, created_ms) VALUES (?1, ?2)", params![name, now_ms()])
        .map_err(|e| sql_error("create queue", e))?;
    let id: i64 = tx
        .query_row("SELECT id FROM queue WHERE name = ?1", [name], |r| r.get(0))
        .map_err(|e| sql_error("create queue", e))?;
    tx.commit().map_err(|e| sql_error("create queue", e))?;
    Ok(id)
}

pub(crate) fn queue_id(conn: &Connection, name: &str) -> Result<Option<i64>, TransportError> {
    conn.query_row("SELECT id FROM queue WHERE name = ?1", [name], |r| r.get(0))
        .optional()
        .map_err(|e| sql_error("find queue", e))
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Runs `f` on tokio's blocking pool.
pub(crate) async fn run_blocking<T, F>(f: F) -> Result<T, TransportError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, TransportError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TransportError::new(TransportErrorKind::Other, format!("embedded queue task failed: {e}")))?
}

/// Runs `f` with the connection, on tokio's blocking pool.
pub(crate) async fn with_conn<T, F>(conn: &Arc<Mutex<Connection>>, f: F) -> Result<T, TransportError>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T, TransportError> + Send + 'static,
{
    let conn = conn.clone();
    run_blocking(move || {
        // A panic while holding the lock leaves no transaction open (rusqlite rolls back on drop),
        // so the connection is still sound.
        let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    })
    .await
}
