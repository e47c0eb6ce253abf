//! Link state: up, down, retrying in N s, with the last error. Kept in a watch channel for live
//! screens and written to the store's `link_status` table for other processes.

use cardbench_store::link_status::{self, LinkStatusRow};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPhase {
    Connecting,
    Up,
    /// Down; next attempt at `next_retry_at`.
    Retrying,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSide {
    pub phase: LinkPhase,
    pub since: String,
    pub last_error: Option<String>,
    pub next_retry_at: Option<String>,
}

impl Default for LinkSide {
    fn default() -> Self {
        LinkSide { phase: LinkPhase::Connecting, since: cardbench_store::time::now(), last_error: None, next_retry_at: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkState {
    pub inbound: LinkSide,
    pub outbound: LinkSide,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Side {
    Inbound,
    Outbound,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Inbound => "inbound",
            Side::Outbound => "outbound",
        }
    }
}

/// Sets one side's state; publishes only real changes (written to the store by [`persist`]).
pub(crate) async fn set(shared: &crate::Shared, side: Side, phase: LinkPhase, error: Option<String>, retry_in: Option<std::time::Duration>) {
    let now = chrono::Utc::now();
    let next_retry_at = retry_in.and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| cardbench_store::time::format(now + d));
    let mut changed = None;
    shared.link.send_if_modified(|state| {
        let entry = match side {
            Side::Inbound => &mut state.inbound,
            Side::Outbound => &mut state.outbound,
        };
        if entry.phase == phase && entry.last_error == error && phase != LinkPhase::Retrying {
            return false;
        }
        let since = if entry.phase == phase { entry.since.clone() } else { cardbench_store::time::format(now) };
        *entry = LinkSide { phase: phase.clone(), since, last_error: error.clone(), next_retry_at: next_retry_at.clone() };
        changed = Some((entry.clone(), state.clone()));
        true
    });
    let Some((entry, state)) = changed else { return };
    if entry.phase != LinkPhase::Retrying || entry.last_error.is_some() {
        match &entry.last_error {
            Some(e) => tracing::warn!(link = side.name(), phase = ?entry.phase, error = %e, "link state"),
            None => tracing::info!(link = side.name(), phase = ?entry.phase, "link state"),
        }
    }
    shared.publish(crate::RuntimeEvent::Link { state });
}

/// Writes each new link state to `link_status` for other processes, from a task of its own: a
/// store that is locked or full must not hold up the links (the receive loop would wait out the
/// busy timeout at every change of state). Only the latest state is written when several come
/// while a write waits. Runs until aborted; [`write_rows`] writes the last one at shutdown.
pub(crate) async fn persist(workflow: cardbench_workflow::Workflow, mut state: tokio::sync::watch::Receiver<LinkState>) {
    while state.changed().await.is_ok() {
        let now = state.borrow_and_update().clone();
        let workflow = workflow.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || write_rows(&workflow, &now)).await {
            tracing::warn!(error = %e, "could not record link state");
        }
    }
}

/// Writes both sides' rows; a failure is logged (the screens have the live state anyway).
pub(crate) fn write_rows(workflow: &cardbench_workflow::Workflow, state: &LinkState) {
    let rows = [(Side::Inbound, &state.inbound), (Side::Outbound, &state.outbound)].map(|(side, entry)| LinkStatusRow {
        link: side.name().into(),
        state: serde_json::to_value(&entry.phase).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        detail: entry.last_error.clone(),
        since: entry.since.clone(),
        next_retry_at: entry.next_retry_at.clone(),
    });
    // Skipped, not waited for, while another process holds the lock: the next change writes again.
    let written = workflow
        .store()
        .write_briefly(std::time::Duration::from_millis(200), |tx| rows.iter().try_for_each(|row| link_status::set(tx, row)));
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record link state");
    }
}
