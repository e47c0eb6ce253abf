//! What the card API (`cardbench-api`) answers: a card in the shape of NGOC's card report, a
//! shipment with its cards and parcels, and pages of the event log. Field names are NGOC's
//! (camelCase); `docs/api/openapi.yaml` describes them and its test holds them to it.
//!
//! External report data (PIN codes…) is masked by the one rule of [`crate::secrets::mask_value`]:
//! the API never hands out a secret value.

use cardbench_store::cards::{self, CardRow};
use cardbench_store::parcels::{self, ParcelRow};
use cardbench_store::{readouts, shipments};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Result, WorkflowError};
use crate::Workflow;

/// One card as NGOC's card report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardReport {
    pub card_id: String,
    pub organisation_id: String,
    pub shipment_id: String,
    pub article_id: String,
    /// Where the card stands in Cardbench (`received`, `produced`, `report_ok`, `shipped_ok`, …).
    pub status: String,
    /// What was printed/encoded, as NGOC asked for it.
    pub card_elements: IndexMap<String, String>,
    /// The expected report fields with their captured values (each MSB/LSB translation is a field
    /// of its own), as CARD_PRODUCED carries them; only fields captured so far.
    pub report_data: IndexMap<String, String>,
    /// External report data (e.g. PIN_CODE): always masked, or the tombstone once REPORT_OK
    /// removed the value.
    pub external_report_data: IndexMap<String, String>,
    /// When CARD_PRODUCED was queued.
    pub produced: Option<String>,
    pub report_ok: Option<String>,
    /// When the card's parcel (SHIPPED) was queued.
    pub shipped: Option<String>,
    pub shipped_ok: Option<String>,
    pub parcel: Option<ParcelReport>,
    /// The last ERROR NGOC sent about this card.
    pub error: Option<ErrorReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParcelReport {
    pub parcel_id: i64,
    pub carrier: Option<String>,
    pub tracking_id: Option<String>,
    /// `awaiting_ok`, `shipped_ok` or `error`.
    pub status: String,
    pub shipped: String,
    pub answered: Option<String>,
    pub error_code: Option<String>,
    pub card_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    pub error_code: String,
    pub error_message: Option<String>,
}

/// A shipment: its cards (ids, statuses) and parcels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentReport {
    pub shipment_id: String,
    pub organisation_id: String,
    pub first_received: String,
    pub cards: Vec<ShipmentCard>,
    pub parcels: Vec<ParcelReport>,
    /// The shipping gate in words (as the Shipments screen says it).
    pub gate: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentCard {
    pub card_id: String,
    pub article_id: String,
    pub status: String,
    pub parcel_id: Option<i64>,
}

fn parcel_report(p: ParcelRow) -> ParcelReport {
    ParcelReport {
        parcel_id: p.id,
        carrier: p.carrier,
        tracking_id: p.tracking_id,
        status: p.status.as_str().to_owned(),
        shipped: p.created_at,
        answered: p.answered_at,
        error_code: p.error_code,
        card_ids: p.cards,
    }
}

impl Workflow {
    /// The card report of `card_id`; [`WorkflowError::UnknownCard`] when there is none.
    pub fn card_report(&self, card_id: &str) -> Result<CardReport> {
        self.store().read(|conn| {
            let card = cards::get(conn, card_id)?.ok_or_else(|| WorkflowError::UnknownCard(card_id.to_owned()))?;
            let stored: IndexMap<String, String> =
                readouts::for_card(conn, card_id)?.into_iter().map(|r| (r.field, r.value)).collect();
            let (mut report_data, mut external) = crate::production::report_data_of(self.report_settings(), &card, &stored);
            report_data.retain(|_, v| !v.is_empty());
            external.retain(|_, v| !v.is_empty());
            for value in external.values_mut() {
                *value = crate::secrets::mask_value(value);
            }
            let parcel = card.parcel_id.map(|id| parcels::get(conn, id)).transpose()?.flatten().map(parcel_report);
            Ok::<_, WorkflowError>(card_report(card, report_data, external, parcel))
        })
    }

    /// The shipment report of `shipment_id`; [`WorkflowError::UnknownShipment`] when there is none.
    pub fn shipment_report(&self, shipment_id: &str) -> Result<ShipmentReport> {
        self.store().read(|conn| {
            let shipment = shipments::get(conn, shipment_id)?
                .ok_or_else(|| WorkflowError::UnknownShipment(shipment_id.to_owned()))?;
            let cards = cards::in_shipment(conn, shipment_id)?;
            let gate = super::gate(&cards).summary;
            let parcels = parcels::for_shipment(conn, shipment_id)?.into_iter().map(parcel_report).collect();
            let cards = cards
                .into_iter()
                .map(|c| ShipmentCard { card_id: c.card_id, article_id: c.article_id, status: c.status.as_str().to_owned(), parcel_id: c.parcel_id })
                .collect();
            Ok::<_, WorkflowError>(ShipmentReport {
                shipment_id: shipment.shipment_id,
                organisation_id: shipment.organisation_id,
                first_received: shipment.first_received_at,
                cards,
                parcels,
                gate,
            })
        })
    }
}

fn card_report(
    card: CardRow,
    report_data: IndexMap<String, String>,
    external_report_data: IndexMap<String, String>,
    parcel: Option<ParcelReport>,
) -> CardReport {
    let error = card
        .last_error_code
        .clone()
        .map(|error_code| ErrorReport { error_code, error_message: card.last_error_details.clone() });
    CardReport {
        status: card.status.as_str().to_owned(),
        shipped: parcel.as_ref().map(|p| p.shipped.clone()),
        card_elements: card.request.card.card_elements,
        card_id: card.card_id,
        organisation_id: card.organisation_id,
        shipment_id: card.shipment_id,
        article_id: card.article_id,
        report_data,
        external_report_data,
        produced: card.produced_at,
        report_ok: card.report_ok_at,
        shipped_ok: card.shipped_ok_at,
        parcel,
        error,
    }
}

/// One page of the event log: the envelopes as sent (each with its cursor `id`), oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsPage {
    pub events: Vec<serde_json::Value>,
    /// The `after` of the following page: the last event's id (or the `after` asked, when the
    /// page is empty), so a reader polls on from it.
    pub next: i64,
    /// Whether more events follow now (the page was full).
    pub more: bool,
}

impl Workflow {
    /// Up to `limit` events with an id above `after`, oldest first.
    pub fn events_page(&self, after: i64, limit: u32) -> Result<EventsPage> {
        let rows = self.store().read(|conn| cardbench_store::events::after(conn, after, limit.saturating_add(1)))?;
        let more = rows.len() > limit as usize;
        let mut events = Vec::with_capacity(rows.len().min(limit as usize));
        let mut next = after;
        for row in rows.into_iter().take(limit as usize) {
            next = row.id;
            events.push(event_item(row.id, &row.body)?);
        }
        Ok(EventsPage { events, next, more })
    }
}

/// The stored envelope with its cursor `id` first.
fn event_item(id: i64, body: &str) -> Result<serde_json::Value> {
    let envelope: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(body).map_err(|source| WorkflowError::Encode { what: "stored event", source })?;
    let mut item = serde_json::Map::with_capacity(envelope.len() + 1);
    item.insert("id".to_owned(), id.into());
    item.extend(envelope);
    Ok(serde_json::Value::Object(item))
}
