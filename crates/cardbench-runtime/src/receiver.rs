//! The receive loop: batch → decode → one commit → settle. Settling happens only after the commit
//! is durable, so a crash in between brings the messages back, where they are recorded as
//! duplicates and settled with no second effect.

use std::sync::Arc;

use cardbench_transport::{Delivery, DeliveryTag, QueueReceiver};
use cardbench_workflow::IngestOutcome;
use tokio::sync::watch;

use crate::error::{CommitError, LinkError};
use crate::store_health::HealthReporter;
use crate::writer::BatchWriter;

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

/// A batch being decoded (on the blocking pool) and committed (by the writer thread) while the
/// loop goes on.
type InFlight = tokio::task::JoinHandle<Result<Committed, (Vec<DeliveryTag>, CommitError)>>;

/// Receives until shutdown (None) or a link failure (Some(error)).
///
/// Pipelined: the store's single writer is the one step that cannot be shared out, so everything
/// else happens while it works. Batch N+1 is received while N commits; then N+1 is decoded (on
/// another core: decoding needs no store) and queued to the writer thread while N still commits,
/// and N is settled while N+1 commits. Commits stay in order, one at a time (the writer takes
/// them in the order they were queued, and N+1 is queued only after N), and each batch is still
/// settled only after its own commit.
async fn pump(shared: &Shared, mut receiver: Box<dyn QueueReceiver>, shutdown: &mut watch::Receiver<bool>) -> Option<LinkError> {
    let health = HealthReporter { health: shared.store_health.clone(), events: shared.events.clone() };
    let writer = match BatchWriter::start(shared.workflow.clone(), health, shared.config.store_backoff, shutdown.clone()) {
        Ok(w) => Arc::new(w),
        Err(e) => return Some(LinkError::WriterThread(e)),
    };
    let mut in_flight: Option<(InFlight, Queued)> = None;
    loop {
        if !writer.is_running() {
            // A commit panicked: what is in flight fails and is released; the supervisor then
            // starts over with a new writer.
            if let Some((task, _)) = in_flight.take() {
                let _ = settle(shared, receiver.as_mut(), task).await;
            }
            return Some(LinkError::WriterStopped);
        }
        // With a commit in flight, take only what is there now: its settlement must not wait
        // for new messages to arrive.
        let wait = if in_flight.is_some() { std::time::Duration::ZERO } else { shared.config.receive_wait };
        let received = tokio::select! {
            r = receiver.receive(shared.config.receive_batch, wait) => r,
            _ = stopped(shutdown) => {
                // Settle what is committed; anything else simply comes back after the restart.
                if let Some((task, _)) = in_flight.take() {
                    return settle(shared, receiver.as_mut(), task).await.err();
                }
                return None;
            }
        };
        let deliveries = match received {
            Ok(d) => d,
            Err(e) => {
                if let Some((task, _)) = in_flight.take()
                    && let Err(settling) = settle(shared, receiver.as_mut(), task).await
                {
                    tracing::warn!(error = %settling, "could not settle the last committed batch");
                }
                return Some(LinkError::Transport(e));
            }
        };
        // Started before the previous batch is settled, so its decoding overlaps that commit.
        let next = (!deliveries.is_empty()).then(|| {
            let after = in_flight.as_ref().map(|(_, queued)| queued.clone());
            let (queued, done) = Queued::new();
            let task = shared.clone();
            let writer = writer.clone();
            (tokio::spawn(async move { commit(&task, &writer, deliveries, after, done).await }), queued)
        });
        if let Some((task, _)) = in_flight.take()
            && let Err(e) = settle(shared, receiver.as_mut(), task).await
        {
            // The next batch may be committing: let it finish, so that nothing of this receiver
            // is still writing when the supervisor opens the next one. Its messages are not
            // settled and come back as duplicates of what it recorded.
            if let Some((task, _)) = next {
                let _ = task.await;
            }
            return Some(e);
        }
        in_flight = next;
    }
}

/// Tells the next batch that this one has been handed to the writer (or has failed before), so
/// commits keep the order in which batches were received. Dropped unfired (a task that panicked)
/// counts too.
#[derive(Clone)]
struct Queued(tokio::sync::watch::Receiver<bool>);

impl Queued {
    fn new() -> (Queued, tokio::sync::watch::Sender<bool>) {
        let (done, rx) = tokio::sync::watch::channel(false);
        (Queued(rx), done)
    }

    async fn wait(mut self) {
        // Err: the sender is gone, i.e. the batch's task has ended.
        let _ = self.0.wait_for(|over| *over).await;
    }
}

/// Waits for a batch's commit, then accepts or releases each message as its outcome says. While
/// the store fails as a whole the writer holds the batch and tries again (see `writer::Retry`),
/// so this waits too and the loop takes no more messages. A commit failed for another reason
/// (or given up at shutdown) releases the whole batch: nothing of it is recorded, so all of it
/// comes back.
/// `Ingested` goes out only once the batch is settled, so "settled" in it is true: a watcher (the
/// status line, `cardbench bench`) never counts a message the queue still holds.
async fn settle(shared: &Shared, receiver: &mut dyn QueueReceiver, task: InFlight) -> Result<(), LinkError> {
    let outcome = task.await?;
    let Committed { accept: to_accept, release: to_release, ingested } = match outcome {
        Ok(committed) => committed,
        Err((tags, error)) => {
            tracing::error!(%error, count = tags.len(), "could not commit received messages; releasing them");
            receiver.release(&tags).await?;
            // The store may be busy or the disk full: give it a moment.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            return Ok(());
        }
    };
    if !to_accept.is_empty() {
        // Committed but not settled on failure: they come back and are recorded as duplicates.
        receiver.accept(&to_accept).await?;
        shared.settled.send_modify(|n| *n += to_accept.len() as u64);
    }
    if !to_release.is_empty() {
        receiver.release(&to_release).await?;
    }
    shared.publish(ingested);
    Ok(())
}

/// Decodes a batch, waits until the previous batch is queued (`after`), queues this one to the
/// writer and says so on `queued`, then waits for its commit; returns the tags to accept and to
/// release, or on failure all tags.
async fn commit(
    shared: &Shared,
    writer: &BatchWriter,
    deliveries: Vec<Delivery>,
    after: Option<Queued>,
    queued: tokio::sync::watch::Sender<bool>,
) -> Result<Committed, (Vec<DeliveryTag>, CommitError)> {
    let tags: Vec<DeliveryTag> = deliveries.iter().map(|d| d.tag).collect();
    let decoded = shared
        .blocking(move |workflow| {
            let decoded = workflow.decode(&deliveries.iter().map(crate::envelope::envelope).collect::<Vec<_>>());
            (deliveries, decoded)
        })
        .await;
    // Waited for even when decoding failed: `queued` must not fire before the previous batch
    // is queued, or the batch after this one could overtake it.
    if let Some(previous) = after {
        previous.wait().await;
    }
    let answer = match decoded {
        Ok((deliveries, decoded)) => writer.submit(deliveries, decoded),
        Err(e) => Err(CommitError::Task(e)),
    };
    let _ = queued.send(true);
    let report = match answer {
        Err(e) => return Err((tags, e)),
        Ok(answer) => match answer.await {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => return Err((tags, e)),
            Err(_) => return Err((tags, CommitError::WriterStopped)),
        },
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
    for event in report.events {
        shared.publish(RuntimeEvent::Workflow { event });
    }
    let ingested = RuntimeEvent::Ingested { accepted, duplicate, rejected, ignored, released: release.len() };
    Ok(Committed { accept, release, ingested })
}
