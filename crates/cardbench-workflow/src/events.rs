//! What happened, for live screens. Produced only after the transaction that did it committed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkflowEvent {
    CardReceived { card_id: String, shipment_id: String },
    CardChanged { card_id: String },
    ReportOk { card_id: String },
    ReportError { card_id: String, error_code: String },
    ParcelShipped { parcel_id: i64, shipment_id: String },
    ShippedOk { parcel_id: i64, shipment_id: String },
    ShipError { parcel_id: i64, shipment_id: String, error_code: String },
    MessageRejected { inbox_id: i64, reason: String },
    Conflict { card_id: String },
    NgocError { inbox_id: i64, error_code: String },
    /// A valid message that cannot be matched without guessing (e.g. a SHIPPED_OK naming no
    /// SHIPPED while several parcels await one): recorded, for a person to look at.
    NeedsOperator { inbox_id: i64, reason: String, card_id: Option<String>, shipment_id: Option<String> },
}
