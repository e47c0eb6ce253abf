//! Receiving: every message is validated, applied and recorded in the inbox, with any ERROR
//! answer, inside the caller's batch transaction. Nothing is dropped: a message that cannot be
//! applied is recorded as rejected and answered.
//!
//! A batch shares one transaction (one fsync for many messages); each message runs in its own
//! savepoint so an internal failure of one (e.g. a store error) undoes only that message, which the
//! caller then releases to come back later.
//!
//! Decoding a body needs no store, so it is a step of its own ([`crate::decode`]), which the
//! daemon runs while the previous batch commits.

use cardbench_protocol::{
    DecodeOptions, Direction, ErrorCode, ErrorMessage, ExternalProductionData, Inbound, Problem, ReportOk, ShippedOk,
    Subject, problem::summarise,
};
use cardbench_store::batch::{self, Savepoint};
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, Envelope, NewInboxRow, Outcome};
use cardbench_store::parcels::{self, ParcelStatus};
use cardbench_store::probe::{self, RequestProbe};
use cardbench_store::{Connection, conflicts, outbox, shipments};
use serde::{Deserialize, Serialize};

use crate::answer::{ErrorAnswer, queue_error};
use crate::correlation::{Answered, answered, conflict_problem};
use crate::decode::{self, DecodedBatch, Decoded, decode_one};
use crate::error::{Result, WorkflowError};
use crate::events::WorkflowEvent;
use crate::lifecycle;
use crate::reporting::{self, EventData, Topic};
use crate::Workflow;

/// After this many failed deliveries a message that keeps failing for an internal reason is
/// recorded as rejected and answered, instead of coming back forever.
pub const POISON_DELIVERY_COUNT: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IngestOutcome {
    Accepted { inbox_id: i64 },
    Duplicate { inbox_id: i64 },
    Rejected { inbox_id: i64, code: String, reason: String },
    Ignored { inbox_id: i64, reason: String },
    /// Not recorded: release it so it comes back. Carries the internal error.
    Retry { error: String },
}

impl IngestOutcome {
    /// Settle (accept) on the transport? Everything recorded is settled; only Retry is released.
    pub fn settle(&self) -> bool {
        !matches!(self, IngestOutcome::Retry { .. })
    }
}

#[derive(Debug, Default)]
pub struct IngestReport {
    /// One per input, in input order.
    pub outcomes: Vec<IngestOutcome>,
    /// To publish after the commit.
    pub events: Vec<WorkflowEvent>,
    /// Answers (ERROR) queued in the outbox; the workflow has woken the sender for them.
    pub answers_queued: usize,
}

/// What applying one message decided, before it is recorded.
struct Decision {
    outcome: Outcome,
    reason: Option<String>,
    code: Option<ErrorCode>,
    /// Answer with ERROR (for rejections).
    answer: Option<AnswerPlan>,
    card_id: Option<String>,
    shipment_id: Option<String>,
    events: Vec<WorkflowEvent>,
    /// Work that needs the inbox row's id.
    follow_up: Option<FollowUp>,
}

enum FollowUp {
    /// Put the new card on the worklist, pointing at the request (inbox row) that created it.
    /// Written after the inbox row rather than linked to it afterwards: a card pointing at a row
    /// not yet written is a deferred foreign-key violation, and while one is outstanding SQLite
    /// checks every inbox insert against the child tables.
    /// With the request as `request_json` keeps it, when made before the transaction.
    InsertCard(Box<ExternalProductionData>, Option<String>),
    /// A refused card requested again with new content: it takes the new request (inbox row) and
    /// is received again; the refused request stays in its history.
    ReceiveAgain(Box<ExternalProductionData>, Option<String>),
    /// Keep the conflicting request for a person to resolve.
    Conflict(String),
    /// Tell the screens NGOC reported an error.
    NgocError(String),
    /// Tell the screens a message was kept for a person to match (the reason says why).
    NeedsOperator,
}

struct AnswerPlan {
    code: ErrorCode,
    details: String,
    problems: Vec<Problem>,
}

impl Decision {
    fn accepted(card_id: Option<String>, shipment_id: Option<String>, events: Vec<WorkflowEvent>) -> Self {
        Decision { outcome: Outcome::Accepted, reason: None, code: None, answer: None, card_id, shipment_id, events, follow_up: None }
    }

    fn ignored(reason: String, card_id: Option<String>, shipment_id: Option<String>) -> Self {
        Decision { outcome: Outcome::Ignored, reason: Some(reason), code: None, answer: None, card_id, shipment_id, events: vec![], follow_up: None }
    }

    fn duplicate(reason: String, card_id: Option<String>, shipment_id: Option<String>) -> Self {
        Decision { outcome: Outcome::Duplicate, reason: Some(reason), code: None, answer: None, card_id, shipment_id, events: vec![], follow_up: None }
    }

    /// Rejected and answered with ERROR.
    fn rejected(code: ErrorCode, details: String, problems: Vec<Problem>) -> Self {
        Decision {
            outcome: Outcome::Rejected,
            reason: Some(details.clone()),
            code: Some(code.clone()),
            answer: Some(AnswerPlan { code, details, problems }),
            card_id: None,
            shipment_id: None,
            events: vec![],
            follow_up: None,
        }
    }

    /// Rejected but not answered (answering would start an ERROR ping-pong).
    fn rejected_silently(code: ErrorCode, details: String) -> Self {
        Decision {
            outcome: Outcome::Rejected,
            reason: Some(details),
            code: Some(code),
            answer: None,
            card_id: None,
            shipment_id: None,
            events: vec![],
            follow_up: None,
        }
    }

    /// Valid, but what it answers cannot be told without guessing: recorded (ignored, with the
    /// reason) and shown to a person, never answered with an ERROR NGOC would only bounce.
    fn for_operator(reason: String) -> Self {
        let mut decision = Decision::ignored(format!("kept for a person: {reason}"), None, None);
        decision.follow_up = Some(FollowUp::NeedsOperator);
        decision
    }

    /// The answer's body and AMQP property name different messages. An ERROR is not answered
    /// (no ping-pong), only recorded.
    fn correlation_conflict(subject: Subject, body: &str, property: &str) -> Self {
        let problem = conflict_problem(body, property);
        let details = format!(
            "invalid {subject}: correlationId {} (body) and correlation-id {} (AMQP property) differ",
            quoted(body),
            quoted(property)
        );
        if subject == Subject::Error {
            return Decision::rejected_silently(ErrorCode::InvalidMessage, details);
        }
        Decision::rejected(ErrorCode::InvalidMessage, details, vec![problem])
    }

    fn naming(mut self, card_id: Option<&str>, shipment_id: Option<&str>) -> Self {
        self.card_id = self.card_id.or(card_id.map(str::to_owned));
        self.shipment_id = self.shipment_id.or(shipment_id.map(str::to_owned));
        self
    }
}

impl Workflow {
    /// Applies a batch of received messages in one transaction. Returns once it is committed:
    /// then, and only then, the caller settles each message as its outcome says.
    pub fn ingest(&self, batch: &[Envelope<'_>]) -> Result<IngestReport> {
        self.ingest_decoded(batch, self.decode(batch))
    }

    /// [`Workflow::ingest`] with the bodies already decoded by [`Workflow::decode`] from this same
    /// `batch` (a body not decoded from the bytes it is now given is decoded again).
    pub fn ingest_decoded(&self, batch: &[Envelope<'_>], decoded: DecodedBatch) -> Result<IngestReport> {
        let report = self.ingest_committed(batch, decoded)?;
        if report.answers_queued > 0 {
            self.outbox_grew();
        } else if !report.events.is_empty() {
            // Events may have queued rows for the bureau's subscribers (not for NGOC).
            self.subscribers_fed();
        }
        Ok(report)
    }

    fn ingest_committed(&self, batch: &[Envelope<'_>], decoded: DecodedBatch) -> Result<IngestReport> {
        // Almost always every message of a batch records without error (a rejection is a
        // decision, not an error), so first try the batch without a savepoint per message: each
        // savepoint copies every page it touches into the statement journal. If any message fails,
        // that attempt rolls back whole and the batch is done again the careful way below,
        // decoding again (the attempt used the decoded bodies up; failures are rare).
        let options = self.decode_options();
        let mut decoded = Some(decoded);
        if batch.len() > 1
            && let Some(decoded) = decoded.take()
        {
            let attempt = self.store().write(|tx| {
                let mut report = IngestReport::default();
                for (envelope, body) in batch.iter().zip(decoded.into_bodies(batch, options)) {
                    let now = cardbench_store::time::now();
                    let (outcome, mut events, queued) = record(tx, envelope, body, &now, options)?;
                    report.answers_queued += usize::from(queued);
                    report.outcomes.push(outcome);
                    report.events.append(&mut events);
                }
                Ok::<_, WorkflowError>(report)
            });
            match attempt {
                Ok(report) => return Ok(report),
                // The store fails as a whole: message by message would fail the same way (and
                // wait out the busy timeout once more).
                Err(error) if error.store_failure().is_some() => return Err(error),
                Err(error) => tracing::debug!(%error, "batch failed as a whole; applying it message by message"),
            }
        }
        let bodies: Vec<Option<Decoded>> = match decoded {
            Some(decoded) => decoded.into_bodies(batch, options).collect(),
            None => batch.iter().map(|envelope| decode_one(envelope, options)).collect(),
        };
        self.store().write(|tx| {
            let mut report = IngestReport::default();
            for (envelope, body) in batch.iter().zip(bodies) {
                let outcome = ingest_one(tx, envelope, body, &mut report, options)?;
                report.outcomes.push(outcome);
            }
            Ok::<_, WorkflowError>(report)
        })
    }
}

/// One message inside its own savepoint.
fn ingest_one(
    conn: &Connection,
    envelope: &Envelope<'_>,
    decoded: Option<Decoded>,
    report: &mut IngestReport,
    options: &DecodeOptions,
) -> Result<IngestOutcome> {
    // Cached statements: parsing the savepoint SQL again for every message is measurable.
    batch::savepoint(conn, Savepoint::IngestOne)?;
    let now = cardbench_store::time::now();
    match record(conn, envelope, decoded, &now, options) {
        Ok((outcome, mut new_events, queued)) => {
            batch::release(conn, Savepoint::IngestOne)?;
            report.events.append(&mut new_events);
            report.answers_queued += usize::from(queued);
            Ok(outcome)
        }
        Err(error) => {
            let rolled_back =
                batch::roll_back_to(conn, Savepoint::IngestOne).and_then(|()| batch::release(conn, Savepoint::IngestOne));
            // A full disk or a lock held elsewhere is not this message's fault: the whole batch
            // fails and is tried again as it is, without a delivery counted toward the poison
            // limit.
            if error.store_failure().is_some() {
                return Err(error);
            }
            rolled_back?;
            if envelope.delivery_count + 1 < POISON_DELIVERY_COUNT {
                tracing::warn!(%error, delivery_count = envelope.delivery_count, "message failed; it will be released");
                return Ok(IngestOutcome::Retry { error: error.to_string() });
            }
            // Poison: it failed again and again. Record it with its raw body and answer, so it
            // stops coming back and a person can see it.
            tracing::error!(%error, "message failed {} times: recorded as rejected", envelope.delivery_count + 1);
            let details = format!("failed {} times in Cardbench: {error}", envelope.delivery_count + 1);
            let decision = Decision::rejected(ErrorCode::InternalError, details, vec![]);
            let (outcome, new_events, queued) = write_decision(conn, envelope, decision, &now)?;
            report.events.extend(new_events);
            report.answers_queued += usize::from(queued);
            Ok(outcome)
        }
    }
}

/// `decoded`: the body as [`Workflow::decode`] decoded it, or None to decode it here.
fn record(
    conn: &Connection,
    envelope: &Envelope<'_>,
    decoded: Option<Decoded>,
    now: &str,
    options: &DecodeOptions,
) -> Result<(IngestOutcome, Vec<WorkflowEvent>, bool)> {
    let decision = decide(conn, envelope, decoded, now, options)?;
    write_decision(conn, envelope, decision, now)
}

fn write_decision(
    conn: &Connection,
    envelope: &Envelope<'_>,
    decision: Decision,
    now: &str,
) -> Result<(IngestOutcome, Vec<WorkflowEvent>, bool)> {
    // What the message names, for filtering: from the decision, else looked up in the raw body
    // (a rejected message still names a card). Parsed only when needed: for an accepted request
    // the decision knows both, and a second parse of every body is measurable.
    let (card_id, shipment_id) = match (decision.card_id.clone(), decision.shipment_id.clone()) {
        (Some(card), Some(shipment)) => (Some(card), Some(shipment)),
        (card, shipment) => {
            let (peek_card, peek_shipment) = peek_ids(envelope.body);
            (card.or(peek_card), shipment.or(peek_shipment))
        }
    };
    let inbox_id = inbox::insert(
        conn,
        &NewInboxRow {
            envelope,
            received_at: now,
            outcome: decision.outcome,
            reason: decision.reason.as_deref(),
            card_id: card_id.as_deref(),
            shipment_id: shipment_id.as_deref(),
        },
    )?;
    let mut events = decision.events;
    let received = match &decision.follow_up {
        Some(FollowUp::InsertCard(request, _) | FollowUp::ReceiveAgain(request, _)) => Some(EventData {
            card_id: Some(request.card.card_id.clone()),
            shipment_id: Some(request.shipment_id.clone()),
            organisation_id: Some(request.organisation_id.clone()),
            article_id: Some(request.card.article_id.clone()),
            ..EventData::default()
        }),
        _ => None,
    };
    match decision.follow_up {
        Some(FollowUp::InsertCard(request, Some(request_json))) => {
            cards::insert_serialised(conn, &request, &request_json, inbox_id, now)?
        }
        Some(FollowUp::InsertCard(request, None)) => cards::insert(conn, &request, inbox_id, now)?,
        Some(FollowUp::ReceiveAgain(request, request_json)) => {
            let request_json = match request_json {
                Some(json) => json,
                None => cards::serialise_request(&request)?,
            };
            cards::receive_again(conn, &request, &request_json, inbox_id, now)?
        }
        Some(FollowUp::Conflict(card_id)) => {
            conflicts::insert(conn, &card_id, inbox_id, now)?;
        }
        Some(FollowUp::NgocError(error_code)) => events.push(WorkflowEvent::NgocError { inbox_id, error_code }),
        Some(FollowUp::NeedsOperator) => events.push(WorkflowEvent::NeedsOperator {
            inbox_id,
            reason: decision.reason.clone().unwrap_or_default(),
            card_id: card_id.clone(),
            shipment_id: shipment_id.clone(),
        }),
        None => {}
    }
    if let Some(data) = received {
        reporting::emit(conn, Topic::RequestReceived, data, now)?;
    }
    let queued = decision.answer.is_some();
    // A production request answered with ERROR (invalid, conflicting): refused, as the bureau's
    // own systems see it.
    if let Some(answer) = &decision.answer
        && envelope.subject.and_then(Subject::parse) == Some(Subject::RequestSent)
    {
        let data = EventData { card_id: card_id.clone(), shipment_id: shipment_id.clone(), ..EventData::default() };
        reporting::emit(conn, Topic::RequestRefused, data.with_error(answer.code.as_str(), &answer.details), now)?;
    }
    if let Some(answer) = decision.answer {
        queue_error(
            conn,
            ErrorAnswer {
                correlation_id: envelope.message_id,
                code: answer.code,
                details: answer.details,
                problems: answer.problems,
                card_id: card_id.as_deref(),
                shipment_id: shipment_id.as_deref(),
            },
            now,
        )?;
    }
    let reason = decision.reason.unwrap_or_default();
    let outcome = match decision.outcome {
        Outcome::Accepted => IngestOutcome::Accepted { inbox_id },
        Outcome::Duplicate => IngestOutcome::Duplicate { inbox_id },
        Outcome::Ignored => IngestOutcome::Ignored { inbox_id, reason },
        Outcome::Rejected => {
            events.push(WorkflowEvent::MessageRejected { inbox_id, reason: reason.clone() });
            IngestOutcome::Rejected { inbox_id, code: decision.code.map(|c| c.to_string()).unwrap_or_default(), reason }
        }
    };
    Ok((outcome, events, queued))
}

/// Decides what a message means and applies its effect on cards/parcels (not the inbox row).
fn decide(
    conn: &Connection,
    envelope: &Envelope<'_>,
    decoded: Option<Decoded>,
    now: &str,
    options: &DecodeOptions,
) -> Result<Decision> {
    let Some(message_id) = envelope.message_id.filter(|id| !id.trim().is_empty()) else {
        return Ok(Decision::rejected(
            ErrorCode::MissingMessageId,
            "the message has no messageId; it cannot be deduplicated".into(),
            vec![],
        ));
    };
    // A valid request (nearly every message) has its dedupe and the lookups `apply_request`
    // needs answered by one query; anything else is looked up on its own.
    let probe = match decoded.as_ref().map(|d| &d.message) {
        Some(Ok(Inbound::Request(request))) => {
            Some(probe::request(conn, message_id, &request.card.card_id, &request.shipment_id)?)
        }
        _ => None,
    };
    let first = match &probe {
        Some(probe) => probe.first_with_message_id.clone(),
        None => inbox::first_with_message_id(conn, message_id)?,
    };
    if let Some(first) = first {
        if first.same_body(conn, envelope.body)? {
            return Ok(Decision::duplicate(format!("messageId already received (inbox #{})", first.id), None, None));
        }
        return reused_message_id(conn, envelope, message_id, first.id);
    }
    let Some(subject) = envelope.subject.and_then(Subject::parse) else {
        // Quoted cut short: a subject is whatever the sender put there, of any length.
        let shown = envelope.subject.map_or("no subject".to_owned(), |s| format!("subject {:?}", quoted(s)));
        return Ok(Decision::rejected(
            ErrorCode::UnknownSubject,
            format!("{shown} is not an External Production message type"),
            vec![],
        ));
    };
    if subject.direction() == Direction::ToNgoc {
        return Ok(Decision::rejected(
            ErrorCode::UnknownSubject,
            format!("{subject} is sent by the production partner, not to it"),
            vec![],
        ));
    }
    let Decoded { message, request_json } = decoded.unwrap_or_else(|| decode::decode(subject, envelope.body, options));
    let message = match message {
        Ok(message) => message,
        Err(problems) => {
            let details = format!("invalid {subject}: {}", summarise(&problems));
            if subject == Subject::Error {
                // Answering a broken ERROR with an ERROR could bounce forever between the sides.
                return Ok(Decision::rejected_silently(ErrorCode::InvalidMessage, details));
            }
            return Ok(Decision::rejected(ErrorCode::InvalidMessage, details, problems));
        }
    };
    match message {
        Inbound::Request(request) => {
            let probe = match probe {
                Some(probe) => probe,
                None => probe::request(conn, message_id, &request.card.card_id, &request.shipment_id)?,
            };
            apply_request(conn, request, request_json, probe, now)
        }
        Inbound::ReportOk(ok) => apply_report_ok(conn, ok, envelope.correlation_id, now),
        Inbound::ShippedOk(ok) => apply_shipped_ok(conn, ok, envelope.correlation_id, now),
        Inbound::Error(error) => apply_error(conn, error, envelope.correlation_id, now),
        // Excluded by the direction check above.
        Inbound::CardProduced(_) | Inbound::Shipped(_) => Ok(Decision::rejected(
            ErrorCode::UnknownSubject,
            format!("{subject} is sent by the production partner, not to it"),
            vec![],
        )),
    }
}

/// A messageId already received with another body: not a redelivery (that has the same bytes) but
/// another message under a used id, which duplicate detection would otherwise swallow without a
/// word. Recorded and answered, so NGOC learns to send it again under a new id; an ERROR is only
/// recorded (never answered with an ERROR). A redelivery of such a message (the same other body
/// again) is a silent duplicate of its own first record.
fn reused_message_id(conn: &Connection, envelope: &Envelope<'_>, message_id: &str, first_id: i64) -> Result<Decision> {
    if let Some(same) = inbox::with_message_id_and_body(conn, message_id, envelope.body)? {
        return Ok(Decision::duplicate(format!("messageId already received with this body (inbox #{same})"), None, None));
    }
    let details = format!(
        "messageId {} was already received with another body (inbox #{first_id}); this message was not applied: send it again with a new messageId",
        quoted(message_id)
    );
    if envelope.subject == Some(Subject::Error.as_str()) {
        return Ok(Decision::rejected_silently(ErrorCode::MessageIdReused, details));
    }
    Ok(Decision::rejected(ErrorCode::MessageIdReused, details, vec![]))
}

fn apply_request(
    conn: &Connection,
    request: ExternalProductionData,
    request_json: Option<String>,
    probe: RequestProbe,
    now: &str,
) -> Result<Decision> {
    let card_id = request.card.card_id.clone();
    let shipment_id = request.shipment_id.clone();
    // Whether this request brings back a card we refused (new content after our ERROR).
    let mut again = false;
    if probe.card_exists
        && let Some(existing) = cards::get(conn, &card_id)?
    {
        if existing.request.same_content(&request) {
            let reason = if existing.status == CardStatus::Refused {
                "the refused card was requested again with identical content: it stays refused"
            } else {
                "the same card was requested again with identical content"
            };
            return Ok(Decision::duplicate(reason.into(), Some(card_id), Some(shipment_id)));
        }
        if lifecycle::next(existing.status, lifecycle::Event::ReceivedAgain).is_none() {
            let details = format!(
                "card {card_id} was already requested with different content; kept for a person to resolve"
            );
            let mut decision = Decision::rejected(ErrorCode::CardConflict, details, vec![]);
            decision.card_id = Some(card_id.clone());
            decision.shipment_id = Some(shipment_id);
            decision.events.push(WorkflowEvent::Conflict { card_id });
            decision.follow_up = Some(FollowUp::Conflict(card_id_for_conflict(&decision)));
            return Ok(decision);
        }
        again = true;
    }
    match probe.shipment_organisation {
        Some(organisation) if organisation != request.organisation_id => {
            let problems = vec![Problem::new("shipmentId", format!("shipment {shipment_id} belongs to another organisation"))];
            return Ok(Decision::rejected(ErrorCode::InvalidMessage, summarise(&problems), problems)
                .naming(Some(&card_id), Some(&shipment_id)));
        }
        Some(_) => {}
        // The shipment's first request.
        None => shipments::ensure(conn, &shipment_id, &request.organisation_id, now)?,
    }
    // The card row points at its inbox row, which is written after this decision: the follow-up
    // inserts it, inside the same savepoint.
    let events = vec![WorkflowEvent::CardReceived { card_id: card_id.clone(), shipment_id: shipment_id.clone() }];
    let mut decision = Decision::accepted(Some(card_id), Some(shipment_id), events);
    decision.follow_up = Some(if again {
        FollowUp::ReceiveAgain(Box::new(request), request_json)
    } else {
        FollowUp::InsertCard(Box::new(request), request_json)
    });
    Ok(decision)
}

fn apply_report_ok(conn: &Connection, ok: ReportOk, property: Option<&str>, now: &str) -> Result<Decision> {
    let given = answered(ok.correlation_id.as_deref(), property);
    if let Answered::Conflict { body, property } = &given {
        return Ok(Decision::correlation_conflict(Subject::ReportOk, body, property).naming(Some(&ok.card_id), None));
    }
    let Some(card) = cards::get(conn, &ok.card_id)? else {
        return Ok(Decision::rejected(ErrorCode::UnknownCard, format!("REPORT_OK names unknown card {}", ok.card_id), vec![])
            .naming(Some(&ok.card_id), None));
    };
    let name = |d: Decision| d.naming(Some(&card.card_id), Some(&card.shipment_id));
    let correlation_id = match given {
        Answered::Id(id) => id,
        // Neither body nor property says which CARD_PRODUCED: the card's own one awaiting an
        // answer is the only candidate (a redo supersedes the older ones).
        _ => match awaiting_report_ok(&card) {
            Some(produced) => produced.to_owned(),
            None if card.report_ok_at.is_some() => {
                return Ok(name(Decision::ignored(format!("REPORT_OK again without correlation: card is already {}", card.status), None, None)));
            }
            None => {
                return Ok(name(Decision::for_operator(format!(
                    "REPORT_OK names no CARD_PRODUCED and card {} awaits none (it is {})",
                    card.card_id, card.status
                ))));
            }
        },
    };
    if card.produced_message_id.as_deref() == Some(correlation_id.as_str()) {
        return Ok(match lifecycle::report_ok(card.status, now) {
            Some(report_ok) => name(accept_report_ok(conn, &card, report_ok, now)?),
            None => name(Decision::ignored(format!("REPORT_OK again: card is already {}", card.status), None, None)),
        });
    }
    if answers_older_production(conn, &correlation_id, &card.card_id)? {
        return Ok(name(Decision::ignored(
            "answers a CARD_PRODUCED superseded by a redo of this card".into(),
            None,
            None,
        )));
    }
    Ok(name(Decision::rejected(
        ErrorCode::UnknownCorrelation,
        format!("REPORT_OK correlationId {correlation_id} is not a CARD_PRODUCED we sent for card {}", card.card_id),
        vec![],
    )))
}

/// The one place a REPORT_OK takes effect: the card may now ship.
fn accept_report_ok(conn: &Connection, card: &cards::CardRow, report_ok: lifecycle::Transition<'_>, now: &str) -> Result<Decision> {
    report_ok.write(conn, &card.card_id, now)?;
    crate::secrets::remove_after_report_ok(conn, card, now)?;
    reporting::emit(conn, Topic::ReportOk, EventData::card(card), now)?;
    Ok(Decision::accepted(None, None, vec![WorkflowEvent::ReportOk { card_id: card.card_id.clone() }]))
}

/// The messageId of the card's CARD_PRODUCED that awaits NGOC's answer, if one does.
fn awaiting_report_ok(card: &cards::CardRow) -> Option<&str> {
    if lifecycle::awaits_report(card.status) { card.produced_message_id.as_deref() } else { None }
}

fn answers_older_production(conn: &Connection, correlation_id: &str, card_id: &str) -> Result<bool> {
    Ok(outbox::by_message_id(conn, correlation_id)?
        .is_some_and(|row| row.subject == Subject::CardProduced.as_str() && row.card_id.as_deref() == Some(card_id)))
}

fn apply_shipped_ok(conn: &Connection, ok: ShippedOk, property: Option<&str>, now: &str) -> Result<Decision> {
    let given = answered(ok.correlation_id.as_deref(), property);
    if let Answered::Conflict { body, property } = &given {
        return Ok(Decision::correlation_conflict(Subject::ShippedOk, body, property).naming(None, Some(&ok.shipment_id)));
    }
    if shipments::get(conn, &ok.shipment_id)?.is_none() {
        return Ok(Decision::rejected(
            ErrorCode::UnknownShipment,
            format!("SHIPPED_OK names unknown shipment {}", ok.shipment_id),
            vec![],
        )
        .naming(None, Some(&ok.shipment_id)));
    }
    let parcel = match given {
        Answered::Id(correlation_id) => {
            let parcel = parcels::by_message_id(conn, &correlation_id)?.filter(|p| p.shipment_id == ok.shipment_id);
            let Some(parcel) = parcel else {
                return Ok(Decision::rejected(
                    ErrorCode::UnknownCorrelation,
                    format!("SHIPPED_OK correlationId {correlation_id} is not a SHIPPED we sent for shipment {}", ok.shipment_id),
                    vec![],
                )
                .naming(None, Some(&ok.shipment_id)));
            };
            parcel
        }
        // Neither body nor property says which SHIPPED: only a shipment with exactly one parcel
        // awaiting SHIPPED_OK can be matched without guessing.
        _ => {
            let mut awaiting: Vec<_> = parcels::for_shipment(conn, &ok.shipment_id)?
                .into_iter()
                .filter(|p| p.status == ParcelStatus::AwaitingOk)
                .collect();
            match awaiting.len() {
                1 => awaiting.remove(0),
                0 => {
                    return Ok(Decision::for_operator(format!(
                        "SHIPPED_OK names no SHIPPED and no parcel of shipment {} awaits SHIPPED_OK",
                        ok.shipment_id
                    ))
                    .naming(None, Some(&ok.shipment_id)));
                }
                n => {
                    let ids: Vec<String> = awaiting.iter().map(|p| p.id.to_string()).collect();
                    return Ok(Decision::for_operator(format!(
                        "SHIPPED_OK names no SHIPPED and {n} parcels of shipment {} await SHIPPED_OK (parcels {})",
                        ok.shipment_id,
                        ids.join(", ")
                    ))
                    .naming(None, Some(&ok.shipment_id)));
                }
            }
        }
    };
    if parcel.status == ParcelStatus::ShippedOk {
        return Ok(Decision::ignored("parcel already has SHIPPED_OK".into(), None, Some(ok.shipment_id)));
    }
    parcels::set_answer(conn, parcel.id, ParcelStatus::ShippedOk, now, None)?;
    for card in parcel_cards(conn, &parcel.cards)? {
        if let Some(shipped_ok) = lifecycle::shipped_ok(card.status, now) {
            shipped_ok.write(conn, &card.card_id, now)?;
            reporting::emit(conn, Topic::ShippedOk, EventData::card(&card).in_parcel(parcel.id), now)?;
        }
    }
    Ok(Decision::accepted(
        None,
        Some(ok.shipment_id.clone()),
        vec![WorkflowEvent::ShippedOk { parcel_id: parcel.id, shipment_id: ok.shipment_id }],
    ))
}

fn apply_error(conn: &Connection, error: ErrorMessage, property: Option<&str>, now: &str) -> Result<Decision> {
    let code = error.error_code.to_string();
    let correlation_id = match answered(error.correlation_id.as_deref(), property) {
        Answered::Id(id) => id,
        Answered::Conflict { body, property } => {
            return Ok(Decision::correlation_conflict(Subject::Error, &body, &property)
                .naming(error.card_id.as_deref(), error.shipment_id.as_deref()));
        }
        Answered::Neither => return uncorrelated_error(conn, &error, code, now),
    };
    let correlation_id = correlation_id.as_str();
    let Some(answered) = outbox::by_message_id(conn, correlation_id)? else {
        let mut decision = Decision::rejected(
            ErrorCode::UnknownCorrelation,
            format!("ERROR correlationId {correlation_id} is not a message we sent"),
            vec![],
        );
        decision.card_id = error.card_id.clone();
        decision.shipment_id = error.shipment_id.clone();
        return Ok(decision);
    };
    let details = error.details.clone();
    match Subject::parse(&answered.subject) {
        Some(Subject::CardProduced) => {
            let card_id = answered.card_id.clone().unwrap_or_default();
            let Some(card) = cards::get(conn, &card_id)? else {
                return Ok(Decision::accepted(answered.card_id, answered.shipment_id, vec![]).with_ngoc_error(code));
            };
            if card.produced_message_id.as_deref() != Some(correlation_id) {
                return Ok(Decision::ignored(
                    "answers a CARD_PRODUCED superseded by a redo of this card".into(),
                    Some(card.card_id),
                    Some(card.shipment_id),
                ));
            }
            if let Some(report_error) = lifecycle::report_error(card.status, &code, &details) {
                report_error.write(conn, &card.card_id, now)?;
                reporting::emit(conn, Topic::CardError, EventData::card(&card).with_error(&code, &details), now)?;
            }
            let events = vec![WorkflowEvent::ReportError { card_id: card.card_id.clone(), error_code: code.clone() }];
            Ok(Decision::accepted(Some(card.card_id), Some(card.shipment_id), events).with_ngoc_error(code))
        }
        Some(Subject::Shipped) => {
            let Some(parcel) = parcels::by_message_id(conn, correlation_id)? else {
                return Ok(Decision::accepted(None, answered.shipment_id, vec![]).with_ngoc_error(code));
            };
            if parcel.status == ParcelStatus::AwaitingOk {
                parcels::set_answer(conn, parcel.id, ParcelStatus::Error, now, Some((&code, &details)))?;
                for card in parcel_cards(conn, &parcel.cards)? {
                    if let Some(ship_error) = lifecycle::ship_error(card.status, &code, &details) {
                        ship_error.write(conn, &card.card_id, now)?;
                        let data = EventData::card(&card).in_parcel(parcel.id).with_error(&code, &details);
                        reporting::emit(conn, Topic::ShipmentError, data, now)?;
                    }
                }
            }
            let events = vec![WorkflowEvent::ShipError {
                parcel_id: parcel.id,
                shipment_id: parcel.shipment_id.clone(),
                error_code: code.clone(),
            }];
            Ok(Decision::accepted(None, Some(parcel.shipment_id), events).with_ngoc_error(code))
        }
        // NGOC rejects one of our ERROR answers: record it, never answer (no ping-pong).
        _ => Ok(Decision::accepted(answered.card_id, answered.shipment_id, vec![]).with_ngoc_error(code)),
    }
}

/// The cards a parcel lists, as they are now (a card since gone is skipped).
fn parcel_cards(conn: &Connection, card_ids: &[String]) -> Result<Vec<cards::CardRow>> {
    let mut out = Vec::with_capacity(card_ids.len());
    for card_id in card_ids {
        out.extend(cards::get(conn, card_id)?);
    }
    Ok(out)
}

/// An ERROR that names no message of ours: attached to the card (or shipment) it names, so the
/// card shows it with the next step. A card awaiting REPORT_OK goes to `report_error`, from
/// which it is produced again like any refused report, so it never blocks its shipment for good.
fn uncorrelated_error(conn: &Connection, error: &ErrorMessage, code: String, now: &str) -> Result<Decision> {
    let card = match error.card_id.as_deref() {
        Some(card_id) => cards::get(conn, card_id)?,
        None => None,
    };
    let Some(card) = card else {
        // NGOC reports a problem it ties to no message and no card we know: keep it for a person,
        // named by the shipment (and card) it gives.
        return Ok(Decision::accepted(error.card_id.clone(), error.shipment_id.clone(), vec![]).with_ngoc_error(code));
    };
    let details = error.details.clone();
    let noted = lifecycle::ngoc_error_noted(card.status, &code, &details);
    noted.write(conn, &card.card_id, now)?;
    let status = noted.to;
    let event = if status == CardStatus::ReportError && card.status == CardStatus::Produced {
        reporting::emit(conn, Topic::CardError, EventData::card(&card).with_error(&code, &details), now)?;
        WorkflowEvent::ReportError { card_id: card.card_id.clone(), error_code: code.clone() }
    } else {
        WorkflowEvent::CardChanged { card_id: card.card_id.clone() }
    };
    let reason = format!("NGOC reports {code} about card {} without naming a message of ours", card.card_id);
    let mut decision = Decision::accepted(Some(card.card_id), Some(card.shipment_id), vec![event]).with_ngoc_error(code);
    decision.reason = Some(reason);
    Ok(decision)
}

impl Decision {
    fn with_ngoc_error(mut self, code: String) -> Self {
        self.reason = Some(format!("NGOC reports {code}"));
        self.code = Some(ErrorCode::parse(&code));
        self.follow_up = Some(FollowUp::NgocError(code));
        self
    }
}

/// The cardId and shipmentId a body names, read leniently so even a rejected message can be found
/// by them in the queue inspector.
fn peek_ids(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let text = |pointer: &str| value.pointer(pointer).and_then(|v| v.as_str()).map(str::to_owned);
    (text("/card/cardId").or_else(|| text("/cardId")), text("/shipmentId"))
}

fn card_id_for_conflict(decision: &Decision) -> String {
    decision.card_id.clone().unwrap_or_default()
}

/// A value from the message (subject, messageId, correlation-id) as quoted in a reason or an
/// ERROR: cut short, since the sender chose its length.
pub(crate) fn quoted(text: &str) -> std::borrow::Cow<'_, str> {
    cardbench_protocol::problem::cut_short(text, cardbench_protocol::problem::MAX_QUOTED_BYTES)
}
