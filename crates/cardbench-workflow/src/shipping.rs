//! Shipping: a parcel is composed from cards that have REPORT_OK, and SHIPPED is queued for it.
//!
//! REPORT_OK gating: while any produced card of the shipment still awaits its REPORT_OK, no
//! parcel of that shipment may go out (NGOC would not know whether the card is good). A card NGOC
//! answered with ERROR (`report_error`) is such a card too: produced, without REPORT_OK. It blocks
//! until it is made again and passes, or its request is refused: a refused card no longer counts
//! for its shipment at all (and cannot be put in a parcel). Partial
//! deliveries are allowed: each parcel lists exactly its own cards and accessories, and nothing
//! is shipped twice.

use std::collections::{BTreeSet, HashMap};

use cardbench_protocol::{Accessory, Shipped, Subject};
use cardbench_store::audit::{self, NewAudit};
use crate::reporting::{EventData, Topic};
use cardbench_store::cards::{self, CardRow, CardStatus};
use cardbench_store::outbox::{self, NewOutboxRow};
use cardbench_store::parcels::{self, NewParcel, ParcelRow};
use cardbench_store::{Connection, shipments};
use serde::{Deserialize, Serialize};

use crate::error::{Result, WorkflowError};
use crate::production::actions;
use crate::{Workflow, check_operator};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParcelRequest {
    pub shipment_id: String,
    #[serde(default)]
    pub cards: Vec<String>,
    #[serde(default)]
    pub accessories: Vec<Accessory>,
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub tracking_id: Option<String>,
}

/// Why a parcel cannot go out, one reason per problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ShipProblem {
    /// Produced cards of this shipment still await REPORT_OK: nothing ships until they have it.
    AwaitingReportOk { cards: Vec<String> },
    /// Produced cards of this shipment that NGOC answered with ERROR: they block like cards
    /// awaiting REPORT_OK until made again and passed, or refused.
    ReportErrors { cards: Vec<ReportErrorCard> },
    EmptyParcel,
    UnknownCard { card_id: String },
    NotInShipment { card_id: String, shipment_id: String },
    NotReported { card_id: String, status: CardStatus },
    AlreadyShipped { card_id: String, parcel_id: Option<i64> },
    /// The card's request was refused: it is not part of the shipment any more.
    Refused { card_id: String },
    ListedTwice { card_id: String },
    UnknownAccessory { accessory_id: String },
    TooManyAccessories { accessory_id: String, asked: u64, remaining: u64 },
    /// The lines of one accessory add up beyond what any shipment can hold (u64).
    QuantityTooLarge { accessory_id: String },
    /// The settings require this detail on every parcel and it is blank.
    DetailRequired { detail: ParcelDetail },
}

/// A detail of a parcel the settings may require (`[workstation] require_carrier`,
/// `require_tracking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcelDetail {
    Carrier,
    TrackingId,
}

impl ParcelDetail {
    /// The config key that makes it required.
    pub fn setting(self) -> &'static str {
        match self {
            ParcelDetail::Carrier => "workstation.require_carrier",
            ParcelDetail::TrackingId => "workstation.require_tracking",
        }
    }

    /// The `cardbench ship` option that gives it.
    pub fn option(self) -> &'static str {
        match self {
            ParcelDetail::Carrier => "--carrier",
            ParcelDetail::TrackingId => "--tracking",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ParcelDetail::Carrier => "carrier",
            ParcelDetail::TrackingId => "tracking id",
        }
    }
}

/// What every parcel must name before it may go out, from the settings. Default: nothing
/// required.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipRules {
    pub require_carrier: bool,
    pub require_tracking: bool,
}

impl ShipRules {
    /// The one rule for required parcel details, used by the app (Send disabled with the reason)
    /// and by `cardbench ship` alike: each required detail that is blank.
    pub fn missing(&self, carrier: Option<&str>, tracking_id: Option<&str>) -> Vec<ShipProblem> {
        let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
        let mut problems = Vec::new();
        if self.require_carrier && blank(carrier) {
            problems.push(ShipProblem::DetailRequired { detail: ParcelDetail::Carrier });
        }
        if self.require_tracking && blank(tracking_id) {
            problems.push(ShipProblem::DetailRequired { detail: ParcelDetail::TrackingId });
        }
        problems
    }
}

impl std::fmt::Display for ShipProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShipProblem::AwaitingReportOk { cards } => {
                write!(f, "blocked: {} card(s) await REPORT_OK: {}", cards.len(), cards.join(", "))
            }
            ShipProblem::ReportErrors { cards } => {
                let named: Vec<String> = cards
                    .iter()
                    .map(|c| format!("{} ({})", c.card_id, c.error_code.as_deref().unwrap_or("ERROR")))
                    .collect();
                write!(
                    f,
                    "blocked: {} card(s) have an ERROR from NGOC on their report, to fix and produce again or refuse: {}",
                    cards.len(),
                    named.join(", ")
                )
            }
            ShipProblem::EmptyParcel => write!(f, "the parcel holds no cards and no accessories"),
            ShipProblem::UnknownCard { card_id } => write!(f, "card {card_id} is unknown"),
            ShipProblem::NotInShipment { card_id, shipment_id } => {
                write!(f, "card {card_id} belongs to shipment {shipment_id}")
            }
            ShipProblem::NotReported { card_id, status } => write!(f, "card {card_id} has no REPORT_OK (it is {status})"),
            ShipProblem::AlreadyShipped { card_id, parcel_id } => match parcel_id {
                Some(p) => write!(f, "card {card_id} is already shipped in parcel {p}"),
                None => write!(f, "card {card_id} is already shipped"),
            },
            ShipProblem::Refused { card_id } => write!(f, "card {card_id} is refused: it no longer counts for the shipment"),
            ShipProblem::ListedTwice { card_id } => write!(f, "card {card_id} is listed twice"),
            ShipProblem::UnknownAccessory { accessory_id } => {
                write!(f, "accessory {accessory_id} was not requested for this shipment")
            }
            ShipProblem::TooManyAccessories { accessory_id, asked, remaining } => {
                write!(f, "accessory {accessory_id}: {asked} asked, only {remaining} left to ship")
            }
            ShipProblem::QuantityTooLarge { accessory_id } => {
                write!(f, "accessory {accessory_id}: the quantities asked add up beyond any count")
            }
            ShipProblem::DetailRequired { detail } => write!(
                f,
                "a {} is required on every parcel (setting {}): fill it in",
                detail.label(),
                detail.setting()
            ),
        }
    }
}

/// A card whose report NGOC answered with ERROR, and the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportErrorCard {
    pub card_id: String,
    pub error_code: Option<String>,
}

/// Why one card may not go into a parcel of `shipment_id` right now, if any (for refusing a
/// scan on the spot).
pub fn card_problem(card: Option<&CardRow>, card_id: &str, shipment_id: &str) -> Option<ShipProblem> {
    let Some(card) = card else {
        return Some(ShipProblem::UnknownCard { card_id: card_id.to_owned() });
    };
    if card.shipment_id != shipment_id {
        return Some(ShipProblem::NotInShipment { card_id: card_id.to_owned(), shipment_id: card.shipment_id.clone() });
    }
    match card.status {
        // ShipError: NGOC rejected the parcel it was in, so it may go out again.
        status if crate::lifecycle::ready_to_ship(status) => None,
        CardStatus::Shipped | CardStatus::ShippedOk => {
            Some(ShipProblem::AlreadyShipped { card_id: card_id.to_owned(), parcel_id: card.parcel_id })
        }
        CardStatus::Refused => Some(ShipProblem::Refused { card_id: card_id.to_owned() }),
        status => Some(ShipProblem::NotReported { card_id: card_id.to_owned(), status }),
    }
}

/// The cards of a shipment whose CARD_PRODUCED still awaits REPORT_OK.
pub fn awaiting_report(cards_of_shipment: &[CardRow]) -> Vec<String> {
    cards_of_shipment.iter().filter(|c| c.status == CardStatus::Produced).map(|c| c.card_id.clone()).collect()
}

/// The cards of a shipment NGOC answered with ERROR on their report (not yet made again).
pub fn report_errors(cards_of_shipment: &[CardRow]) -> Vec<ReportErrorCard> {
    cards_of_shipment
        .iter()
        .filter(|c| c.status == CardStatus::ReportError)
        .map(|c| ReportErrorCard { card_id: c.card_id.clone(), error_code: c.last_error_code.clone() })
        .collect()
}

/// What keeps every parcel of a shipment back: produced cards without REPORT_OK, awaiting it or
/// answered with ERROR. Empty: the gate is open.
pub fn gate_problems(cards_of_shipment: &[CardRow]) -> Vec<ShipProblem> {
    let mut problems = Vec::new();
    let waiting = awaiting_report(cards_of_shipment);
    if !waiting.is_empty() {
        problems.push(ShipProblem::AwaitingReportOk { cards: waiting });
    }
    let errors = report_errors(cards_of_shipment);
    if !errors.is_empty() {
        problems.push(ShipProblem::ReportErrors { cards: errors });
    }
    problems
}

impl Workflow {
    /// Checks one scanned card against a shipment without changing anything.
    pub fn check_parcel_card(&self, shipment_id: &str, card_id: &str) -> Result<Option<ShipProblem>> {
        self.store().read(|conn| {
            let card = cards::get(conn, card_id)?;
            Ok::<_, WorkflowError>(card_problem(card.as_ref(), card_id, shipment_id))
        })
    }

    /// Queues SHIPPED for one parcel, or refuses with every problem found.
    pub fn ship(&self, operator: &str, request: &ParcelRequest) -> Result<ParcelRow> {
        let operator = check_operator(operator)?;
        let parcel = self.store().write(|tx| {
            // The gate is decided on the cards as they are while the shipment is held: a card of
            // it produced at another station meanwhile commits before this reads, or after this
            // parcel is written (then it waits for a later one).
            shipments::lock(tx, &request.shipment_id)?;
            if shipments::get(tx, &request.shipment_id)?.is_none() {
                return Err(WorkflowError::UnknownShipment(request.shipment_id.clone()));
            }
            let mut problems = parcel_problems(tx, request)?;
            problems.extend(self.ship_rules().missing(request.carrier.as_deref(), request.tracking_id.as_deref()));
            if !problems.is_empty() {
                return Err(WorkflowError::ShipRefused(problems));
            }
            let now = cardbench_store::time::now();
            let organisation_id = shipments::get(tx, &request.shipment_id)?
                .map(|s| s.organisation_id)
                .unwrap_or_default();
            let carrier = request.carrier.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let tracking_id = request.tracking_id.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let body = Shipped {
                organisation_id,
                shipment_id: request.shipment_id.clone(),
                shipped: chrono::Utc::now(),
                cards: request.cards.clone(),
                accessories: request.accessories.clone(),
                carrier: carrier.map(str::to_owned),
                tracking_id: tracking_id.map(str::to_owned),
            };
            let json = serde_json::to_string(&body).map_err(|source| WorkflowError::Encode { what: "SHIPPED", source })?;
            let queued = outbox::insert(
                tx,
                &NewOutboxRow {
                    subject: Subject::Shipped.as_str(),
                    correlation_id: None,
                    body: &json,
                    card_id: None,
                    shipment_id: Some(&request.shipment_id),
                    created_at: &now,
                },
            )?;
            let parcel_id = parcels::insert(
                tx,
                &NewParcel {
                    shipment_id: &request.shipment_id,
                    outbox_id: queued.id,
                    message_id: &queued.message_id,
                    carrier,
                    tracking_id,
                    created_at: &now,
                    operator,
                    cards: &request.cards,
                    accessories: &request.accessories,
                },
            )?;
            for card_id in &request.cards {
                let card = crate::production::load_card(tx, card_id)?;
                let shipped = crate::lifecycle::shipped(card.status, parcel_id)
                    .ok_or(WorkflowError::NotAllowed { card_id: card_id.clone(), status: card.status, action: "ship" })?;
                shipped.write(tx, card_id, &now)?;
                crate::reporting::emit(tx, Topic::Shipped, EventData::card(&card).in_parcel(parcel_id), &now)?;
            }
            audit::record(
                tx,
                &NewAudit {
                    at: &now,
                    operator,
                    action: actions::SHIPPED,
                    card_id: None,
                    shipment_id: Some(&request.shipment_id),
                    details: Some(&serde_json::json!({
                        "parcelId": parcel_id, "messageId": queued.message_id,
                        "cards": request.cards, "accessories": request.accessories,
                        "carrier": carrier, "trackingId": tracking_id,
                    })),
                },
            )?;
            parcels::get(tx, parcel_id)?.ok_or_else(|| WorkflowError::InvalidRequest("parcel vanished".into()))
        })?;
        self.outbox_grew();
        Ok(parcel)
    }
}

fn parcel_problems(conn: &Connection, request: &ParcelRequest) -> Result<Vec<ShipProblem>> {
    let shipment_cards = cards::in_shipment(conn, &request.shipment_id)?;
    let mut problems = gate_problems(&shipment_cards);
    if request.cards.is_empty() && request.accessories.iter().all(|a| a.quantity == 0) {
        problems.push(ShipProblem::EmptyParcel);
    }
    let by_id: HashMap<&str, &CardRow> = shipment_cards.iter().map(|c| (c.card_id.as_str(), c)).collect();
    let mut seen = BTreeSet::new();
    for card_id in &request.cards {
        if !seen.insert(card_id.as_str()) {
            problems.push(ShipProblem::ListedTwice { card_id: card_id.clone() });
            continue;
        }
        let card = match by_id.get(card_id.as_str()) {
            Some(c) => Some((*c).clone()),
            None => cards::get(conn, card_id)?,
        };
        if let Some(problem) = card_problem(card.as_ref(), card_id, &request.shipment_id) {
            problems.push(problem);
        }
    }
    let balance = shipments::accessory_balance(conn, &request.shipment_id)?;
    // The same accessory may be listed on several lines: what counts is their total, summed in 64
    // bits and checked (two u32 lines overflowed a u32 sum: a panic in debug builds, and in
    // release a wrapped small total that passed the check). `None` is a total beyond u64.
    let mut asked: Vec<(&str, &str, Option<u64>)> = Vec::new();
    for a in &request.accessories {
        match asked.iter_mut().find(|(art, acc, _)| *art == a.article_id && *acc == a.accessory_id) {
            Some(entry) => entry.2 = entry.2.and_then(|n| n.checked_add(u64::from(a.quantity))),
            None => asked.push((&a.article_id, &a.accessory_id, Some(u64::from(a.quantity)))),
        }
    }
    for (article_id, accessory_id, quantity) in asked {
        match balance.iter().find(|b| b.article_id == article_id && b.accessory_id == accessory_id) {
            None => problems.push(ShipProblem::UnknownAccessory { accessory_id: accessory_id.to_owned() }),
            Some(b) => {
                let remaining = b.remaining();
                let Some(quantity) = quantity else {
                    problems.push(ShipProblem::QuantityTooLarge { accessory_id: accessory_id.to_owned() });
                    continue;
                };
                if quantity > remaining {
                    problems.push(ShipProblem::TooManyAccessories { accessory_id: accessory_id.to_owned(), asked: quantity, remaining });
                }
            }
        }
    }
    Ok(problems)
}
