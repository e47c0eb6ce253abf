//! What a person does with the subscribers beyond adding and removing them (the workflow's
//! `reporting::subscribers`): see how each one's delivery stands, and resume a paused one. For
//! the CLI and the app alike.

use cardbench_store::Store;
use serde::Serialize;

use crate::HooksError;

/// The latest attempt of a subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastAttempt {
    pub at: String,
    pub status: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
}

/// A subscriber with the state of its deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberState {
    pub name: String,
    /// `webhook` or `forward`.
    pub kind: String,
    pub url: String,
    pub topics: Vec<String>,
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

/// Every subscriber not removed, with its pending count and last attempt.
pub fn overview(store: &Store) -> Result<Vec<SubscriberState>, HooksError> {
    Ok(store.read(|c| -> Result<Vec<SubscriberState>, cardbench_store::StoreError> {
        let mut out = Vec::new();
        for s in cardbench_store::subscribers::list(c)?.into_iter().filter(|s| s.removed_at.is_none()) {
            let destination = crate::delivery::destination(&s);
            let pending = cardbench_store::outbox::pending_for(c, &destination)?;
            let last_attempt = cardbench_store::deliveries::last_for_destination(c, &destination)?.map(|a| LastAttempt {
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

/// Resumes subscriber `name`: not paused any more, and its waiting events due now (not after
/// the delay of their last retry). False when there is no such subscriber.
pub fn resume(store: &Store, name: &str) -> Result<bool, HooksError> {
    let at = cardbench_store::time::now();
    Ok(store.write(|tx| -> Result<bool, cardbench_store::StoreError> {
        let Some(sub) = cardbench_store::subscribers::get(tx, name)?.filter(|s| s.removed_at.is_none()) else {
            return Ok(false);
        };
        cardbench_store::subscribers::resume(tx, name)?;
        cardbench_store::outbox::due_now(tx, &crate::delivery::destination(&sub), &at)?;
        Ok(true)
    })?)
}
