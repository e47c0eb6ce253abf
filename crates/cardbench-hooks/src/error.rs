use thiserror::Error;

#[derive(Debug, Error)]
pub enum HooksError {
    #[error(transparent)]
    Store(#[from] cardbench_store::StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("no subscriber named `{0}`")]
    UnknownSubscriber(String),
    #[error("subscriber `{0}` has no secret in the keyring")]
    NoSecret(String),
    #[error("{0}")]
    Workflow(String),
    #[error("the background task failed: {0}")]
    Task(String),
}
