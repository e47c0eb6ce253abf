//! The receive loop: batch → one commit → settle. Settling happens only after the commit is
//! durable, so a crash in between brings the messages back, where they are recorded as
//! duplicates and settled with no second effect.

use cardbench_store::inbox::Envelope;
use cardbench_transport::{Delivery, DeliveryTag, QueueReceiver};
use cardbench_workflow::{IngestOutcome, WorkflowEvent};
use tokio::sync::watch;

use crate::link::Side;
use crate::supervise::supervise;
use crate::{RuntimeEvent, Shared, stopped};

pub(crate) async fn run(shared: Shared, shutdown: watch::Receiver<bool>) {
    let open = || shared.connector.receiver(&shared.config.inbound_queue);
    let work = |link, mut shutdown: watch::Receiver<bool>| {
        let shared = shared.clone();
        async move { pump(&shared, link, &mut shutdown).await }
    };
    supervise(&shared, Side::Inbound, shutdown, open, work).await;
}

/// Receives until shutdown (None) or a link failure (Some(error)).
async fn pump(shared: &Shared, mut receiver: Box<dyn QueueReceiver>, shutdown: &mut watch::Receiver<bool>) -> Option<String> {
    loop {
        let received = tokio::select! {
            r = receiver.receive(shared.config.receive_batch, shared.config.receive_wait) => r,
            _ = stopped(shutdown) => return None,
        };
        let deliveries = match received {
            Ok(d) => d,
            Err(e) => return Some(e.to_string()),
        };
        if deliveries.is_empty() {
            continue;
        }
        let (to_accept, to_release) = match commit(shared, deliveries).await {
            Ok(split) => split,
            Err((tags, error)) => {
                // The commit failed: nothing of this batch is recorded, so all of it comes back.
                tracing::error!(%error, count = tags.len(), "could not commit received messages; releasing them");
                if let Err(e) = receiver.release(&tags).await {
                    return Some(e.to_string());
                }
                // The store may be busy or the disk full: give it a moment.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
        };
        if !to_accept.is_empty() {
            if let Err(e) = receiver.accept(&to_accept).await {
                // Committed but not settled: they will come back and be recorded as duplicates.
                return Some(e.to_string());
            }
        }
        if !to_release.is_empty() {
            if let Err(e) = receiver.release(&to_release).await {
                return Some(e.to_string());
            }
        }
    }
}

/// Commits a batch; returns the tags to accept and to release, or on failure all tags.
async fn commit(shared: &Shared, deliveries: Vec<Delivery>) -> Result<(Vec<DeliveryTag>, Vec<DeliveryTag>), (Vec<DeliveryTag>, String)> {
    let tags: Vec<DeliveryTag> = deliveries.iter().map(|d| d.tag).collect();
    let result = shared
        .blocking(move |wf| {
            let envelopes: Vec<Envelope<'_>> = deliveries.iter().map(envelope).collect();
            wf.ingest(&envelopes)
        })
        .await;
    let report = match result {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return Err((tags, e.to_string())),
        Err(e) => return Err((tags, e.to_string())),
    };
    let mut accept = Vec::with_capacity(tags.len());
    let mut release = Vec::new();
    let (mut accepted, mut duplicate, mut rejected, mut ignored) = (0, 0, 0, 0);
    for (tag, outcome) in tags.iter().zip(&report.outcomes) {
        match outcome {
            IngestOutcome::Accepted { .. } => accepted += 1,
            IngestOutcome::Duplicate { .. } => duplicate += 1,
            IngestOutcome::Rejected { .. } => rejected += 1,
            IngestOutcome::Ignored { .. } => ignored += 1,
            IngestOutcome::Retry { .. } => {}
        }
        if outcome.settle() { accept.push(*tag) } else { release.push(*tag) }
    }
    let mut wake = false;
    for event in report.events {
        wake |= matches!(event, WorkflowEvent::OutboxGrew);
        shared.publish(RuntimeEvent::Workflow { event });
    }
    if wake {
        shared.outbox_wake.notify_one();
    }
    shared.publish(RuntimeEvent::Ingested { accepted, duplicate, rejected, ignored, released: release.len() });
    Ok((accept, release))
}

fn envelope(d: &Delivery) -> Envelope<'_> {
    Envelope {
        message_id: d.message_id.as_deref(),
        subject: d.subject.as_deref(),
        correlation_id: d.correlation_id.as_deref(),
        content_type: d.content_type.as_deref(),
        body: &d.body,
        delivery_count: d.delivery_count,
    }
}
