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

/// What a committed batch asks of the transport, and the event to publish once it is done.
struct Committed {
    accept: Vec<DeliveryTag>,
    release: Vec<DeliveryTag>,
    ingested: RuntimeEvent,
}

/// A batch whose commit runs on the blocking pool while the next batch is received.
type InFlight = tokio::task::JoinHandle<Result<Committed, (Vec<DeliveryTag>, String)>>;

/// Receives until shutdown (None) or a link failure (Some(error)).
///
/// Pipelined, one batch deep: while batch N commits, batch N+1 is taken from the queue, and N is
/// settled while N+1 commits. Receiving, committing and settling touch different files (or the
/// network), so they overlap instead of taking turns; each batch is still settled only after its
/// own commit.
async fn pump(shared: &Shared, mut receiver: Box<dyn QueueReceiver>, shutdown: &mut watch::Receiver<bool>) -> Option<String> {
    let mut in_flight: Option<InFlight> = None;
    loop {
        // With a commit in flight, take only what is there now: its settlement must not wait
        // for new messages to arrive.
        let wait = if in_flight.is_some() { std::time::Duration::ZERO } else { shared.config.receive_wait };
        let received = tokio::select! {
            r = receiver.receive(shared.config.receive_batch, wait) => r,
            _ = stopped(shutdown) => {
                // Settle what is committed; anything else simply comes back after the restart.
                if let Some(task) = in_flight.take() {
                    return settle(shared, receiver.as_mut(), task).await.err();
                }
                return None;
            }
        };
        if let Some(task) = in_flight.take()
            && let Err(e) = settle(shared, receiver.as_mut(), task).await
        {
            return Some(e);
        }
        let deliveries = match received {
            Ok(d) => d,
            Err(e) => return Some(e.to_string()),
        };
        if deliveries.is_empty() {
            continue;
        }
        let committing = shared.clone();
        in_flight = Some(tokio::spawn(async move { commit(&committing, deliveries).await }));
    }
}

/// Waits for a batch's commit, then accepts or releases each message as its outcome says. A
/// failed commit releases the whole batch (nothing of it is recorded, so all of it comes back).
/// `Ingested` goes out only once the batch is settled, so "settled" in it is true: a watcher (the
/// status line, `cardbench bench`) never counts a message the queue still holds.
async fn settle(shared: &Shared, receiver: &mut dyn QueueReceiver, task: InFlight) -> Result<(), String> {
    let outcome = task.await.map_err(|e| format!("commit task failed: {e}"))?;
    let Committed { accept: to_accept, release: to_release, ingested } = match outcome {
        Ok(committed) => committed,
        Err((tags, error)) => {
            tracing::error!(%error, count = tags.len(), "could not commit received messages; releasing them");
            receiver.release(&tags).await.map_err(|e| e.to_string())?;
            // The store may be busy or the disk full: give it a moment.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            return Ok(());
        }
    };
    if !to_accept.is_empty() {
        // Committed but not settled on failure: they come back and are recorded as duplicates.
        receiver.accept(&to_accept).await.map_err(|e| e.to_string())?;
    }
    if !to_release.is_empty() {
        receiver.release(&to_release).await.map_err(|e| e.to_string())?;
    }
    shared.publish(ingested);
    Ok(())
}

/// Commits a batch; returns the tags to accept and to release, or on failure all tags.
async fn commit(shared: &Shared, deliveries: Vec<Delivery>) -> Result<Committed, (Vec<DeliveryTag>, String)> {
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
    let ingested = RuntimeEvent::Ingested { accepted, duplicate, rejected, ignored, released: release.len() };
    Ok(Committed { accept, release, ingested })
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
