//! Opening the database and running work against it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::OpenFlags;

use crate::checkpoint::{self, Checkpointer};
use crate::db::{Connection, Engine};
use crate::error::{Result, StoreError};

/// The file name inside the data directory.
pub const DATABASE_FILE: &str = "cardbench.sqlite";

/// A handle on the store. Cheap to share behind an `Arc`.
///
/// Two connections: one for writes, one for reads, so a long worklist query does not wait for an
/// ingest transaction (WAL lets readers run beside the writer). `std::sync::Mutex`, not tokio's:
/// no await happens while one is held; async callers use `spawn_blocking`.
/// On SQLite a third connection, on a thread of its own, copies the write-ahead log into the
/// database file ([`crate::checkpoint`]), so commits do not. On PostgreSQL ([`Store::open_url`])
/// the same two connections go to the server, which does its own checkpoints.
pub struct Store {
    path: PathBuf,
    engine: Engine,
    /// PostgreSQL: the URL as given (password included) for the change feed's own connection.
    /// Never shown: [`Store::path`] is the redacted form.
    url: Option<String>,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    checkpointer: Option<Checkpointer>,
    /// Whether the schema is known to be this build's: false only for a PostgreSQL store opened
    /// while its server did not answer, until the first call that reaches it migrates.
    migrated: std::sync::atomic::AtomicBool,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, upgrading an older schema in place.
    /// The directory is made 0700 (see [`crate::private_files`]): everything in it is ours.
    pub fn open_in(data_dir: &Path) -> Result<Store> {
        crate::private_files::create_dir_all(data_dir)
            .and_then(|()| crate::private_files::make_private(data_dir))
            .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
        Store::open(&data_dir.join(DATABASE_FILE))
    }

    pub fn open(path: &Path) -> Result<Store> {
        make_database_private(path)?;
        let mut writer = connect(path)?;
        crate::migrate::migrate(&mut writer, &path.display().to_string())?;
        writer.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)?;
        let reader = connect(path)?;
        let checkpointer = Checkpointer::start(connect(path)?, path)?;
        Ok(Store {
            path: path.to_owned(),
            engine: Engine::Sqlite,
            url: None,
            writer: Mutex::new(Connection::sqlite(writer)),
            reader: Mutex::new(Connection::sqlite(reader)),
            checkpointer: Some(checkpointer),
            migrated: std::sync::atomic::AtomicBool::new(true),
        })
    }

    /// Opens the store a `store.url` names: `postgres://…` (or `postgresql://…`) for a floor's
    /// shared PostgreSQL store, created or upgraded in place; anything else is not a store URL.
    /// The database must answer now: for checking a URL before it is saved, and for tools.
    pub fn open_url(url: &str) -> Result<Store> {
        Store::open_postgres(url, false)
    }

    /// [`Store::open_url`] for a station (the app, `cardbench run`): a floor's database that does
    /// not answer now (a restart, a failover) does not keep the station from starting. The
    /// connections are made, and the schema checked or upgraded, at the first call once it
    /// answers; until then every call fails as the store being unreachable, which the screens and
    /// the receive loop show and wait out. A wrong URL, user or password is refused at once.
    pub fn open_url_when_reachable(url: &str) -> Result<Store> {
        Store::open_postgres(url, true)
    }

    fn open_postgres(url: &str, wait: bool) -> Result<Store> {
        if !crate::postgres::is_postgres_url(url) {
            return Err(StoreError::Url { url: crate::postgres::redact(url), reason: "not a postgres:// URL".into() });
        }
        let connect = if wait { crate::postgres::connect_when_reachable } else { crate::postgres::connect };
        let mut writer = connect(url)?;
        let migrated = match crate::postgres::migrate(&mut writer, url) {
            Ok(()) => true,
            Err(e) if wait && e.failure() == Some(crate::StoreFailure::Unreachable) => false,
            Err(e) => return Err(e),
        };
        let reader = connect(url)?;
        Ok(Store {
            path: PathBuf::from(crate::postgres::redact(url)),
            engine: Engine::Postgres,
            url: Some(url.to_owned()),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            checkpointer: None,
            migrated: std::sync::atomic::AtomicBool::new(migrated),
        })
    }

    /// The database file; for a PostgreSQL store its URL without the password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Names the station this store writes for (a floor's `[store] station`): the audit rows its
    /// writes record say so. One process is one station.
    pub fn set_station(&self, station: &str) {
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).set_station(station);
    }

    /// The connection `conn` (the writer or the reader), locked, once the store is ready: a
    /// PostgreSQL store opened before its server answered is migrated at its first call that
    /// reaches it (a no-op once done, and always on SQLite).
    fn locked<'c>(&self, conn: &'c Mutex<Connection>) -> Result<MutexGuard<'c, Connection>> {
        use std::sync::atomic::Ordering;
        if !self.migrated.load(Ordering::Acquire)
            && let Some(url) = &self.url
        {
            let mut writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !self.migrated.load(Ordering::Acquire) {
                crate::postgres::migrate(&mut writer, url)?;
                self.migrated.store(true, Ordering::Release);
                tracing::info!("the worklist database answers: schema checked");
            }
        }
        Ok(conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Runs `work` in one transaction and commits if it returns Ok. On SQLite the transaction is
    /// IMMEDIATE (the write lock is taken at the start, so two processes never deadlock upgrading
    /// a read lock); on PostgreSQL see [`crate::postgres::BEGIN`].
    pub fn write<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let conn = self.locked(&self.writer)?;
        self.in_transaction(&conn, work, Announce::Yes)
    }

    /// [`Store::write`] for what no screen shows (a station renewing its sending lease every few
    /// seconds): not told to the change feeds, so it does not refresh every station's screens.
    pub fn write_unannounced<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let conn = self.locked(&self.writer)?;
        self.in_transaction(&conn, work, Announce::No)
    }

    /// [`Store::write`] for what may be skipped (the link states): waits at most `wait` for the
    /// write lock instead of the busy timeout, so a lock held elsewhere does not hold the single
    /// writer (and the receive loop behind it) for ten seconds for a status row.
    pub fn write_briefly<T, E>(&self, wait: Duration, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let conn = self.locked(&self.writer)?;
        let Some(sqlite) = conn.as_sqlite() else {
            return self.in_transaction(&conn, work, Announce::Yes);
        };
        sqlite.busy_timeout(wait).map_err(StoreError::from)?;
        let begun = sqlite.execute_batch("BEGIN IMMEDIATE");
        sqlite.busy_timeout(BUSY_TIMEOUT).map_err(StoreError::from)?;
        begun.map_err(StoreError::from)?;
        self.commit_after(&conn, work, Announce::Yes)
    }

    fn in_transaction<T, E>(&self, conn: &Connection, work: impl FnOnce(&Connection) -> Result<T, E>, announce: Announce) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let begin = match conn.engine() {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => crate::postgres::BEGIN,
        };
        conn.execute_batch(begin).map_err(StoreError::from)?;
        self.commit_after(conn, work, announce)
    }

    /// Runs `work` in the transaction `conn` has open and commits if it returns Ok; rolls back
    /// otherwise (also when `work` panics): what every write does once it holds the lock.
    /// PostgreSQL: the commit notifies the other stations' change feeds ([`crate::changes`]).
    fn commit_after<T, E>(&self, conn: &Connection, work: impl FnOnce(&Connection) -> Result<T, E>, announce: Announce) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let open = OpenTransaction { conn, done: false };
        let value = work(conn)?;
        let commit = match (conn.engine(), announce) {
            (Engine::Postgres, Announce::Yes) => crate::changes::NOTIFY_AND_COMMIT,
            _ => "COMMIT",
        };
        conn.execute_batch(commit).map_err(StoreError::from)?;
        let mut open = open;
        open.done = true;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
        Ok(value)
    }

    /// Copies the whole write-ahead log into the database file and truncates the log to zero
    /// bytes, so pages a purge rewrote leave no older copy behind in the log (with
    /// `secure_delete`, the database file itself keeps none either). Waits for readers up to the
    /// busy timeout; returns false when one still held an old snapshot (then the log is only
    /// partly copied and the next call finishes it). PostgreSQL: nothing to do here (true).
    pub fn checkpoint_truncate(&self) -> Result<bool> {
        let conn = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(conn) = conn.as_sqlite() else { return Ok(true) };
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy == 0)
    }

    /// A number that changes whenever a connection other than this store's writer commits: with
    /// one store per process (the app and `cardbench run` each open one), another process's
    /// commit. `None` while this process is writing (the writer is not waited for); ask again.
    pub fn commits_elsewhere(&self) -> Result<Option<i64>> {
        let conn = match self.writer.try_lock() {
            Ok(conn) => conn,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
        };
        crate::changes::data_version(&conn).map(Some)
    }

    /// A feed that tells of every commit to this store, by any connection: this process's,
    /// another process's on the same file, another station's on the same PostgreSQL database
    /// ([`crate::changes::ChangeFeed`]). It has a connection of its own.
    pub fn change_feed(&self) -> Result<crate::changes::ChangeFeed> {
        match &self.url {
            Some(url) => crate::changes::listen_postgres(url),
            None => crate::changes::watch_sqlite(connect(&self.path)?),
        }
    }

    /// Runs `work` on the read connection (a consistent snapshot per statement).
    pub fn read<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let conn = self.locked(&self.reader)?;
        work(&conn)
    }
}

/// Whether a commit is told to the change feeds (PostgreSQL; SQLite's feed sees every commit).
#[derive(Clone, Copy)]
enum Announce {
    Yes,
    No,
}

/// Rolls the transaction back unless it was committed: on an error return and on a panic.
struct OpenTransaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Err(error) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(%error, "rolling back a failed write failed");
        }
    }
}

/// How long a write waits for a lock another process holds before it fails as `Locked`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database file is created 0600 before SQLite opens it, and an older one made 0600: SQLite
/// gives the `-wal` and `-shm` files it creates the database file's mode, so all three are
/// private whatever the umask. Existing `-wal`/`-shm` files are tightened too.
fn make_database_private(path: &Path) -> Result<()> {
    let failed = |source| StoreError::DataDir { path: path.display().to_string(), source };
    if std::fs::symlink_metadata(path).is_err() {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(crate::private_files::FILE_MODE).open(path).map_err(failed)?;
    }
    crate::private_files::make_private(path).map_err(failed)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if std::fs::symlink_metadata(&side).is_ok() {
            crate::private_files::make_private(&side).map_err(|source| StoreError::DataDir { path: side.display().to_string(), source })?;
        }
    }
    Ok(())
}

fn connect(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The daemon, the CLI and the app may all have the file open: wait for the lock, don't fail.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // FULL, not NORMAL: our inbox rows are the only record of messages already settled on the
    // broker, so a commit must survive power loss before we settle. secure_delete: a value
    // overwritten or deleted (a PIN code replaced by its tombstone after REPORT_OK) is zeroed in
    // the file, not left in free space.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA secure_delete = ON;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}
