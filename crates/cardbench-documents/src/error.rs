use std::path::PathBuf;

use cardbench_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("the embedded font could not be read")]
    Font,
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("printing to {printer} failed: {detail}")]
    Print { printer: String, detail: String },
}

impl DocumentError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DocumentError {
        let path = path.into();
        move |source| DocumentError::Io { path, source }
    }
}

pub type Result<T, E = DocumentError> = std::result::Result<T, E>;
