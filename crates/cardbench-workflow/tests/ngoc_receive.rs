//! Receiving what NGOC really sends, through the whole ingest on a real SQLite file: offset-less
//! times, answers correlated by body, by AMQP property, by both or by neither, ERRORs naming only a
//! card, a messageId reused with another body, a REPORT_OK received twice.

use std::path::Path;
use std::sync::Arc;

use cardbench_protocol::{DecodeOptions, ErrorMessage, ReceivedZone, Subject};
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, Envelope, InboxFilter, InboxRow, Outcome};
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_store::parcels::{self, ParcelStatus};
use cardbench_workflow::{IngestOutcome, ParcelRequest, ReadoutInput, Workflow, WorkflowEvent};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

struct Bench {
    _dir: tempfile::TempDir,
    wf: Workflow,
}

fn bench() -> Bench {
    bench_with(DecodeOptions::default())
}

fn bench_with(options: DecodeOptions) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open store");
    Bench { _dir: dir, wf: Workflow::new(Arc::new(store)).with_decode_options(options) }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The simulator's request (`cardbench_sim::fixtures`), with what these tests rely on set here: one
/// lanyard.
fn request(card_id: &str, shipment_id: &str) -> Value {
    let mut body = fixtures::request_json(card_id, shipment_id);
    body["accessories"] = json!([{"articleId": "ART-LANYARD", "accessoryId": "LANYARD", "quantity": 1}]);
    body
}

/// A message as the transport hands it over: id, subject, AMQP correlation-id, body.
struct Message<'a> {
    id: String,
    subject: Subject,
    property: Option<&'a str>,
    body: Vec<u8>,
}

fn message(subject: Subject, body: &Value) -> Message<'static> {
    Message { id: uuid(), subject, property: None, body: serde_json::to_vec(body).expect("json") }
}

impl Bench {
    fn receive(&self, m: &Message<'_>) -> (IngestOutcome, Vec<WorkflowEvent>) {
        let envelope = Envelope {
            message_id: Some(&m.id),
            subject: Some(m.subject.as_str()),
            correlation_id: m.property,
            body: &m.body,
            ..Default::default()
        };
        let report = self.wf.ingest(&[envelope]).expect("ingest commits");
        (report.outcomes.into_iter().next().expect("one outcome"), report.events)
    }

    fn send(&self, subject: Subject, body: &Value) -> IngestOutcome {
        self.receive(&message(subject, body)).0
    }

    fn card(&self, card_id: &str) -> cards::CardRow {
        self.wf.store().read(|c| cards::get(c, card_id)).expect("read").expect("card exists")
    }

    fn errors_sent(&self) -> Vec<OutboxRow> {
        self.wf
            .store()
            .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::Error.as_str().into()), limit: Some(100), ..Default::default() }))
            .expect("read")
    }

    fn inbox_row(&self, id: i64) -> InboxRow {
        self.wf.store().read(|c| inbox::get(c, id)).expect("read").expect("inbox row")
    }

    fn produce(&self, card_id: &str, uid: &str) -> String {
        self.wf
            .produce("alice", card_id, &[ReadoutInput { field: "MIFARE_UID".into(), value: uid.into() }], "typed")
            .expect("produce")
            .message_id
    }

    /// A card received and produced: the messageId of its CARD_PRODUCED.
    fn produced(&self, card_id: &str, shipment_id: &str, uid: &str) -> String {
        assert!(accepted(&self.send(Subject::RequestSent, &request(card_id, shipment_id))));
        self.produce(card_id, uid)
    }

    /// Cards produced, REPORT_OK'd and shipped one parcel each: the parcels' SHIPPED messageIds.
    fn shipped_one_parcel_each(&self, cards: &[&str], shipment_id: &str) -> Vec<String> {
        for (i, card) in cards.iter().enumerate() {
            let produced = self.produced(card, shipment_id, &format!("0400000{i}"));
            assert!(accepted(&self.send(Subject::ReportOk, &json!({"cardId": card, "correlationId": produced}))));
        }
        for card in cards {
            let parcel = ParcelRequest { shipment_id: shipment_id.into(), cards: vec![(*card).into()], ..Default::default() };
            self.wf.ship("bob", &parcel).expect("ship");
        }
        let parcels = self.wf.store().read(|c| parcels::for_shipment(c, shipment_id)).expect("read");
        parcels.into_iter().map(|p| p.message_id).collect()
    }

    fn parcel_statuses(&self, shipment_id: &str) -> Vec<ParcelStatus> {
        let parcels = self.wf.store().read(|c| parcels::for_shipment(c, shipment_id)).expect("read");
        parcels.into_iter().map(|p| p.status).collect()
    }
}

fn accepted(o: &IngestOutcome) -> bool {
    matches!(o, IngestOutcome::Accepted { .. })
}

fn inbox_id(o: &IngestOutcome) -> i64 {
    match o {
        IngestOutcome::Accepted { inbox_id }
        | IngestOutcome::Duplicate { inbox_id }
        | IngestOutcome::Rejected { inbox_id, .. }
        | IngestOutcome::Ignored { inbox_id, .. } => *inbox_id,
        IngestOutcome::Retry { error } => panic!("not recorded: {error}"),
    }
}

fn ngoc_fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cardbench-protocol/tests/ngoc").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

#[test]
fn ngocs_sample_request_is_taken_with_its_time_kept_as_written_and_read_in_the_configured_zone() {
    let body = ngoc_fixture("request-sent.json");
    for (zone, ordered_at) in [("UTC", "2022-02-04T09:36:45.650Z"), ("Europe/Stockholm", "2022-02-04T08:36:45.650Z")] {
        let b = bench_with(DecodeOptions { received_time_zone: ReceivedZone::named(zone).expect("zone"), ..Default::default() });
        let m = Message { id: uuid(), subject: Subject::RequestSent, property: None, body: body.clone() };
        let (outcome, _) = b.receive(&m);
        assert!(accepted(&outcome), "{zone}: NGOC's own form is refused: {outcome:?}");
        assert!(b.errors_sent().is_empty(), "no ERROR to NGOC");
        let card = b.card("CRD-000918290");
        assert_eq!(card.ordered_at, ordered_at, "{zone}: the offset-less time is read in the configured zone");
        assert_eq!(card.request.ordered.as_received(), "2022-02-04T09:36:45.650982100", "the stored request keeps the text");
        // NGOC sends the same request again under a new messageId: still the same request, not a
        // conflict (its time compares as a time, after the stored request was read back).
        let again = Message { id: uuid(), subject: Subject::RequestSent, property: None, body: body.clone() };
        let (outcome, _) = b.receive(&again);
        assert!(matches!(outcome, IngestOutcome::Duplicate { .. }), "{zone}: {outcome:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Correlation of REPORT_OK
// ---------------------------------------------------------------------------------------------

#[test]
fn report_ok_is_matched_by_the_body_or_the_amqp_property_or_both_when_equal() {
    for form in ["body", "property", "both"] {
        let b = bench();
        let produced = b.produced("C-1", "S-1", "04A22B1C");
        let body = match form {
            "property" => json!({"cardId": "C-1"}),
            _ => json!({"cardId": "C-1", "correlationId": produced}),
        };
        let mut m = message(Subject::ReportOk, &body);
        if form != "body" {
            m.property = Some(&produced);
        }
        let (outcome, _) = b.receive(&m);
        assert!(accepted(&outcome), "{form}: {outcome:?}");
        assert_eq!(b.card("C-1").status, CardStatus::ReportOk, "{form}");
        assert!(b.errors_sent().is_empty(), "{form}: no ERROR");
    }
}

#[test]
fn report_ok_by_the_property_alone_answers_exactly_the_message_it_names() {
    // The property names a CARD_PRODUCED since superseded by a redo: that one is answered (and
    // ignored), not the one now awaiting.
    let b = bench();
    let first = b.produced("C-1", "S-1", "04A22B1C");
    let error = json!({"correlationId": first, "errorCode": "INVALID_REPORT_DATA", "details": "wrong UID", "cardId": "C-1"});
    assert!(accepted(&b.send(Subject::Error, &error)));
    b.produce("C-1", "04A22B1D");
    let mut m = message(Subject::ReportOk, &json!({"cardId": "C-1"}));
    m.property = Some(&first);
    let (outcome, _) = b.receive(&m);
    assert!(matches!(&outcome, IngestOutcome::Ignored { reason, .. } if reason.contains("superseded")), "{outcome:?}");
    assert_eq!(b.card("C-1").status, CardStatus::Produced);
}

#[test]
fn report_ok_whose_body_and_property_name_different_messages_is_refused_naming_both() {
    let b = bench();
    let produced = b.produced("C-1", "S-1", "04A22B1C");
    let other = uuid();
    let mut m = message(Subject::ReportOk, &json!({"cardId": "C-1", "correlationId": produced}));
    m.property = Some(&other);
    let (outcome, _) = b.receive(&m);
    let IngestOutcome::Rejected { code, reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(code, "INVALID_MESSAGE");
    assert!(reason.contains(&produced) && reason.contains(&other), "{reason}");
    assert_eq!(b.card("C-1").status, CardStatus::Produced, "no effect");
    let errors = b.errors_sent();
    assert_eq!(errors.len(), 1);
    let answer: ErrorMessage = serde_json::from_str(&errors[0].body).expect("ERROR body");
    assert_eq!(answer.correlation_id.as_deref(), Some(m.id.as_str()));
    assert!(answer.details.contains(&produced) && answer.details.contains(&other), "{}", answer.details);
    assert_eq!(answer.problems[0].path, "correlationId");
    assert_eq!(answer.card_id.as_deref(), Some("C-1"));
}

#[test]
fn report_ok_with_neither_is_matched_to_the_cards_one_card_produced_awaiting_an_answer() {
    let b = bench();
    let first = b.produced("C-1", "S-1", "04A22B1C");
    // NGOC refuses the first report; the card is produced again: only the second awaits.
    let error = json!({"correlationId": first, "errorCode": "INVALID_REPORT_DATA", "details": "wrong UID", "cardId": "C-1"});
    assert!(accepted(&b.send(Subject::Error, &error)));
    let second = b.produce("C-1", "04A22B1D");
    let (outcome, _) = b.receive(&message(Subject::ReportOk, &json!({"cardId": "C-1"})));
    assert!(accepted(&outcome), "{outcome:?}");
    let card = b.card("C-1");
    assert_eq!((card.status, card.produced_message_id.as_deref()), (CardStatus::ReportOk, Some(second.as_str())));
    assert!(b.errors_sent().is_empty());
}

#[test]
fn report_ok_with_neither_for_a_card_awaiting_nothing_is_kept_for_a_person_not_answered() {
    let b = bench();
    assert!(accepted(&b.send(Subject::RequestSent, &request("C-1", "S-1"))));
    let (outcome, events) = b.receive(&message(Subject::ReportOk, &json!({"cardId": "C-1"})));
    let IngestOutcome::Ignored { inbox_id, reason } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("kept for a person") && reason.contains("C-1"), "{reason}");
    assert!(
        events.iter().any(|e| matches!(e, WorkflowEvent::NeedsOperator { inbox_id: id, card_id: Some(c), .. } if id == inbox_id && c == "C-1")),
        "screens are told: {events:?}"
    );
    let row = b.inbox_row(*inbox_id);
    assert_eq!((row.outcome, row.card_id.as_deref()), (Outcome::Ignored, Some("C-1")));
    assert_eq!(b.card("C-1").status, CardStatus::Received);
    assert!(b.errors_sent().is_empty(), "not answered with an ERROR NGOC would bounce");
}

#[test]
fn report_ok_twice_is_recorded_with_no_second_effect_and_no_error() {
    let b = bench();
    let produced = b.produced("C-1", "S-1", "04A22B1C");
    assert!(accepted(&b.send(Subject::ReportOk, &json!({"cardId": "C-1", "correlationId": produced}))));
    let after_first = b.card("C-1");
    // Again with a new messageId: once correlated in the body, once by the property only, once by
    // neither.
    let mut by_property = message(Subject::ReportOk, &json!({"cardId": "C-1"}));
    by_property.property = Some(&produced);
    for m in [message(Subject::ReportOk, &json!({"cardId": "C-1", "correlationId": produced})), by_property, message(Subject::ReportOk, &json!({"cardId": "C-1"}))] {
        let (outcome, events) = b.receive(&m);
        let IngestOutcome::Ignored { inbox_id, reason } = &outcome else { panic!("{outcome:?}") };
        assert!(reason.contains("already report_ok"), "{reason}");
        assert_eq!(b.inbox_row(*inbox_id).outcome, Outcome::Ignored);
        assert!(!events.iter().any(|e| matches!(e, WorkflowEvent::ReportOk { .. })), "no second effect: {events:?}");
    }
    assert_eq!(b.card("C-1"), after_first, "the card is untouched");
    assert!(b.errors_sent().is_empty(), "no ERROR");
}

// ---------------------------------------------------------------------------------------------
// Correlation of SHIPPED_OK
// ---------------------------------------------------------------------------------------------

#[test]
fn shipped_ok_by_property_only_or_by_neither_with_one_parcel_awaiting_is_matched() {
    let b = bench();
    let shipped = b.shipped_one_parcel_each(&["C-1", "C-2"], "S-1");
    let mut m = message(Subject::ShippedOk, &json!({"shipmentId": "S-1"}));
    m.property = Some(&shipped[1]);
    assert!(accepted(&b.receive(&m).0));
    assert_eq!(b.parcel_statuses("S-1"), [ParcelStatus::AwaitingOk, ParcelStatus::ShippedOk], "exactly the parcel named");

    let b = bench();
    b.shipped_one_parcel_each(&["C-1"], "S-1");
    let body = serde_json::from_slice::<Value>(&ngoc_fixture("shipped-ok-without-correlation.json")).expect("json");
    let mut body = body;
    body["shipmentId"] = json!("S-1");
    assert!(accepted(&b.send(Subject::ShippedOk, &body)), "one parcel awaits: it is the one answered");
    assert_eq!(b.parcel_statuses("S-1"), [ParcelStatus::ShippedOk]);
    assert_eq!(b.card("C-1").status, CardStatus::ShippedOk);
    assert!(b.errors_sent().is_empty());
}

#[test]
fn shipped_ok_with_neither_while_several_parcels_await_is_kept_for_a_person() {
    let b = bench();
    b.shipped_one_parcel_each(&["C-1", "C-2"], "S-1");
    let (outcome, events) = b.receive(&message(Subject::ShippedOk, &json!({"shipmentId": "S-1"})));
    let IngestOutcome::Ignored { inbox_id, reason } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("2 parcels"), "{reason}");
    assert!(events.iter().any(|e| matches!(e, WorkflowEvent::NeedsOperator { shipment_id: Some(s), .. } if s == "S-1")), "{events:?}");
    assert_eq!(b.inbox_row(*inbox_id).shipment_id.as_deref(), Some("S-1"));
    assert_eq!(b.parcel_statuses("S-1"), [ParcelStatus::AwaitingOk, ParcelStatus::AwaitingOk], "nothing guessed");
    assert!(b.errors_sent().is_empty(), "not answered with an ERROR");
}

#[test]
fn shipped_ok_whose_body_and_property_differ_is_refused() {
    let b = bench();
    let shipped = b.shipped_one_parcel_each(&["C-1"], "S-1");
    let other = uuid();
    let mut m = message(Subject::ShippedOk, &json!({"shipmentId": "S-1", "correlationId": shipped[0]}));
    m.property = Some(&other);
    let (outcome, _) = b.receive(&m);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "INVALID_MESSAGE"), "{outcome:?}");
    assert_eq!(b.parcel_statuses("S-1"), [ParcelStatus::AwaitingOk]);
    assert_eq!(b.errors_sent().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// ERROR without correlation
// ---------------------------------------------------------------------------------------------

#[test]
fn an_error_naming_only_a_card_awaiting_report_ok_puts_it_in_report_error_and_it_can_be_made_again() {
    let b = bench();
    b.produced("C-1", "S-1", "04A22B1C");
    let error = json!({"errorCode": "INVALID_REPORT_DATA", "details": "UID unreadable", "cardId": "C-1"});
    let (outcome, events) = b.receive(&message(Subject::Error, &error));
    assert!(accepted(&outcome), "{outcome:?}");
    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::ReportError);
    assert_eq!(card.last_error_code.as_deref(), Some("INVALID_REPORT_DATA"));
    assert_eq!(card.last_error_details.as_deref(), Some("UID unreadable"));
    let row = b.inbox_row(inbox_id(&outcome));
    assert_eq!(row.card_id.as_deref(), Some("C-1"));
    assert!(row.reason.as_deref().is_some_and(|r| r.contains("C-1")), "{:?}", row.reason);
    assert!(events.iter().any(|e| matches!(e, WorkflowEvent::ReportError { card_id, .. } if card_id == "C-1")), "{events:?}");
    let detail = b.wf.card_detail("C-1").expect("detail");
    assert!(detail.next_step.contains("INVALID_REPORT_DATA") && detail.next_step.contains("produce again"), "{}", detail.next_step);
    assert!(b.errors_sent().is_empty(), "an ERROR is never answered");
    // Not stuck: produced again, reported, shippable.
    let again = b.produce("C-1", "04A22B1D");
    assert!(accepted(&b.send(Subject::ReportOk, &json!({"cardId": "C-1", "correlationId": again}))));
    b.wf.ship("bob", &ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-1".into()], ..Default::default() }).expect("ships");
}

#[test]
fn an_error_naming_only_a_card_not_awaiting_report_ok_is_shown_with_its_next_step() {
    let b = bench();
    assert!(accepted(&b.send(Subject::RequestSent, &request("C-1", "S-1"))));
    let error = json!({"errorCode": "UNKNOWN_CARD", "details": "card not in NGOC's register", "cardId": "C-1"});
    assert!(accepted(&b.send(Subject::Error, &error)));
    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::Received, "nothing to undo");
    assert_eq!(card.last_error_code.as_deref(), Some("UNKNOWN_CARD"));
    let next = b.wf.card_detail("C-1").expect("detail").next_step;
    assert!(next.contains("capture the readouts") && next.contains("UNKNOWN_CARD"), "{next}");
}

#[test]
fn an_error_correlated_by_the_amqp_property_only_reaches_the_card() {
    let b = bench();
    let produced = b.produced("C-1", "S-1", "04A22B1C");
    let mut m = message(Subject::Error, &json!({"errorCode": "REPORT_DATA_MISMATCH", "details": "ATR missing"}));
    m.property = Some(&produced);
    assert!(accepted(&b.receive(&m).0));
    assert_eq!(b.card("C-1").status, CardStatus::ReportError);
}

#[test]
fn an_error_whose_body_and_property_differ_is_recorded_but_never_answered() {
    let b = bench();
    let produced = b.produced("C-1", "S-1", "04A22B1C");
    let other = uuid();
    let mut m = message(Subject::Error, &json!({"correlationId": produced, "errorCode": "INVALID_REPORT_DATA", "details": "x"}));
    m.property = Some(&other);
    let (outcome, _) = b.receive(&m);
    assert!(matches!(&outcome, IngestOutcome::Rejected { reason, .. } if reason.contains(&other) && reason.contains(&produced)), "{outcome:?}");
    assert_eq!(b.card("C-1").status, CardStatus::Produced);
    assert!(b.errors_sent().is_empty(), "an ERROR is never answered with an ERROR");
}

// ---------------------------------------------------------------------------------------------
// Same messageId, other body
// ---------------------------------------------------------------------------------------------

#[test]
fn a_message_id_reused_with_another_body_is_a_conflict_answered_and_an_identical_one_stays_silent() {
    let b = bench();
    let first = message(Subject::RequestSent, &request("C-1", "S-1"));
    let (outcome, _) = b.receive(&first);
    let first_row = inbox_id(&outcome);
    let identical = Message { id: first.id.clone(), subject: Subject::RequestSent, property: None, body: first.body.clone() };
    assert!(matches!(b.receive(&identical).0, IngestOutcome::Duplicate { .. }));
    assert!(b.errors_sent().is_empty(), "a redelivery is silent");

    let other = Message {
        id: first.id.clone(),
        subject: Subject::RequestSent,
        property: None,
        body: serde_json::to_vec(&request("C-2", "S-1")).expect("json"),
    };
    let (outcome, events) = b.receive(&other);
    let IngestOutcome::Rejected { code, reason, inbox_id } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(code, "MESSAGE_ID_REUSED");
    assert!(reason.contains(&format!("inbox #{first_row}")), "the reason names the first record: {reason}");
    assert!(events.iter().any(|e| matches!(e, WorkflowEvent::MessageRejected { .. })));
    assert_eq!(b.inbox_row(*inbox_id).body, other.body, "the other body is kept");
    assert!(b.wf.store().read(|c| cards::get(c, "C-2")).expect("read").is_none(), "not applied");
    let errors = b.errors_sent();
    assert_eq!(errors.len(), 1, "answered");
    let answer: ErrorMessage = serde_json::from_str(&errors[0].body).expect("ERROR body");
    assert_eq!(answer.correlation_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(answer.error_code.as_str(), "MESSAGE_ID_REUSED");

    // The conflicting message delivered again: a duplicate of its own record, not answered twice.
    assert!(matches!(b.receive(&other).0, IngestOutcome::Duplicate { .. }));
    assert_eq!(b.errors_sent().len(), 1);
}

#[test]
fn a_message_id_reused_after_a_rejection_is_answered_too() {
    // The first body was refused; NGOC fixes it but keeps the messageId: silently dropping it as a
    // duplicate would lose the request without a word.
    let b = bench();
    let mut broken = request("C-1", "S-1");
    broken["address"]["countryCode"] = json!("se");
    let first = message(Subject::RequestSent, &broken);
    assert!(matches!(b.receive(&first).0, IngestOutcome::Rejected { .. }));
    let fixed = Message { id: first.id.clone(), subject: Subject::RequestSent, property: None, body: serde_json::to_vec(&request("C-1", "S-1")).expect("json") };
    let (outcome, _) = b.receive(&fixed);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "MESSAGE_ID_REUSED"), "{outcome:?}");
    assert_eq!(b.errors_sent().len(), 2, "the invalid request and the reused id are both answered");
}

#[test]
fn an_error_reusing_a_message_id_with_another_body_is_recorded_but_not_answered() {
    let b = bench();
    let first = message(Subject::Error, &json!({"errorCode": "INTERNAL_ERROR", "details": "a"}));
    assert!(accepted(&b.receive(&first).0));
    let other = Message { id: first.id.clone(), subject: Subject::Error, property: None, body: serde_json::to_vec(&json!({"errorCode": "INTERNAL_ERROR", "details": "b"})).expect("json") };
    assert!(matches!(b.receive(&other).0, IngestOutcome::Rejected { .. }));
    assert!(b.errors_sent().is_empty(), "an ERROR is never answered with an ERROR");
}

// ---------------------------------------------------------------------------------------------
// Accessories
// ---------------------------------------------------------------------------------------------

#[test]
fn accessories_of_several_requests_of_one_shipment_add_up() {
    // Each request carries its own accessory order (asyncapi.yaml says so too).
    let b = bench();
    let mut second = request("C-2", "S-1");
    second["accessories"] = json!([{"articleId": "ART-LANYARD", "accessoryId": "LANYARD", "quantity": 2}]);
    assert!(accepted(&b.send(Subject::RequestSent, &request("C-1", "S-1"))));
    assert!(accepted(&b.send(Subject::RequestSent, &second)));
    let detail = b.wf.shipment_detail("S-1").expect("detail");
    assert_eq!(detail.accessories.len(), 1);
    assert_eq!((detail.accessories[0].accessory_id.as_str(), detail.accessories[0].requested), ("LANYARD", 3));
}

#[test]
fn every_inbox_row_keeps_the_hash_of_its_body() {
    let b = bench();
    let m = message(Subject::RequestSent, &request("C-1", "S-1"));
    b.receive(&m);
    let first = b.wf.store().read(|c| inbox::first_with_message_id(c, &m.id)).expect("read").expect("row");
    assert_eq!(first.body_hash, Some(inbox::body_hash(&m.body)));
    let all = b.wf.store().read(|c| inbox::list(c, &InboxFilter::default())).expect("read");
    assert_eq!(all.len(), 1);
}
