//! The retention purge as the daemon runs it (daily) and `cardbench purge` runs it (once): the
//! configured days and the directories of files that may hold cardholder data, read from the
//! config. Which cards are past retention, and what a purge takes, is the workflow's rule
//! ([`cardbench_workflow::retention`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use cardbench_workflow::retention::{FileArea, FileKind, PurgeReport};
use cardbench_workflow::{Workflow, WorkflowError};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;

/// How often the daemon purges.
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// The first run waits this long after start: a backlog received at start-up comes first.
pub const FIRST_AFTER: Duration = Duration::from_secs(5 * 60);

/// Where files holding cardholder data are, by the config: the hot folder's `processed/` and
/// `failed/`, the job export folder, and the app's packing slips (`<data dir>/documents/slips`).
/// A slip written by `cardbench slip --out` elsewhere is the operator's file, not looked at.
pub fn file_areas(config: &Config, data_dir: &Path) -> Vec<FileArea> {
    use cardbench_devices::hotfolder::{FAILED_DIR, PROCESSED_DIR};
    let mut areas = Vec::new();
    if let Some(folder) = &config.devices.hotfolder.folder {
        for sub in [PROCESSED_DIR, FAILED_DIR] {
            areas.push(FileArea {
                kind: FileKind::HotFolderResult,
                dir: folder.join(sub),
            });
        }
    }
    if let Some(folder) = &config.devices.export.folder {
        areas.push(FileArea {
            kind: FileKind::JobExport,
            dir: folder.clone(),
        });
    }
    areas.push(FileArea {
        kind: FileKind::Slip,
        dir: slips_dir(data_dir),
    });
    areas
}

/// Where the app writes packing slips.
pub fn slips_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("documents").join("slips")
}

/// One purge (or, `dry_run`, its report only) as of `now` with the configured days.
pub fn purge(
    workflow: &Workflow,
    config: &Config,
    data_dir: &Path,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PurgeReport, WorkflowError> {
    workflow.purge(
        now,
        config.workstation.retention_days,
        &file_areas(config, data_dir),
        dry_run,
    )
}

/// The daemon's daily purge; stops with [`RetentionTask::stop`].
pub struct RetentionTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RetentionTask {
    pub fn start(workflow: Workflow, config: Config, data_dir: PathBuf) -> RetentionTask {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut wait = FIRST_AFTER;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.changed() => return,
                }
                wait = EVERY;
                let (wf, cfg, dir) = (workflow.clone(), config.clone(), data_dir.clone());
                match tokio::task::spawn_blocking(move || purge(&wf, &cfg, &dir, Utc::now(), false))
                    .await
                {
                    Ok(Ok(_)) => {}
                    // Counted, never the data: the next day's run tries again.
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "retention purge failed; tried again tomorrow")
                    }
                    Err(error) => tracing::warn!(%error, "retention purge stopped"),
                }
            }
        });
        RetentionTask { stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
