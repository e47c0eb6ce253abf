//! External report data (e.g. `PIN_CODE`) is secret: it is kept only until NGOC has it.
//!
//! - On screen it is masked ([`MASK`], [`mask_body`]); it is never logged (no value of it reaches
//!   a `tracing` call or an error text).
//! - Once REPORT_OK arrives, [`remove_after_report_ok`] replaces it in the store by a tombstone
//!   (`<removed after REPORT_OK 2026-…>`): the card's readouts and the body of every CARD_PRODUCED
//!   of the card. The outbox row stays (the store never deletes outbox rows) and its body stays
//!   valid JSON; the audit says which fields were removed, never their values. The store zeroes
//!   overwritten bytes (`secure_delete`), so the old value is not left in free pages.

use std::collections::BTreeSet;

use cardbench_protocol::Subject;
use cardbench_store::audit::{self, NewAudit};
use cardbench_store::cards::CardRow;
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::{Connection, readouts};

use crate::error::{Result, WorkflowError};

/// What a screen shows for a secret value; the same for every value, so it says nothing of its length.
pub const MASK: &str = "••••••";
/// The body key holding the secret values in a CARD_PRODUCED.
pub const BODY_KEY: &str = "externalReportData";
/// Audit action of the removal.
pub const REMOVED: &str = "external_report_data_removed";
/// The audit operator of the removal: NGOC's answer caused it, no person.
pub const REMOVED_BY: &str = "NGOC (REPORT_OK)";
const TOMBSTONE_PREFIX: &str = "<removed after REPORT_OK";

/// What replaces a secret value once REPORT_OK arrived at `at`.
pub fn tombstone(at: &str) -> String {
    format!("{TOMBSTONE_PREFIX} {at}>")
}

/// Whether a stored value is a tombstone (shown as is: it is no secret).
pub fn is_tombstone(value: &str) -> bool {
    value.starts_with(TOMBSTONE_PREFIX)
}

/// A stored value as a screen may show it.
pub fn mask_value(value: &str) -> String {
    if is_tombstone(value) { value.to_owned() } else { MASK.to_owned() }
}

/// An outbox body as a screen (queue inspector, `cardbench outbox`) may show it: every value of
/// `externalReportData` masked, tombstones kept. A body that is not a JSON object is returned as
/// is (it carries no external report data we wrote).
pub fn mask_body(body: &str) -> String {
    crate::cardholder::shown_body(body.as_bytes(), false)
}

/// A body whose secrets were removed must not go out again: NGOC would get tombstones for values.
pub(crate) fn refuse_resend_without_secrets(body: &str, outbox_id: i64) -> Result<()> {
    let removed = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get(BODY_KEY)?.as_object().map(|o| o.values().any(|v| v.as_str().is_some_and(is_tombstone))))
        .unwrap_or(false);
    if removed {
        return Err(WorkflowError::InvalidRequest(format!(
            "outbox message #{outbox_id} was answered by REPORT_OK and its external report data removed; it cannot be sent again"
        )));
    }
    Ok(())
}

/// Replaces the card's external report data by a tombstone in its readouts and in every
/// CARD_PRODUCED body queued for it (older productions of a spoiled card too), and audits which
/// fields went. Nothing to do for a card without external report data. Runs in the caller's
/// transaction, the one that records the REPORT_OK.
pub fn remove_after_report_ok(conn: &Connection, card: &CardRow, now: &str) -> Result<()> {
    let filter = OutboxFilter {
        subject: Some(Subject::CardProduced.as_str().to_owned()),
        card_id: Some(card.card_id.clone()),
        limit: Some(u32::MAX),
        ..Default::default()
    };
    let tombstone = tombstone(now);
    let mut fields = BTreeSet::new();
    let mut message_ids = Vec::new();
    for row in outbox::list(conn, &filter)? {
        // Our own body: if it cannot be read it holds nothing we wrote there.
        let Ok(mut body) = serde_json::from_str::<serde_json::Value>(&row.body) else { continue };
        let Some(secrets) = body.get_mut(BODY_KEY).and_then(|v| v.as_object_mut()) else { continue };
        let mut changed = false;
        for (name, value) in secrets.iter_mut() {
            if value.as_str().is_some_and(is_tombstone) {
                continue;
            }
            fields.insert(name.clone());
            *value = serde_json::Value::String(tombstone.clone());
            changed = true;
        }
        if changed {
            let json = serde_json::to_string(&body).map_err(|source| WorkflowError::Encode { what: "CARD_PRODUCED without its secrets", source })?;
            outbox::replace_body(conn, row.id, &json)?;
            message_ids.push(row.message_id);
        }
    }
    // The readouts hold the same names (the current production's values).
    for field in &fields {
        readouts::replace_value(conn, &card.card_id, field, &tombstone)?;
    }
    if fields.is_empty() {
        return Ok(());
    }
    audit::record(
        conn,
        &NewAudit {
            at: now,
            operator: REMOVED_BY,
            action: REMOVED,
            card_id: Some(&card.card_id),
            shipment_id: Some(&card.shipment_id),
            details: Some(&serde_json::json!({
                "fields": fields,
                "messageIds": message_ids,
                "replacedBy": tombstone,
                "where": ["readouts", "outbox bodies of CARD_PRODUCED"],
            })),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_shown_on_screen_has_its_external_values_masked_and_tombstones_kept() {
        let body = r#"{"cardId":"C-1","reportData":{"MIFARE_UID":"04A22B1C"},"externalReportData":{"PIN_CODE":"4711","TAN":"<removed after REPORT_OK 2026-12-07T05:00:00Z>"}}"#;
        let shown = mask_body(body);
        assert!(!shown.contains("4711"), "{shown}");
        let value: serde_json::Value = serde_json::from_str(&shown).expect("still JSON");
        assert_eq!(value["externalReportData"]["PIN_CODE"], MASK);
        assert_eq!(value["externalReportData"]["TAN"], "<removed after REPORT_OK 2026-12-07T05:00:00Z>");
        assert_eq!(value["reportData"]["MIFARE_UID"], "04A22B1C", "report data is no secret");
        assert_eq!(mask_body("not json"), "not json");
    }
}
