//! What a person does with the subscribers beyond adding and removing them (the workflow's
//! `reporting::subscribers`): see how each one's delivery stands, and resume a paused one. For
//! the CLI and the app alike.

use cardbench_store::Store;
use cardbench_store::deliveries;
use cardbench_workflow::reporting::subscribers as subs;
use cardbench_workflow::reporting::{SubscriberKind, Topic};
use serde::Serialize;

use crate::HooksError;

/// The latest attempt of a subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastAttempt {
    pub at: String,
    pub status: Option<u16>,
    pub outcome: String,
    pub error: Option<String>,
}

/// A subscriber with the state of its deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberState {
    pub name: String,
    pub kind: SubscriberKind,
    pub url: String,
    pub topics: Vec<Topic>,
    pub paused_at: Option<String>,
    pub paused_reason: Option<String>,
    /// Its events not yet delivered (waiting, retried, or held while paused).
    pub pending: i64,
    pub last_attempt: Option<LastAttempt>,
}

impl SubscriberState {
    pub fn state(&self) -> &'static str {
        if self.paused_at.is_some() { "paused" } else { "active" }
    }
}

/// Every live subscriber, with its pending count and last attempt.
pub fn overview(store: &Store) -> Result<Vec<SubscriberState>, HooksError> {
    let live = subs::list(store).map_err(|e| HooksError::Workflow(e.to_string()))?;
    Ok(store.read(|c| -> Result<Vec<SubscriberState>, cardbench_store::StoreError> {
        let mut out = Vec::new();
        for s in live {
            let destination = s.destination();
            let pending = deliveries::pending_for_destination(c, &destination)?;
            let last_attempt = deliveries::last_for_destination(c, &destination)?.map(|a| LastAttempt {
                at: a.at,
                status: a.status,
                outcome: a.outcome,
                error: a.error,
            });
            out.push(SubscriberState {
                name: s.name,
                kind: s.kind,
                url: s.url,
                topics: s.topics,
                paused_at: s.paused_at,
                paused_reason: s.paused_reason,
                pending,
                last_attempt,
            });
        }
        Ok(out)
    })?)
}

/// Resumes subscriber `name` (the workflow's rule: not paused any more, its waiting events due
/// now). False when there is no such subscriber.
pub fn resume(store: &Store, name: &str) -> Result<bool, HooksError> {
    subs::resume(store, name).map_err(|e| HooksError::Workflow(e.to_string()))
}
