//! The encoder hot folder: the personalization machine writes one result file per job (CSV with a
//! header, or JSON Lines); we take each file once it is complete, validate every row, apply the
//! valid rows in one transaction, and move the file to `processed/` (every row applied) or
//! `failed/` (some row refused, or the file unreadable) with `NAME.reason.txt` beside it naming
//! each refused row and why.
//!
//! - Complete: the file's size and modification time have not changed for `settle_ms`, and its
//!   name is not a temporary one (`.*`, `~*`, `*.tmp`, `*.part`, `*.swp`, `*.crdownload`).
//!   The encoder does not tell us when it is done, and inotify's close-write is not enough: some
//!   machines open, write and close many times.
//! - Once: the SHA-256 of the bytes is recorded in the same transaction as the rows. A file seen
//!   again is not applied again (a crash between commit and move just finishes the move).
//! - Files already in the folder when the watch starts are taken like new ones, and the folder is
//!   listed again every `rescan_secs` for shares that send no events.
//! - Only its own: a folder that is, contains or lies inside Cardbench's data, config, log or
//!   documents directory is refused ([`guard`]); only regular files with a configured ending
//!   are taken (never a link, a pipe or a device), none bigger than `max_file_bytes`.
//! - A file is moved into the private `taking/` before it is read ([`take`]), so what is applied
//!   is exactly what was read; files a crash left there are taken again at start.
//!
//! [`parse`] reads bytes into rows, [`take`] takes one file, [`watch`] finds the files.

mod guard;
mod parse;
mod take;
mod watch;

use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use cardbench_workflow::Workflow;
use serde::{Deserialize, Serialize};

use crate::config::HotfolderConfig;
use crate::error::{DevicesError, Result};

pub use guard::{OwnDirectory, refuse_own_directories, resolve, same_directory};
pub use parse::{FileKind, ParsedFile, ResultRow, RowProblem, is_temporary_name, parse};
pub use watch::WatchHandle;

pub const PROCESSED_DIR: &str = "processed";
pub const FAILED_DIR: &str = "failed";
/// Where a file is moved before it is read: private to Cardbench, on the folder's own file
/// system (a rename, not a copy).
pub const TAKING_DIR: &str = "taking";
/// The audit/readout source of values from result files.
pub const SOURCE: &str = "hotfolder";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    /// Every row applied; moved to processed/.
    Processed,
    /// Some row refused or the file unreadable; moved to failed/ with a reason file.
    Failed,
    /// The same bytes were taken before; nothing applied again.
    AlreadyTaken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub file_name: String,
    /// Empty for a file refused unread (too big).
    pub sha256: String,
    pub outcome: FileOutcome,
    pub rows_total: usize,
    pub rows_applied: usize,
    /// Cards produced (CARD_PRODUCED queued).
    pub produced: usize,
    pub problems: Vec<RowProblem>,
    /// Why the file as a whole was refused, if it was.
    pub file_problem: Option<String>,
    pub moved_to: PathBuf,
}

/// What the watch reports.
#[derive(Debug)]
pub enum HotFolderEvent {
    Taken(FileReport),
    /// A file that could not be taken now (I/O); it is tried again on its next change, at the
    /// next rescan or restart.
    Error { file: Option<PathBuf>, error: DevicesError },
}

/// A configured hot folder over one store.
#[derive(Clone)]
pub struct HotFolder {
    workflow: Workflow,
    operator: String,
    folder: PathBuf,
    config: HotfolderConfig,
    /// Directories the folder must stay clear of; the store's own is always one.
    own: Vec<OwnDirectory>,
}

impl HotFolder {
    /// Checks that `folder` is clear of the store's data directory, then creates it,
    /// `processed/`, `failed/` and `taking/` if needed.
    pub fn new(workflow: Workflow, operator: &str, folder: &Path, config: HotfolderConfig) -> Result<HotFolder> {
        HotFolder::guarded(workflow, operator, folder, config, Vec::new())
    }

    /// [`HotFolder::new`], clear also of `own` (the config, log and documents directories).
    pub fn guarded(workflow: Workflow, operator: &str, folder: &Path, config: HotfolderConfig, mut own: Vec<OwnDirectory>) -> Result<HotFolder> {
        if let Some(data_dir) = workflow.store().path().parent() {
            own.push(("the data directory", data_dir.to_owned()));
        }
        let hot = HotFolder { workflow, operator: operator.to_owned(), folder: folder.to_owned(), config, own };
        // Before anything is created: a refused folder must not get our subfolders.
        hot.check_own_directories()?;
        std::fs::create_dir_all(folder).map_err(|e| DevicesError::io(folder, e))?;
        for dir in [folder.join(PROCESSED_DIR), folder.join(FAILED_DIR)] {
            std::fs::create_dir_all(&dir).map_err(|e| DevicesError::io(&dir, e))?;
        }
        hot.taking_dir()?;
        Ok(hot)
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// `Err` when the folder is, contains or lies inside a directory of ours; checked when the
    /// folder is set up, when the watch starts and at every rescan (a link can be changed).
    pub fn check_own_directories(&self) -> Result<()> {
        refuse_own_directories(&self.folder, &self.own).map_err(|reason| DevicesError::HotFolderRefused { folder: self.folder.clone(), reason })
    }

    /// `taking/`, made private (0700) if it is not there.
    fn taking_dir(&self) -> Result<PathBuf> {
        let dir = self.folder.join(TAKING_DIR);
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| DevicesError::io(&dir, e))?;
        Ok(dir)
    }

    /// Result files waiting, oldest name first: first those a crash left in `taking/`, then
    /// those in the folder (regular files with a configured ending and no temporary name).
    pub fn waiting(&self) -> Result<Vec<PathBuf>> {
        let mut files = self.regular_files_in(&self.folder.join(TAKING_DIR)).unwrap_or_default();
        files.sort();
        let mut fresh: Vec<PathBuf> = self.regular_files_in(&self.folder)?.into_iter().filter(|p| self.is_candidate(p)).collect();
        fresh.sort();
        files.extend(fresh);
        Ok(files)
    }

    /// Regular files only: `DirEntry::file_type` does not follow links, so a link, a pipe or a
    /// device is never listed.
    fn regular_files_in(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(dir).map_err(|e| DevicesError::io(dir, e))?;
        Ok(entries.filter_map(std::result::Result::ok).filter(|e| e.file_type().is_ok_and(|t| t.is_file())).map(|e| e.path()).collect())
    }

    /// Named like a result file, directly in the folder (by name only: the type is checked
    /// without following links when the file is taken).
    fn is_candidate(&self, path: &Path) -> bool {
        path.parent() == Some(self.folder.as_path())
            && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| !is_temporary_name(n))
            && FileKind::of_configured(path, &self.config.extensions).is_some()
    }
}
