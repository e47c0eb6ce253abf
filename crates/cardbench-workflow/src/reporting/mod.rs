//! Reporting to the bureau's own systems: the event log and its subscribers.
//!
//! Every change a bureau's ERP, MES or CRM follows (a request received or refused, a card
//! produced, REPORT_OK, a card error, shipped, SHIPPED_OK) is recorded as an event in NGOC's
//! envelope (`eventId`, `created`, `apiVersion`, `topic`, `data`) by [`emit`], inside the
//! transaction of the change itself. The same call queues the envelope in the outbox for every
//! subscriber that wants the topic (a webhook or a forwarding sink, [`subscribers`]), each under
//! a destination of its own, so delivery inherits the outbox's order, retries, resend and
//! inspection, and a subscriber's senders never hold up NGOC's.
//!
//! The envelope names cards, shipments and parcels, never cardholder data: a receiver that needs
//! more asks the card API, and the forwarding sink builds its body from the store when it sends.

pub mod subscribers;
mod topic;

use cardbench_store::Connection;
use cardbench_store::cards::CardRow;
use cardbench_store::outbox::{self, NewOutboxRow};
use cardbench_store::events::{self, NewEvent};
use serde::{Deserialize, Serialize};

use crate::error::{Result, WorkflowError};

pub use subscribers::{Subscriber, SubscriberKind};
pub use topic::Topic;

/// The envelope's `apiVersion`: changes when the shape of `data` changes incompatibly.
pub const API_VERSION: &str = "1";

/// One event as sent: NGOC's envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub event_id: String,
    pub created: String,
    pub api_version: String,
    pub topic: Topic,
    pub data: EventData,
}

/// What an event is about. Ids and codes only: no names, addresses or card elements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl EventData {
    /// The ids of a card as the worklist holds it.
    pub fn card(card: &CardRow) -> EventData {
        EventData {
            card_id: Some(card.card_id.clone()),
            shipment_id: Some(card.shipment_id.clone()),
            organisation_id: Some(card.organisation_id.clone()),
            article_id: Some(card.article_id.clone()),
            ..EventData::default()
        }
    }

    pub fn in_parcel(mut self, parcel_id: i64) -> EventData {
        self.parcel_id = Some(parcel_id);
        self
    }

    pub fn with_error(mut self, code: &str, message: &str) -> EventData {
        self.error_code = Some(code.to_owned());
        self.error_message = (!message.is_empty()).then(|| message.to_owned());
        self
    }
}

/// Records `topic` about `data` at `now` and queues it for every subscriber that wants it.
/// Runs in the caller's transaction: the event exists exactly when the change it reports does.
/// Returns how many subscriber rows were queued.
pub fn emit(conn: &Connection, topic: Topic, data: EventData, now: &str) -> Result<usize> {
    let envelope = Envelope {
        event_id: uuid::Uuid::new_v4().to_string(),
        created: now.to_owned(),
        api_version: API_VERSION.to_owned(),
        topic,
        data,
    };
    let body = serde_json::to_string(&envelope).map_err(|source| WorkflowError::Encode { what: "an event", source })?;
    events::record(
        conn,
        &NewEvent {
            event_id: &envelope.event_id,
            created: now,
            topic: topic.as_str(),
            card_id: envelope.data.card_id.as_deref(),
            shipment_id: envelope.data.shipment_id.as_deref(),
            body: &body,
        },
    )?;
    let mut queued = 0;
    for subscriber in subscribers::wanting(conn, topic)? {
        outbox::insert_for(
            conn,
            &subscriber.destination(),
            &NewOutboxRow {
                subject: topic.as_str(),
                correlation_id: Some(&envelope.event_id),
                body: &body,
                card_id: envelope.data.card_id.as_deref(),
                shipment_id: envelope.data.shipment_id.as_deref(),
                created_at: now,
            },
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// The outbox destination of a subscriber: `webhook:<name>` or `forward:<name>`.
pub fn destination(kind: SubscriberKind, name: &str) -> String {
    format!("{}:{name}", kind.as_str())
}

/// The subscriber an outbox destination belongs to; None for NGOC's and unknown ones.
pub fn subscriber_of(destination: &str) -> Option<(SubscriberKind, &str)> {
    let (kind, name) = destination.split_once(':')?;
    Some((SubscriberKind::parse(kind)?, name))
}
