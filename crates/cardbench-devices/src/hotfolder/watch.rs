//! Finding complete files: inotify events while the folder sends them, a listing at start (files
//! that came while we were stopped, and those a crash left in `taking/`) and again every
//! `rescan_secs` (a network share sends no events for files written from other machines; a
//! folder replaced or remounted under our watch sends none either).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use super::{HotFolder, HotFolderEvent};
use crate::error::{DevicesError, Result};

impl HotFolder {
    /// Watches the folder until `stop` is called: files already there and every new or changed
    /// file are taken once their size has settled. Blocks on file-system events (inotify) while
    /// nothing is pending, waking for the periodic rescan; wakes every `settle_ms / 4` only while
    /// a file is settling. Refused when the folder overlaps a directory of ours.
    pub fn watch(self, events: mpsc::Sender<HotFolderEvent>) -> Result<WatchHandle> {
        self.check_own_directories()?;
        let (tx, rx) = mpsc::channel::<Wake>();
        let fs_tx = tx.clone();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let _ = fs_tx.send(Wake::Fs(res));
        })
        .map_err(|e| DevicesError::Watch { path: self.folder.clone(), message: e.to_string() })?;
        notify::Watcher::watch(&mut watcher, &self.folder, notify::RecursiveMode::NonRecursive)
            .map_err(|e| DevicesError::Watch { path: self.folder.clone(), message: e.to_string() })?;
        let thread = std::thread::Builder::new()
            .name("cardbench-hotfolder".into())
            .spawn(move || {
                // Keep the watcher alive for as long as the loop runs.
                let _watcher = watcher;
                self.watch_loop(&rx, &events);
            })
            .map_err(|e| DevicesError::io(PathBuf::from("(thread)"), e))?;
        Ok(WatchHandle { wake: tx, thread: Some(thread) })
    }

    fn watch_loop(&self, rx: &mpsc::Receiver<Wake>, events: &mpsc::Sender<HotFolderEvent>) {
        let settle = Duration::from_millis(self.config.settle_ms);
        let rescan = Duration::from_secs(self.config.rescan_secs);
        let mut pending: HashMap<PathBuf, Observation> = HashMap::new();
        let mut scan_trouble: Option<String> = None;
        // Files that arrived while we were stopped, and those a crash left in taking/.
        self.rescan(&mut pending, &mut scan_trouble, events);
        let mut next_rescan = Instant::now() + rescan;
        loop {
            let until_rescan = next_rescan.saturating_duration_since(Instant::now());
            let wait = if pending.is_empty() { until_rescan } else { (settle / 4).min(until_rescan) };
            match rx.recv_timeout(wait) {
                Ok(Wake::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(Wake::Fs(Ok(event))) => {
                    for path in event.paths {
                        if self.is_candidate(&path) {
                            pending.entry(path).or_insert_with(Observation::unknown);
                        }
                    }
                }
                Ok(Wake::Fs(Err(e))) => {
                    let _ = events
                        .send(HotFolderEvent::Error { file: None, error: DevicesError::Watch { path: self.folder.clone(), message: e.to_string() } });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if Instant::now() >= next_rescan {
                self.rescan(&mut pending, &mut scan_trouble, events);
                next_rescan = Instant::now() + rescan;
            }
            let mut ready = Vec::new();
            pending.retain(|path, seen| {
                // Not following links: a link, a pipe or a device is dropped here, never opened.
                let Ok(meta) = std::fs::symlink_metadata(path) else {
                    return false; // gone (renamed away or deleted): nothing to take
                };
                if !meta.file_type().is_file() {
                    return false;
                }
                let now = (meta.len(), meta.modified().ok());
                if seen.state != Some(now) {
                    *seen = Observation { state: Some(now), since: Instant::now() };
                    return true;
                }
                if seen.since.elapsed() >= settle {
                    ready.push(path.clone());
                    return false;
                }
                true
            });
            ready.sort();
            for path in ready {
                // Checked again before each file: the folder may have been turned into a link.
                let event = match self.check_own_directories().and_then(|()| self.take(&path)) {
                    Ok(report) => HotFolderEvent::Taken(report),
                    Err(error) => {
                        tracing::warn!(file = %path.display(), %error, "result file not taken");
                        HotFolderEvent::Error { file: Some(path), error }
                    }
                };
                if events.send(event).is_err() {
                    return; // nobody listens any more
                }
            }
        }
    }

    /// Adds every waiting file to `pending`. The same trouble (a share gone) is reported once,
    /// not at every rescan.
    fn rescan(&self, pending: &mut HashMap<PathBuf, Observation>, trouble: &mut Option<String>, events: &mpsc::Sender<HotFolderEvent>) {
        match self.check_own_directories().and_then(|()| self.waiting()) {
            Ok(files) => {
                *trouble = None;
                for f in files {
                    pending.entry(f).or_insert_with(Observation::unknown);
                }
            }
            Err(error) => {
                let text = error.to_string();
                if trouble.as_deref() != Some(text.as_str()) {
                    tracing::warn!(folder = %self.folder.display(), %error, "the hot folder cannot be listed");
                    *trouble = Some(text);
                    let _ = events.send(HotFolderEvent::Error { file: None, error });
                }
            }
        }
    }
}

enum Wake {
    Fs(notify::Result<notify::Event>),
    Stop,
}

struct Observation {
    state: Option<(u64, Option<SystemTime>)>,
    since: Instant,
}

impl Observation {
    fn unknown() -> Observation {
        Observation { state: None, since: Instant::now() }
    }
}

/// Stops the watch when dropped or on [`WatchHandle::stop`].
pub struct WatchHandle {
    wake: mpsc::Sender<Wake>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WatchHandle {
    /// Stops after the file being taken (if any) is done, and waits for that.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.wake.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
