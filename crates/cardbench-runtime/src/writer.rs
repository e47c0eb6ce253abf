//! The receive loop's store writer: a thread of its own that commits decoded batches one after
//! the other, in the order they were handed over.
//!
//! Why a thread and not a task per batch on the blocking pool: a commit is the one step of
//! ingest that cannot be shared out, so the next batch must start the moment the previous one is
//! committed. With a task per batch, that moment went through three hand-overs (the blocking
//! thread back to the batch's task, its "done" signal to the next batch's task, that task to the
//! blocking pool), and on a busy two-core machine the writer sat idle for about 1 ms between
//! commits, 6 % of the ingest time. Here the next batch is already queued when a commit ends.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use cardbench_store::inbox::Envelope;
use cardbench_transport::Delivery;
use cardbench_workflow::{DecodedBatch, IngestReport, Workflow};
use tokio::sync::{oneshot, watch};

use crate::backoff::Backoff;
use crate::error::CommitError;
use crate::store_health::HealthReporter;

/// A batch to commit, and where its outcome goes.
struct Job {
    deliveries: Vec<Delivery>,
    decoded: DecodedBatch,
    reply: oneshot::Sender<Result<IngestReport, CommitError>>,
}

pub(crate) struct BatchWriter {
    jobs: mpsc::Sender<Job>,
    thread: thread::JoinHandle<()>,
}

impl BatchWriter {
    /// Starts the writer thread; it ends once the `BatchWriter` is dropped and every batch handed
    /// over is committed.
    pub(crate) fn start(
        workflow: Workflow,
        health: HealthReporter,
        backoff: Backoff,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<BatchWriter> {
        let (jobs, queued) = mpsc::channel::<Job>();
        let thread = thread::Builder::new().name("cardbench-store-writer".into()).spawn(move || {
            let retry = Retry { health, backoff, shutdown };
            for Job { deliveries, decoded, reply } in queued {
                let envelopes: Vec<Envelope<'_>> = deliveries.iter().map(crate::envelope::envelope).collect();
                let outcome = retry.commit(&workflow, &envelopes, decoded, &reply);
                // The batch's task may be gone (shutdown); its messages then come back.
                let _ = reply.send(outcome);
            }
        })?;
        Ok(BatchWriter { jobs, thread })
    }

    /// False once the thread has ended (it only does early on a panic in a commit).
    pub(crate) fn is_running(&self) -> bool {
        !self.thread.is_finished()
    }

    /// Queues a batch behind those handed over before; the answer comes once it is committed or
    /// failed. Err: the writer thread has stopped.
    pub(crate) fn submit(
        &self,
        deliveries: Vec<Delivery>,
        decoded: DecodedBatch,
    ) -> Result<oneshot::Receiver<Result<IngestReport, CommitError>>, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { deliveries, decoded, reply }).map_err(|_| CommitError::WriterStopped)?;
        Ok(answer)
    }
}

/// How the writer waits out a failing store.
struct Retry {
    health: HealthReporter,
    backoff: Backoff,
    shutdown: watch::Receiver<bool>,
}

impl Retry {
    /// Commits the batch, trying again with growing waits for as long as the store as a whole
    /// fails (disk full, locked, I/O). The batch's messages stay held meanwhile: releasing them
    /// would count a delivery each time, and a few minutes of a full disk would send the whole
    /// backlog to the dead-letter queue. Gives up only on shutdown (the messages then come back
    /// once, as after any restart) or when nobody waits for the answer any more.
    fn commit(
        &self,
        workflow: &Workflow,
        envelopes: &[Envelope<'_>],
        decoded: DecodedBatch,
        reply: &oneshot::Sender<Result<IngestReport, CommitError>>,
    ) -> Result<IngestReport, CommitError> {
        let mut decoded = Some(decoded);
        let mut attempt = 0u32;
        loop {
            let result = match decoded.take() {
                Some(decoded) => workflow.ingest_decoded(envelopes, decoded),
                // Decoded bodies are used up by an attempt: decode again (only after a failure).
                None => workflow.ingest(envelopes),
            };
            let error = match result {
                Ok(report) => {
                    self.health.recovered(workflow);
                    return Ok(report);
                }
                Err(error) => error,
            };
            let Some(failure) = error.store_failure() else { return Err(CommitError::Workflow(error)) };
            let delay = self.backoff.delay(attempt);
            attempt = attempt.saturating_add(1);
            self.health.failing(failure, &error.to_string(), delay, envelopes.len());
            if !self.wait(delay, reply) {
                return Err(CommitError::StoreFailingAtShutdown { failure, source: error });
            }
        }
    }

    /// Sleeps `delay` in short steps; false if shutdown came or the batch's task is gone.
    fn wait(&self, delay: Duration, reply: &oneshot::Sender<Result<IngestReport, CommitError>>) -> bool {
        let until = Instant::now() + delay;
        loop {
            if *self.shutdown.borrow() || reply.is_closed() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}
