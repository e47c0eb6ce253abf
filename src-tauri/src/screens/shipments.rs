//! Shipments: the list, one shipment with its gate, composing and shipping a parcel.

use cardbench_store::shipments;
use cardbench_workflow::{ParcelRequest, Workflow};

use crate::dto::*;
use crate::station::{Result, Station, blank_to_none};

impl Station {
    pub fn shipments(&self, open_only: bool) -> Result<Vec<ShipmentItem>> {
        let list = self.store().read(|conn| {
            shipments::list(conn, &shipments::ShipmentFilter { organisation_id: None, open_only, limit: Some(500) })
        })?;
        Ok(list
            .into_iter()
            .map(|s| ShipmentItem {
                shipment_id: s.shipment_id,
                organisation_id: s.organisation_id,
                first_received_at: s.first_received_at,
                cards: s.cards,
                ready: s.ready,
                awaiting_report: s.awaiting_report,
                shipped: s.shipped,
                parcels: s.parcels,
            })
            .collect())
    }

    pub fn shipment(&self, shipment_id: &str) -> Result<ShipmentView> {
        let d = self.workflow.shipment_detail(shipment_id.trim())?;
        let mask = self.mask();
        Ok(ShipmentView {
            shipment_id: d.shipment.shipment_id,
            organisation_id: d.shipment.organisation_id,
            first_received_at: d.shipment.first_received_at,
            cards: d.cards.iter().map(|c| WorklistItem::from_card(c, mask)).collect(),
            accessories: d
                .accessories
                .into_iter()
                .map(|a| AccessoryBalanceLine {
                    article_id: a.article_id,
                    accessory_id: a.accessory_id,
                    requested: a.requested,
                    shipped: a.shipped,
                })
                .collect(),
            parcels: d.parcels.into_iter().map(ParcelView::from).collect(),
            gate: GateView {
                blocked: !d.gate.awaiting_report.is_empty() || !d.gate.report_error.is_empty(),
                ready: d.gate.ready,
                awaiting_report: d.gate.awaiting_report,
                report_error: d.gate.report_error,
                not_produced: d.gate.not_produced,
                shipped: d.gate.shipped,
                refused: d.gate.refused,
                notes: d
                    .gate
                    .notes
                    .into_iter()
                    .map(|n| GateNoteView {
                        card_id: n.card_id,
                        kind: serde_json::to_value(n.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                        text: n.text,
                    })
                    .collect(),
                summary: d.gate.summary,
                state: d.gate.state.into(),
            },
        })
    }

    /// The workflow with the settings' required parcel details as saved now (a settings save
    /// takes effect at the next parcel).
    fn ship_workflow(&self) -> Workflow {
        let rules = self.config.read().unwrap_or_else(|p| p.into_inner()).workstation.ship_rules();
        self.workflow.clone().with_ship_rules(rules)
    }

    /// What the settings require of a parcel that this carrier and tracking id leave blank, in
    /// words (the core's rule, as `ship` applies it): empty when the parcel may go.
    pub fn parcel_details_check(&self, carrier: Option<&str>, tracking_id: Option<&str>) -> Vec<String> {
        self.ship_workflow().ship_rules().missing(carrier, tracking_id).iter().map(ToString::to_string).collect()
    }

    /// Checks one scan against the parcel being composed; refuses on the spot with the reason.
    pub fn scan_into_parcel(&self, shipment_id: &str, card_id: &str, already: &[String]) -> Result<ScanVerdict> {
        let card_id = card_id.trim().to_owned();
        if already.iter().any(|c| c == &card_id) {
            return Ok(ScanVerdict { reason: Some(format!("card {card_id} is already in this parcel")), card_id, accepted: false });
        }
        let problem = self.workflow.check_parcel_card(shipment_id, &card_id)?;
        Ok(ScanVerdict { accepted: problem.is_none(), reason: problem.map(|p| p.to_string()), card_id })
    }

    pub fn ship(&self, draft: ParcelDraft) -> Result<ParcelView> {
        let request = ParcelRequest {
            shipment_id: draft.shipment_id,
            cards: draft.cards,
            accessories: draft
                .accessories
                .into_iter()
                .filter(|a| a.quantity > 0)
                .map(|a| cardbench_protocol::Accessory { article_id: a.article_id, accessory_id: a.accessory_id, quantity: a.quantity })
                .collect(),
            carrier: blank_to_none(draft.carrier),
            tracking_id: blank_to_none(draft.tracking_id),
        };
        let parcel = self.ship_workflow().ship(&self.operator(), &request)?;
        tracing::info!(parcel_id = parcel.id, shipment_id = %parcel.shipment_id, "parcel shipped");
        Ok(parcel.into())
    }
}
