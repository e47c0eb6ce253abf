//! The Tauri commands: each one moves its arguments onto a blocking thread and calls the
//! Tauri-free body in [`crate::screens`] (methods of [`Station`]). No rules live here.

use std::sync::Arc;

use tauri::State;

use crate::daemon::NodeAndReaders;
use crate::station::Station;
use crate::dto::*;
use crate::error::AppError;

mod reporting;
pub use reporting::*;

/// The station as Tauri holds it.
type StationState<'a> = State<'a, Arc<Station>>;
type Answer<T> = Result<T, CommandError>;

async fn blocking<T: Send + 'static>(
    core: &StationState<'_>,
    work: impl FnOnce(&Station) -> Result<T, AppError> + Send + 'static,
) -> Answer<T> {
    let core = core.inner().clone();
    match tauri::async_runtime::spawn_blocking(move || work(&core)).await {
        Ok(result) => result.map_err(CommandError::from),
        Err(e) => Err(CommandError { code: "task".into(), message: format!("the command failed: {e}"), problems: vec![] }),
    }
}

#[tauri::command]
pub fn app_info(core: StationState<'_>) -> AppInfo {
    core.app_info()
}

/// The webview tells the shell when the worklist first painted (for `--bench`).
#[tauri::command]
pub fn first_paint(core: StationState<'_>, app: tauri::AppHandle, rows: u32) {
    crate::bench::first_paint(&core, &app, rows);
}

#[tauri::command]
pub async fn worklist(core: StationState<'_>, query: WorklistQuery) -> Answer<WorklistPage> {
    blocking(&core, move |c| c.worklist(query)).await
}

#[tauri::command]
pub async fn card(core: StationState<'_>, card_id: String) -> Answer<CardView> {
    blocking(&core, move |c| c.card(&card_id)).await
}

#[tauri::command]
pub fn check_readout(core: StationState<'_>, field: String, value: String) -> ReadoutCheck {
    core.check_readout(&field, &value)
}

#[tauri::command]
pub async fn next_card(core: StationState<'_>, after: Option<Cursor>) -> Answer<Option<WorklistItem>> {
    blocking(&core, move |c| c.next_card(after)).await
}

/// The production screen loaded `card_id`: take it for this station (or say who holds it).
#[tauri::command]
pub async fn take_card(core: StationState<'_>, card_id: String) -> Answer<CardHold> {
    blocking(&core, move |c| c.take_card(&card_id)).await
}

/// The production screen moved on from `card_id`.
#[tauri::command]
pub async fn release_card(core: StationState<'_>, card_id: String) -> Answer<()> {
    blocking(&core, move |c| c.release_card(&card_id)).await
}

/// Sequence mode: the next card no other station holds, taken for this one.
#[tauri::command]
pub async fn take_next_card(core: StationState<'_>, after: Option<Cursor>) -> Answer<Option<WorklistItem>> {
    blocking(&core, move |c| c.take_next_card(after)).await
}

/// A barcode scan at the station: what it means, for the webview to act on.
#[tauri::command]
pub async fn interpret_scan(core: StationState<'_>, raw: String, card_in_hand: Option<String>) -> Answer<ScanMeaningView> {
    blocking(&core, move |c| c.interpret_scan(&raw, card_in_hand.as_deref())).await
}

#[tauri::command]
pub async fn save_readouts(core: StationState<'_>, card_id: String, values: Vec<ReadoutValue>, source: String) -> Answer<Status> {
    blocking(&core, move |c| c.save_readouts(&card_id, values, &source)).await
}

#[tauri::command]
pub async fn produce(
    core: StationState<'_>,
    card_id: String,
    values: Vec<ReadoutValue>,
    source: String,
) -> Answer<Produced> {
    blocking(&core, move |c| c.produce(&card_id, values, &source)).await
}

#[tauri::command]
pub async fn spoil(core: StationState<'_>, card_id: String, reason: String) -> Answer<()> {
    blocking(&core, move |c| c.spoil(&card_id, &reason)).await
}

#[tauri::command]
pub async fn refuse(
    core: StationState<'_>,
    card_id: String,
    code: String,
    details: String,
) -> Answer<RefusedView> {
    blocking(&core, move |c| c.refuse(&card_id, &code, &details)).await
}

#[tauri::command]
pub async fn shipments(core: StationState<'_>, open_only: bool) -> Answer<Vec<ShipmentItem>> {
    blocking(&core, move |c| c.shipments(open_only)).await
}

#[tauri::command]
pub async fn shipment(core: StationState<'_>, shipment_id: String) -> Answer<ShipmentView> {
    blocking(&core, move |c| c.shipment(&shipment_id)).await
}

#[tauri::command]
pub async fn scan_into_parcel(
    core: StationState<'_>,
    shipment_id: String,
    card_id: String,
    already: Vec<String>,
) -> Answer<ScanVerdict> {
    blocking(&core, move |c| c.scan_into_parcel(&shipment_id, &card_id, &already)).await
}

/// What the settings require of a parcel that is still blank (carrier, tracking id), in words.
#[tauri::command]
pub async fn parcel_details_check(core: StationState<'_>, carrier: Option<String>, tracking_id: Option<String>) -> Answer<Vec<String>> {
    blocking(&core, move |c| Ok(c.parcel_details_check(carrier.as_deref(), tracking_id.as_deref()))).await
}

#[tauri::command]
pub async fn ship(core: StationState<'_>, draft: ParcelDraft) -> Answer<ParcelView> {
    blocking(&core, move |c| c.ship(draft)).await
}

#[tauri::command]
pub async fn inbox(core: StationState<'_>, query: QueueQuery) -> Answer<Vec<QueueMessage>> {
    blocking(&core, move |c| c.inbox(query)).await
}

#[tauri::command]
pub async fn outbox(core: StationState<'_>, query: QueueQuery) -> Answer<Vec<QueueMessage>> {
    blocking(&core, move |c| c.outbox(query)).await
}

/// The Reveal button: the received body unmasked, audited under the operator.
#[tauri::command]
pub async fn reveal_inbox(core: StationState<'_>, inbox_id: i64) -> Answer<QueueMessage> {
    blocking(&core, move |c| c.reveal_inbox(inbox_id)).await
}

/// Selected (`ids`) or filtered messages to a JSON Lines file in the documents directory.
#[tauri::command]
pub async fn export_messages(core: StationState<'_>, direction: String, query: QueueQuery, ids: Option<Vec<i64>>) -> Answer<QueueExported> {
    blocking(&core, move |c| c.export_messages(&direction, query, ids)).await
}

#[tauri::command]
pub async fn resend(core: StationState<'_>, outbox_id: i64) -> Answer<()> {
    blocking(&core, move |c| c.resend(outbox_id)).await
}

#[tauri::command]
pub async fn dead_letters(core: StationState<'_>, max: u32) -> Answer<DeadLetterList> {
    blocking(&core, move |c| c.dead_letters(max)).await
}

/// An ERROR the import queued goes out now rather than at the sender's next poll.
#[tauri::command]
pub async fn import_dead_letter(
    core: StationState<'_>,
    message_id: String,
) -> Answer<DeadLetterImported> {
    blocking(&core, move |c| c.import_dead_letter(&message_id)).await
}

#[tauri::command]
pub async fn queue_overview(core: StationState<'_>) -> Answer<QueueOverview> {
    blocking(&core, |c| c.queue_overview()).await
}

#[tauri::command]
pub async fn dashboard(core: StationState<'_>) -> Answer<Dashboard> {
    blocking(&core, |c| c.dashboard()).await
}

/// Production per hour of the shift or week under way, for the dashboard's chart.
#[tauri::command]
pub async fn production_chart(core: StationState<'_>, period: ChartPeriod) -> Answer<ProductionChart> {
    blocking(&core, move |c| c.production_chart(period)).await
}

#[tauri::command]
pub fn get_settings(core: StationState<'_>) -> Answer<Settings> {
    Ok(core.settings()?)
}

#[tauri::command]
pub fn organisations(core: StationState<'_>) -> Answer<Vec<OrganisationSeen>> {
    Ok(core.organisations()?)
}

/// Saves, then restarts the daemon and the reader watch so the new settings take effect.
#[tauri::command]
pub async fn save_settings(
    core: StationState<'_>,
    services: State<'_, Arc<NodeAndReaders>>,
    app: tauri::AppHandle,
    settings: Settings,
) -> Answer<Settings> {
    let saved = blocking(&core, move |c| c.save_settings(settings)).await?;
    services.restart(&app, &core.workflow, &core.config()).await;
    Ok(saved)
}

#[tauri::command]
pub async fn parcel_slip(core: StationState<'_>, parcel_id: i64, print: bool) -> Answer<DocumentsWritten> {
    blocking(&core, move |c| c.parcel_slip(parcel_id, print)).await
}

/// Reports each step to the webview as a `progress` event while it runs.
#[tauri::command]
pub async fn period_documents(core: StationState<'_>, app: tauri::AppHandle, from: String, to: String) -> Answer<DocumentsWritten> {
    blocking(&core, move |c| {
        c.period_documents(&from, &to, &|progress| crate::events::emit(&app, AppEvent::Progress { progress }))
    })
    .await
}

#[tauri::command]
pub async fn devices_status(services: State<'_, Arc<NodeAndReaders>>) -> Answer<DevicesView> {
    Ok(services.status().await)
}

#[tauri::command]
pub async fn apply_chip(
    core: StationState<'_>,
    card_id: Option<String>,
    chip: ChipView,
) -> Answer<ChipApplied> {
    blocking(&core, move |c| c.apply_chip(card_id.as_deref(), chip)).await
}

#[tauri::command]
pub async fn log_tail(core: StationState<'_>, lines: u32) -> Answer<LogLines> {
    blocking(&core, move |c| c.log_tail(lines as usize)).await
}
