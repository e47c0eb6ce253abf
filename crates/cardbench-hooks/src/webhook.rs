//! A webhook request: the envelope's exact bytes, signed, and what the receiver's answer means.

use crate::Outcome;

/// The header naming the event (the envelope's `eventId`): a receiver's idempotency key.
pub const EVENT_ID_HEADER: &str = "X-Nexus-Event-Id";
/// The header naming the topic, so a receiver can route before parsing.
pub const TOPIC_HEADER: &str = "X-Nexus-Topic";
/// The header naming this delivery (the outbox row's messageId): the same on every retry.
pub const DELIVERY_HEADER: &str = "X-Nexus-Delivery";

/// 2xx delivered; 410 Gone permanent (the receiver says the endpoint is no more); every other
/// answer, and no answer, retried with backoff.
pub fn outcome(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        410 => Outcome::Permanent,
        _ => Outcome::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(outcome(200), Outcome::Delivered);
        assert_eq!(outcome(204), Outcome::Delivered);
        assert_eq!(outcome(410), Outcome::Permanent);
        for s in [301, 400, 401, 404, 429, 500, 503] {
            assert_eq!(outcome(s), Outcome::Retry, "{s}");
        }
    }
}
