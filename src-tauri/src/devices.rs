//! PC/SC readers in the app: the core's [`ReaderWatch`] follows readers and cards; every chip
//! read goes to the webview as an event, and the production station applies it to the card in
//! hand (`apply_chip`), so the reader is one more way to give a readout, like a scan. Which card a
//! chip belongs to is the screen's knowledge, not the watch's.

use std::sync::{Arc, Mutex, mpsc};

use cardbench_devices::{ReaderEvent, ReaderWatch};
use tauri::AppHandle;

use crate::dto::{AppEvent, ReadersView};
use crate::events::emit;

/// The running reader watch and what it has seen.
pub struct Readers {
    status: Arc<Mutex<ReadersView>>,
    watch: Option<ReaderWatch>,
}

fn lock(status: &Mutex<ReadersView>) -> std::sync::MutexGuard<'_, ReadersView> {
    status.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Readers {
    /// Starts watching readers whose name contains `filter`. Without a PC/SC service (pcscd not
    /// running, no reader driver) the app works on, typed and scanned readouts only, and the
    /// status says why.
    pub fn start(app: AppHandle, filter: Option<String>) -> Readers {
        let status = Arc::new(Mutex::new(ReadersView { filter: filter.clone(), ..ReadersView::default() }));
        let (tx, rx) = mpsc::channel();
        let watch = match ReaderWatch::start(filter, tx) {
            Ok(watch) => {
                lock(&status).watching = true;
                let thread_status = status.clone();
                let spawned = std::thread::Builder::new()
                    .name("cardbench-reader-events".into())
                    .spawn(move || forward(&app, &rx, &thread_status));
                if let Err(e) = spawned {
                    lock(&status).problem = Some(format!("cannot start the reader event thread: {e}"));
                }
                Some(watch)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no PC/SC readers: readouts are typed or scanned");
                lock(&status).problem = Some(e.to_string());
                None
            }
        };
        Readers { status, watch }
    }

    pub fn status(&self) -> ReadersView {
        lock(&self.status).clone()
    }

    pub fn stop(mut self) {
        if let Some(watch) = self.watch.take() {
            watch.stop();
        }
    }
}

fn forward(app: &AppHandle, rx: &mpsc::Receiver<ReaderEvent>, status: &Mutex<ReadersView>) {
    while let Ok(event) = rx.recv() {
        let out = match event {
            ReaderEvent::Attached { reader } => {
                let mut s = lock(status);
                s.problem = None;
                if !s.readers.contains(&reader) {
                    s.readers.push(reader);
                }
                AppEvent::Readers { readers: s.readers.clone(), problem: None }
            }
            ReaderEvent::Detached { reader } => {
                let mut s = lock(status);
                s.readers.retain(|r| *r != reader);
                AppEvent::Readers { readers: s.readers.clone(), problem: s.problem.clone() }
            }
            ReaderEvent::ServiceLost(error) => {
                let mut s = lock(status);
                s.readers.clear();
                s.problem = Some(format!("{error} (retrying)"));
                AppEvent::Readers { readers: Vec::new(), problem: s.problem.clone() }
            }
            ReaderEvent::CardRead(chip) => {
                // The UID identifies a chip, not a person; it is what the readout is for.
                tracing::info!(reader = %chip.reader, "chip read");
                AppEvent::ChipRead { reader: chip.reader, uid: chip.uid, atr: chip.atr }
            }
            ReaderEvent::ReadFailed { reader, error } => {
                tracing::warn!(%reader, %error, "card not read");
                continue;
            }
            ReaderEvent::CardRemoved { .. } => continue,
        };
        emit(app, out);
    }
}
