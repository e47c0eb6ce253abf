//! The production workflow: what happens to a card from request to SHIPPED_OK.
//!
//! Owns the rules, not the storage (`cardbench-store`) or the carrier (`cardbench-transport`):
//! - [`ingest`]: a received message is validated and applied, its inbox row and any answer are
//!   written in the same transaction, and only then may the caller settle it on the transport.
//!   Its bodies may be decoded beforehand, off the store ([`Workflow::decode`]).
//! - [`lifecycle`]: a card's statuses, the transitions between them and the questions asked of
//!   them (may it be produced, which card is next, does it block shipping, may it ship).
//! - [`production`]: readouts are captured and checked, CARD_PRODUCED is queued, spoiled cards redone.
//! - [`refusal`]: a request the bureau cannot produce is refused with ERROR and leaves the worklist.
//! - [`claims`]: cards in hand on a floor: a card taken at one station cannot be produced at
//!   another until released or run out; "next in sequence" never hands two stations one card.
//! - [`shipping`]: parcels are composed under REPORT_OK gating and SHIPPED is queued.
//! - [`views`]: what a screen or the CLI shows: a card, a shipment, the dashboard, and the one
//!   rule for periods of days ([`Period`]).
//! - [`cardholder`]: what a screen may show of a raw body (masking, revealing, name search).
//! - [`retention`]: cardholder data purged once a card shipped long enough ago.
//!
//! Every operator action takes the operator's name and writes an audit row in the same
//! transaction as the change and the outbox row it causes.

mod admin;
mod answer;
pub mod cardholder;
pub mod claims;
mod correlation;
mod decode;
mod error;
pub mod floor;
pub mod events;
pub mod ingest;
pub mod lifecycle;
pub mod production;
pub mod refusal;
pub mod report_fields;
pub mod reporting;
pub mod retention;
pub mod secrets;
pub mod shipping;
mod timeline_kind;
pub mod views;

use std::sync::Arc;

use cardbench_protocol::DecodeOptions;
use cardbench_store::Store;

pub use error::{Result, WorkflowError};
pub use events::WorkflowEvent;
pub use decode::DecodedBatch;
pub use ingest::{IngestOutcome, IngestReport};
pub use production::{ApplyOutcome, ProduceResult, ReadoutInput};
pub use refusal::RefuseResult;
pub use report_fields::ReportSettings;
pub use shipping::{ParcelDetail, ParcelRequest, ReportErrorCard, ShipProblem, ShipRules};
pub use views::dashboard::Dashboard;
pub use views::period::{Period, PeriodError};
pub use views::{CardDetail, ExpectedField, GateNote, GateNoteKind, GateState, ShipmentDetail, ShipmentGate, TimelineEntry};

/// The workflow over one store. Cheap to clone.
#[derive(Clone)]
pub struct Workflow {
    store: Arc<Store>,
    /// How received bodies are read (e.g. the zone of offset-less times); from the config.
    decode_options: Arc<DecodeOptions>,
    report: Arc<ReportSettings>,
    /// What every parcel must name (`[workstation] require_carrier` / `require_tracking`).
    ship_rules: shipping::ShipRules,
    /// Notified after every commit that queued outbox rows (shared by all clones): whoever runs
    /// the sender waits on it, so no caller has to remember to wake it.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// Bumped with every `outbox_wake`, for the senders of the bureau's subscribers: several
    /// wait at once, and a watch wakes each of them once per change they have not yet seen.
    outbox_changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// This station's name on a floor ([`floor`]).
    station: Arc<str>,
    /// How long this station's sending leases last ([`floor::SENDING_LEASE`]).
    sending_lease: std::time::Duration,
    leases: floor::Leases,
    /// How long a card taken at this station stays taken without renewal ([`claims::CARD_CLAIM`]).
    claim_ttl: std::time::Duration,
}

impl Workflow {
    /// With the built-in report fields only; see [`Workflow::with_report_settings`].
    pub fn new(store: Arc<Store>) -> Self {
        Workflow {
            store,
            decode_options: Arc::new(DecodeOptions::default()),
            report: Arc::new(ReportSettings::default()),
            ship_rules: shipping::ShipRules::default(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            outbox_changes: Arc::new(tokio::sync::watch::Sender::new(0)),
            station: Arc::from("station"),
            sending_lease: floor::SENDING_LEASE,
            leases: floor::Leases::default(),
            claim_ttl: claims::CARD_CLAIM,
        }
    }

    /// This workflow reading received bodies with `options` (`[protocol]` in the config).
    pub fn with_decode_options(mut self, options: DecodeOptions) -> Self {
        self.decode_options = Arc::new(options);
        self
    }

    pub fn decode_options(&self) -> &DecodeOptions {
        &self.decode_options
    }

    /// The configuration's report fields and external report data (the config file's
    /// `[report_fields]` and `[external_report_data]`).
    pub fn with_report_settings(mut self, settings: ReportSettings) -> Self {
        self.report = Arc::new(settings);
        self
    }

    pub fn report_settings(&self) -> &ReportSettings {
        &self.report
    }

    /// The settings' required parcel details (default: none).
    pub fn with_ship_rules(mut self, rules: shipping::ShipRules) -> Self {
        self.ship_rules = rules;
        self
    }

    pub fn ship_rules(&self) -> &shipping::ShipRules {
        &self.ship_rules
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Notified after each commit of this workflow (or a clone) that queued outbox rows. A
    /// notification given while nobody waits is kept for the next wait, so a sender that was
    /// busy sending still looks again.
    pub fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_wake.clone()
    }

    /// Called after a commit that queued (or re-queued) outbox rows.
    pub(crate) fn outbox_grew(&self) {
        self.outbox_wake.notify_one();
        self.subscribers_fed();
    }

    /// Called after a commit that may have queued rows for the bureau's subscribers only.
    pub(crate) fn subscribers_fed(&self) {
        self.outbox_changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever a commit of this workflow (or a clone) queued outbox rows, for any
    /// destination: what the senders of webhooks and forwarding sinks wait on (each with its own
    /// receiver, so none takes another's wake).
    pub fn outbox_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.outbox_changes.subscribe()
    }
}

/// The name every person-made change is audited under. Must not be blank.
pub(crate) fn check_operator(operator: &str) -> Result<&str> {
    let name = operator.trim();
    if name.is_empty() {
        return Err(WorkflowError::NoOperator);
    }
    Ok(name)
}
