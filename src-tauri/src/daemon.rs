//! The daemon inside the app: the same `Node` the CLI's `cardbench run` starts (receive loop,
//! outbox sender and — with no Service Bus configured — the embedded NGOC simulator), on the
//! app's one tokio runtime. Its events become `cardbench://event` events for the webview.

use std::path::Path;
use std::sync::Arc;

use cardbench_runtime::config::{Config, default_config_path};
use cardbench_runtime::link::{LinkPhase, LinkSide};
use cardbench_runtime::node::{Node, NodeOptions};
use cardbench_runtime::RuntimeEvent;
use cardbench_workflow::WorkflowEvent;
use tauri::AppHandle;
use tokio::sync::{Mutex, Notify};

use crate::dto::AppEvent;
use crate::events::emit;

pub type Held = Arc<Mutex<Option<Node>>>;

/// Starts the node for `data_dir` with the shared config file (`CARDBENCH_CONFIG` or the
/// platform config dir). Errors are returned in words; the app then runs without a daemon.
pub async fn start(data_dir: &Path) -> Result<Node, String> {
    let path = default_config_path().map_err(|e| e.to_string())?;
    let mut config = Config::load(&path).map_err(|e| e.to_string())?;
    config.data_dir = Some(data_dir.to_owned());
    Node::start(&config, &NodeOptions::default()).await.map_err(|e| e.to_string())
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

/// Forwards the node's events to the webview and wakes its sender when a command queued a
/// message, until the app exits.
pub fn forward(app: AppHandle, node: &Node, wake: Arc<Notify>, held: Held) {
    let mut events = node.runtime.subscribe();
    let app2 = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    emit(&app2, AppEvent::StoreChanged);
                    continue;
                }
                Err(_) => break,
            };
            let out = match event {
                RuntimeEvent::Workflow { event } => match event {
                    WorkflowEvent::CardReceived { card_id, shipment_id } => AppEvent::NewRequest { card_id, shipment_id },
                    WorkflowEvent::ReportOk { card_id } => AppEvent::ReportOk { card_id },
                    WorkflowEvent::ReportError { card_id, error_code } => {
                        AppEvent::Error { message: format!("NGOC refused the report of {card_id}: {error_code}"), card_id: Some(card_id) }
                    }
                    WorkflowEvent::ShipError { parcel_id, error_code, .. } => {
                        AppEvent::Error { card_id: None, message: format!("NGOC refused parcel {parcel_id}: {error_code}") }
                    }
                    WorkflowEvent::MessageRejected { inbox_id, reason } => {
                        AppEvent::Error { card_id: None, message: format!("message #{inbox_id} rejected: {reason}") }
                    }
                    WorkflowEvent::NgocError { inbox_id, error_code } => {
                        AppEvent::Error { card_id: None, message: format!("NGOC sent ERROR {error_code} (inbox #{inbox_id})") }
                    }
                    WorkflowEvent::CardChanged { card_id } => AppEvent::CardChanged { card_id, status: None },
                    _ => AppEvent::StoreChanged,
                },
                RuntimeEvent::Link { state } => {
                    link(&app2, "inbound", &state.inbound);
                    link(&app2, "outbound", &state.outbound);
                    continue;
                }
                RuntimeEvent::OutboxDepth { pending } => AppEvent::OutboxDepth { pending },
                RuntimeEvent::Ingested { .. } => AppEvent::StoreChanged,
            };
            emit(&app2, out);
        }
    });
    tauri::async_runtime::spawn(async move {
        loop {
            wake.notified().await;
            match held.lock().await.as_ref() {
                Some(node) => node.runtime.wake_sender(),
                None => break,
            }
        }
    });
}
