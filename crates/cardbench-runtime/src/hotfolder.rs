//! The encoder hot folder inside the daemon: when `[devices.hotfolder] folder` is set, the node
//! watches it for as long as it runs, so readouts written by the personalization machine reach
//! the worklist without anyone starting `cardbench hotfolder watch` by hand. What it takes is
//! published as [`RuntimeEvent`]s; the last files and any trouble stay readable as a
//! [`HotFolderStatus`] for the status screens.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};

use cardbench_devices::config::HotfolderConfig;
use cardbench_devices::hotfolder::{FileReport, HotFolder, HotFolderEvent, OwnDirectory, WatchHandle};
use cardbench_workflow::Workflow;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::RuntimeEvent;

/// How many recent files the status keeps (the full history is in the store and the folders).
const RECENT_FILES: usize = 20;

/// What the hot folder is doing, for a status screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HotFolderStatus {
    pub folder: PathBuf,
    /// False when the watch could not start; `problem` says why.
    pub watching: bool,
    /// The last thing that went wrong (a file that could not be read, a watch that failed).
    pub problem: Option<String>,
    /// Newest first.
    pub recent: Vec<FileReport>,
}

/// The running watch; stops when dropped.
pub struct HotFolderService {
    status: Arc<Mutex<HotFolderStatus>>,
    watch: Option<WatchHandle>,
}

impl HotFolderService {
    /// Starts watching `config.folder`. A folder that cannot be watched does not stop the node
    /// (production and shipping go on without it): the status says why instead. A folder that
    /// is, contains or lies inside one of `own` (or the store's directory) is refused here too,
    /// whatever the config file said: it would move our own files away.
    pub fn start(
        workflow: Workflow,
        operator: &str,
        folder: PathBuf,
        config: HotfolderConfig,
        own: Vec<OwnDirectory>,
        events: broadcast::Sender<RuntimeEvent>,
    ) -> HotFolderService {
        let status = Arc::new(Mutex::new(HotFolderStatus { folder: folder.clone(), ..HotFolderStatus::default() }));
        let started = HotFolder::guarded(workflow, operator, &folder, config, own).and_then(|hot| {
            let (tx, rx) = mpsc::channel();
            let handle = hot.watch(tx)?;
            Ok((handle, rx))
        });
        let watch = match started {
            Ok((handle, rx)) => {
                lock(&status).watching = true;
                tracing::info!(folder = %folder.display(), "watching the hot folder");
                let bridge_status = status.clone();
                // The watch reports on a std channel from its own thread; this thread ends when the
                // watch stops and drops its sender.
                let spawned = std::thread::Builder::new()
                    .name("cardbench-hotfolder-events".into())
                    .spawn(move || forward(&rx, &bridge_status, &events));
                if let Err(e) = spawned {
                    lock(&status).problem = Some(format!("cannot start the hot folder's event thread: {e}"));
                }
                Some(handle)
            }
            Err(e) => {
                tracing::error!(folder = %folder.display(), error = %e, "the hot folder cannot be watched");
                lock(&status).problem = Some(e.to_string());
                None
            }
        };
        HotFolderService { status, watch }
    }

    pub fn status(&self) -> HotFolderStatus {
        lock(&self.status).clone()
    }

    /// Stops after the file being taken (if any) is done.
    pub fn stop(mut self) {
        if let Some(watch) = self.watch.take() {
            watch.stop();
        }
    }
}

fn lock(status: &Mutex<HotFolderStatus>) -> std::sync::MutexGuard<'_, HotFolderStatus> {
    status.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn forward(rx: &mpsc::Receiver<HotFolderEvent>, status: &Mutex<HotFolderStatus>, events: &broadcast::Sender<RuntimeEvent>) {
    while let Ok(event) = rx.recv() {
        let published = match event {
            HotFolderEvent::Taken(report) => {
                tracing::info!(file = %report.file_name, outcome = ?report.outcome, rows = report.rows_total,
                    applied = report.rows_applied, "hot folder file taken");
                let mut s = lock(status);
                s.recent.insert(0, report.clone());
                s.recent.truncate(RECENT_FILES);
                RuntimeEvent::HotFolderFile { report }
            }
            HotFolderEvent::Error { file, error } => {
                let message = match &file {
                    Some(f) => format!("{}: {error}", f.display()),
                    None => error.to_string(),
                };
                tracing::warn!(problem = %message, "hot folder");
                lock(status).problem = Some(message.clone());
                RuntimeEvent::HotFolderProblem { message }
            }
        };
        // No subscriber is fine: nobody may be looking.
        let _ = events.send(published);
    }
}
