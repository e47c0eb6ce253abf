use cardbench_transport::TransportError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SimError {
    /// The queues: the link is down or refused a message. `run` retries these.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// The simulator's own state file.
    #[error("simulator state: {0}")]
    State(#[from] rusqlite::Error),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("simulator state holds an unreadable value: {0}")]
    Corrupt(String),
    #[error("simulator task failed: {0}")]
    Task(String),
}

impl From<serde_json::Error> for SimError {
    fn from(e: serde_json::Error) -> Self {
        SimError::Corrupt(e.to_string())
    }
}
