use std::path::PathBuf;

use cardbench_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// Part of a set of documents was written before one failed.
    #[error("the {failed} could not be written: {source}. {}", written_note(written))]
    Partial { failed: &'static str, written: Vec<PathBuf>, source: Box<DocumentError> },
}

fn written_note(written: &[PathBuf]) -> String {
    if written.is_empty() {
        return "Nothing was written.".into();
    }
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    format!("Written before it: {}", names.join(", "))
}

impl DocumentError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DocumentError {
        let path = path.into();
        move |source| DocumentError::Io { path, source }
    }
}

pub type Result<T, E = DocumentError> = std::result::Result<T, E>;
