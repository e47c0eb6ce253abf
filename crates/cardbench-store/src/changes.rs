//! Has the database changed? For live screens and the outbox sender, which must learn of commits
//! they did not make (another process on the same data directory, e.g. `cardbench` beside the app;
//! on PostgreSQL, another station).
//!
//! Two ways to learn it: [`data_version`], a number to compare between two looks, and
//! [`ChangeFeed`], which is told. On PostgreSQL every commit made through [`crate::Store::write`]
//! notifies [`CHANNEL`] (delivered by the server at commit, to every station listening), so a
//! floor's screens wake when another station commits instead of polling the tables. On SQLite
//! the feed watches the file's `data_version` (a look at the shared-memory header, not at a table).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::db::Connection;
use crate::error::{Result, StoreError};

/// The PostgreSQL notification channel of the store's commits. Its payload is the schema the
/// commit wrote (channels are per database; a listener on another schema, e.g. another test's,
/// ignores it).
pub const CHANNEL: &str = "cardbench_changes";

/// What a PostgreSQL write runs to commit: the notification first, in the same transaction, so
/// it is delivered if and only if the commit is (and once per transaction: the server folds equal
/// notifications of one transaction into one).
pub(crate) const NOTIFY_AND_COMMIT: &str = "SELECT pg_notify('cardbench_changes', current_schema()); COMMIT";

/// How often the SQLite feed looks at the file's `data_version`.
const SQLITE_LOOK: Duration = Duration::from_millis(100);

/// How long the PostgreSQL feed waits before connecting again after its connection ended.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

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

#[derive(Default)]
struct FeedState {
    /// Commits told so far (a count, so a waiter tells "since my last look" without a queue).
    changes: u64,
    /// Whether the feed is listening now (PostgreSQL: its connection is up and LISTENing).
    listening: bool,
    /// Set when the feed is dropped: its thread ends.
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<FeedState>,
    told: Condvar,
    /// Wakes the PostgreSQL thread's runtime when the feed is dropped.
    stop: tokio::sync::Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.lock().changes += 1;
        self.told.notify_all();
    }

    fn listening(&self, on: bool) {
        let mut state = self.lock();
        // Back from a lost connection: commits may have been made meanwhile. Just lost: a
        // watcher looks at once (and finds the store unreachable, or not). Either is told as a
        // change; a reconnect attempt that failed again is not.
        let turned = on || state.listening;
        state.listening = on;
        if turned {
            state.changes += 1;
        }
        drop(state);
        self.told.notify_all();
    }

    fn stopped(&self) -> bool {
        self.lock().stop
    }
}

/// Tells of the store's commits, from any connection: this process's, another process's on the
/// same file, another station's on the same PostgreSQL database. A thread of its own listens;
/// dropping the feed ends it.
pub struct ChangeFeed {
    shared: Arc<Shared>,
    seen: u64,
}

impl ChangeFeed {
    /// Waits up to `timeout` for a commit made since the last call (or since the feed was
    /// opened); true when there was one. Several commits in between are one change.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        let state = self.shared.lock();
        let seen = self.seen;
        let (state, _) = self
            .shared
            .told
            .wait_timeout_while(state, timeout, |s| s.changes == seen)
            .unwrap_or_else(|p| p.into_inner());
        let changed = state.changes != seen;
        self.seen = state.changes;
        changed
    }

    /// Whether the feed is being told now. PostgreSQL: false while its connection is down (it
    /// reconnects every second; meanwhile a caller that must not miss a change looks itself).
    pub fn is_listening(&self) -> bool {
        self.shared.lock().listening
    }
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.stop.notify_one();
    }
}

/// A feed over a SQLite file: a connection of its own looks at `data_version` every
/// [`SQLITE_LOOK`].
pub(crate) fn watch_sqlite(conn: rusqlite::Connection) -> Result<ChangeFeed> {
    let shared = Arc::new(Shared::default());
    let mut last: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    shared.listening(true);
    let feed = ChangeFeed { seen: shared.lock().changes, shared: shared.clone() };
    spawn("cardbench-feed", move || {
        while !shared.stopped() {
            std::thread::sleep(SQLITE_LOOK);
            match conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)) {
                Ok(now) if now != last => {
                    last = now;
                    shared.changed();
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the change feed cannot look at the store"),
            }
        }
    })?;
    Ok(feed)
}

/// A feed over a PostgreSQL store: a connection of its own LISTENs on [`CHANNEL`] and counts
/// the notifications for its schema; it connects again when the connection ends.
pub(crate) fn listen_postgres(url: &str) -> Result<ChangeFeed> {
    let shared = Arc::new(Shared::default());
    let feed = ChangeFeed { seen: 0, shared: shared.clone() };
    let url = url.to_owned();
    spawn("cardbench-listen", move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                tracing::error!(%error, "the change feed cannot start its runtime");
                return;
            }
        };
        runtime.block_on(async {
            while !shared.stopped() {
                if let Err(reason) = listen_once(&url, &shared).await {
                    tracing::warn!(%reason, "the change feed lost its PostgreSQL connection; connecting again");
                }
                shared.listening(false);
                tokio::select! {
                    _ = tokio::time::sleep(RECONNECT_AFTER) => {}
                    _ = shared.stop.notified() => {}
                }
            }
        });
    })?;
    Ok(feed)
}

/// One connection's life: LISTEN, count notifications until the connection ends or the feed is
/// dropped.
async fn listen_once(url: &str, shared: &Shared) -> std::result::Result<(), String> {
    let (client, mut connection) = crate::db::pg_connect::connect(url).await.map_err(|e| e.reason)?;
    // The connection's messages (query answers and notifications) come through one poll: a task
    // drives it, keeping the notifications for our schema and counting them.
    let (told_tx, mut told_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) if n.channel() == CHANNEL => {
                    if told_tx.send(n.payload().to_owned()).is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(crate::postgres::describe(&e)),
                None => return Ok(()),
            }
        }
    });
    let schema: String = client
        .query_one("SELECT current_schema()", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| crate::postgres::describe(&e))?;
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(|e| crate::postgres::describe(&e))?;
    shared.listening(true);
    let ended = loop {
        tokio::select! {
            told = told_rx.recv() => match told {
                Some(payload) if payload == schema => shared.changed(),
                Some(_) => {}
                None => break Ok(()),
            },
            _ = shared.stop.notified() => break Ok(()),
        }
    };
    drop(client);
    match driver.await {
        Ok(Err(reason)) => Err(reason),
        _ => ended,
    }
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map(|_| ())
        .map_err(StoreError::Thread)
}
