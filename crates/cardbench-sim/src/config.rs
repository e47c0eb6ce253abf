//! What the simulator does, as set by the config file or a test.

use serde::{Deserialize, Serialize};

/// The simulator's settings. Every field has a default, so a config file names only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct SimConfig {
    /// Where NGOC publishes requests and answers (Cardbench's inbound queue).
    pub requests_queue: String,
    /// Where Cardbench sends CARD_PRODUCED, SHIPPED and ERROR (Cardbench's outbound queue).
    pub notifications_queue: String,
    /// Requests `run` generates per minute, in whole shipments (0: only on demand).
    pub requests_per_minute: u32,
    /// Cards per shipment: `min_cards_per_shipment` to this many.
    pub max_cards_per_shipment: u32,
    /// Cards per shipment at least (set both to fix the size, e.g. for a test of 20 × 5).
    pub min_cards_per_shipment: u32,
    /// Share of requests that also order accessories.
    pub accessory_rate: f64,
    /// Seeds the generator, for reproducible content (ids stay unique: they come from the state).
    pub seed: Option<u64>,
    /// Messages taken from the notifications queue at once.
    pub receive_batch: usize,
    /// How long one receive waits for a first notification, in milliseconds.
    pub receive_wait_ms: u64,
    pub faults: FaultRates,
    /// How the simulator writes what NGOC's real service may write otherwise than our contract.
    pub wire: WireForms,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            requests_queue: "ngoc-requests".into(),
            notifications_queue: "ngoc-notifications".into(),
            requests_per_minute: 0,
            max_cards_per_shipment: 5,
            min_cards_per_shipment: 1,
            accessory_rate: 0.3,
            seed: None,
            receive_batch: 64,
            receive_wait_ms: 500,
            faults: FaultRates::default(),
            wire: WireForms::default(),
        }
    }
}

/// The forms NGOC may use that our contract tolerates (docs/protocol/README.md, "Tolerances"), so
/// a run against the simulator rehearses each of them. The defaults are the contract's own forms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
pub struct WireForms {
    /// Write `ordered` as NGOC's published samples do: no offset, nine fractional digits
    /// (`2022-02-04T09:36:45.650982100`), the wall-clock time in UTC.
    pub offsetless_times: bool,
    /// Ask for the chip UID as NGOC's reports name it, `TRANSLATION_MIFARE_HEX_MSB` and
    /// `TRANSLATION_MIFARE_HEX_LSB`, instead of `MIFARE_UID`.
    pub translation_fields: bool,
    /// Where REPORT_OK and SHIPPED_OK name the message they answer.
    pub correlation: CorrelationForm,
}

/// Where an answer carries its correlation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationForm {
    /// The body's `correlationId` and the AMQP `correlation-id` property (the contract).
    #[default]
    Both,
    /// Only the body's `correlationId`.
    Body,
    /// Only the AMQP `correlation-id` property.
    Property,
    /// Neither: the answer names only its card (REPORT_OK) or shipment (SHIPPED_OK).
    Neither,
    /// Each answer the next form in turn: body, property, both, neither (a SHIPPED_OK skips
    /// neither: with several parcels awaiting it would name none of them unambiguously).
    Rotate,
}

/// How often each fault is injected, 0.0 (never, the default) to 1.0 (always). Values outside
/// that range are clamped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct FaultRates {
    /// A request that violates the schema (missing address.city, bad countryCode, empty expected
    /// field name, ...). Such a card is not part of the simulator's state.
    pub invalid_request: f64,
    /// A request sent twice with the same messageId. (A queue with duplicate detection, like the
    /// embedded one by default, drops the second copy, as Service Bus would.)
    pub duplicate_send: f64,
    /// A second request reusing a cardId with different content (new messageId). The simulator
    /// keeps the first version.
    pub card_conflict: f64,
    /// An ERROR (INTERNAL_ERROR) answering a valid CARD_PRODUCED instead of REPORT_OK.
    pub spurious_error: f64,
    /// An answer (REPORT_OK, SHIPPED_OK or ERROR) lost on NGOC's side: the message was judged
    /// and applied, but its answer never leaves. The partner sees no answer; when it resends the
    /// message (same messageId), the lost answer goes out then, as NGOC answers a duplicate.
    pub lost_answer: f64,
}

/// A probability usable by `random_bool` (which panics outside 0..=1 or on NaN).
pub(crate) fn rate(value: f64) -> f64 {
    if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) }
}
