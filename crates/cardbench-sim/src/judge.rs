//! NGOC's side of the rules: what it answers to each notification Cardbench sends. Runs inside the
//! transaction that records the notification, updates the state and queues the answer.

use std::collections::BTreeMap;

use cardbench_protocol::problem::summarise;
use cardbench_protocol::{
    CardProduced, Direction, ErrorCode, ErrorMessage, Inbound, Problem, ReportOk, Shipped, ShippedOk, Subject,
    decode_inbound, normalise_readout,
};
use cardbench_transport::OutboundMessage;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::config::{CorrelationForm, WireForms};
use crate::error::SimError;
use crate::state::{now_text, push_outbox};

/// A received message, as the carrier gave it.
pub(crate) struct Incoming {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    pub body: Vec<u8>,
    /// Fault injection: the answer to this message is lost ([`crate::FaultRates::lost_answer`]).
    pub lose_answer: bool,
}

/// The outbox's `fault` of an answer that is never sent, until its message comes again.
pub(crate) const LOST_ANSWER: &str = "lost answer";
/// The same answer once a resend of its message let it go out.
const LOST_ANSWER_RESENT: &str = "lost answer, sent when the message came again";

/// What the simulator decided about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handled {
    /// Answered (the answer is in the outbox).
    Answered,
    /// An ERROR from Cardbench: recorded, never answered, so two parties can't ping-pong errors.
    Recorded,
    /// Seen before (a redelivery after a crash between commit and settle): nothing new.
    Duplicate,
}

/// A rejection: the code of the most important problem, and every problem.
struct Rejection {
    code: ErrorCode,
    problems: Vec<Problem>,
}

impl Rejection {
    fn one(code: ErrorCode, path: &str, message: impl Into<String>) -> Rejection {
        Rejection { code, problems: vec![Problem::new(path, message)] }
    }
}

/// Problems found by the checks, each with its code; the first found decides the answer's code,
/// so the checks run in order of importance.
#[derive(Default)]
struct Findings(Vec<(ErrorCode, Problem)>);

impl Findings {
    fn add(&mut self, code: ErrorCode, path: impl Into<String>, message: impl Into<String>) {
        self.0.push((code, Problem::new(path, message)));
    }

    fn into_result(self) -> Result<(), Rejection> {
        let Some(code) = self.0.first().map(|(c, _)| c.clone()) else { return Ok(()) };
        Err(Rejection { code, problems: self.0.into_iter().map(|(_, p)| p).collect() })
    }
}

/// Records `incoming`, applies it, and queues the answer, all in `tx`.
pub(crate) fn handle(
    tx: &Transaction<'_>,
    incoming: &Incoming,
    spurious_error: bool,
    wire: &WireForms,
) -> Result<Handled, SimError> {
    if let Some(id) = &incoming.message_id {
        let seen: Option<i64> = tx.query_row("SELECT seq FROM received WHERE message_id = ?1", [id], |r| r.get(0)).optional()?;
        if seen.is_some() {
            tx.execute("INSERT INTO received_again (message_id, received_at) VALUES (?1, ?2)", params![id, now_text()])?;
            // NGOC answers a duplicate it has answered before; here only an answer that was lost.
            tx.execute(
                "UPDATE outbox SET fault = ?3
                 WHERE fault = ?2 AND message_id IN (SELECT answer_id FROM received WHERE message_id = ?1)",
                params![id, LOST_ANSWER, LOST_ANSWER_RESENT],
            )?;
            return Ok(Handled::Duplicate);
        }
    }
    let subject = incoming.subject.as_deref().and_then(Subject::parse);
    if subject == Some(Subject::Error) {
        let details = match decode_inbound(Subject::Error, &incoming.body) {
            Ok(Inbound::Error(e)) => Some(format!("{}: {}", e.error_code, e.details)),
            Ok(_) | Err(_) => Some("unreadable ERROR body".to_owned()),
        };
        tracing::info!(message_id = ?incoming.message_id, "ERROR from the partner recorded; not answered");
        record(tx, incoming, "RECORDED", None, details.as_deref(), None, (None, None))?;
        return Ok(Handled::Recorded);
    }
    let ids = peek_ids(&incoming.body);
    let Some(message_id) = incoming.message_id.clone() else {
        let rejection = Rejection::one(ErrorCode::MissingMessageId, "", "the message has no messageId");
        answer_error(tx, incoming, None, rejection, ids)?;
        return Ok(Handled::Answered);
    };
    let subject = match subject {
        Some(s) if s.direction() != Direction::FromNgoc => s,
        Some(s) => {
            let rejection = Rejection::one(ErrorCode::UnknownSubject, "", format!("{s} is sent by NGOC, not to it"));
            answer_error(tx, incoming, Some(&message_id), rejection, ids)?;
            return Ok(Handled::Answered);
        }
        None => {
            let shown = incoming.subject.as_deref().unwrap_or("(none)");
            let rejection = Rejection::one(ErrorCode::UnknownSubject, "", format!("subject {shown:?} is not a message NGOC takes"));
            answer_error(tx, incoming, Some(&message_id), rejection, ids)?;
            return Ok(Handled::Answered);
        }
    };
    let decoded = match decode_inbound(subject, &incoming.body) {
        Ok(d) => d,
        Err(problems) => {
            let rejection = Rejection { code: ErrorCode::InvalidMessage, problems };
            answer_error(tx, incoming, Some(&message_id), rejection, ids)?;
            return Ok(Handled::Answered);
        }
    };
    match decoded {
        Inbound::CardProduced(cp) => {
            let ids = (Some(cp.card_id.clone()), Some(cp.shipment_id.clone()));
            match check_card_produced(tx, &cp)? {
                Err(rejection) => answer_error(tx, incoming, Some(&message_id), rejection, ids)?,
                Ok(()) if spurious_error => {
                    // Fault injection: NGOC failing on its side; the partner is expected to retry.
                    let rejection = Rejection::one(ErrorCode::InternalError, "", "NGOC could not store the report; send it again later");
                    answer_error(tx, incoming, Some(&message_id), rejection, ids)?;
                }
                Ok(()) => {
                    apply_report(tx, &cp, &message_id)?;
                    let form = correlation_form(tx, wire.correlation, Subject::ReportOk)?;
                    let body = ReportOk { card_id: cp.card_id.clone(), correlation_id: form.in_body(&message_id) };
                    answer(tx, incoming, form.in_property(&message_id), Subject::ReportOk, &body, ids)?;
                }
            }
        }
        Inbound::Shipped(shipped) => {
            let ids = (None, Some(shipped.shipment_id.clone()));
            match check_shipped(tx, &shipped)? {
                Err(rejection) => answer_error(tx, incoming, Some(&message_id), rejection, ids)?,
                Ok(()) => {
                    apply_shipped(tx, &shipped, &message_id)?;
                    let form = correlation_form(tx, wire.correlation, Subject::ShippedOk)?;
                    let body = ShippedOk { shipment_id: shipped.shipment_id.clone(), correlation_id: form.in_body(&message_id) };
                    answer(tx, incoming, form.in_property(&message_id), Subject::ShippedOk, &body, ids)?;
                }
            }
        }
        // Only the two partner messages get here: the others were turned away by direction.
        other => {
            let rejection = Rejection::one(ErrorCode::UnknownSubject, "", format!("{} is not a message NGOC takes", other.subject()));
            answer_error(tx, incoming, Some(&message_id), rejection, ids)?;
        }
    }
    Ok(Handled::Answered)
}

struct CardRow {
    shipment_id: String,
    organisation_id: String,
    request: String,
    shipped: bool,
    report_ok: bool,
}

fn card_row(tx: &Transaction<'_>, card_id: &str) -> Result<Option<CardRow>, SimError> {
    Ok(tx
        .query_row(
            "SELECT shipment_id, organisation_id, request, shipped_at IS NOT NULL, report_ok_at IS NOT NULL FROM card WHERE card_id = ?1",
            [card_id],
            |r| {
                Ok(CardRow { shipment_id: r.get(0)?, organisation_id: r.get(1)?, request: r.get(2)?, shipped: r.get(3)?, report_ok: r.get(4)? })
            },
        )
        .optional()?)
}

/// Fields whose values identify a chip: the same value reported for two cards is a mistake.
fn is_unique_field(field: &str) -> bool {
    field.ends_with("_UID")
}

fn check_card_produced(tx: &Transaction<'_>, cp: &CardProduced) -> Result<Result<(), Rejection>, SimError> {
    let mut findings = Findings::default();
    let Some(card) = card_row(tx, &cp.card_id)? else {
        return Ok(Err(Rejection::one(ErrorCode::UnknownCard, "cardId", format!("NGOC has no request for card {}", cp.card_id))));
    };
    if card.organisation_id != cp.organisation_id {
        findings.add(ErrorCode::UnknownCard, "organisationId", format!("card {} belongs to another organisation", cp.card_id));
    }
    if card.shipment_id != cp.shipment_id {
        findings.add(ErrorCode::NotInShipment, "shipmentId", format!("card {} belongs to shipment {}", cp.card_id, card.shipment_id));
    }
    if card.shipped {
        findings.add(ErrorCode::AlreadyShipped, "cardId", format!("card {} has already been shipped", cp.card_id));
    }
    let request: cardbench_protocol::ExternalProductionData = serde_json::from_str(&card.request)?;
    let expected = &request.card.expected_report_data_fields;
    for field in expected {
        if !cp.report_data.contains_key(field) {
            findings.add(ErrorCode::ReportDataMismatch, format!("reportData.{field}"), "expected but missing");
        }
    }
    for field in cp.report_data.keys() {
        if !expected.contains(field) {
            findings.add(ErrorCode::ReportDataMismatch, format!("reportData.{field}"), "not expected for this card");
        }
    }
    for (field, value) in cp.report_data.iter().filter(|(f, _)| expected.contains(f)) {
        let path = format!("reportData.{field}");
        match normalise_readout(field, value) {
            Err(e) => findings.add(ErrorCode::InvalidReportData, path, e.to_string()),
            Ok(n) if &n.value != value => {
                findings.add(ErrorCode::InvalidReportData, path, format!("not in normal form (expected {})", n.value));
            }
            Ok(_) if is_unique_field(field) => {
                let owner: Option<String> = tx
                    .query_row("SELECT card_id FROM reported_uid WHERE field = ?1 AND value = ?2", [field, value], |r| r.get(0))
                    .optional()?;
                if let Some(other) = owner.filter(|o| *o != cp.card_id) {
                    findings.add(ErrorCode::InvalidReportData, path, format!("already reported for card {other}"));
                }
            }
            Ok(_) => {}
        }
    }
    Ok(findings.into_result())
}

fn apply_report(tx: &Transaction<'_>, cp: &CardProduced, message_id: &str) -> Result<(), SimError> {
    let data = serde_json::to_string(&cp.report_data)?;
    tx.execute(
        "UPDATE card SET report_ok_at = ?2, report_message_id = ?3, report_data = ?4 WHERE card_id = ?1",
        params![cp.card_id, now_text(), message_id, data],
    )?;
    // A card produced again (spoiled and remade) has a new chip: its old UID is free.
    tx.execute("DELETE FROM reported_uid WHERE card_id = ?1", [&cp.card_id])?;
    for (field, value) in cp.report_data.iter().filter(|(f, _)| is_unique_field(f)) {
        tx.execute("INSERT OR REPLACE INTO reported_uid (field, value, card_id) VALUES (?1, ?2, ?3)", params![field, value, cp.card_id])?;
    }
    Ok(())
}

fn check_shipped(tx: &Transaction<'_>, s: &Shipped) -> Result<Result<(), Rejection>, SimError> {
    let org: Option<String> = tx
        .query_row("SELECT organisation_id FROM shipment WHERE shipment_id = ?1", [&s.shipment_id], |r| r.get(0))
        .optional()?;
    let Some(org) = org else {
        return Ok(Err(Rejection::one(ErrorCode::UnknownShipment, "shipmentId", format!("NGOC has no shipment {}", s.shipment_id))));
    };
    let mut findings = Findings::default();
    if org != s.organisation_id {
        findings.add(ErrorCode::UnknownShipment, "organisationId", format!("shipment {} belongs to another organisation", s.shipment_id));
    }
    for (i, card_id) in s.cards.iter().enumerate() {
        let path = format!("cards[{i}]");
        match card_row(tx, card_id)? {
            None => findings.add(ErrorCode::UnknownCard, path, format!("NGOC has no request for card {card_id}")),
            Some(c) if c.shipment_id != s.shipment_id => {
                findings.add(ErrorCode::NotInShipment, path, format!("card {card_id} belongs to shipment {}", c.shipment_id));
            }
            Some(c) if c.shipped => findings.add(ErrorCode::AlreadyShipped, path, format!("card {card_id} has already been shipped")),
            Some(c) if !c.report_ok => {
                findings.add(ErrorCode::CardNotReported, path, format!("card {card_id} has no REPORT_OK"));
            }
            Some(_) => {}
        }
    }
    // The same accessory may be listed on several lines: what counts is the parcel's total.
    let mut totals: BTreeMap<(&str, &str), (u64, usize)> = BTreeMap::new();
    for (i, a) in s.accessories.iter().enumerate() {
        let entry = totals.entry((a.article_id.as_str(), a.accessory_id.as_str())).or_insert((0, i));
        entry.0 += u64::from(a.quantity);
    }
    for ((article, accessory), (quantity, first_line)) in totals {
        let path = format!("accessories[{first_line}]");
        let row: Option<(u64, u64)> = tx
            .query_row(
                "SELECT requested, shipped FROM shipment_accessory WHERE shipment_id = ?1 AND article_id = ?2 AND accessory_id = ?3",
                params![s.shipment_id, article, accessory],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            None => findings.add(ErrorCode::NotInShipment, path, format!("{accessory} ({article}) was not requested for this shipment")),
            Some((requested, shipped)) if quantity > requested.saturating_sub(shipped) => {
                let code = if shipped > 0 { ErrorCode::AlreadyShipped } else { ErrorCode::NotInShipment };
                findings.add(
                    code,
                    path,
                    format!("{quantity} × {accessory}: {requested} requested, {shipped} already shipped"),
                );
            }
            Some(_) => {}
        }
    }
    Ok(findings.into_result())
}

fn apply_shipped(tx: &Transaction<'_>, s: &Shipped, message_id: &str) -> Result<(), SimError> {
    let now = now_text();
    for card_id in &s.cards {
        tx.execute(
            "UPDATE card SET shipped_at = ?2, shipped_message_id = ?3 WHERE card_id = ?1",
            params![card_id, now, message_id],
        )?;
    }
    for a in &s.accessories {
        tx.execute(
            "UPDATE shipment_accessory SET shipped = shipped + ?4 WHERE shipment_id = ?1 AND article_id = ?2 AND accessory_id = ?3",
            params![s.shipment_id, a.article_id, a.accessory_id, a.quantity],
        )?;
    }
    Ok(())
}

/// The cardId and shipmentId of a body, if it has them, to put on an ERROR answer.
fn peek_ids(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return (None, None) };
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_owned);
    (text("cardId"), text("shipmentId"))
}

fn answer_error(
    tx: &Transaction<'_>,
    incoming: &Incoming,
    message_id: Option<&str>,
    rejection: Rejection,
    ids: (Option<String>, Option<String>),
) -> Result<(), SimError> {
    let body = ErrorMessage {
        correlation_id: message_id.map(str::to_owned),
        error_code: rejection.code.clone(),
        details: summarise(&rejection.problems),
        card_id: ids.0.clone(),
        shipment_id: ids.1.clone(),
        problems: rejection.problems,
    };
    tracing::info!(message_id = ?message_id, code = %rejection.code, "answering with ERROR");
    let message = outbound(Subject::Error, message_id, &body)?;
    push_outbox(tx, &message, incoming.lose_answer.then_some(LOST_ANSWER))?;
    record(tx, incoming, Subject::Error.as_str(), Some(rejection.code.as_str()), Some(&body.details), Some(&message.message_id), ids)
}

/// `correlation_id`: the answered messageId for the AMQP property, or None to leave it out.
fn answer<T: Serialize>(
    tx: &Transaction<'_>,
    incoming: &Incoming,
    correlation_id: Option<&str>,
    subject: Subject,
    body: &T,
    ids: (Option<String>, Option<String>),
) -> Result<(), SimError> {
    let message = outbound(subject, correlation_id, body)?;
    push_outbox(tx, &message, incoming.lose_answer.then_some(LOST_ANSWER))?;
    record(tx, incoming, subject.as_str(), None, None, Some(&message.message_id), ids)
}

/// The form one answer takes. `Rotate` turns by the number of answers of that subject already
/// queued, so the sequence is the same after a restart.
fn correlation_form(tx: &Transaction<'_>, configured: CorrelationForm, subject: Subject) -> Result<CorrelationForm, SimError> {
    if configured != CorrelationForm::Rotate {
        return Ok(configured);
    }
    let queued: i64 = tx.query_row("SELECT COUNT(*) FROM outbox WHERE subject = ?1", [subject.as_str()], |r| r.get(0))?;
    let turn: &[CorrelationForm] = match subject {
        Subject::ReportOk => &[CorrelationForm::Body, CorrelationForm::Property, CorrelationForm::Both, CorrelationForm::Neither],
        _ => &[CorrelationForm::Body, CorrelationForm::Property, CorrelationForm::Both],
    };
    Ok(turn[usize::try_from(queued).unwrap_or(0) % turn.len()])
}

impl CorrelationForm {
    fn in_body(self, answered: &str) -> Option<String> {
        matches!(self, CorrelationForm::Both | CorrelationForm::Body).then(|| answered.to_owned())
    }

    fn in_property(self, answered: &str) -> Option<&str> {
        matches!(self, CorrelationForm::Both | CorrelationForm::Property).then_some(answered)
    }
}

/// An answer: a fresh messageId, and the answered messageId as the carrier's correlation id when
/// given.
fn outbound<T: Serialize>(subject: Subject, correlation_id: Option<&str>, body: &T) -> Result<OutboundMessage, SimError> {
    Ok(OutboundMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        subject: subject.as_str().to_owned(),
        correlation_id: correlation_id.map(str::to_owned),
        content_type: "application/json".into(),
        body: serde_json::to_vec(body)?,
    })
}

fn record(
    tx: &Transaction<'_>,
    incoming: &Incoming,
    outcome: &str,
    error_code: Option<&str>,
    details: Option<&str>,
    answer_id: Option<&str>,
    ids: (Option<String>, Option<String>),
) -> Result<(), SimError> {
    tx.prepare_cached(
        "INSERT INTO received (message_id, subject, correlation_id, body, received_at, outcome, error_code, details, answer_id, card_id, shipment_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        incoming.message_id,
        incoming.subject,
        incoming.correlation_id,
        incoming.body,
        now_text(),
        outcome,
        error_code,
        details,
        answer_id,
        ids.0,
        ids.1
    ])?;
    Ok(())
}
