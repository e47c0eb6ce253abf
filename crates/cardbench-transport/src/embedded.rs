//! The embedded transport: durable local queues in one SQLite file (`<data-dir>/queues.sqlite`),
//! standing in for Service Bus when none is configured.
//!
//! Several processes may open the file at once (the `cardbench run` daemon and `cardbench sim`):
//! SQLite's WAL mode lets readers and one writer work side by side, `busy_timeout` makes a writer
//! wait for another instead of failing, and `synchronous=FULL` makes every committed send durable.
//!
//! Semantics follow Service Bus peek-lock, with one deliberate simplification: locks live in the
//! memory of the receiver that took them. A receiver that is dropped (or whose process dies) loses
//! its locks and the messages are available again at once — exactly what Service Bus does when a
//! lock expires, only sooner. The price is that **the embedded transport supports one consumer per
//! queue**: two receivers on the same queue (in one process or two) would both get the same
//! messages. Cardbench has one consumer per queue by design (the daemon on the inbound queue, the
//! simulator on the outbound one), so keeping locks out of the file saves a write, and an fsync,
//! per received batch.
//!
//! Duplicate detection is Service Bus's: a messageId seen on a queue within the window (default 5
//! days) is dropped silently and reported as sent.
//!
//! Every SQLite call runs on tokio's blocking pool, never on the runtime's worker threads.
//! Each receiver and sender has its own connection, so the inspection API (polled by benchmarks
//! and status screens) never waits behind a receive.

mod db;
mod inspect;
mod receiver;
mod sender;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::{Connector, QueueReceiver, QueueSender, TransportError};

pub use inspect::{QueueCount, RawMessage, StoredMessage};
pub use receiver::EmbeddedReceiver;
pub use sender::EmbeddedSender;

/// The file name of the queues in the data directory.
pub const FILE_NAME: &str = "queues.sqlite";

/// Tuning of the embedded queues; the defaults suit the workstation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// A messageId seen on a queue within this window is dropped as a duplicate. Zero turns
    /// duplicate detection off (like a Service Bus queue created without it).
    pub duplicate_window: Duration,
    /// How often a waiting receiver looks at the file for messages written by another process.
    /// Senders in the same process wake it at once.
    pub poll_interval: Duration,
    /// How long a writer waits for another process's transaction before giving up.
    pub busy_timeout: Duration,
    /// Larger messages are refused (`Rejected`), as Service Bus Standard refuses more than 256 KB.
    pub max_message_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            duplicate_window: Duration::from_secs(5 * 24 * 3600),
            poll_interval: Duration::from_millis(25),
            busy_timeout: Duration::from_secs(10),
            max_message_bytes: 256 * 1024,
        }
    }
}

/// The embedded queues of one file. Cheap to share (`Arc`); open it once per process.
pub struct EmbeddedQueues {
    shared: Arc<Shared>,
    /// For the inspection API only; receivers and senders have their own connections.
    inspect_conn: Arc<Mutex<rusqlite::Connection>>,
}

/// What the connector's receivers and senders share.
pub(crate) struct Shared {
    pub(crate) path: PathBuf,
    pub(crate) options: EmbeddedOptions,
    /// Per queue name: woken by every send in this process, so a receiver waiting here does not
    /// have to wait for its next poll.
    wakers: Mutex<HashMap<String, Arc<Notify>>>,
    /// Unix ms of the last pruning of the duplicate-detection table (any sender of this process).
    pub(crate) last_prune_ms: AtomicI64,
}

impl Shared {
    pub(crate) fn waker(&self, queue: &str) -> Arc<Notify> {
        // A poisoned map still holds valid Notify handles; keep using it.
        let mut map = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(queue.to_owned()).or_insert_with(|| Arc::new(Notify::new())).clone()
    }
}

impl EmbeddedQueues {
    /// Opens (creating if needed) `<data_dir>/queues.sqlite` with default options.
    pub fn open(data_dir: &Path) -> Result<EmbeddedQueues, TransportError> {
        EmbeddedQueues::open_file(&data_dir.join(FILE_NAME), EmbeddedOptions::default())
    }

    /// Opens (creating if needed) the queue file at `path`. Blocking: call it at start-up, or
    /// from a blocking task.
    pub fn open_file(path: &Path, options: EmbeddedOptions) -> Result<EmbeddedQueues, TransportError> {
        let conn = db::open(path, &options)?;
        let shared = Arc::new(Shared {
            path: path.to_owned(),
            options,
            wakers: Mutex::new(HashMap::new()),
            last_prune_ms: AtomicI64::new(0),
        });
        Ok(EmbeddedQueues { shared, inspect_conn: Arc::new(Mutex::new(conn)) })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    pub fn options(&self) -> &EmbeddedOptions {
        &self.shared.options
    }

    /// Opens a receiver with its concrete type (the trait method boxes it).
    pub async fn open_receiver(&self, queue: &str) -> Result<EmbeddedReceiver, TransportError> {
        db::check_queue_name(queue)?;
        let (conn, queue_id) = self.open_connection_for(queue).await?;
        Ok(EmbeddedReceiver::new(conn, queue_id, queue, self.shared.waker(queue), &self.shared.options))
    }

    /// Opens a sender with its concrete type (the trait method boxes it).
    pub async fn open_sender(&self, queue: &str) -> Result<EmbeddedSender, TransportError> {
        db::check_queue_name(queue)?;
        let (conn, queue_id) = self.open_connection_for(queue).await?;
        Ok(EmbeddedSender::new(conn, queue_id, self.shared.clone(), self.shared.waker(queue)))
    }

    /// A new connection to the file, and the id of `queue` (created on first use).
    async fn open_connection_for(&self, queue: &str) -> Result<(Arc<Mutex<rusqlite::Connection>>, i64), TransportError> {
        let shared = self.shared.clone();
        let name = queue.to_owned();
        db::run_blocking(move || {
            let mut conn = db::open(&shared.path, &shared.options)?;
            let id = db::ensure_queue(&mut conn, &name)?;
            Ok((Arc::new(Mutex::new(conn)), id))
        })
        .await
    }
}

#[async_trait]
impl Connector for EmbeddedQueues {
    async fn receiver(&self, queue: &str) -> Result<Box<dyn QueueReceiver>, TransportError> {
        Ok(Box::new(self.open_receiver(queue).await?))
    }

    async fn sender(&self, queue: &str) -> Result<Box<dyn QueueSender>, TransportError> {
        Ok(Box::new(self.open_sender(queue).await?))
    }

    fn describe(&self) -> String {
        format!("embedded queues in {}", self.shared.path.display())
    }
}
