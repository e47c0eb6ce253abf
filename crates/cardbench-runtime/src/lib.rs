//! The Cardbench daemon: moves messages between the transport and the workflow.
//!
//! Owns two long-running tasks and their shared state:
//! - [`receiver`]: takes batches from the inbound queue, has the workflow apply them in one
//!   transaction, and only after the commit settles each message (accept, or release to retry).
//! - [`sender`]: drains the outbox in order, marking a row sent only when the queue took it;
//!   a resend keeps the messageId so the broker's duplicate detection drops a copy.
//!
//! - [`deadletters`]: the inbound queue's dead letters, listed (peeked) and imported through
//!   the same ingest, for the CLI and the app.
//!
//! Both reconnect with exponential backoff and jitter and report their [`link::LinkState`], which
//! is also written to the store so another process (CLI, app) can show it. Events go out on a
//! broadcast channel only after the transaction that caused them committed.

pub mod backoff;
pub mod config;
pub mod deadletters;
mod envelope;
mod error;
pub mod events;
pub mod hotfolder;
pub mod link;
pub mod node;
pub mod report_config;
mod receiver;
pub mod retention;
mod sender;
pub mod store_health;
mod supervise;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use cardbench_transport::Connector;
use cardbench_workflow::Workflow;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

pub use envelope::envelope;
pub use error::{CommitError, LinkError, RuntimeError};
pub use events::RuntimeEvent;
pub use link::{LinkSide, LinkState};

/// Messages committed in one transaction at most. A batch is what arrived while the previous one
/// committed, so it grows only while a backlog drains; then a commit rewrites each index page it
/// touches once for up to 1,024 rows, and fsyncs once (256 measured 0.63–0.82 of the broker's
/// limit, 1,024 0.76–0.97: `docs/decisions/amqp-receiver-link-task.md`). Such a commit holds the
/// write lock ≈ 50–100 ms, which an operator's click waits for only during a backlog.
pub const DEFAULT_RECEIVE_BATCH: usize = 1024;

/// What the daemon needs to know beyond the connector.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where NGOC's messages arrive (we receive).
    pub inbound_queue: String,
    /// Where our notifications go (we send).
    pub outbound_queue: String,
    /// Messages taken and committed together (one fsync per batch).
    pub receive_batch: usize,
    /// How long one receive call waits for a first message.
    pub receive_wait: Duration,
    /// Outbox rows sent per round.
    pub send_batch: u32,
    pub backoff: backoff::Backoff,
    /// Waits between commits of a held batch while the store fails. Capped low: the backlog
    /// should start draining within seconds of the disk being freed.
    pub store_backoff: backoff::Backoff,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            inbound_queue: "ngoc-requests".into(),
            outbound_queue: "ngoc-notifications".into(),
            receive_batch: DEFAULT_RECEIVE_BATCH,
            receive_wait: Duration::from_millis(500),
            send_batch: 200,
            backoff: backoff::Backoff::default(),
            store_backoff: backoff::Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(2) },
        }
    }
}

/// A running daemon. Dropping it does not stop it: call [`Runtime::shutdown`].
pub struct Runtime {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Writes link states to the store; stopped after the links, then the last state is written.
    persister: JoinHandle<()>,
    workflow: Workflow,
    events: broadcast::Sender<RuntimeEvent>,
    link: watch::Receiver<LinkState>,
    settled: Arc<watch::Sender<u64>>,
    store_health: watch::Receiver<store_health::StoreHealth>,
}

impl Runtime {
    /// Starts the receiver and the sender on the current tokio runtime. Work persisted before
    /// (unsent outbox rows) is picked up at once.
    pub fn start(workflow: Workflow, connector: Arc<dyn Connector>, config: RuntimeConfig) -> Runtime {
        let (shutdown, shutdown_rx) = watch::channel(false);
        // A batch publishes an event per message it records: room for a few whole batches, so a
        // subscriber that reads between batches does not lag.
        let (events, _) = broadcast::channel(4 * DEFAULT_RECEIVE_BATCH);
        let (settled, _) = watch::channel(0u64);
        let settled = Arc::new(settled);
        let (link_tx, link) = watch::channel(LinkState::default());
        let link_tx = Arc::new(link_tx);
        // The workflow's: every write of it that queued rows wakes the sender, whoever made it.
        let outbox_wake = workflow.outbox_wake();
        let (store_health_tx, store_health) = watch::channel(store_health::StoreHealth::default());
        let shared_workflow = workflow.clone();
        let shared = Shared {
            workflow,
            connector,
            config: Arc::new(config),
            events: events.clone(),
            link: link_tx,
            outbox_wake: outbox_wake.clone(),
            settled: settled.clone(),
            store_health: Arc::new(store_health_tx),
        };
        let persister = tokio::spawn(link::persist(shared.workflow.clone(), link.clone()));
        let tasks = vec![
            tokio::spawn(receiver::run(shared.clone(), shutdown_rx.clone())),
            tokio::spawn(sender::run(shared, shutdown_rx)),
        ];
        Runtime { shutdown, tasks, persister, workflow: shared_workflow, events, link, settled, store_health }
    }

    /// How many received messages were committed and then accepted on the queue since start.
    /// A running total, not events: a watcher that looks late still sees where it stands.
    pub fn settled(&self) -> watch::Receiver<u64> {
        self.settled.subscribe()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.events.subscribe()
    }

    pub fn link_state(&self) -> watch::Receiver<LinkState> {
        self.link.clone()
    }

    /// Failing (disk full, locked, I/O) while received messages are held for a store that cannot
    /// take them; healthy again by itself.
    pub fn store_health(&self) -> watch::Receiver<store_health::StoreHealth> {
        self.store_health.clone()
    }

    /// Publishes an event of a service running beside the daemon (the hot folder) to the same
    /// subscribers.
    pub fn events(&self) -> broadcast::Sender<RuntimeEvent> {
        self.events.clone()
    }

    /// Stops both tasks after their current step and waits for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "runtime task ended abnormally");
            }
        }
        self.persister.abort();
        let (workflow, last) = (self.workflow, self.link.borrow().clone());
        let _ = tokio::task::spawn_blocking(move || link::write_rows(&workflow, &last)).await;
    }
}

/// What both tasks share.
#[derive(Clone)]
pub(crate) struct Shared {
    pub workflow: Workflow,
    pub connector: Arc<dyn Connector>,
    pub config: Arc<RuntimeConfig>,
    pub events: broadcast::Sender<RuntimeEvent>,
    pub link: Arc<watch::Sender<LinkState>>,
    pub outbox_wake: Arc<Notify>,
    /// Messages committed and then accepted, since start.
    pub settled: Arc<watch::Sender<u64>>,
    pub store_health: Arc<watch::Sender<store_health::StoreHealth>>,
}

impl Shared {
    pub fn publish(&self, event: RuntimeEvent) {
        // No subscriber is fine: the app may not be open.
        let _ = self.events.send(event);
    }

    /// Runs store work off the async threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Workflow) -> T + Send + 'static,
    ) -> Result<T, RuntimeError> {
        let workflow = self.workflow.clone();
        tokio::task::spawn_blocking(move || work(&workflow)).await.map_err(RuntimeError::Task)
    }
}

/// Resolves when shutdown is asked for.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}
