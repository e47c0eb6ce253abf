//! Outbound HTTP delivery to the bureau's own systems: signed webhooks and HTTP event forwarding.
//!
//! A second (and third) consumer of the durable outbox (`docs/decisions/outbox-destinations.md`):
//! the workflow queues one row per event and subscriber (`webhook:<name>`, `forward:<name>`) in
//! the transaction of the change; [`delivery`] runs one sender per subscriber that POSTs its rows
//! in order, records every attempt, retries with growing backoff and pauses a subscriber that
//! keeps failing. Nothing is dropped: a paused subscriber's rows wait for `resume`.
//!
//! - [`signature`]: `X-Nexus-Signature: HMAC-SHA256=<sig>`, signing and verifying;
//! - [`webhook`]: what a webhook request carries and what its answers mean;
//! - [`forward`]: the end-user Event, its field mapping, the endpoint's rules and status codes.

pub mod admin;
pub mod delivery;
mod error;
pub mod forward;
pub mod signature;
pub mod webhook;

pub use error::HooksError;

use serde::{Deserialize, Serialize};

/// What an attempt's answer means, as `delivery_attempts.outcome` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The receiver has it: the row is done.
    Delivered,
    /// Try again later, with a growing delay.
    Retry,
    /// Will never succeed as it is: the row is closed, not retried (a resend puts it back).
    Permanent,
    /// The subscriber must stop (credentials refused): paused, its rows wait.
    Stopped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retry => "retry",
            Outcome::Permanent => "permanent",
            Outcome::Stopped => "stopped",
        }
    }
}
