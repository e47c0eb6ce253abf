//! Messages as carried, before any protocol meaning is given to them.

use serde::{Deserialize, Serialize};

/// Identifies a received, still locked message to its receiver. Opaque to callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeliveryTag(pub u64);

/// A received message, still locked. Anything may be missing or malformed: the carrier does not
/// judge content, the workflow does (and records it all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub tag: DeliveryTag,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// How many times this message was delivered before (0 on first delivery).
    pub delivery_count: u32,
}

/// A message to send. `message_id` is fixed by the caller so a resend keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub message_id: String,
    pub subject: String,
    pub correlation_id: Option<String>,
    pub content_type: String,
    pub body: Vec<u8>,
}
