use cardbench_workflow::WorkflowError;
use thiserror::Error;

use crate::dto::CommandError;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Store(#[from] cardbench_store::StoreError),
    #[error(transparent)]
    Devices(#[from] cardbench_devices::DevicesError),
    #[error(transparent)]
    Documents(#[from] cardbench_documents::DocumentError),
    #[error(transparent)]
    DeadLetters(#[from] cardbench_runtime::deadletters::DeadLetterError),
    #[error("settings refused: {0}")]
    Settings(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
}

impl From<AppError> for CommandError {
    fn from(e: AppError) -> Self {
        let (code, problems) = match &e {
            AppError::Workflow(w) => {
                let problems = match w {
                    WorkflowError::ShipRefused(ps) => ps.iter().map(ToString::to_string).collect(),
                    WorkflowError::InvalidReadouts(ps) => ps.iter().map(|p| format!("{}: {}", p.field, p.message)).collect(),
                    _ => Vec::new(),
                };
                (w.code().to_owned(), problems)
            }
            AppError::Store(_) => ("store".to_owned(), Vec::new()),
            AppError::Devices(d) => (d.code().to_owned(), Vec::new()),
            AppError::Documents(_) => ("documents".to_owned(), Vec::new()),
            AppError::DeadLetters(_) => ("dead_letters".to_owned(), Vec::new()),
            AppError::Settings(_) => ("settings".to_owned(), Vec::new()),
            AppError::Invalid(_) => ("invalid".to_owned(), Vec::new()),
            AppError::Io(_) => ("io".to_owned(), Vec::new()),
        };
        CommandError { code, message: e.to_string(), problems }
    }
}

impl From<WorkflowError> for CommandError {
    fn from(e: WorkflowError) -> Self {
        AppError::from(e).into()
    }
}

impl From<cardbench_store::StoreError> for CommandError {
    fn from(e: cardbench_store::StoreError) -> Self {
        AppError::from(e).into()
    }
}
