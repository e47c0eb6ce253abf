//! Refusing a request the bureau cannot produce: EXTERNAL_PRODUCTION_ERROR goes to NGOC, answering
//! the REQUEST_SENT (correlationId = its messageId), and the card leaves the worklist as `refused`.
//!
//! A refusal is final for that request: NGOC may send the same cardId again with new content,
//! which is then taken as a new request (`ingest::apply_request`); the same content again stays a
//! duplicate and the card stays refused.

use cardbench_protocol::ErrorCode;
use cardbench_store::audit::{self, NewAudit};
use crate::reporting::{EventData, Topic};
use cardbench_store::{inbox, readouts};
use serde::{Deserialize, Serialize};

use crate::answer::{ErrorAnswer, queue_error};
use crate::error::{Result, WorkflowError};
use crate::production::{actions, load_card};
use crate::{Workflow, check_operator};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefuseResult {
    pub card_id: String,
    /// messageId of the queued ERROR.
    pub message_id: String,
    /// messageId of the request it answers.
    pub correlation_id: Option<String>,
    pub error_code: ErrorCode,
}

pub use crate::lifecycle::why_not_refusable;

impl Workflow {
    /// Refuses `card_id`'s request with `code` (one of [`ErrorCode::REFUSALS`]) and `details` in
    /// words: queues the ERROR, marks the card refused and clears its readouts (no chip of it
    /// will be reported), audited — in one transaction.
    pub fn refuse(&self, operator: &str, card_id: &str, code: &ErrorCode, details: &str) -> Result<RefuseResult> {
        let operator = check_operator(operator)?;
        if !code.is_refusal() {
            let allowed: Vec<&str> = ErrorCode::REFUSALS.iter().map(ErrorCode::as_str).collect();
            return Err(WorkflowError::InvalidRequest(format!(
                "{code} is not a code to refuse a request with (one of: {})",
                allowed.join(", ")
            )));
        }
        // ERROR's details are one line.
        let details = details.split_whitespace().collect::<Vec<_>>().join(" ");
        if details.is_empty() {
            return Err(WorkflowError::InvalidRequest("say why the request is refused".into()));
        }
        let refused = self.store().write(|tx| {
            let card = load_card(tx, card_id)?;
            if let Some(why) = why_not_refusable(card.status) {
                return Err(WorkflowError::NotRefusable { card_id: card_id.to_owned(), status: card.status, why });
            }
            let request_message_id = inbox::get(tx, card.request_inbox_id)?.and_then(|row| row.message_id);
            let now = cardbench_store::time::now();
            let queued = queue_error(
                tx,
                ErrorAnswer {
                    correlation_id: request_message_id.as_deref(),
                    code: code.clone(),
                    details: details.clone(),
                    problems: vec![],
                    card_id: Some(card_id),
                    shipment_id: Some(&card.shipment_id),
                },
                &now,
            )?;
            readouts::clear(tx, card_id)?;
            let refused = crate::lifecycle::refused(card.status, code.as_str(), &details)
                .ok_or(WorkflowError::NotAllowed { card_id: card_id.to_owned(), status: card.status, action: "refuse" })?;
            refused.write(tx, card_id, &now)?;
            crate::reporting::emit(tx, Topic::RequestRefused, EventData::card(&card).with_error(code.as_str(), &details), &now)?;
            audit::record(
                tx,
                &NewAudit {
                    at: &now,
                    operator,
                    action: actions::REFUSED,
                    card_id: Some(card_id),
                    shipment_id: Some(&card.shipment_id),
                    details: Some(&serde_json::json!({
                        "code": code, "reason": details, "previousStatus": card.status,
                        "messageId": queued.message_id, "correlationId": request_message_id,
                    })),
                },
            )?;
            Ok(RefuseResult {
                card_id: card_id.to_owned(),
                message_id: queued.message_id,
                correlation_id: request_message_id,
                error_code: code.clone(),
            })
        })?;
        self.outbox_grew();
        Ok(refused)
    }
}
