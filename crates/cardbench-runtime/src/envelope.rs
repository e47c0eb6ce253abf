//! A received message as the workflow's ingest reads it: the one mapping from the transport's
//! [`Delivery`] to the store's [`Envelope`], used by the receive loop, its store writer, the
//! dead-letter import and the benchmarks.

use cardbench_store::inbox::Envelope;
use cardbench_transport::Delivery;

/// The envelope of `d`, borrowing its fields.
pub fn envelope(d: &Delivery) -> Envelope<'_> {
    Envelope {
        message_id: d.message_id.as_deref(),
        subject: d.subject.as_deref(),
        correlation_id: d.correlation_id.as_deref(),
        content_type: d.content_type.as_deref(),
        body: &d.body,
        delivery_count: d.delivery_count,
    }
}
