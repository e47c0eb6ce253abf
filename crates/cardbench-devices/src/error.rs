//! Every way a device path can fail, typed so the app can say what to do (re-insert the card,
//! plug the reader back, fix the file) instead of showing a raw PC/SC code.

use std::path::PathBuf;

use cardbench_workflow::WorkflowError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DevicesError {
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Store(#[from] cardbench_store::StoreError),
    /// pcscd is not running, or its socket is not reachable.
    #[error("the smart card service (pcscd) is not available: {0}")]
    NoService(String),
    #[error("no card reader is connected{}", filter_note(.filter))]
    NoReaders { filter: Option<String> },
    #[error("reader {reader:?} was unplugged")]
    ReaderUnplugged { reader: String },
    #[error("the card was taken off reader {reader:?} before it was read: put it back and hold it still")]
    CardRemovedEarly { reader: String },
    #[error("the card on reader {reader:?} does not answer (mute or upside down)")]
    CardMute { reader: String },
    #[error("the card on reader {reader:?} refused GET DATA (status {sw}): it has no UID to read this way")]
    UidRefused { reader: String, sw: String },
    #[error("reader {reader:?}: {message}")]
    Reader { reader: String, message: String },
    #[error("smart card service: {0}")]
    Pcsc(String),
    #[error("no card is selected and none is waiting in the production sequence")]
    NoCardInHand,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot watch {path}: {message}")]
    Watch { path: PathBuf, message: String },
    /// The hot folder overlaps Cardbench's own files (data, config, logs, documents).
    #[error("refusing the hot folder {folder}: {reason}")]
    HotFolderRefused { folder: PathBuf, reason: String },
    /// A file in the hot folder that is not a result file we may take (a link, a pipe, a
    /// device, another ending): it is left where it is.
    #[error("{path}: left alone: {reason}")]
    LeftAlone { path: PathBuf, reason: String },
    /// A result file that kept changing while it was read; it stays in `taking/` and is tried
    /// again at the next rescan.
    #[error("{path}: still being written while it was read; tried again later")]
    StillChanging { path: PathBuf },
    #[error("{0}")]
    Config(String),
    #[error("cannot write the job file: {0}")]
    Csv(String),
}

fn filter_note(filter: &Option<String>) -> String {
    match filter {
        Some(f) => format!(" (looking for names containing {f:?})"),
        None => String::new(),
    }
}

impl DevicesError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> DevicesError {
        DevicesError::Io { path: path.into(), source }
    }

    /// A stable code the UI and scripts can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            DevicesError::Workflow(e) => e.code(),
            DevicesError::Store(_) => "store",
            DevicesError::NoService(_) => "pcsc_no_service",
            DevicesError::NoReaders { .. } => "no_readers",
            DevicesError::ReaderUnplugged { .. } => "reader_unplugged",
            DevicesError::CardRemovedEarly { .. } => "card_removed_early",
            DevicesError::CardMute { .. } => "card_mute",
            DevicesError::UidRefused { .. } => "uid_refused",
            DevicesError::Reader { .. } => "reader",
            DevicesError::Pcsc(_) => "pcsc",
            DevicesError::NoCardInHand => "no_card_in_hand",
            DevicesError::Io { .. } => "io",
            DevicesError::Watch { .. } => "watch",
            DevicesError::HotFolderRefused { .. } => "hotfolder_refused",
            DevicesError::LeftAlone { .. } => "hotfolder_left_alone",
            DevicesError::StillChanging { .. } => "hotfolder_still_changing",
            DevicesError::Config(_) => "config",
            DevicesError::Csv(_) => "csv",
        }
    }
}

pub type Result<T, E = DevicesError> = std::result::Result<T, E>;
