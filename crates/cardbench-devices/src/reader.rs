//! PC/SC readers (pcsc-lite on Linux, WinSCard on Windows) through the `pcsc` crate.
//!
//! [`ReaderWatch`] follows readers being plugged in and out and cards put on and taken off with
//! `SCardGetStatusChange` and an infinite timeout: the thread sleeps in pcscd until something
//! happens (no polling from our side). When a card arrives it is read at once (UID by GET DATA
//! `FF CA 00 00 00`, and the ATR) and the result is sent as a [`ReaderEvent`] over a channel; what
//! to do with it (which card it belongs to) is the caller's decision, see [`apply_chip`].

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use cardbench_store::cards;
use cardbench_protocol::{FieldKind, ReportFieldCatalogue};
use cardbench_workflow::{ApplyOutcome, ReadoutInput, Workflow};
use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use serde::{Deserialize, Serialize};

use crate::error::{DevicesError, Result};

/// GET DATA, P1=00: the UID of a contactless card (PC/SC part 3, pseudo-APDU of the reader).
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];
/// The audit/readout source of values read from a chip.
pub const SOURCE: &str = "reader";

/// What a chip on a reader told us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChipRead {
    pub reader: String,
    /// Hex, most significant byte first, as the reader returns it.
    pub uid: String,
    pub atr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReaderInfo {
    pub name: String,
    pub card_present: bool,
}

#[derive(Debug)]
pub enum ReaderEvent {
    Attached { reader: String },
    Detached { reader: String },
    /// A card was put on the reader and read.
    CardRead(ChipRead),
    /// A card was put on the reader but could not be read.
    ReadFailed { reader: String, error: DevicesError },
    CardRemoved { reader: String },
    /// pcscd went away; the watch retries every few seconds until it is back or stopped.
    ServiceLost(DevicesError),
}

fn matches_filter(name: &str, filter: Option<&str>) -> bool {
    filter.is_none_or(|f| name.to_lowercase().contains(&f.to_lowercase()))
}

fn establish() -> Result<Context> {
    Context::establish(Scope::User).map_err(|e| match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError => DevicesError::NoService(e.to_string()),
        other => DevicesError::Pcsc(other.to_string()),
    })
}

fn reader_names(ctx: &Context, filter: Option<&str>) -> Result<Vec<CString>> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names.into_iter().filter(|n| matches_filter(&n.to_string_lossy(), filter)).collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e @ (pcsc::Error::NoService | pcsc::Error::ServiceStopped)) => Err(DevicesError::NoService(e.to_string())),
        Err(e) => Err(DevicesError::Pcsc(e.to_string())),
    }
}

/// The readers connected now (matching `filter`, a case-insensitive part of the name).
pub fn list_readers(filter: Option<&str>) -> Result<Vec<ReaderInfo>> {
    let ctx = establish()?;
    let names = reader_names(&ctx, filter)?;
    let mut states: Vec<ReaderState> = names.iter().map(|n| ReaderState::new(n.clone(), State::UNAWARE)).collect();
    if !states.is_empty() {
        ctx.get_status_change(Duration::ZERO, &mut states).map_err(|e| DevicesError::Pcsc(e.to_string()))?;
    }
    Ok(states
        .iter()
        .map(|s| ReaderInfo { name: s.name().to_string_lossy().into_owned(), card_present: s.event_state().contains(State::PRESENT) })
        .collect())
}

/// Maps a PC/SC error during a read to what the operator must do.
fn read_error(reader: &str, e: pcsc::Error) -> DevicesError {
    let reader = reader.to_owned();
    match e {
        pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard | pcsc::Error::ResetCard => DevicesError::CardRemovedEarly { reader },
        pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => DevicesError::ReaderUnplugged { reader },
        pcsc::Error::UnresponsiveCard | pcsc::Error::UnpoweredCard | pcsc::Error::UnsupportedCard => DevicesError::CardMute { reader },
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => DevicesError::NoService(e.to_string()),
        other => DevicesError::Reader { reader, message: other.to_string() },
    }
}

/// Reads the UID and ATR of the card on `reader`. Either both come back or an error does.
pub fn read_chip(ctx: &Context, reader: &str) -> Result<ChipRead> {
    match read_chip_once(ctx, reader) {
        Ok(chip) => Ok(chip),
        // Readers report a card lifted mid-exchange in many ways (an empty answer, a comm error,
        // a reset): if the card is gone now, that is what the operator needs to hear.
        Err(e @ DevicesError::UidRefused { .. }) => Err(e),
        Err(e) if card_present(ctx, reader) == Some(false) => {
            tracing::debug!(%e, "read failed and the card is gone");
            Err(DevicesError::CardRemovedEarly { reader: reader.to_owned() })
        }
        Err(e) => Err(e),
    }
}

/// Whether a card is on `reader` now; None if the reader cannot be asked.
fn card_present(ctx: &Context, reader: &str) -> Option<bool> {
    let name = CString::new(reader).ok()?;
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    ctx.get_status_change(Duration::ZERO, &mut states).ok()?;
    let state = states[0].event_state();
    Some(state.contains(State::PRESENT) && !state.contains(State::EMPTY))
}

fn read_chip_once(ctx: &Context, reader: &str) -> Result<ChipRead> {
    let name = CString::new(reader).map_err(|_| DevicesError::Reader { reader: reader.to_owned(), message: "name contains NUL".into() })?;
    let card = ctx.connect(&name, ShareMode::Shared, Protocols::ANY).map_err(|e| read_error(reader, e))?;
    let mut buffer = [0u8; 258];
    let response = card.transmit(&GET_UID, &mut buffer).map_err(|e| read_error(reader, e))?;
    let (data, sw) = match response.len() {
        n if n >= 2 => response.split_at(n - 2),
        _ => return Err(DevicesError::Reader { reader: reader.to_owned(), message: "empty answer to GET DATA".into() }),
    };
    if sw != [0x90, 0x00] || data.is_empty() {
        return Err(DevicesError::UidRefused { reader: reader.to_owned(), sw: hex::encode_upper(sw) });
    }
    let uid = hex::encode_upper(data);
    let atr = card.status2_owned().map_err(|e| read_error(reader, e))?.atr().to_vec();
    // Leave the card powered: the operator may read it again; a failed disconnect changes nothing.
    let _ = card.disconnect(Disposition::LeaveCard);
    Ok(ChipRead { reader: reader.to_owned(), uid, atr: hex::encode_upper(atr) })
}

/// What a chip read gives towards `expected`: one value per kind of field expected (the UID as
/// the reader returns it, most significant byte first, under `MIFARE_UID`/`DESFIRE_UID`; the
/// ATR), in the order the kinds are first expected. The workflow writes each expected field of
/// that kind from it, in the field's own byte order and format (NGOC's translations).
pub fn chip_readouts(chip: &ChipRead, expected: &[String], catalogue: &ReportFieldCatalogue) -> Vec<ReadoutInput> {
    let mut kinds: Vec<FieldKind> = Vec::new();
    for spec in expected.iter().filter_map(|f| catalogue.spec(f)) {
        if !kinds.contains(&spec.kind) {
            kinds.push(spec.kind);
        }
    }
    kinds
        .into_iter()
        .map(|kind| {
            let value = if kind.is_chip_uid() { chip.uid.clone() } else { chip.atr.clone() };
            ReadoutInput { field: kind.reader_field().to_owned(), value }
        })
        .collect()
}

/// The next card of the production sequence that no other station holds, taken for this
/// station and `operator` ([`Workflow::take_next_card`]: the same card the production screen's
/// sequence mode takes; a card this station already holds comes first).
pub fn next_in_sequence(workflow: &Workflow, operator: &str) -> Result<Option<String>> {
    Ok(workflow.take_next_card(operator, None)?.map(|r| r.card_id))
}

/// Applies a chip read to the card in hand (`selected`, else the next in the production
/// sequence): fills the fields the chip can give and queues CARD_PRODUCED when none is missing.
/// One transaction: a refusal (UID already on another card, wrong status) changes nothing.
pub fn apply_chip(workflow: &Workflow, operator: &str, selected: Option<&str>, chip: &ChipRead) -> Result<ApplyOutcome> {
    let card_id = match selected {
        Some(id) => id.to_owned(),
        None => next_in_sequence(workflow, operator)?.ok_or(DevicesError::NoCardInHand)?,
    };
    let card = workflow.store().read(|c| cards::get(c, &card_id))?.ok_or_else(|| cardbench_workflow::WorkflowError::UnknownCard(card_id.clone()))?;
    let values = chip_readouts(chip, &card.request.card.expected_report_data_fields, &workflow.report_settings().catalogue);
    if values.is_empty() {
        return Err(DevicesError::Workflow(cardbench_workflow::WorkflowError::InvalidRequest(format!(
            "card {card_id} expects no readout a chip gives ({})",
            card.request.card.expected_report_data_fields.join(", ")
        ))));
    }
    Ok(workflow.apply_readouts(operator, &card_id, &values, SOURCE)?)
}

/// A running watch; stops on [`ReaderWatch::stop`] or drop.
pub struct ReaderWatch {
    ctx: Arc<std::sync::Mutex<Option<Context>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReaderWatch {
    /// Starts watching readers whose name contains `filter`. Events go to `events`.
    pub fn start(filter: Option<String>, events: mpsc::Sender<ReaderEvent>) -> Result<ReaderWatch> {
        let ctx = establish()?;
        let shared = Arc::new(std::sync::Mutex::new(Some(ctx)));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_ctx, thread_stop) = (shared.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("cardbench-pcsc".into())
            .spawn(move || watch_loop(&thread_ctx, &thread_stop, filter.as_deref(), &events))
            .map_err(|e| DevicesError::Pcsc(format!("cannot start the reader thread: {e}")))?;
        Ok(ReaderWatch { ctx: shared, stop, thread: Some(thread) })
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // SCardCancel wakes the thread out of SCardGetStatusChange.
        if let Some(ctx) = self.ctx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = ctx.cancel();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ReaderWatch {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn current_ctx(shared: &std::sync::Mutex<Option<Context>>) -> Option<Context> {
    shared.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn watch_loop(shared: &std::sync::Mutex<Option<Context>>, stop: &AtomicBool, filter: Option<&str>, events: &mpsc::Sender<ReaderEvent>) {
    // Reader name → last known state (PRESENT or not), to tell insert from remove.
    let mut known: BTreeMap<String, ReaderState> = BTreeMap::new();
    let mut pnp = ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE);
    // Where the PnP pseudo-reader is unknown (macOS, some Windows setups) readers being plugged in
    // can only be seen by listing again: then, and only then, wake every second.
    let mut pnp_supported = true;
    let send = |e: ReaderEvent| events.send(e).is_ok();
    while !stop.load(Ordering::SeqCst) {
        let Some(ctx) = current_ctx(shared) else { return };
        let names = match reader_names(&ctx, filter) {
            Ok(n) => n,
            Err(error) => {
                if !service_lost(shared, stop, error, events, &mut known) {
                    return;
                }
                continue;
            }
        };
        let now: Vec<String> = names.iter().map(|n| n.to_string_lossy().into_owned()).collect();
        for gone in known.keys().filter(|k| !now.contains(k)).cloned().collect::<Vec<_>>() {
            known.remove(&gone);
            if !send(ReaderEvent::Detached { reader: gone }) {
                return;
            }
        }
        for (name, cname) in now.iter().zip(&names) {
            if !known.contains_key(name) {
                known.insert(name.clone(), ReaderState::new(cname.clone(), State::UNAWARE));
                if !send(ReaderEvent::Attached { reader: name.clone() }) {
                    return;
                }
            }
        }
        let mut states: Vec<ReaderState> = Vec::with_capacity(known.len() + 1);
        if pnp_supported {
            states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), pnp.current_state()));
        }
        for s in known.values() {
            states.push(ReaderState::new(s.name().to_owned(), s.current_state()));
        }
        let timeout = if pnp_supported { None } else { Some(Duration::from_secs(1)) };
        match ctx.get_status_change(timeout, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Cancelled) => continue, // stop requested (or spurious): loop re-checks
            Err(pcsc::Error::Timeout) => continue,
            // A reader vanished between listing and waiting: list again. If the reader list did
            // not change, it is the PnP pseudo-reader that is unknown here.
            Err(pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable) => {
                if pnp_supported && reader_names(&ctx, filter).is_ok_and(|again| again == names) {
                    tracing::info!("no PnP notification from the smart card service: listing readers every second");
                    pnp_supported = false;
                }
                continue;
            }
            Err(e) => {
                if !service_lost(shared, stop, read_error("", e), events, &mut known) {
                    return;
                }
                continue;
            }
        }
        let mut iter = states.into_iter();
        if pnp_supported && let Some(mut p) = iter.next() {
            p.sync_current_state();
            pnp = p;
        }
        for mut state in iter {
            let name = state.name().to_string_lossy().into_owned();
            let event = state.event_state();
            let was_present = known.get(&name).is_some_and(|s| s.current_state().contains(State::PRESENT));
            if event.intersects(State::UNKNOWN | State::UNAVAILABLE) {
                // Unplugged: the next listing reports it.
                continue;
            }
            let present = event.contains(State::PRESENT);
            if present && !was_present {
                let result = if event.contains(State::MUTE) {
                    Err(DevicesError::CardMute { reader: name.clone() })
                } else {
                    read_chip(&ctx, &name)
                };
                let ok = match result {
                    Ok(chip) => {
                        tracing::info!(reader = %name, "card read");
                        send(ReaderEvent::CardRead(chip))
                    }
                    Err(error) => {
                        tracing::warn!(reader = %name, %error, "card not read");
                        send(ReaderEvent::ReadFailed { reader: name.clone(), error })
                    }
                };
                if !ok {
                    return;
                }
            } else if !present && was_present && !send(ReaderEvent::CardRemoved { reader: name.clone() }) {
                return;
            }
            state.sync_current_state();
            known.insert(name, state);
        }
    }
}

/// Reports a lost service once, then waits and re-establishes. False when stopped meanwhile.
fn service_lost(
    shared: &std::sync::Mutex<Option<Context>>,
    stop: &AtomicBool,
    error: DevicesError,
    events: &mpsc::Sender<ReaderEvent>,
    known: &mut BTreeMap<String, ReaderState>,
) -> bool {
    tracing::warn!(%error, "smart card service lost");
    if events.send(ReaderEvent::ServiceLost(error)).is_err() {
        return false;
    }
    for name in std::mem::take(known).into_keys() {
        if events.send(ReaderEvent::Detached { reader: name }).is_err() {
            return false;
        }
    }
    loop {
        // Sleep in short steps so a stop is honoured quickly; this only runs while pcscd is down.
        for _ in 0..20 {
            if stop.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Ok(ctx) = establish() {
            *shared.lock().unwrap_or_else(|p| p.into_inner()) = Some(ctx);
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcsc_errors_become_what_the_operator_must_do() {
        assert!(matches!(read_error("R", pcsc::Error::ReaderUnavailable), DevicesError::ReaderUnplugged { .. }));
        assert!(matches!(read_error("R", pcsc::Error::UnknownReader), DevicesError::ReaderUnplugged { .. }));
        assert!(matches!(read_error("R", pcsc::Error::RemovedCard), DevicesError::CardRemovedEarly { .. }));
        assert!(matches!(read_error("R", pcsc::Error::NoSmartcard), DevicesError::CardRemovedEarly { .. }));
        assert!(matches!(read_error("R", pcsc::Error::UnresponsiveCard), DevicesError::CardMute { .. }));
        assert!(matches!(read_error("R", pcsc::Error::NoService), DevicesError::NoService(_)));
        let e = read_error("R", pcsc::Error::ReaderUnavailable);
        assert!(e.to_string().contains("unplugged"), "{e}");
    }

    #[test]
    fn a_chip_fills_only_the_fields_it_can_give() {
        let chip = ChipRead { reader: "R".into(), uid: "04A22B1C".into(), atr: "3B00".into() };
        let expected = vec!["PRINT_SERIAL".to_owned(), "ATR".to_owned(), "MIFARE_UID".to_owned()];
        let got = chip_readouts(&chip, &expected, &ReportFieldCatalogue::built_in());
        assert_eq!(got, vec![
            ReadoutInput { field: "ATR".into(), value: "3B00".into() },
            ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1C".into() },
        ]);
        // NGOC's translations: the UID once, as the reader gives it; the workflow translates it.
        let translations = vec!["TRANSLATION_MIFARE_HEX_LSB".to_owned(), "TRANSLATION_MIFARE_DEC_MSB".to_owned()];
        assert_eq!(chip_readouts(&chip, &translations, &ReportFieldCatalogue::built_in()), vec![ReadoutInput {
            field: "MIFARE_UID".into(),
            value: "04A22B1C".into()
        }]);
        assert!(matches_filter("ACS ACR122U PICC Interface 00 00", Some("acr122")));
        assert!(!matches_filter("Yubico YubiKey", Some("acr122")));
        assert!(matches_filter("anything", None));
    }
}
