//! Bodies of the six messages. Field names are camelCase on the wire.
//!
//! Received types ignore unknown fields (tolerant); the raw body is kept by the store. Sent types
//! serialise exactly their documented fields and omit absent optional ones (strict).

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::problem::Problem;
use crate::received_time::ReceivedTime;

/// `EXTERNAL_PRODUCTION_REQUEST_SENT`: one card to produce. Published by NGOC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalProductionData {
    pub organisation_id: String,
    pub shipment_id: String,
    /// Kept as written (NGOC may omit the offset: then read in the configured zone); compares
    /// as the same time, not as the same text (see [`ReceivedTime`]).
    pub ordered: ReceivedTime,
    pub address: Address,
    pub card: CardRequest,
    #[serde(default)]
    pub accessories: Vec<Accessory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub address_one: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_two: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardRequest {
    pub article_id: String,
    pub card_id: String,
    /// What is printed/encoded, in NGOC's order (e.g. `NAME`, `PHOTO`). Shown as text, never HTML.
    #[serde(default)]
    pub card_elements: IndexMap<String, String>,
    /// Readouts the partner must report in CARD_PRODUCED, e.g. `MIFARE_UID`.
    #[serde(default)]
    pub expected_report_data_fields: Vec<String>,
    /// Values the partner reports in CARD_PRODUCED's `externalReportData`, e.g. `PIN_CODE`. Our
    /// reading: NGOC's card report shows `externalReportData`, but NGOC does not publish how a
    /// request asks for it (docs/protocol/README.md). The values are secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_external_report_data_fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accessory {
    pub article_id: String,
    pub accessory_id: String,
    pub quantity: u32,
}

/// `EXTERNAL_PRODUCTION_CARD_PRODUCED`: one card was produced; its readouts. Sent by us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardProduced {
    pub organisation_id: String,
    pub shipment_id: String,
    pub card_id: String,
    pub produced: DateTime<Utc>,
    /// Exactly the request's `expectedReportDataFields`, normalised.
    pub report_data: IndexMap<String, String>,
    /// The external values asked for (e.g. `PIN_CODE`), secret; absent when none are. Replaced in
    /// our stored copy by a tombstone once REPORT_OK arrives.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub external_report_data: IndexMap<String, String>,
}

/// `EXTERNAL_PRODUCTION_REPORT_OK`: NGOC accepted a CARD_PRODUCED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportOk {
    pub card_id: String,
    /// messageId of the CARD_PRODUCED this answers. NGOC should send it; when it does not, the
    /// AMQP `correlation-id` property or the card's one CARD_PRODUCED awaiting an answer is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// `EXTERNAL_PRODUCTION_SHIPPED`: one parcel left the building. Sent by us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipped {
    pub organisation_id: String,
    pub shipment_id: String,
    pub shipped: DateTime<Utc>,
    /// Exactly the cards in this parcel.
    pub cards: Vec<String>,
    /// Exactly the accessories in this parcel.
    #[serde(default)]
    pub accessories: Vec<Accessory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
}

/// `EXTERNAL_PRODUCTION_SHIPPED_OK`: NGOC accepted one SHIPPED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippedOk {
    pub shipment_id: String,
    /// messageId of the SHIPPED this answers. NGOC should send it; when it does not, the AMQP
    /// `correlation-id` property or the shipment's one parcel awaiting SHIPPED_OK is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// `EXTERNAL_PRODUCTION_ERROR`: either side rejects a message it received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    /// messageId of the message this answers; absent only when that message had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    pub error_code: ErrorCode,
    /// Human-readable, one line.
    pub details: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    /// Every problem found, each with its field path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ExternalProductionData {
    /// The name to show in the worklist's holder column: a name-like card element, else the
    /// recipient, else the company.
    pub fn holder_name(&self) -> Option<&str> {
        const NAME_KEYS: [&str; 4] = ["CARDHOLDER_NAME", "HOLDER_NAME", "NAME", "FULL_NAME"];
        NAME_KEYS
            .iter()
            .find_map(|k| self.card.card_elements.get(*k))
            .map(String::as_str)
            .or(self.address.recipient.as_deref())
            .or(self.address.company_name.as_deref())
    }

    /// The same card asked for twice with the same content is a duplicate, not a conflict.
    /// Compares content, not formatting (key order, whitespace, offsets of the same instant).
    pub fn same_content(&self, other: &ExternalProductionData) -> bool {
        self == other
    }
}
