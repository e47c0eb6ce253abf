//! The dashboard: cards per status, what went wrong lately, the queues' backlog. The app's
//! dashboard and `cardbench status` show this same read.

use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::{dashboard, outbox};
use serde::Serialize;

use crate::Workflow;
use crate::error::Result;

/// Errors listed at most.
pub const RECENT_ERRORS: usize = 10;

/// One thing that went wrong: a card NGOC refused, or a message rejected on arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentError {
    pub at: String,
    /// The card's status (`report_error`, `ship_error`) or "message rejected".
    pub what: String,
    pub card_id: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub total_cards: i64,
    /// Every status, in [`CardStatus::ALL`] order, none left out.
    pub by_status: Vec<(CardStatus, i64)>,
    /// Newest first, at most [`RECENT_ERRORS`].
    pub recent_errors: Vec<RecentError>,
    pub rejected_messages: i64,
    pub outbox_depth: i64,
}

impl Workflow {
    pub fn dashboard(&self) -> Result<Dashboard> {
        Ok(self.store().read(|conn| {
            let counts = cards::count_by_status(conn)?;
            let by_status: Vec<(CardStatus, i64)> = CardStatus::ALL
                .iter()
                .map(|s| (*s, counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n)))
                .collect();
            let mut recent_errors: Vec<RecentError> = dashboard::recent_card_errors(conn, 8)?
                .into_iter()
                .map(|e| RecentError {
                    at: e.at,
                    what: e.status.as_str().to_owned(),
                    card_id: Some(e.card_id),
                    detail: format!("{}: {}", e.error_code.unwrap_or_default(), e.error_details.unwrap_or_default()),
                })
                .collect();
            let rejected = inbox::list(conn, &InboxFilter { outcome: Some(Outcome::Rejected), limit: Some(8), ..InboxFilter::default() })?;
            recent_errors.extend(rejected.into_iter().map(|r| RecentError {
                at: r.received_at,
                what: "message rejected".into(),
                card_id: r.card_id,
                detail: r.reason.unwrap_or_default(),
            }));
            recent_errors.sort_by(|a, b| b.at.cmp(&a.at));
            recent_errors.truncate(RECENT_ERRORS);
            let rejected_messages =
                inbox::count_by_outcome(conn)?.into_iter().find(|(o, _)| *o == Outcome::Rejected).map_or(0, |(_, n)| n);
            Ok::<_, cardbench_store::StoreError>(Dashboard {
                total_cards: counts.iter().map(|(_, n)| n).sum(),
                by_status,
                recent_errors,
                rejected_messages,
                outbox_depth: outbox::pending_count(conn)?,
            })
        })?)
    }
}
