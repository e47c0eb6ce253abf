//! ERROR answers to messages we could not accept, queued in the outbox.

use cardbench_protocol::{ErrorCode, ErrorMessage, Problem, Subject};
use cardbench_store::Connection;
use cardbench_store::outbox::{self, NewOutboxRow, Queued};

use crate::error::{Result, WorkflowError};

pub(crate) struct ErrorAnswer<'a> {
    /// messageId of the message answered, if it had one.
    pub correlation_id: Option<&'a str>,
    pub code: ErrorCode,
    pub details: String,
    pub problems: Vec<Problem>,
    pub card_id: Option<&'a str>,
    pub shipment_id: Option<&'a str>,
}

pub(crate) fn queue_error(conn: &Connection, answer: ErrorAnswer<'_>, at: &str) -> Result<Queued> {
    let body = ErrorMessage {
        correlation_id: answer.correlation_id.map(str::to_owned),
        error_code: answer.code,
        details: answer.details,
        card_id: answer.card_id.map(str::to_owned),
        shipment_id: answer.shipment_id.map(str::to_owned),
        problems: answer.problems,
    };
    let json = serde_json::to_string(&body).map_err(|source| WorkflowError::Encode { what: "ERROR", source })?;
    Ok(outbox::insert(
        conn,
        &NewOutboxRow {
            subject: Subject::Error.as_str(),
            correlation_id: answer.correlation_id,
            body: &json,
            card_id: answer.card_id,
            shipment_id: answer.shipment_id,
            created_at: at,
        },
    )?)
}
