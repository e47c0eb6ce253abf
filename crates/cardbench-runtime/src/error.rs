use thiserror::Error;

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("background task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Workflow(#[from] cardbench_workflow::WorkflowError),
    #[error(transparent)]
    Store(#[from] cardbench_store::StoreError),
}
