//! Is the store failing as a whole (disk full, locked by another process, an I/O error, a floor's
//! database unreachable), as
//! opposed to one message or one change being wrong? The receive loop holds its messages and
//! tries again while the store fails, and `cardbench status` asks the same question of the disk.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Why the whole store cannot take writes now. Each goes away without anyone touching the
/// messages: space is freed, the other process lets go, the disk comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreFailure {
    DiskFull,
    Locked,
    Io,
    ReadOnly,
    /// A floor's PostgreSQL server does not answer (restarted, failing over, cut off).
    Unreachable,
}

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreFailure::DiskFull => "disk full",
            StoreFailure::Locked => "locked by another process",
            StoreFailure::Io => "I/O error",
            StoreFailure::ReadOnly => "read-only",
            StoreFailure::Unreachable => "database unreachable",
        })
    }
}

impl StoreFailure {
    /// The failure an SQLite error stands for, if it is one of the store as a whole.
    pub fn of_sqlite(error: &rusqlite::Error) -> Option<StoreFailure> {
        let rusqlite::Error::SqliteFailure(e, _) = error else { return None };
        match e.code {
            ErrorCode::DiskFull => Some(StoreFailure::DiskFull),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Some(StoreFailure::Locked),
            ErrorCode::SystemIoFailure | ErrorCode::CannotOpen | ErrorCode::OutOfMemory => Some(StoreFailure::Io),
            ErrorCode::ReadOnly => Some(StoreFailure::ReadOnly),
            _ => None,
        }
    }

    /// The failure an I/O error stands for (ENOSPC, EDQUOT → disk full).
    pub fn of_io(error: &std::io::Error) -> StoreFailure {
        match error.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => StoreFailure::DiskFull,
            std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => StoreFailure::ReadOnly,
            _ => StoreFailure::Io,
        }
    }
}

impl StoreError {
    /// The failure of the whole store this error stands for, if any; None for an error of one
    /// query or one row (those are the message's own problem).
    pub fn failure(&self) -> Option<StoreFailure> {
        match self {
            StoreError::Sqlite(e) | StoreError::Migration { source: e, .. } => StoreFailure::of_sqlite(e),
            StoreError::DataDir { source, .. } => Some(StoreFailure::of_io(source)),
            StoreError::Postgres(e) if crate::postgres::is_connection_lost(e) => Some(StoreFailure::Unreachable),
            StoreError::Unreachable(_) => Some(StoreFailure::Unreachable),
            _ => None,
        }
    }
}

/// Says a failure of the store as a whole once per outage rather than at every turn of a loop
/// that keeps trying (the outbox sender, the webhook senders' manager): an hour of a floor's
/// database away is two lines in the log, not thousands. Any other error is always said.
#[derive(Debug, Default)]
pub struct OutageLog {
    failing: Option<StoreFailure>,
}

impl OutageLog {
    /// Whether to log an error whose store-wide failure is `failure` (None: not one).
    pub fn should_log(&mut self, failure: Option<StoreFailure>) -> bool {
        match failure {
            None => true,
            Some(f) => self.failing.replace(f) != Some(f),
        }
    }

    /// A call went through: true once, when it ends an outage (say so).
    pub fn recovered(&mut self) -> bool {
        self.failing.take().is_some()
    }
}

/// How much room the probe asks the disk for: about what one received batch needs in the WAL.
const PROBE_BYTES: usize = 256 * 1024;

/// Asks the disk and the database whether a write would go through now, without writing to the
/// database: room for a batch in the data directory (written, synced and removed again), and the
/// write lock within `wait`. For `cardbench status`, from any process.
pub fn probe(database: &Path, wait: Duration) -> Option<StoreFailure> {
    let dir = database.parent().unwrap_or(Path::new("."));
    let room = dir.join(".cardbench-space-probe");
    let written = std::fs::File::create(&room).and_then(|mut f| {
        f.write_all(&vec![0u8; PROBE_BYTES])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&room);
    if let Err(e) = written {
        return Some(StoreFailure::of_io(&e));
    }
    if !database.exists() {
        return None;
    }
    let locked = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .and_then(|conn| {
            conn.busy_timeout(wait)?;
            // Taken and given back at once: nothing is written.
            conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
        });
    locked.err().and_then(|e| StoreFailure::of_sqlite(&e))
}

/// Takes the write lock of `database` on a connection of its own, calls `locked`, holds the lock
/// for `hold` and lets go without writing: what a second process (another station's tool, a
/// careless backup) does to the store. For the outage benchmark and tests.
pub fn hold_write_lock(database: &Path, hold: Duration, locked: impl FnOnce()) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    locked();
    std::thread::sleep(hold);
    conn.execute_batch("ROLLBACK")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_logged_once_and_its_end_once_while_other_errors_always_are() {
        let mut log = OutageLog::default();
        assert!(log.should_log(None));
        assert!(!log.recovered(), "no outage to end");
        assert!(log.should_log(Some(StoreFailure::Unreachable)), "the first of an outage");
        assert!(!log.should_log(Some(StoreFailure::Unreachable)), "not every retry");
        assert!(log.should_log(None), "another error during it");
        assert!(log.should_log(Some(StoreFailure::DiskFull)), "a different failure");
        assert!(log.recovered(), "its end");
        assert!(!log.recovered());
        assert!(log.should_log(Some(StoreFailure::Unreachable)), "the next outage");
    }

    #[test]
    fn sqlite_codes_of_the_whole_store_are_failures_and_others_are_not() {
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        let constraint = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT), None);
        assert_eq!(StoreError::from(full).failure(), Some(StoreFailure::DiskFull));
        assert_eq!(StoreError::from(busy).failure(), Some(StoreFailure::Locked));
        assert_eq!(StoreError::from(constraint).failure(), None);
        assert_eq!(StoreError::from(rusqlite::Error::QueryReturnedNoRows).failure(), None);
    }

    #[test]
    fn a_database_locked_by_another_connection_is_reported_locked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cardbench.db");
        let holder = Connection::open(&path).expect("open");
        holder.execute_batch("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);").expect("take the lock");
        assert_eq!(probe(&path, Duration::from_millis(50)), Some(StoreFailure::Locked));
        holder.execute_batch("COMMIT").expect("let go");
        assert_eq!(probe(&path, Duration::from_millis(50)), None);
    }
}
