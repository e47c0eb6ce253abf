//! What the screens and the CLI show about a card or a shipment, assembled in one read.

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
use crate::shipping::{ShipProblem, awaiting_report};
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentGate {
    /// REPORT_OK and not in a parcel: may be shipped now (if nothing awaits REPORT_OK).
    pub ready: Vec<String>,
    /// Produced, awaiting REPORT_OK: block every parcel of this shipment.
    pub awaiting_report: Vec<String>,
    /// Not produced yet (or to be redone): may stay behind for a later parcel.
    pub not_produced: Vec<String>,
    pub shipped: Vec<String>,
    /// The gate in words: "ready: 3 cards" / "blocked: 2 cards await REPORT_OK: C1, C2".
    pub summary: String,
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
            let next_step = next_step(&card);
            Ok::<_, WorkflowError>(CardDetail { card, expected, readouts, timeline, parcel, next_step })
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

fn gate(cards: &[CardRow]) -> ShipmentGate {
    let pick = |statuses: &[CardStatus]| -> Vec<String> {
        cards.iter().filter(|c| statuses.contains(&c.status)).map(|c| c.card_id.clone()).collect()
    };
    let ready = pick(&[CardStatus::ReportOk, CardStatus::ShipError]);
    let waiting = awaiting_report(cards);
    let not_produced = pick(&[CardStatus::Received, CardStatus::ReadoutsCaptured, CardStatus::ReportError]);
    let shipped = pick(&[CardStatus::Shipped, CardStatus::ShippedOk]);
    let summary = if !waiting.is_empty() {
        ShipProblem::AwaitingReportOk { cards: waiting.clone() }.to_string()
    } else if ready.is_empty() {
        if shipped.len() == cards.len() { "all cards shipped".to_owned() } else { "nothing ready to ship".to_owned() }
    } else {
        format!("ready: {} card(s) may ship", ready.len())
    };
    ShipmentGate { ready, awaiting_report: waiting, not_produced, shipped, summary }
}

fn next_step(card: &CardRow) -> String {
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
    }
}

fn timeline(conn: &cardbench_store::Connection, card: &CardRow) -> Result<Vec<TimelineEntry>> {
    let mut entries = Vec::new();
    let inbox_rows = inbox::list(conn, &InboxFilter { card_id: Some(card.card_id.clone()), limit: Some(200), ..Default::default() })?;
    for row in inbox_rows {
        let subject = row.subject.unwrap_or_default();
        let what = match subject.as_str() {
            "EXTERNAL_PRODUCTION_REQUEST_SENT" => "received",
            "EXTERNAL_PRODUCTION_REPORT_OK" => "report_ok",
            "EXTERNAL_PRODUCTION_SHIPPED_OK" => "shipped_ok",
            "EXTERNAL_PRODUCTION_ERROR" => "error",
            _ => "message",
        };
        entries.push(TimelineEntry { at: row.received_at, what: what.into(), detail: row.reason });
    }
    let outbox_rows = outbox::list(conn, &OutboxFilter { card_id: Some(card.card_id.clone()), limit: Some(200), ..Default::default() })?;
    for row in outbox_rows {
        let what = match row.subject.as_str() {
            "EXTERNAL_PRODUCTION_CARD_PRODUCED" => "produced_queued",
            "EXTERNAL_PRODUCTION_ERROR" => "error_sent",
            _ => "sent",
        };
        let detail = match &row.sent_at {
            Some(at) => format!("sent {at}"),
            None => format!("waiting to send ({} attempts{})", row.attempts, row.last_error.map(|e| format!(", last error: {e}")).unwrap_or_default()),
        };
        entries.push(TimelineEntry { at: row.created_at, what: what.into(), detail: Some(detail) });
    }
    let audit_rows = audit::list(conn, &AuditFilter { card_id: Some(card.card_id.clone()), ..Default::default() })?;
    for row in audit_rows {
        if row.action == crate::production::actions::PRODUCED {
            continue; // shown by its outbox row
        }
        let detail = Some(format!("by {}{}", row.operator, row.details.and_then(|d| d.get("reason").and_then(|r| r.as_str()).map(|r| format!(": {r}"))).unwrap_or_default()));
        entries.push(TimelineEntry { at: row.at, what: row.action, detail });
    }
    if let Some(parcel) = card.parcel_id.map(|id| parcels::get(conn, id)).transpose()?.flatten() {
        entries.push(TimelineEntry { at: parcel.created_at, what: "shipped".into(), detail: Some(format!("parcel {}", parcel.id)) });
    }
    entries.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(entries)
}
