use cardbench_store::StoreFailure;
use cardbench_transport::TransportError;
use cardbench_workflow::WorkflowError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Store(#[from] cardbench_store::StoreError),
}

/// Why a batch of received messages was not committed (it is released and comes back).
#[derive(Debug, Error)]
pub enum CommitError {
    /// The workflow refused the batch as a whole (not a failure of the store).
    #[error(transparent)]
    Workflow(WorkflowError),
    /// The store was failing as a whole when shutdown came; the batch was held until then.
    #[error("store failing ({failure}) at shutdown: {source}")]
    StoreFailingAtShutdown { failure: StoreFailure, source: WorkflowError },
    #[error("the store writer stopped before this batch was committed")]
    WriterStopped,
    /// Decoding on the blocking pool failed.
    #[error(transparent)]
    Task(#[from] RuntimeError),
}

/// Why a link's work ended and the link is opened again (the supervisor backs off first). The
/// transport's error keeps its kind, so a caller can tell a refused credential from a dropped
/// connection.
#[derive(Debug, Error)]
pub enum LinkError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot start the store writer thread: {0}")]
    WriterThread(std::io::Error),
    #[error("the store writer stopped")]
    WriterStopped,
    #[error("commit task failed: {0}")]
    CommitTask(#[from] tokio::task::JoinError),
}
