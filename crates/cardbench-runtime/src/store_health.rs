//! The store's health as the receive loop sees it: failing (disk full, locked by another
//! process, an I/O error) while a batch cannot be committed, and since when; healthy again once
//! it can. Kept in a watch channel for live screens; the recovery is written to `link_status`
//! (row `store`) for other processes. While it fails, nothing can be written there, so
//! `cardbench status` asks the disk itself (`cardbench_store::health::probe`).

use std::time::Duration;

use cardbench_store::StoreFailure;
use cardbench_store::link_status::{self, LinkStatusRow};
use cardbench_workflow::Workflow;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::RuntimeEvent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreFailing {
    pub failure: StoreFailure,
    pub since: String,
    pub last_error: String,
    pub next_retry_at: Option<String>,
    /// Received messages held (not settled, not released) until the store takes them.
    pub held: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHealth {
    pub failing: Option<StoreFailing>,
}

impl StoreHealth {
    /// "store failing: disk full", for a status line.
    pub fn describe(&self) -> String {
        match &self.failing {
            None => "store ok".into(),
            Some(f) => format!("store failing: {} (since {}, {} messages held)", f.failure, f.since, f.held),
        }
    }
}

/// The writer thread's handle on the health channel.
#[derive(Clone)]
pub(crate) struct HealthReporter {
    pub health: std::sync::Arc<watch::Sender<StoreHealth>>,
    pub events: broadcast::Sender<RuntimeEvent>,
}

impl HealthReporter {
    pub(crate) fn failing(&self, failure: StoreFailure, error: &str, retry_in: Duration, held: usize) {
        let now = chrono::Utc::now();
        let next_retry_at = chrono::Duration::from_std(retry_in).ok().map(|d| cardbench_store::time::format(now + d));
        let mut first = false;
        self.health.send_modify(|h| {
            let since = match &h.failing {
                Some(f) if f.failure == failure => f.since.clone(),
                _ => {
                    first = true;
                    cardbench_store::time::format(now)
                }
            };
            h.failing = Some(StoreFailing { failure, since, last_error: error.to_owned(), next_retry_at, held });
        });
        if first {
            tracing::error!(%failure, %error, held, "store failing: holding the received messages and trying again");
        }
        let _ = self.events.send(RuntimeEvent::Store { health: self.health.borrow().clone() });
    }

    /// Healthy again: says so and, if it had failed, records when in `link_status`.
    pub(crate) fn recovered(&self, workflow: &Workflow) {
        let mut was = None;
        self.health.send_if_modified(|h| {
            was = h.failing.take();
            was.is_some()
        });
        let Some(was) = was else { return };
        tracing::info!(failure = %was.failure, since = %was.since, "store recovered");
        let _ = self.events.send(RuntimeEvent::Store { health: StoreHealth::default() });
        let row = LinkStatusRow {
            link: "store".into(),
            state: "up".into(),
            detail: Some(format!("recovered; failing since {}: {}", was.since, was.failure)),
            since: cardbench_store::time::now(),
            next_retry_at: None,
        };
        if let Err(e) = workflow.store().write(|tx| link_status::set(tx, &row)) {
            tracing::warn!(error = %e, "could not record the store's recovery");
        }
    }
}
