//! Live state for the webview: core changes become `cardbench://event` events.
//!
//! Any commit to the store — by this app, by the daemon, by the CLI in another process, on a floor
//! by another station — is told by the store's change feed (`cardbench_store::changes`); a light
//! watcher turns that into `store_changed`, plus the outbox depth and link state when they change. When the daemon runs in this process, what it commits is
//! forwarded as `store_changed` at once (`daemon::forward`).

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Emitter};

use crate::dto::AppEvent;
use crate::station::Station;

pub const CHANNEL: &str = "cardbench://event";

pub fn emit(app: &AppHandle, event: AppEvent) {
    if let Err(e) = app.emit(CHANNEL, &event) {
        tracing::warn!(error = %e, "cannot emit an event to the webview");
    }
}

#[derive(Default, PartialEq)]
struct Seen {
    data_version: i64,
    outbox_depth: i64,
    links: Vec<(String, String, Option<String>)>,
}

fn look(station: &Station) -> Result<Seen, cardbench_store::StoreError> {
    station.store()
        .read(|conn| {
            let data_version = cardbench_store::changes::data_version(conn)?;
            let outbox_depth = cardbench_store::outbox::pending_count(conn)?;
            let links = cardbench_store::link_status::all(conn)?
                .into_iter()
                .map(|l| (l.link, l.state, l.detail))
                .collect();
            Ok::<_, cardbench_store::StoreError>(Seen { data_version, outbox_depth, links })
        })
}

/// The store failing as a whole (a floor's database unreachable, the disk gone) since when, as
/// the watcher found it. Kept on the station for a window that opens later (it asks at start,
/// `app_info`), and shown as the `store` link, as the daemon shows a commit it cannot make: a
/// station without the daemon, or one whose daemon has nothing to commit, still says why every
/// action fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFailing {
    pub failure: cardbench_store::StoreFailure,
    pub since: String,
}

impl StoreFailing {
    /// "database unreachable since 2026-12-07 19:44:00", the `store` link's detail.
    pub fn detail(&self) -> String {
        format!("{} since {}", self.failure, cardbench_store::time::display(&self.since))
    }
}

/// The watcher's look failed. A failure of the store as a whole is said at each look while it
/// lasts (so a window that was not listening yet learns it too), and logged once.
fn failed(app: &AppHandle, station: &Station, error: &cardbench_store::StoreError) {
    let Some(failure) = error.failure() else {
        tracing::warn!(%error, "cannot look at the store");
        return;
    };
    let detail = {
        let mut failing = station.store_failing.lock().unwrap_or_else(|p| p.into_inner());
        if failing.is_none() {
            tracing::error!(%error, "the store is failing; the screens say so until it answers again");
        }
        failing.get_or_insert_with(|| StoreFailing { failure, since: cardbench_store::time::now() }).detail()
    };
    emit(app, AppEvent::Link { link: "store".into(), state: "failing".into(), detail: Some(detail) });
}

/// The watcher's look went through: true when the store had failed (screens then load afresh).
fn answered(app: &AppHandle, station: &Station) -> bool {
    let Some(was) = station.store_failing.lock().unwrap_or_else(|p| p.into_inner()).take() else { return false };
    tracing::info!(since = %was.since, "the store answers again");
    emit(app, AppEvent::Link { link: "store".into(), state: "up".into(), detail: None });
    true
}

/// How long the watcher waits for the change feed before it looks anyway (the outbox depth and
/// link states of a store whose feed lost its connection still refresh).
const LOOK_AT_LEAST_EVERY: Duration = Duration::from_secs(5);

/// How often the watcher looks while the change feed has lost its connection.
const LOOK_WHILE_DEAF: Duration = Duration::from_secs(1);

/// How often the watcher looks when the store gives no change feed.
const POLL: Duration = Duration::from_millis(400);

/// Watches the store until the app exits. The store's change feed tells of every commit (this
/// process's, another process's, on a floor another station's: PostgreSQL LISTEN/NOTIFY), and
/// each one becomes `store_changed`; without a feed the watcher looks every 400 ms.
pub fn spawn_watcher(app: AppHandle, station: Arc<Station>) {
    let feed = station.store().change_feed().map_err(|e| tracing::warn!(error = %e, "no change feed; the screens look every 400 ms")).ok();
    let spawned = std::thread::Builder::new().name("cardbench-watch".into()).spawn(move || {
        let mut feed = feed;
        // Without a feed a change is a new data_version (with one, the feed alone says: on
        // PostgreSQL the WAL position also moves for writes no screen shows).
        let polling = feed.is_none();
        let mut last = Seen { data_version: -1, outbox_depth: -1, links: Vec::new() };
        // The first look at once: a floor's database down at start-up is said from the start,
        // not after the feed's first wait (its feed never connects to tell anything).
        let mut first = true;
        loop {
            let told = match feed.as_mut() {
                _ if std::mem::take(&mut first) => false,
                // A feed that lost its connection tells nothing more: look every second meanwhile
                // (a floor's database going away shows within it, and so does its return).
                Some(feed) => feed.wait(if feed.is_listening() { LOOK_AT_LEAST_EVERY } else { LOOK_WHILE_DEAF }),
                None => {
                    std::thread::sleep(POLL);
                    false
                }
            };
            let now = match look(&station) {
                Ok(now) => now,
                Err(error) => {
                    failed(&app, &station, &error);
                    continue;
                }
            };
            let back = answered(&app, &station);
            if told || back || (polling && now.data_version != last.data_version && last.data_version != -1) {
                emit(&app, AppEvent::StoreChanged);
            }
            if now.outbox_depth != last.outbox_depth {
                emit(&app, AppEvent::OutboxDepth { pending: now.outbox_depth });
            }
            if now.links != last.links {
                for (link, state, detail) in &now.links {
                    emit(&app, AppEvent::Link { link: link.clone(), state: state.clone(), detail: detail.clone() });
                }
            }
            last = now;
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the store watcher: screens will not refresh by themselves");
    }
}
