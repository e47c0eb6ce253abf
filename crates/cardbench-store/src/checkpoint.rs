//! Write-ahead-log checkpoints on a thread of their own, off the writer's path.
//!
//! Why: with SQLite's automatic checkpoints, the commit that takes the log past 1,000 pages also
//! copies those pages into the database file and fsyncs it, all on the committing thread. In the
//! ingest benchmark that was 12 % of the store writer's CPU time, plus the database fsync it
//! waited for, while the next batch of messages waited behind it. Here a thread of the store's
//! own copies the log into the database beside the writer (WAL mode lets a checkpoint run
//! while a transaction commits), so a commit is the log write and its fsync only.
//!
//! The writer keeps SQLite's own automatic checkpoint, set far higher ([`BACKSTOP_PAGES`]): a
//! checkpoint that runs while the writer appends never catches up with the log's end, and SQLite
//! rewinds the log only after one that does. The writer's own checkpoint is such a one (nothing
//! appends while it runs), and by then this thread has copied nearly everything, so it is short.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::Result;

/// Checkpoints at most this often: one copies each changed page once, however often it changed
/// since the last, so a pause saves writes while a backlog drains.
pub(crate) const INTERVAL: Duration = Duration::from_millis(250);

/// Log pages at which the writer's own connection checkpoints (SQLite's default is 1,000). About
/// 40 MB with 4 KiB pages: the log's size while a backlog drains.
pub(crate) const BACKSTOP_PAGES: u32 = 10_000;

#[derive(Default)]
struct State {
    /// Commits since the last checkpoint began.
    commits: u64,
    stop: bool,
}

#[derive(Default)]
struct Signal {
    state: Mutex<State>,
    wake: Condvar,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The checkpoint thread of one [`crate::Store`]; it stops when this is dropped.
pub(crate) struct Checkpointer {
    signal: Arc<Signal>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with a connection of its own to `path`.
    pub(crate) fn start(conn: Connection, path: &Path) -> Result<Checkpointer> {
        let signal = Arc::new(Signal::default());
        let thread_signal = signal.clone();
        let name = path.display().to_string();
        let thread = thread::Builder::new()
            .name("cardbench-checkpoint".into())
            .spawn(move || run(&conn, &thread_signal, &name))
            .map_err(crate::error::StoreError::Thread)?;
        Ok(Checkpointer { signal, thread: Some(thread) })
    }

    /// Says that a transaction was committed: the log has something to copy.
    pub(crate) fn committed(&self) {
        let mut state = self.signal.lock();
        state.commits += 1;
        if state.commits == 1 {
            self.signal.wake.notify_one();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.signal.lock().stop = true;
        self.signal.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A panic in there is already reported by the panic hook; nothing to add here.
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, signal: &Signal, path: &str) {
    let mut last = Instant::now() - INTERVAL;
    loop {
        {
            let mut state = signal.lock();
            // Wait for a commit, then for the rest of the interval since the last checkpoint.
            while !state.stop && (state.commits == 0 || last.elapsed() < INTERVAL) {
                state = if state.commits == 0 {
                    signal.wake.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner())
                } else {
                    let rest = INTERVAL.saturating_sub(last.elapsed());
                    signal.wake.wait_timeout(state, rest).unwrap_or_else(|poisoned| poisoned.into_inner()).0
                };
            }
            if state.stop {
                return;
            }
            state.commits = 0;
        }
        last = Instant::now();
        // PASSIVE: copies what no reader still needs and never waits for readers or the writer.
        // Busy (another checkpoint running, e.g. the writer's own) is not a failure.
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(%error, database = path, "background checkpoint failed; the writer's own checkpoint still bounds the log");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::Store;

    fn file_len(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn the_thread_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_in(dir.path()).expect("open");
        store.write(|tx| tx.execute_batch("CREATE TABLE scratch (b BLOB)").map_err(crate::StoreError::from)).expect("create");
        let before = file_len(store.path());
        // 2 MB in 32 commits: about 500 pages, far below the writer's own checkpoint threshold,
        // so only the thread can move them out of the log.
        for _ in 0..32 {
            store
                .write(|tx| tx.execute("INSERT INTO scratch (b) VALUES (?1)", [vec![7u8; 64 * 1024]]).map_err(crate::StoreError::from))
                .expect("insert");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while file_len(store.path()) < before + 2_000_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            file_len(store.path()) >= before + 2_000_000,
            "database file {} bytes, was {before}: the log was not checkpointed",
            file_len(store.path())
        );
        let rows: i64 = store.read(|c| c.query_row("SELECT count(*) FROM scratch", [], |r| r.get(0)).map_err(crate::StoreError::from)).expect("count");
        assert_eq!(rows, 32);
    }

    #[test]
    fn dropping_the_store_right_after_a_commit_stops_the_thread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_in(dir.path()).expect("open");
        store.write(|tx| tx.execute_batch("CREATE TABLE scratch (b BLOB)").map_err(crate::StoreError::from)).expect("create");
        store.write(|tx| tx.execute("INSERT INTO scratch (b) VALUES (x'00')", []).map_err(crate::StoreError::from)).expect("insert");
        let start = Instant::now();
        drop(store);
        assert!(start.elapsed() < super::INTERVAL * 4, "drop waited {:?}", start.elapsed());
        // Everything committed is there after reopening.
        let store = Store::open_in(dir.path()).expect("reopen");
        let rows: i64 = store.read(|c| c.query_row("SELECT count(*) FROM scratch", [], |r| r.get(0)).map_err(crate::StoreError::from)).expect("count");
        assert_eq!(rows, 1);
    }
}
