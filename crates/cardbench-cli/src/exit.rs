//! Exit codes scripts can rely on.
//!
//! 0 ok · 1 failure (I/O, database, link) · 2 usage (clap) · 3 refused by a workflow rule ·
//! 4 not found · 5 configuration invalid · 6 the card is taken at another station (wait for it to
//! be released or for its claim to run out).

use cardbench_workflow::WorkflowError;

pub const FAILURE: u8 = 1;
/// What clap gives a bad command line; also a command's own usage errors ([`Usage`]).
pub const USAGE: u8 = 2;
pub const REFUSED: u8 = 3;
pub const NOT_FOUND: u8 = 4;
pub const CONFIG: u8 = 5;
/// The card is in hand at another station of the floor (`WorkflowError::TakenElsewhere`).
pub const TAKEN: u8 = 6;

/// Marks an error as "not found" when no typed error says so.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

/// Marks an error as bad usage (exit 2) when the command line parsed but what it names cannot be
/// used (an unreadable secret file, a malformed signature).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

pub fn code_for(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<Usage>().is_some() {
        return USAGE;
    }
    if let Some(e) = error.downcast_ref::<WorkflowError>() {
        return match e {
            WorkflowError::UnknownCard(_) | WorkflowError::UnknownShipment(_) => NOT_FOUND,
            WorkflowError::TakenElsewhere { .. } => TAKEN,
            WorkflowError::Store(_) | WorkflowError::Encode { .. } | WorkflowError::File { .. } => FAILURE,
            _ => REFUSED,
        };
    }
    if error.downcast_ref::<NotFound>().is_some() {
        return NOT_FOUND;
    }
    if let Some(cardbench_store::move_in::MoveError::TargetNotEmpty { .. }) = error.downcast_ref() {
        return REFUSED;
    }
    if error.downcast_ref::<cardbench_runtime::config::ConfigError>().is_some() {
        return CONFIG;
    }
    FAILURE
}

pub fn name_for(error: &anyhow::Error) -> &'static str {
    if let Some(e) = error.downcast_ref::<WorkflowError>() {
        return e.code();
    }
    match code_for(error) {
        NOT_FOUND => "not_found",
        USAGE => "usage",
        CONFIG => "config",
        _ => "failure",
    }
}
