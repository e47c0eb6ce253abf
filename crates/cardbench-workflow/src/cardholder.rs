//! Cardholder data in message bodies: what a screen may show of a raw body, and what a purge
//! leaves of it. One walk over the JSON serves both, so the app, the CLI and the retention job
//! agree on what counts as cardholder data.
//!
//! The walk keeps what is known to be no cardholder data (ids, statuses, times, counts, codes;
//! the field *names* of card elements and readouts) and hides every other text or number value
//! — address lines, recipient, phone, company, card element values (names, photos, employee
//! numbers), external report data, and any field NGOC may add later. Hiding by default is the
//! safe direction: a new field shows as masked until someone decides it is harmless.

use cardbench_store::audit::{self, NewAudit};
use cardbench_store::inbox::{self, InboxRow};
use serde_json::Value;

use crate::error::{Result, WorkflowError};
use crate::{Workflow, check_operator, secrets};

/// Audit action of showing a received body unmasked.
pub const REVEALED: &str = "holder_data_revealed";

/// Keys whose whole value is no cardholder data, wherever they appear.
const KEPT: &[&str] = &[
    "organisationId",
    "shipmentId",
    "cardId",
    "articleId",
    "accessoryId",
    "quantity",
    "ordered",
    "produced",
    "shipped",
    "countryCode",
    "expectedReportDataFields",
    "expectedExternalReportDataFields",
    "cards",
    "accessories",
    "correlationId",
    "errorCode",
    "details",
    "problems",
    "carrier",
    "trackingId",
];

/// The readouts a CARD_PRODUCED reports (chip UIDs): shown on screen (support needs them), purged
/// with the rest when retention ends.
const REPORT_DATA: &str = "reportData";

/// What a raw message body looks like on a screen (queue inspector, `cardbench inbox|outbox`).
///
/// External report data (PIN codes…) is masked always. With `mask_holder` (the workstation's
/// `mask_holder`), every cardholder value is masked too ([`secrets::MASK`], the same for every
/// value, so nothing of its length shows), and a body that is not JSON is not shown at all (it
/// may hold anything). Without it, the body is shown as is apart from the secrets.
pub fn shown_body(body: &[u8], mask_holder: bool) -> String {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return if mask_holder {
            format!(
                "<{} bytes, not JSON: masked; reveal to see them>",
                body.len()
            )
        } else {
            String::from_utf8_lossy(body).into_owned()
        };
    };
    if !value.is_object() {
        return if mask_holder {
            secrets::MASK.to_owned()
        } else {
            String::from_utf8_lossy(body).into_owned()
        };
    }
    let changed = if mask_holder {
        hide(&mut value, &Hide::Mask)
    } else {
        mask_secrets_only(&mut value)
    };
    if changed == 0 {
        return String::from_utf8_lossy(body).into_owned();
    }
    serde_json::to_string(&value).unwrap_or_else(|_| secrets::MASK.to_owned())
}

/// "Jane Doe" → "J••• D••": enough to tell two cards apart at the bench, not enough to read a name.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => format!("{first}{}", "•".repeat(chars.count().min(6))),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a worklist search may match holder names. Not while names are masked: a search that
/// still matched them would be a name oracle (type "Jan", see which cards stay). Not even an
/// exact full name: "is Jane Doe a cardholder here?" is the question masking is there to refuse.
/// Masked, a search matches cardId and shipmentId prefixes only.
pub fn search_matches_holder(mask_holder: bool) -> bool {
    !mask_holder
}

/// Whether the worklist may be sorted by `sort`: not by holder name while names are masked (the
/// order would tell what the masks hide, as a search would). `Err` says why, for the operator.
pub fn check_sort(sort: cardbench_store::cards::SortColumn, mask_holder: bool) -> std::result::Result<(), String> {
    if sort == cardbench_store::cards::SortColumn::Holder && !search_matches_holder(mask_holder) {
        return Err("holder names are masked on this workstation, so the list cannot be sorted by them".into());
    }
    Ok(())
}

impl Workflow {
    /// A received message with its body in full, for a person who asked to see it (the CLI's
    /// `--reveal`, the queue inspector's Reveal button): audited under their name, with which
    /// message, never with what it held.
    pub fn reveal_inbox(&self, operator: &str, inbox_id: i64) -> Result<InboxRow> {
        let operator = check_operator(operator)?;
        self.store().write(|tx| {
            let row = inbox::get(tx, inbox_id)?.ok_or_else(|| {
                WorkflowError::InvalidRequest(format!("no inbox message #{inbox_id}"))
            })?;
            audit::record(
                tx,
                &NewAudit {
                    at: &cardbench_store::time::now(),
                    operator,
                    action: REVEALED,
                    card_id: row.card_id.as_deref(),
                    shipment_id: row.shipment_id.as_deref(),
                    details: Some(
                        &serde_json::json!({ "inboxId": row.id, "messageId": row.message_id }),
                    ),
                },
            )?;
            Ok(row)
        })
    }
}

/// How a walk hides a value.
pub(crate) enum Hide<'a> {
    /// For a screen: [`secrets::MASK`]; readouts stay visible, tombstones stay.
    Mask,
    /// For good: the tombstone text; readouts go too.
    Purge { tombstone: &'a str },
}

/// Hides the cardholder values of a JSON body in place; returns how many were replaced.
pub(crate) fn hide(value: &mut Value, how: &Hide<'_>) -> usize {
    match value {
        Value::Object(map) => {
            let mut n = 0;
            for (key, v) in map.iter_mut() {
                if KEPT.contains(&key.as_str()) || (key == REPORT_DATA && matches!(how, Hide::Mask))
                {
                    continue;
                }
                n += hide(v, how);
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(|v| hide(v, how)).sum(),
        Value::String(s) if is_tombstone(s) => 0,
        Value::String(_) | Value::Number(_) => {
            *value = Value::String(match how {
                Hide::Mask => secrets::MASK.to_owned(),
                Hide::Purge { tombstone } => (*tombstone).to_owned(),
            });
            1
        }
        Value::Bool(_) | Value::Null => 0,
    }
}

/// A value that already says what became of the data (REPORT_OK removal, retention purge).
fn is_tombstone(s: &str) -> bool {
    secrets::is_tombstone(s) || crate::retention::is_tombstone(s)
}

fn mask_secrets_only(value: &mut Value) -> usize {
    let Some(secrets) = value
        .get_mut(secrets::BODY_KEY)
        .and_then(Value::as_object_mut)
    else {
        return 0;
    };
    let mut n = 0;
    for v in secrets.values_mut() {
        let shown = v
            .as_str()
            .map_or_else(|| secrets::MASK.to_owned(), secrets::mask_value);
        if v.as_str() != Some(shown.as_str()) {
            *v = Value::String(shown);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"{"organisationId":"ORG-1","shipmentId":"S-1","ordered":"2026-11-20T08:30:00+01:00",
        "address":{"addressOne":"Storgatan 1","postalCode":"111 22","city":"Stockholm","countryCode":"SE","recipient":"Åsa Öberg","recipientPhone":"+46701234567"},
        "card":{"articleId":"ART","cardId":"C-1","cardElements":{"NAME":"Åsa Öberg","EMPLOYEE_NO":4711},"expectedReportDataFields":["MIFARE_UID"]},
        "accessories":[{"articleId":"ART-L","accessoryId":"LANYARD","quantity":2}],"futureField":{"email":"asa@example.org"}}"#;

    #[test]
    fn a_masked_request_shows_ids_and_counts_and_no_cardholder_value() {
        let shown = shown_body(REQUEST.as_bytes(), true);
        for hidden in [
            "Åsa",
            "Öberg",
            "Storgatan",
            "111 22",
            "Stockholm",
            "+4670",
            "4711",
            "asa@example.org",
        ] {
            assert!(!shown.contains(hidden), "{hidden} shows: {shown}");
        }
        let v: Value = serde_json::from_str(&shown).expect("still JSON");
        assert_eq!(v["card"]["cardId"], "C-1");
        assert_eq!(
            v["card"]["cardElements"]["NAME"],
            secrets::MASK,
            "element names stay, values go"
        );
        assert_eq!(v["address"]["countryCode"], "SE");
        assert_eq!(v["accessories"][0]["quantity"], 2);
        assert_eq!(v["card"]["expectedReportDataFields"][0], "MIFARE_UID");
    }

    #[test]
    fn unmasked_only_secrets_are_hidden_and_the_bytes_are_kept_otherwise() {
        assert_eq!(shown_body(REQUEST.as_bytes(), false), REQUEST);
        let produced = r#"{"cardId":"C-1","reportData":{"MIFARE_UID":"04A22B1C"},"externalReportData":{"PIN_CODE":"4711"}}"#;
        for mask in [false, true] {
            let shown = shown_body(produced.as_bytes(), mask);
            assert!(
                !shown.contains("4711") && shown.contains("04A22B1C"),
                "{mask}: {shown}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_not_shown_when_masked() {
        assert_eq!(
            shown_body(b"Jane Doe, Storgatan 1", false),
            "Jane Doe, Storgatan 1"
        );
        let shown = shown_body(b"Jane Doe, Storgatan 1", true);
        assert!(!shown.contains("Jane"), "{shown}");
    }

    #[test]
    fn a_purge_leaves_tombstones_and_takes_the_readouts_too() {
        let mut v: Value =
            serde_json::from_str(r#"{"cardId":"C-1","reportData":{"MIFARE_UID":"04A22B1C"}}"#)
                .expect("json");
        assert_eq!(
            hide(
                &mut v,
                &Hide::Purge {
                    tombstone: "<purged>"
                }
            ),
            1
        );
        assert_eq!(v["reportData"]["MIFARE_UID"], "<purged>");
        assert_eq!(v["cardId"], "C-1");
    }
}
