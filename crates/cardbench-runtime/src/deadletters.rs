//! The inbound queue's dead letters, for the CLI and the desktop app alike: list and show them
//! (a peek where the broker has one), and import one.
//!
//! Importing records the dead letter straight into the store through the receive loop's own
//! ingest ([`Workflow::ingest`]: same validation, dedupe by messageId, same ERROR answers in the
//! outbox), and completes it on the dead-letter queue only after that commit — the receive loop's
//! order. Nothing is sent back into the inbound queue: NGOC gives the partner read-only rights
//! there, and Service Bus's duplicate detection would drop a same-id copy anyway.
//!
//! A crash between the commit and the completion leaves the dead letter in place; importing it
//! again is then recorded as a duplicate (no second card) and completes it.

use std::time::Duration;

use cardbench_amqp::{AmqpConnector, BrowseMethod, DeadLetter, DeadLetterBrowser, ServiceBusConfig};
use cardbench_transport::{Delivery, TransportError};
use cardbench_workflow::{IngestOutcome, Workflow};
use serde::Serialize;

/// How many dead letters `show` and `import` look through for one messageId. (Where the broker
/// has no peek, taking is also bounded by one credit grant: `ServiceBusConfig::credit`.)
pub const SCAN: usize = 1000;

/// How long a lock-and-release listing waits for the first dead letter.
const FIRST_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("dead-letter queue: {0}")]
    Transport(#[from] TransportError),
    /// The store could not record it; the dead letter was released and is still there.
    #[error("the dead letter could not be recorded and stays in the dead-letter queue: {0}")]
    NotRecorded(String),
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// One dead letter as the CLI and the app show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    /// The broker's reason (Service Bus: DeadLetterReason and its description).
    pub reason: Option<String>,
    /// When the broker enqueued it (Service Bus's x-opt-enqueued-time), RFC 3339.
    pub enqueued_at: Option<String>,
    /// The cardId the body names (`cardId` or `card.cardId`), when it is JSON that names one.
    pub card_id: Option<String>,
    /// Raw bytes; in JSON as text (invalid UTF-8 replaced).
    #[serde(serialize_with = "as_text")]
    pub body: Vec<u8>,
    /// Every application property and annotation, as text.
    pub fields: Vec<(String, String)>,
}

impl From<&DeadLetter> for DeadLetterView {
    fn from(d: &DeadLetter) -> Self {
        DeadLetterView {
            message_id: d.delivery.message_id.clone(),
            subject: d.delivery.subject.clone(),
            correlation_id: d.delivery.correlation_id.clone(),
            reason: d.reason(),
            enqueued_at: d.enqueued_at().map(str::to_owned),
            card_id: card_id_of(&d.delivery.body),
            body: d.delivery.body.clone(),
            fields: d.fields.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterListing {
    pub letters: Vec<DeadLetterView>,
    /// True when listed by a real peek (nothing locked, no delivery count raised); false when
    /// the broker has none and the messages were taken and released again.
    pub peeked: bool,
    /// The dead-letter queue's address.
    pub address: String,
}

fn as_text<S: serde::Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(body))
}

/// The cardId a body names: `cardId` at the top (CARD_PRODUCED, REPORT_OK, ERROR) or in `card`
/// (REQUEST_SENT). Only for showing; the ingest reads the body itself.
pub fn card_id_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let top = v.get("cardId").and_then(|c| c.as_str());
    let nested = || v.get("card").and_then(|c| c.get("cardId")).and_then(|c| c.as_str());
    top.or_else(nested).map(str::to_owned)
}

async fn with_browser<T>(
    config: &ServiceBusConfig,
    work: impl AsyncFnOnce(&mut DeadLetterBrowser) -> Result<T, DeadLetterError>,
) -> Result<T, DeadLetterError> {
    let mut browser = AmqpConnector::new(config.clone()).dead_letters(&config.inbound_queue);
    let result = work(&mut browser).await;
    browser.close().await;
    result
}

/// Up to `max` dead letters of the inbound queue, oldest first, left where they are.
pub async fn list(config: &ServiceBusConfig, max: usize) -> Result<DeadLetterListing, DeadLetterError> {
    with_browser(config, async |b| {
        let listing = b.list(max, FIRST_WAIT).await?;
        Ok(DeadLetterListing {
            letters: listing.letters.iter().map(DeadLetterView::from).collect(),
            peeked: listing.method == BrowseMethod::Peek,
            address: b.address().to_owned(),
        })
    })
    .await
}

/// The dead letter with this messageId, left where it is.
pub async fn show(config: &ServiceBusConfig, message_id: &str) -> Result<Option<DeadLetterView>, DeadLetterError> {
    with_browser(config, async |b| Ok(b.show(message_id, SCAN, FIRST_WAIT).await?.as_ref().map(DeadLetterView::from))).await
}

/// Records the dead letter with this messageId as if the receive loop had received it, then
/// removes it from the dead-letter queue. None: no such dead letter. The outcome says what the
/// ingest made of it (accepted, duplicate, rejected with an ERROR queued, ignored).
pub async fn import(workflow: &Workflow, config: &ServiceBusConfig, message_id: &str) -> Result<Option<IngestOutcome>, DeadLetterError> {
    with_browser(config, async |b| {
        let Some(taken) = b.take(message_id, SCAN, FIRST_WAIT).await? else { return Ok(None) };
        let outcome = match ingest(workflow, taken.delivery.clone()).await {
            Ok(outcome) => outcome,
            Err(e) => {
                release_quietly(b, &taken).await;
                return Err(e);
            }
        };
        if let IngestOutcome::Retry { error } = outcome {
            release_quietly(b, &taken).await;
            return Err(DeadLetterError::NotRecorded(error));
        }
        // Committed: only now may it leave the dead-letter queue. If this fails it stays, and
        // importing it again is a duplicate that completes it.
        b.complete(&taken).await?;
        tracing::info!(message_id, outcome = ?outcome_name(&outcome), "dead letter imported");
        Ok(Some(outcome))
    })
    .await
}

async fn release_quietly(b: &mut DeadLetterBrowser, taken: &DeadLetter) {
    if let Err(e) = b.release(taken).await {
        // The lock lapses on its own (Service Bus) or with the connection (RabbitMQ).
        tracing::warn!(error = %e, "could not release the dead letter; it comes back when its lock ends");
    }
}

/// One message through the receive loop's ingest, on the blocking pool (SQLite).
async fn ingest(workflow: &Workflow, delivery: Delivery) -> Result<IngestOutcome, DeadLetterError> {
    let workflow = workflow.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut envelope = crate::envelope::envelope(&delivery);
        // The count is from the failed deliveries that dead-lettered it; an operator's import is
        // a fresh attempt, so a store failure gives Retry (released, still there) rather than
        // being recorded at once as a poison message.
        envelope.delivery_count = 0;
        workflow.ingest(std::slice::from_ref(&envelope))
    })
    .await?;
    match report {
        Ok(report) => Ok(report.outcomes.into_iter().next().unwrap_or(IngestOutcome::Retry { error: "no outcome".into() })),
        Err(e) => Ok(IngestOutcome::Retry { error: e.to_string() }),
    }
}

fn outcome_name(o: &IngestOutcome) -> &'static str {
    match o {
        IngestOutcome::Accepted { .. } => "accepted",
        IngestOutcome::Duplicate { .. } => "duplicate",
        IngestOutcome::Rejected { .. } => "rejected",
        IngestOutcome::Ignored { .. } => "ignored",
        IngestOutcome::Retry { .. } => "retry",
    }
}
