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

use cardbench_store::inbox::Envelope;
use cardbench_transport::Delivery;
use cardbench_workflow::{DecodedBatch, IngestReport, Workflow};
use tokio::sync::oneshot;

/// A batch to commit, and where its outcome goes.
struct Job {
    deliveries: Vec<Delivery>,
    decoded: DecodedBatch,
    reply: oneshot::Sender<Result<IngestReport, String>>,
}

pub(crate) struct BatchWriter {
    jobs: mpsc::Sender<Job>,
    thread: thread::JoinHandle<()>,
}

impl BatchWriter {
    /// Starts the writer thread; it ends once the `BatchWriter` is dropped and every batch handed
    /// over is committed.
    pub(crate) fn start(workflow: Workflow) -> std::io::Result<BatchWriter> {
        let (jobs, queued) = mpsc::channel::<Job>();
        let thread = thread::Builder::new().name("cardbench-store-writer".into()).spawn(move || {
            for Job { deliveries, decoded, reply } in queued {
                let envelopes: Vec<Envelope<'_>> = deliveries.iter().map(crate::receiver::envelope).collect();
                let outcome = workflow.ingest_decoded(&envelopes, decoded).map_err(|e| e.to_string());
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
    ) -> Result<oneshot::Receiver<Result<IngestReport, String>>, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { deliveries, decoded, reply })
            .map_err(|_| "the store writer has stopped".to_owned())?;
        Ok(answer)
    }
}
