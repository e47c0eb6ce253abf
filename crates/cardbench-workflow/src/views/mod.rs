//! What the screens and the CLI show about a card or a shipment, assembled in one read; the
//! dashboard ([`dashboard`]); and the one rule for periods of days ([`period`]).

mod card;
pub mod dashboard;
pub mod period;
pub mod report;

use cardbench_protocol::ErrorCode;
use cardbench_store::audit::{self, AuditFilter};
use cardbench_store::cards::{self, CardRow, CardStatus};
use cardbench_store::inbox::{self, InboxFilter};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::parcels::{self, ParcelRow};
use cardbench_store::readouts::{self, ReadoutRow};
use cardbench_store::shipments::{self, AccessoryBalance, ShipmentRow};
use serde::{Deserialize, Serialize};

use crate::error::{Result, WorkflowError};
use crate::shipping::{awaiting_report, gate_problems, report_errors};
use crate::Workflow;

/// One expected readout field of a card, with what is captured so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedField {
    pub field: String,
    /// Whether Cardbench checks this field's format (e.g. MIFARE_UID).
    pub known_format: bool,
    pub value: Option<String>,
    pub msb_first: Option<String>,
    pub lsb_first: Option<String>,
    pub source: Option<String>,
    /// External report data (e.g. PIN_CODE): `value` is masked (or the tombstone once REPORT_OK
    /// removed it), never the secret itself.
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    /// received, produced_sent, report_ok, error, spoiled, shipped, shipped_ok, ...
    pub what: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardDetail {
    pub card: CardRow,
    pub expected: Vec<ExpectedField>,
    pub readouts: Vec<ReadoutRow>,
    pub timeline: Vec<TimelineEntry>,
    pub parcel: Option<ParcelRow>,
    /// What the operator should do next, in words.
    pub next_step: String,
    /// The other station holding the card now, if one does ([`crate::claims`]): it cannot be
    /// produced here meanwhile.
    #[serde(default)]
    pub taken: Option<cardbench_store::claims::Claim>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentGate {
    /// REPORT_OK and not in a parcel: may be shipped now (if nothing awaits REPORT_OK).
    pub ready: Vec<String>,
    /// Produced, awaiting REPORT_OK: block every parcel of this shipment.
    pub awaiting_report: Vec<String>,
    /// Produced, answered by NGOC with ERROR: block every parcel like `awaiting_report` until
    /// made again and passed, or refused.
    pub report_error: Vec<String>,
    /// Not produced yet (or spoiled, to be redone): may stay behind for a later parcel.
    pub not_produced: Vec<String>,
    pub shipped: Vec<String>,
    /// Refused requests: no longer part of the shipment, neither blocking nor to be shipped.
    pub refused: Vec<String>,
    /// Every card that blocks the shipment, is not made yet or does not count for it, and why,
    /// in words.
    pub notes: Vec<GateNote>,
    /// The gate in words: "ready: 3 cards" / "blocked: 2 cards await REPORT_OK: C1, C2".
    pub summary: String,
    /// Where the gate stands, for its colour.
    pub state: GateState,
}

/// Where a shipment's gate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateState {
    /// Produced cards without REPORT_OK hold every parcel back.
    Blocked,
    /// Cards may ship now (cards not produced yet stay for a later parcel).
    Ready,
    /// Nothing ready: cards still to be produced.
    Waiting,
    /// Every card counted is in a parcel: nothing left to do here.
    AllShipped,
    /// Every request of the shipment was refused.
    NothingToShip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateNoteKind {
    /// Blocks: produced, awaiting REPORT_OK.
    AwaitingReportOk,
    /// Blocks: NGOC answered the report with ERROR.
    ReportError,
    /// Does not count: the request was refused.
    Refused,
    /// Not produced yet (or spoiled, to be made again): holds nothing back, stays for a later
    /// parcel.
    NotProduced,
}

/// One card's part in the gate: which card, and why it blocks or does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateNote {
    pub card_id: String,
    pub kind: GateNoteKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentDetail {
    pub shipment: ShipmentRow,
    pub cards: Vec<CardRow>,
    pub accessories: Vec<AccessoryBalance>,
    pub parcels: Vec<ParcelRow>,
    pub gate: ShipmentGate,
}

impl Workflow {
    pub fn card_detail(&self, card_id: &str) -> Result<CardDetail> {
        self.store().read(|conn| {
            let card = cards::get(conn, card_id)?.ok_or_else(|| WorkflowError::UnknownCard(card_id.to_owned()))?;
            let settings = self.report_settings();
            let external = settings.external_fields(&card);
            let mut readouts = readouts::for_card(conn, card_id)?;
            // Secrets never leave the store towards a screen.
            for r in readouts.iter_mut().filter(|r| external.contains(&r.field)) {
                r.value = crate::secrets::mask_value(&r.value);
            }
            let catalogue = &settings.catalogue;
            let expected = settings
                .required_fields(&card)
                .into_iter()
                .map(|field| {
                    let secret = external.contains(&field);
                    let stored = readouts.iter().find(|r| r.field == field);
                    let orders = stored.filter(|_| !secret).and_then(|r| catalogue.normalise(&field, &r.value).ok());
                    ExpectedField {
                        known_format: catalogue.is_known(&field),
                        value: stored.map(|r| r.value.clone()),
                        msb_first: orders.as_ref().and_then(|o| o.msb_first.clone()),
                        lsb_first: orders.and_then(|o| o.lsb_first),
                        source: stored.map(|r| r.source.clone()),
                        secret,
                        field,
                    }
                })
                .collect();
            let parcel = card.parcel_id.map(|id| parcels::get(conn, id)).transpose()?.flatten();
            let timeline = timeline(conn, &card)?;
            let taken = self
                .held_elsewhere(cardbench_store::claims::holder(conn, card_id, &cardbench_store::time::now())?)
                .filter(|_| crate::lifecycle::may_produce(card.status));
            let next_step = match &taken {
                Some(c) => format!(
                    "wait: taken at {} by {} since {}",
                    c.station,
                    c.operator,
                    cardbench_store::time::display(&c.taken_at)
                ),
                None => next_step(&card),
            };
            Ok::<_, WorkflowError>(CardDetail { card, expected, readouts, timeline, parcel, next_step, taken })
        })
    }

    pub fn shipment_detail(&self, shipment_id: &str) -> Result<ShipmentDetail> {
        self.store().read(|conn| {
            let shipment = shipments::get(conn, shipment_id)?
                .ok_or_else(|| WorkflowError::UnknownShipment(shipment_id.to_owned()))?;
            let cards = cards::in_shipment(conn, shipment_id)?;
            let accessories = shipments::accessory_balance(conn, shipment_id)?;
            let parcels = parcels::for_shipment(conn, shipment_id)?;
            let gate = gate(&cards);
            Ok::<_, WorkflowError>(ShipmentDetail { shipment, cards, accessories, parcels, gate })
        })
    }
}

/// Card ids in a sentence: every one up to ten, then how many more.
fn named(ids: &[String]) -> String {
    const SHOWN: usize = 10;
    if ids.len() <= SHOWN {
        ids.join(", ")
    } else {
        format!("{} and {} more", ids[..SHOWN].join(", "), ids.len() - SHOWN)
    }
}

/// The gate of one shipment: which cards may ship, and every card that keeps a parcel back, is
/// not made yet or does not count, with why. The one read model behind the app's shipment
/// screen, `cardbench shipments show` and the `cardbench ship` refusal.
pub fn gate(cards: &[CardRow]) -> ShipmentGate {
    let pick = |statuses: &[CardStatus]| -> Vec<String> {
        cards.iter().filter(|c| statuses.contains(&c.status)).map(|c| c.card_id.clone()).collect()
    };
    let ready = pick(&[CardStatus::ReportOk, CardStatus::ShipError]);
    let waiting = awaiting_report(cards);
    let errors = report_errors(cards);
    let not_produced = pick(&[CardStatus::Received, CardStatus::ReadoutsCaptured]);
    let shipped = pick(&[CardStatus::Shipped, CardStatus::ShippedOk]);
    let refused = pick(&[CardStatus::Refused]);
    let blocked = gate_problems(cards);
    let later = |n: &[String]| format!("{} card(s) not produced yet stay for a later parcel: {}", n.len(), named(n));
    let (state, summary) = if !blocked.is_empty() {
        let mut summary = blocked.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        if !not_produced.is_empty() {
            summary = format!("{summary}; {}", later(&not_produced));
        }
        (GateState::Blocked, summary)
    } else if !ready.is_empty() {
        let mut summary = format!("ready: {} card(s) may ship", ready.len());
        if !not_produced.is_empty() {
            summary = format!("{summary}; {}", later(&not_produced));
        }
        (GateState::Ready, summary)
    } else if !not_produced.is_empty() {
        let summary = format!(
            "nothing ready to ship: waiting for {} card(s) to be produced and get NGOC's REPORT_OK: {}",
            not_produced.len(),
            named(&not_produced)
        );
        (GateState::Waiting, summary)
    } else if shipped.is_empty() {
        (GateState::NothingToShip, "no card to ship: every request refused".to_owned())
    } else {
        (GateState::AllShipped, "all cards shipped".to_owned())
    };
    let mut notes: Vec<GateNote> = waiting
        .iter()
        .map(|card_id| GateNote {
            card_id: card_id.clone(),
            kind: GateNoteKind::AwaitingReportOk,
            text: "produced, awaits NGOC's REPORT_OK: no parcel of this shipment goes before it".into(),
        })
        .collect();
    notes.extend(errors.iter().map(|e| {
        let code = e.error_code.as_deref().unwrap_or("ERROR");
        GateNote {
            card_id: e.card_id.clone(),
            kind: GateNoteKind::ReportError,
            text: format!(
                "ERROR {code} from NGOC on its report: {}; or refuse the request",
                ErrorCode::parse(code).operator_hint()
            ),
        }
    }));
    let unmade = cards.iter().filter(|c| matches!(c.status, CardStatus::Received | CardStatus::ReadoutsCaptured));
    notes.extend(unmade.map(|c| GateNote {
        card_id: c.card_id.clone(),
        kind: GateNoteKind::NotProduced,
        text: format!(
            "not produced yet ({}): {}",
            c.status,
            if ready.is_empty() { "to capture and produce before it can ship" } else { "stays for a later parcel" }
        ),
    }));
    notes.extend(cards.iter().filter(|c| c.status == CardStatus::Refused).map(|c| GateNote {
        card_id: c.card_id.clone(),
        kind: GateNoteKind::Refused,
        text: format!("refused ({}): not counted for this shipment", c.last_error_code.as_deref().unwrap_or("refused")),
    }));
    let report_error = errors.into_iter().map(|e| e.card_id).collect();
    ShipmentGate { ready, awaiting_report: waiting, report_error, not_produced, shipped, refused, notes, summary, state }
}

fn next_step(card: &CardRow) -> String {
    let step = status_step(card);
    // An ERROR from NGOC that named this card but none of our messages leaves the status as it
    // was (unless the card awaited REPORT_OK): say it next to the step, so it is not missed.
    match (card.status, card.last_error_code.as_deref()) {
        (CardStatus::ReportError | CardStatus::ShipError, _) | (_, None) => step,
        (_, Some(code)) => format!("{step} (NGOC reported {code}: {})", ErrorCode::parse(code).operator_hint()),
    }
}

fn status_step(card: &CardRow) -> String {
    match card.status {
        CardStatus::Received => "capture the readouts and produce".into(),
        CardStatus::ReadoutsCaptured => "produce (sends CARD_PRODUCED)".into(),
        CardStatus::Produced => "wait for NGOC's REPORT_OK".into(),
        CardStatus::ReportOk => "ready to ship".into(),
        CardStatus::ReportError => {
            let code = card.last_error_code.as_deref().map(ErrorCode::parse);
            format!(
                "NGOC refused the report ({}): {}",
                card.last_error_code.as_deref().unwrap_or("error"),
                code.map_or("fix the readouts and produce again", |c| c.operator_hint())
            )
        }
        CardStatus::Shipped => "wait for NGOC's SHIPPED_OK".into(),
        CardStatus::ShippedOk => "done".into(),
        CardStatus::ShipError => format!(
            "NGOC refused the parcel ({}): check it and ship the card again",
            card.last_error_code.as_deref().unwrap_or("error")
        ),
        CardStatus::Refused => format!(
            "refused ({}): nothing to do until NGOC sends the card again with new content",
            card.last_error_code.as_deref().unwrap_or("refused")
        ),
    }
}

/// Who made a change, as the timeline says it: "by anna", on a floor "by anna at LINE-2".
fn by(operator: &str, station: Option<&str>) -> String {
    match station {
        Some(station) => format!("by {operator} at {station}"),
        None => format!("by {operator}"),
    }
}

fn timeline(conn: &cardbench_store::Connection, card: &CardRow) -> Result<Vec<TimelineEntry>> {
    let mut entries = Vec::new();
    let inbox_rows = inbox::list(conn, &InboxFilter { card_id: Some(card.card_id.clone()), limit: Some(200), ..Default::default() })?;
    for row in inbox_rows {
        let what = crate::timeline_kind::received(row.subject.as_deref().and_then(cardbench_protocol::Subject::parse));
        entries.push(TimelineEntry { at: row.received_at, what: what.into(), detail: row.reason });
    }
    let audit_rows = audit::list(conn, &AuditFilter { card_id: Some(card.card_id.clone()), ..Default::default() })?;
    // Who produced each CARD_PRODUCED (its audit row names the message), shown on the message's entry.
    let producers: std::collections::HashMap<&str, String> = audit_rows
        .iter()
        .filter(|row| row.action == crate::production::actions::PRODUCED)
        .filter_map(|row| {
            let message_id = row.details.as_ref()?.get("messageId")?.as_str()?;
            Some((message_id, by(&row.operator, row.station.as_deref())))
        })
        .collect();
    // NGOC's messages: the rows queued for the bureau's own subscribers are not part of the card's exchange.
    let filter = OutboxFilter { card_id: Some(card.card_id.clone()), destination: Some(outbox::NGOC.into()), limit: Some(200), ..Default::default() };
    let outbox_rows = outbox::list(conn, &filter)?;
    for row in outbox_rows {
        let what = crate::timeline_kind::sent(cardbench_protocol::Subject::parse(&row.subject));
        let state = match &row.sent_at {
            Some(at) => format!("sent {at}"),
            None => format!("waiting to send ({} attempts{})", row.attempts, row.last_error.map(|e| format!(", last error: {e}")).unwrap_or_default()),
        };
        let detail = match producers.get(row.message_id.as_str()) {
            Some(who) => format!("{who}; {state}"),
            None => state,
        };
        entries.push(TimelineEntry { at: row.created_at, what: what.into(), detail: Some(detail) });
    }
    for row in &audit_rows {
        if row.action == crate::production::actions::PRODUCED {
            continue; // shown by its outbox row
        }
        let reason = row.details.as_ref().and_then(|d| d.get("reason").and_then(|r| r.as_str()).map(|r| format!(": {r}"))).unwrap_or_default();
        entries.push(TimelineEntry { at: row.at.clone(), what: row.action.clone(), detail: Some(format!("{}{reason}", by(&row.operator, row.station.as_deref()))) });
    }
    if let Some(parcel) = card.parcel_id.map(|id| parcels::get(conn, id)).transpose()?.flatten() {
        entries.push(TimelineEntry { at: parcel.created_at, what: "shipped".into(), detail: Some(format!("parcel {}", parcel.id)) });
    }
    entries.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(entries)
}
