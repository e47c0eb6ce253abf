use cardbench_store::StoreError;
use cardbench_store::cards::CardStatus;
use thiserror::Error;

use crate::shipping::ShipProblem;

/// A readout that cannot be accepted, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadoutProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no operator name is set: every change is recorded under the operator's name")]
    NoOperator,
    #[error("unknown card {0}")]
    UnknownCard(String),
    #[error("unknown shipment {0}")]
    UnknownShipment(String),
    #[error("card {card_id} is {status}: cannot {action}")]
    NotAllowed { card_id: String, status: CardStatus, action: &'static str },
    #[error("card {card_id} is {status}: its request cannot be refused: {why}")]
    NotRefusable { card_id: String, status: CardStatus, why: &'static str },
    #[error("readouts refused: {}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    InvalidReadouts(Vec<ReadoutProblem>),
    #[error("{field} {value} was already reported for card {other_card}: is this the right card?")]
    DuplicateReadout { field: String, value: String, other_card: String },
    #[error("card {card_id} misses readouts: {}", .missing.join(", "))]
    MissingReadouts { card_id: String, missing: Vec<String> },
    #[error("parcel refused: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    ShipRefused(Vec<ShipProblem>),
    #[error("card {card_id} is taken at {station} by {operator} since {}: it cannot be produced here until that station releases it or its claim runs out", cardbench_store::time::display(.since))]
    TakenElsewhere { card_id: String, station: String, operator: String, since: String },
    #[error("{0}")]
    InvalidRequest(String),
    #[error("cannot encode {what}: {source}")]
    Encode { what: &'static str, source: serde_json::Error },
    #[error("{action} {path}: {source}")]
    File { action: &'static str, path: String, source: std::io::Error },
}

impl WorkflowError {
    /// The failure of the whole store behind this error (disk full, locked, I/O), if any: not
    /// this message's or this change's fault, and gone once the store recovers.
    pub fn store_failure(&self) -> Option<cardbench_store::StoreFailure> {
        match self {
            WorkflowError::Store(e) => e.failure(),
            _ => None,
        }
    }

    /// A stable code the UI and scripts can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            WorkflowError::Store(_) => "store",
            WorkflowError::NoOperator => "no_operator",
            WorkflowError::UnknownCard(_) => "unknown_card",
            WorkflowError::UnknownShipment(_) => "unknown_shipment",
            WorkflowError::NotAllowed { .. } => "not_allowed",
            WorkflowError::NotRefusable { .. } => "not_refusable",
            WorkflowError::InvalidReadouts(_) => "invalid_readouts",
            WorkflowError::DuplicateReadout { .. } => "duplicate_readout",
            WorkflowError::MissingReadouts { .. } => "missing_readouts",
            WorkflowError::ShipRefused(_) => "ship_refused",
            WorkflowError::TakenElsewhere { .. } => "taken_elsewhere",
            WorkflowError::InvalidRequest(_) => "invalid_request",
            WorkflowError::Encode { .. } => "encode",
            WorkflowError::File { .. } => "file",
        }
    }
}

pub type Result<T, E = WorkflowError> = std::result::Result<T, E>;
