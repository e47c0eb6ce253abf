//! Live state for the webview: core changes become `cardbench://event` events.
//!
//! Any commit to the store — by this app, by the daemon, or by the CLI in another process — bumps
//! SQLite's `data_version`; a light watcher turns that into `store_changed`, plus the outbox depth
//! and link state when they change. When the daemon runs in this process, what it commits is
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

fn look(station: &Station) -> Option<Seen> {
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
        .map_err(|e| tracing::warn!(error = %e, "cannot look at the store"))
        .ok()
}

/// Watches the store until the app exits.
pub fn spawn_watcher(app: AppHandle, station: Arc<Station>) {
    tauri::async_runtime::spawn(async move {
        let mut last = Seen { data_version: -1, outbox_depth: -1, links: Vec::new() };
        let mut tick = tokio::time::interval(Duration::from_millis(400));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let c = station.clone();
            let Ok(Some(now)) = tokio::task::spawn_blocking(move || look(&c)).await else { continue };
            if now.data_version != last.data_version && last.data_version != -1 {
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
}
