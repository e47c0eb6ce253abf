//! Support actions: resending an outbox row, resolving a cardId conflict.

use cardbench_store::audit::{self, NewAudit};
use cardbench_store::{conflicts, outbox};

use crate::error::{Result, WorkflowError};
use crate::production::actions;
use crate::{Workflow, check_operator};

impl Workflow {
    /// Puts an outbox row back in line with the same messageId (the broker drops a copy it has).
    pub fn resend(&self, operator: &str, outbox_id: i64) -> Result<()> {
        let operator = check_operator(operator)?;
        self.store().write(|tx| {
            let row = outbox::get(tx, outbox_id)?
                .ok_or_else(|| WorkflowError::InvalidRequest(format!("no outbox message #{outbox_id}")))?;
            crate::secrets::refuse_resend_without_secrets(&row.body, outbox_id)?;
            if cardbench_store::retention::outbox_purged(tx, outbox_id)? {
                return Err(WorkflowError::InvalidRequest(format!(
                    "outbox message #{outbox_id} was purged after the retention period; it cannot be sent again"
                )));
            }
            let now = cardbench_store::time::now();
            outbox::resend(tx, outbox_id, &now)?;
            audit::record(
                tx,
                &NewAudit {
                    at: &now,
                    operator,
                    action: actions::RESENT,
                    card_id: row.card_id.as_deref(),
                    shipment_id: row.shipment_id.as_deref(),
                    details: Some(&serde_json::json!({ "outboxId": outbox_id, "messageId": row.message_id })),
                },
            )?;
            Ok::<_, WorkflowError>(())
        })?;
        self.outbox_grew();
        Ok(())
    }

    /// Marks a conflict resolved with what the person decided (the stored card is not changed:
    /// a different card must come as a new request from NGOC).
    pub fn resolve_conflict(&self, operator: &str, conflict_id: i64, resolution: &str) -> Result<()> {
        let operator = check_operator(operator)?;
        let resolution = resolution.trim();
        if resolution.is_empty() {
            return Err(WorkflowError::InvalidRequest("say how the conflict was resolved".into()));
        }
        self.store().write(|tx| {
            let now = cardbench_store::time::now();
            let open = conflicts::list(tx, true)?;
            let Some(conflict) = open.iter().find(|c| c.id == conflict_id) else {
                return Err(WorkflowError::InvalidRequest(format!("no open conflict #{conflict_id}")));
            };
            conflicts::resolve(tx, conflict_id, resolution, operator, &now)?;
            audit::record(
                tx,
                &NewAudit {
                    at: &now,
                    operator,
                    action: actions::CONFLICT_RESOLVED,
                    card_id: Some(&conflict.card_id),
                    shipment_id: None,
                    details: Some(&serde_json::json!({ "conflictId": conflict_id, "resolution": resolution })),
                },
            )?;
            Ok(())
        })
    }
}
