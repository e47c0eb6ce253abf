//! Settings → Reporting and the queue inspector's delivery attempts.

use std::sync::Arc;

use tauri::State;

use super::{Answer, StationState, blocking};
use crate::daemon::NodeAndReaders;
use crate::dto::*;

#[tauri::command]
pub async fn reporting(core: StationState<'_>, services: State<'_, Arc<NodeAndReaders>>) -> Answer<ReportingView> {
    let api = services.api_status().await;
    blocking(&core, move |c| c.reporting(api)).await
}

/// Adds a webhook; the answer carries its secret, shown this once.
#[tauri::command]
pub async fn add_webhook(core: StationState<'_>, name: String, url: String, topics: Vec<String>, encoding: String) -> Answer<WebhookAdded> {
    blocking(&core, move |c| c.add_webhook(&name, &url, &topics, &encoding)).await
}

#[tauri::command]
pub async fn add_forward(
    core: StationState<'_>,
    name: String,
    url: String,
    topics: Vec<String>,
    user: String,
    password: String,
) -> Answer<SubscriberView> {
    blocking(&core, move |c| c.add_forward(&name, &url, &topics, &user, &password)).await
}

#[tauri::command]
pub async fn remove_subscriber(core: StationState<'_>, kind: String, name: String) -> Answer<()> {
    blocking(&core, move |c| c.remove_subscriber(&kind, &name)).await
}

#[tauri::command]
pub async fn resume_subscriber(core: StationState<'_>, name: String) -> Answer<()> {
    blocking(&core, move |c| c.resume_subscriber(&name)).await
}

/// Saves `[api]`, then restarts the node so the API starts, stops or moves.
#[tauri::command]
pub async fn save_api_settings(
    core: StationState<'_>,
    services: State<'_, Arc<NodeAndReaders>>,
    app: tauri::AppHandle,
    enabled: bool,
    listen: String,
) -> Answer<ReportingView> {
    blocking(&core, move |c| c.save_api_settings(enabled, &listen)).await?;
    services.restart(&app, &core.workflow, &core.config()).await;
    let api = services.api_status().await;
    blocking(&core, move |c| c.reporting(api)).await
}

/// A new API token, shown once; a running API is restarted so it takes it.
#[tauri::command]
pub async fn api_token(
    core: StationState<'_>,
    services: State<'_, Arc<NodeAndReaders>>,
    app: tauri::AppHandle,
    rotate: bool,
) -> Answer<String> {
    let token = blocking(&core, move |c| c.api_token(rotate)).await?;
    if core.config().api.enabled {
        services.restart(&app, &core.workflow, &core.config()).await;
    }
    Ok(token)
}

#[tauri::command]
pub async fn delivery_attempts(core: StationState<'_>, outbox_id: i64) -> Answer<Vec<DeliveryAttemptView>> {
    blocking(&core, move |c| c.delivery_attempts(outbox_id)).await
}
