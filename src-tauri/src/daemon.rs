//! What runs inside the app beside the window: the same `Node` the CLI's `cardbench run` starts
//! (receive loop, outbox sender, hot folder and — with no Service Bus configured — the embedded
//! NGOC simulator), over the app's own workflow and store, and the PC/SC reader watch. Both are
//! restarted when the settings change, so a new connection, hot folder or reader filter takes
//! effect without restarting the app. Their events become `cardbench://event` events for the
//! webview. The sender needs no wake from here: the workflow's writes wake it.

use cardbench_devices::hotfolder::FileReport;
use cardbench_runtime::RuntimeEvent;
use cardbench_runtime::config::Config;
use cardbench_runtime::link::{LinkPhase, LinkSide};
use cardbench_runtime::node::{Node, NodeOptions};
use cardbench_workflow::Workflow;
use tauri::AppHandle;
use tokio::sync::Mutex;

use crate::devices::Readers;
use crate::dto::{AppEvent, DevicesView, HotFolderFileView, HotFolderView};
use crate::events::emit;

/// The node and the reader watch the app runs; held in Tauri state for the life of the window.
pub struct NodeAndReaders {
    /// False with `--no-daemon` (another process serves this data directory).
    daemon_enabled: bool,
    node: Mutex<Option<Node>>,
    daemon_problem: std::sync::Mutex<Option<String>>,
    readers: std::sync::Mutex<Option<Readers>>,
}

fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl NodeAndReaders {
    pub fn new(daemon_enabled: bool) -> NodeAndReaders {
        NodeAndReaders {
            daemon_enabled,
            node: Mutex::new(None),
            daemon_problem: std::sync::Mutex::new(None),
            readers: std::sync::Mutex::new(None),
        }
    }

    /// Starts the node over `workflow` (the app's, so one store serves the process; unless
    /// disabled) and the reader watch for `config`. A node that cannot start leaves the app
    /// running without it; the reason is kept for the status panel.
    pub async fn start(&self, app: &AppHandle, workflow: &Workflow, config: &Config) {
        if self.daemon_enabled {
            let mut node = self.node.lock().await;
            match Node::start(workflow.clone(), config, &NodeOptions::default()).await {
                Ok(started) => {
                    tracing::info!(simulator = started.simulator_running(), "daemon started in the app");
                    forward(app.clone(), &started);
                    *node = Some(started);
                    *locked(&self.daemon_problem) = None;
                }
                Err(e) => {
                    tracing::error!(error = %e, "the daemon did not start; the app runs without it");
                    *locked(&self.daemon_problem) = Some(e.to_string());
                }
            }
            emit(app, AppEvent::Daemon);
            // The screen clears its links on that event and the node's first link states may
            // have gone out before `forward` subscribed: say where the links are now.
            if let Some(started) = node.as_ref() {
                let state = started.runtime.link_state().borrow().clone();
                link(app, "inbound", &state.inbound);
                link(app, "outbound", &state.outbound);
            }
        }
        let filter = config.devices.reader.name_filter.clone();
        let readers = {
            let app = app.clone();
            // Establishing the PC/SC context may block briefly: off the async threads.
            tokio::task::spawn_blocking(move || Readers::start(app, filter)).await.ok()
        };
        *locked(&self.readers) = readers;
    }

    /// Stops the node after its current step, and the reader watch.
    pub async fn stop(&self) {
        if let Some(node) = self.node.lock().await.take() {
            node.shutdown().await;
        }
        let readers = locked(&self.readers).take();
        if let Some(readers) = readers {
            let _ = tokio::task::spawn_blocking(move || readers.stop()).await;
        }
    }

    /// Applies new settings: stop, then start with `config`.
    pub async fn restart(&self, app: &AppHandle, workflow: &Workflow, config: &Config) {
        self.stop().await;
        self.start(app, workflow, config).await;
    }

    /// The card API as the running node serves it (None: not enabled, or no node).
    pub async fn api_status(&self) -> Option<cardbench_runtime::node::ApiStatus> {
        self.node.lock().await.as_ref().and_then(Node::api_status)
    }

    pub async fn running(&self) -> bool {
        self.node.lock().await.is_some()
    }

    pub async fn status(&self) -> DevicesView {
        let node = self.node.lock().await;
        DevicesView {
            daemon_running: node.is_some(),
            daemon_problem: if self.daemon_enabled {
                locked(&self.daemon_problem).clone()
            } else {
                Some("not run in this app (--no-daemon): `cardbench run` serves this data directory".into())
            },
            readers: locked(&self.readers).as_ref().map(Readers::status).unwrap_or_default(),
            hot_folder: node.as_ref().and_then(Node::hotfolder_status).map(|h| HotFolderView {
                folder: h.folder.display().to_string(),
                watching: h.watching,
                problem: h.problem,
                recent: h.recent.iter().map(file_view).collect(),
            }),
        }
    }
}

fn file_view(r: &FileReport) -> HotFolderFileView {
    let mut problems: Vec<String> = r.file_problem.iter().cloned().collect();
    problems.extend(r.problems.iter().map(|p| match &p.card_id {
        Some(card) => format!("line {} (card {card}): {}", p.line, p.reason),
        None => format!("line {}: {}", p.line, p.reason),
    }));
    HotFolderFileView {
        file_name: r.file_name.clone(),
        outcome: format!("{:?}", r.outcome).to_lowercase(),
        rows_total: u32::try_from(r.rows_total).unwrap_or(u32::MAX),
        rows_applied: u32::try_from(r.rows_applied).unwrap_or(u32::MAX),
        produced: u32::try_from(r.produced).unwrap_or(u32::MAX),
        problems,
    }
}

fn phase(p: &LinkPhase) -> &'static str {
    match p {
        LinkPhase::Connecting => "connecting",
        LinkPhase::Up => "up",
        LinkPhase::Retrying => "retrying",
        LinkPhase::Stopped => "stopped",
    }
}

fn link(app: &AppHandle, name: &str, side: &LinkSide) {
    emit(app, AppEvent::Link { link: name.into(), state: phase(&side.phase).into(), detail: side.last_error.clone() });
}

/// Forwards one node's events to the webview until that node stops: what it changed in the store
/// at once (the store watcher would see it a little later), its links and the outbox depth.
fn forward(app: AppHandle, node: &Node) {
    let mut events = node.runtime.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    emit(&app, AppEvent::StoreChanged);
                    continue;
                }
                Err(_) => break,
            };
            let out = match event {
                RuntimeEvent::Workflow { .. } | RuntimeEvent::Ingested { .. } | RuntimeEvent::HotFolderFile { .. } => {
                    AppEvent::StoreChanged
                }
                RuntimeEvent::Link { state } => {
                    link(&app, "inbound", &state.inbound);
                    link(&app, "outbound", &state.outbound);
                    continue;
                }
                // Shown beside the links: while it fails, nothing received is committed.
                RuntimeEvent::Store { health } => match health.failing {
                    Some(f) => AppEvent::Link {
                        link: "store".into(),
                        state: "failing".into(),
                        detail: Some(format!("{} since {}; {} received messages held", f.failure, f.since, f.held)),
                    },
                    None => AppEvent::Link { link: "store".into(), state: "up".into(), detail: None },
                },
                RuntimeEvent::OutboxDepth { pending } => AppEvent::OutboxDepth { pending },
                // The devices status shows the hot folder's problems; the runtime logged it.
                RuntimeEvent::HotFolderProblem { .. } => continue,
            };
            emit(&app, out);
        }
    });
}
