//! The workflow rules, each positive and negative, against a real SQLite file on disk.

use std::sync::Arc;

use cardbench_protocol::{ErrorMessage, Subject};
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, Envelope, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_store::conflicts;
use cardbench_workflow::{IngestOutcome, ParcelRequest, ReadoutInput, ShipProblem, Workflow, WorkflowError};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

struct Bench {
    _dir: tempfile::TempDir,
    wf: Workflow,
}

fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open store");
    Bench { _dir: dir, wf: Workflow::new(Arc::new(store)) }
}

/// The holder's name these tests look for on the card.
const HOLDER: &str = "Åsa Öberg";

/// The simulator's request (`cardbench_sim::fixtures`), with what these tests rely on set here: the
/// holder's name and one lanyard.
fn request(card_id: &str, shipment_id: &str) -> Value {
    let mut body = fixtures::request_json(card_id, shipment_id);
    body["card"]["cardElements"]["NAME"] = json!(HOLDER);
    body["accessories"] = json!([{"articleId": "ART-LANYARD", "accessoryId": "LANYARD", "quantity": 1}]);
    body
}

impl Bench {
    fn send(&self, message_id: &str, subject: &str, body: &Value) -> IngestOutcome {
        let bytes = serde_json::to_vec(body).expect("json");
        self.send_raw(Some(message_id), Some(subject), &bytes)
    }

    fn send_raw(&self, message_id: Option<&str>, subject: Option<&str>, body: &[u8]) -> IngestOutcome {
        let envelope = Envelope { message_id, subject, body, ..Default::default() };
        let report = self.wf.ingest(&[envelope]).expect("ingest commits");
        report.outcomes.into_iter().next().expect("one outcome")
    }

    fn card(&self, card_id: &str) -> cards::CardRow {
        self.wf.store().read(|c| cards::get(c, card_id)).expect("read").expect("card exists")
    }

    fn outbox(&self, subject: Subject) -> Vec<OutboxRow> {
        let mut rows = self
            .wf
            .store()
            .read(|c| outbox::list(c, &OutboxFilter { subject: Some(subject.as_str().into()), limit: Some(1000), ..Default::default() }))
            .expect("read");
        rows.reverse();
        rows
    }

    fn last_error_answer(&self) -> ErrorMessage {
        let row = self.outbox(Subject::Error).pop().expect("an ERROR was queued");
        serde_json::from_str(&row.body).expect("ERROR body")
    }

    fn produce(&self, card_id: &str, uid: &str) -> String {
        self.wf
            .produce("alice", card_id, &[ReadoutInput { field: "MIFARE_UID".into(), value: uid.into() }], "typed")
            .expect("produce")
            .message_id
    }

    fn report_ok(&self, card_id: &str, correlation: &str) -> IngestOutcome {
        self.send(&uuid(), Subject::ReportOk.as_str(), &json!({"cardId": card_id, "correlationId": correlation}))
    }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn accepted(o: &IngestOutcome) -> bool {
    matches!(o, IngestOutcome::Accepted { .. })
}

#[test]
fn a_valid_request_becomes_a_received_card_with_its_raw_message_kept() {
    let b = bench();
    let body = request("C-1", "S-1");
    let outcome = b.send("m-1", Subject::RequestSent.as_str(), &body);
    assert!(accepted(&outcome), "{outcome:?}");
    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::Received);
    assert_eq!(card.holder.as_deref(), Some(HOLDER));
    let inbox_row = b.wf.store().read(|c| inbox::get(c, card.request_inbox_id)).expect("read").expect("linked inbox row");
    assert_eq!(inbox_row.body, serde_json::to_vec(&body).expect("json"), "the raw body must be kept byte for byte");
    assert!(b.outbox(Subject::Error).is_empty(), "a valid request is not answered");
}

#[test]
fn unknown_fields_are_tolerated_and_kept_in_the_raw_body() {
    let b = bench();
    let mut body = request("C-1", "S-1");
    body["futureField"] = json!({"x": 1});
    body["card"]["newThing"] = json!(true);
    assert!(accepted(&b.send("m-1", Subject::RequestSent.as_str(), &body)));
    let rows = b.wf.store().read(|c| inbox::list(c, &InboxFilter::default())).expect("read");
    assert!(String::from_utf8_lossy(&rows[0].body).contains("futureField"));
}

#[test]
fn the_same_message_id_again_is_a_duplicate_with_no_new_effect() {
    let b = bench();
    assert!(accepted(&b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"))));
    // The same message again (same id, same bytes). The same id with another body is not a
    // duplicate: see `ngoc_receive.rs`.
    let again = b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    assert!(matches!(again, IngestOutcome::Duplicate { .. }), "{again:?}");
    assert_eq!(b.wf.store().read(|c| cards::in_shipment(c, "S-1")).expect("read").len(), 1, "a duplicate must have no effect");
    assert!(b.outbox(Subject::Error).is_empty(), "a duplicate is not answered");
    let rows = b.wf.store().read(|c| inbox::list(c, &InboxFilter::default())).expect("read");
    assert_eq!(rows.len(), 2, "the duplicate is recorded too");
    assert_eq!(rows[0].outcome, Outcome::Duplicate);
}

#[test]
fn the_same_card_with_different_content_is_a_conflict_answered_with_error() {
    let b = bench();
    assert!(accepted(&b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"))));
    let same = b.send("m-2", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    assert!(matches!(same, IngestOutcome::Duplicate { .. }), "identical content is a duplicate, not a conflict: {same:?}");
    let mut changed = request("C-1", "S-1");
    changed["card"]["cardElements"]["NAME"] = json!("Someone Else");
    let outcome = b.send("m-3", Subject::RequestSent.as_str(), &changed);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "CARD_CONFLICT"), "{outcome:?}");
    let open = b.wf.store().read(|c| conflicts::list(c, true)).expect("read");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].card_id, "C-1");
    let answer = b.last_error_answer();
    assert_eq!(answer.correlation_id.as_deref(), Some("m-3"));
    assert_eq!(answer.card_id.as_deref(), Some("C-1"));
    assert_eq!(b.card("C-1").holder.as_deref(), Some(HOLDER), "the stored card is unchanged");
    b.wf.resolve_conflict("alice", open[0].id, "NGOC confirmed the first request").expect("resolve");
    assert!(b.wf.store().read(|c| conflicts::list(c, true)).expect("read").is_empty());
}

#[test]
fn an_invalid_request_is_consumed_recorded_and_answered_with_every_problem() {
    let b = bench();
    let mut body = request("C-1", "S-1");
    body["address"]["countryCode"] = json!("Sweden");
    body["card"]["expectedReportDataFields"] = json!([""]);
    body["address"].as_object_mut().expect("object").remove("city");
    let outcome = b.send("m-1", Subject::RequestSent.as_str(), &body);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "INVALID_MESSAGE"), "{outcome:?}");
    let answer = b.last_error_answer();
    let paths: Vec<&str> = answer.problems.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"address.countryCode"), "{paths:?}");
    assert!(paths.contains(&"card.expectedReportDataFields[0]"), "{paths:?}");
    assert!(answer.problems.len() >= 3, "every problem, not just the first: {:?}", answer.problems);
    assert_eq!(answer.correlation_id.as_deref(), Some("m-1"));
    let rows = b.wf.store().read(|c| inbox::list(c, &InboxFilter::default())).expect("read");
    assert_eq!(rows[0].outcome, Outcome::Rejected);
    assert_eq!(rows[0].card_id.as_deref(), Some("C-1"), "even a rejected message is findable by the card it names");
}

#[test]
fn garbage_unknown_subjects_and_missing_ids_are_recorded_and_answered() {
    let b = bench();
    let garbage = b.send_raw(Some("m-1"), Some(Subject::RequestSent.as_str()), b"\xff\xfe not json");
    assert!(matches!(&garbage, IngestOutcome::Rejected { code, .. } if code == "INVALID_MESSAGE"), "{garbage:?}");
    let unknown = b.send_raw(Some("m-2"), Some("EXTERNAL_PRODUCTION_SOMETHING"), b"{}");
    assert!(matches!(&unknown, IngestOutcome::Rejected { code, .. } if code == "UNKNOWN_SUBJECT"), "{unknown:?}");
    let no_subject = b.send_raw(Some("m-3"), None, b"{}");
    assert!(matches!(&no_subject, IngestOutcome::Rejected { code, .. } if code == "UNKNOWN_SUBJECT"), "{no_subject:?}");
    let no_id = b.send_raw(None, Some(Subject::RequestSent.as_str()), &serde_json::to_vec(&request("C-1", "S-1")).expect("json"));
    assert!(matches!(&no_id, IngestOutcome::Rejected { code, .. } if code == "MISSING_MESSAGE_ID"), "{no_id:?}");
    let wrong_direction = b.send(&uuid(), Subject::CardProduced.as_str(), &json!({}));
    assert!(matches!(&wrong_direction, IngestOutcome::Rejected { code, .. } if code == "UNKNOWN_SUBJECT"));
    assert_eq!(b.outbox(Subject::Error).len(), 5, "each is answered with ERROR");
    let rows = b.wf.store().read(|c| inbox::list(c, &InboxFilter::default())).expect("read");
    assert_eq!(rows.len(), 5, "nothing is dropped");
    assert_eq!(rows.iter().find(|r| r.message_id.as_deref() == Some("m-1")).expect("row").body, b"\xff\xfe not json");
}

#[test]
fn readouts_are_validated_normalised_and_unique_per_chip() {
    let b = bench();
    b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    b.send("m-2", Subject::RequestSent.as_str(), &request("C-2", "S-1"));
    let bad = b.wf.produce("alice", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A2".into() }], "typed");
    assert!(matches!(bad, Err(WorkflowError::InvalidReadouts(_))), "{bad:?}");
    let unexpected = b.wf.save_readouts("alice", "C-1", &[ReadoutInput { field: "ATR".into(), value: "3B8F".into() }], "typed");
    assert!(matches!(unexpected, Err(WorkflowError::InvalidReadouts(_))), "a field not expected is refused");
    let missing = b.wf.produce("alice", "C-1", &[], "typed");
    assert!(matches!(missing, Err(WorkflowError::MissingReadouts { .. })), "{missing:?}");
    let status = b
        .wf
        .save_readouts("alice", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04:a2:2b:1c".into() }], "scan")
        .expect("save");
    assert_eq!(status, CardStatus::ReadoutsCaptured);
    let detail = b.wf.card_detail("C-1").expect("detail");
    assert_eq!(detail.expected[0].value.as_deref(), Some("04A22B1C"));
    assert_eq!(detail.expected[0].lsb_first.as_deref(), Some("1C2BA204"));
    let dup = b.wf.produce("alice", "C-2", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04a22b1c".into() }], "typed");
    match dup {
        Err(WorkflowError::DuplicateReadout { other_card, .. }) => assert_eq!(other_card, "C-1"),
        other => panic!("a UID already reported for another card must be refused, naming it: {other:?}"),
    }
    assert!(matches!(b.wf.produce(" ", "C-1", &[], "typed"), Err(WorkflowError::NoOperator)));
}

#[test]
fn produce_queues_card_produced_with_exactly_the_expected_fields_and_report_ok_completes_it() {
    let b = bench();
    b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    let message_id = b.produce("C-1", "04 A2 2B 1C");
    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::Produced);
    let sent = b.outbox(Subject::CardProduced);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_id, message_id);
    let body: Value = serde_json::from_str(&sent[0].body).expect("json");
    assert_eq!(body["reportData"], json!({"MIFARE_UID": "04A22B1C"}));
    assert_eq!(body["cardId"], "C-1");
    let refused = b.wf.save_readouts("alice", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1D".into() }], "typed");
    assert!(matches!(refused, Err(WorkflowError::NotAllowed { .. })), "readouts are frozen while REPORT_OK is awaited");
    let wrong = b.report_ok("C-1", "not-our-message");
    assert!(matches!(&wrong, IngestOutcome::Rejected { code, .. } if code == "UNKNOWN_CORRELATION"), "{wrong:?}");
    assert!(accepted(&b.report_ok("C-1", &message_id)));
    assert_eq!(b.card("C-1").status, CardStatus::ReportOk);
    let unknown = b.report_ok("C-404", &message_id);
    assert!(matches!(&unknown, IngestOutcome::Rejected { code, .. } if code == "UNKNOWN_CARD"), "{unknown:?}");
}

#[test]
fn an_error_on_card_produced_lets_the_operator_fix_readouts_and_produce_again() {
    let b = bench();
    b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    let first = b.produce("C-1", "04A22B1C");
    let error = json!({"correlationId": first, "errorCode": "INVALID_REPORT_DATA", "details": "UID does not match chip", "cardId": "C-1"});
    assert!(accepted(&b.send(&uuid(), Subject::Error.as_str(), &error)));
    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::ReportError);
    assert_eq!(card.last_error_code.as_deref(), Some("INVALID_REPORT_DATA"));
    assert!(b.wf.card_detail("C-1").expect("detail").next_step.contains("INVALID_REPORT_DATA"));
    let second = b.wf
        .produce("alice", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1D".into() }], "typed")
        .expect("produce again after an error")
        .message_id;
    assert_ne!(first, second, "a new CARD_PRODUCED gets a fresh messageId");
    let late = b.report_ok("C-1", &first);
    assert!(matches!(late, IngestOutcome::Ignored { .. }), "a REPORT_OK for the superseded production changes nothing: {late:?}");
    assert_eq!(b.card("C-1").status, CardStatus::Produced);
    assert!(accepted(&b.report_ok("C-1", &second)));
    assert_eq!(b.card("C-1").status, CardStatus::ReportOk);
}

#[test]
fn an_unknown_error_code_from_ngoc_is_kept() {
    let b = bench();
    b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    let produced = b.produce("C-1", "04A22B1C");
    let error = json!({"correlationId": produced, "errorCode": "NGOC_FUTURE_CODE", "details": "new rule"});
    assert!(accepted(&b.send(&uuid(), Subject::Error.as_str(), &error)));
    assert_eq!(b.card("C-1").last_error_code.as_deref(), Some("NGOC_FUTURE_CODE"));
}

#[test]
fn a_spoiled_card_is_redone_and_needs_a_new_report_ok() {
    let b = bench();
    b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    let first = b.produce("C-1", "04A22B1C");
    assert!(accepted(&b.report_ok("C-1", &first)));
    assert!(matches!(b.wf.spoil("alice", "C-1", " "), Err(WorkflowError::InvalidRequest(_))), "a reason is required");
    b.wf.spoil("alice", "C-1", "chip dead after lamination").expect("spoil");
    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::Received);
    assert_eq!(card.spoil_count, 1);
    assert!(b.wf.card_detail("C-1").expect("detail").readouts.is_empty(), "readouts cleared");
    let second = b.produce("C-1", "04A22B1C");
    assert_eq!(b.card("C-1").status, CardStatus::Produced, "REPORT_OK must be awaited again");
    assert!(accepted(&b.report_ok("C-1", &second)));
    let timeline = b.wf.card_detail("C-1").expect("detail").timeline;
    assert!(timeline.iter().any(|t| t.what == "spoiled" && t.detail.as_deref().is_some_and(|d| d.contains("chip dead"))), "{timeline:?}");
}

#[test]
fn shipping_is_gated_on_report_ok_and_partial_parcels_never_ship_anything_twice() {
    let b = bench();
    for (i, card) in ["C-1", "C-2", "C-3"].iter().enumerate() {
        b.send(&format!("m-{i}"), Subject::RequestSent.as_str(), &request(card, "S-1"));
    }
    let m1 = b.produce("C-1", "04000001");
    let m2 = b.produce("C-2", "04000002");
    assert!(accepted(&b.report_ok("C-1", &m1)));
    // C-2 awaits REPORT_OK: nothing of S-1 may ship, and the refusal names C-2.
    let parcel = ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-1".into()], ..Default::default() };
    match b.wf.ship("bob", &parcel) {
        Err(WorkflowError::ShipRefused(problems)) => {
            assert_eq!(problems, vec![ShipProblem::AwaitingReportOk { cards: vec!["C-2".into()] }]);
            assert_eq!(problems[0].to_string(), "blocked: 1 card(s) await REPORT_OK: C-2");
        }
        other => panic!("a parcel must be refused while a produced card awaits REPORT_OK: {other:?}"),
    }
    assert!(b.outbox(Subject::Shipped).is_empty());
    assert!(accepted(&b.report_ok("C-2", &m2)));
    // C-3 was never produced: it may stay behind; it may not go in the parcel.
    let with_c3 = ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-1".into(), "C-3".into()], ..Default::default() };
    assert!(matches!(b.wf.ship("bob", &with_c3), Err(WorkflowError::ShipRefused(p)) if matches!(p[0], ShipProblem::NotReported { .. })));
    let first = ParcelRequest {
        shipment_id: "S-1".into(),
        cards: vec!["C-1".into()],
        accessories: vec![cardbench_protocol::Accessory { article_id: "ART-LANYARD".into(), accessory_id: "LANYARD".into(), quantity: 2 }],
        carrier: Some("PostNord".into()),
        tracking_id: Some("TRK1".into()),
    };
    let parcel1 = b.wf.ship("bob", &first).expect("partial delivery of C-1");
    let shipped: Value = serde_json::from_str(&b.outbox(Subject::Shipped)[0].body).expect("json");
    assert_eq!(shipped["cards"], json!(["C-1"]), "exactly the parcel's cards");
    assert_eq!(shipped["accessories"][0]["quantity"], 2);
    assert_eq!(shipped["carrier"], "PostNord");
    assert_eq!(b.card("C-1").status, CardStatus::Shipped);
    let again = ParcelRequest {
        shipment_id: "S-1".into(),
        cards: vec!["C-1".into(), "C-2".into()],
        accessories: vec![cardbench_protocol::Accessory { article_id: "ART-LANYARD".into(), accessory_id: "LANYARD".into(), quantity: 2 }],
        ..Default::default()
    };
    match b.wf.ship("bob", &again) {
        Err(WorkflowError::ShipRefused(problems)) => {
            assert!(problems.iter().any(|p| matches!(p, ShipProblem::AlreadyShipped { card_id, .. } if card_id == "C-1")), "{problems:?}");
            assert!(problems.iter().any(|p| matches!(p, ShipProblem::TooManyAccessories { remaining: 1, .. })), "3 lanyards requested, 2 shipped: {problems:?}");
        }
        other => panic!("nothing may be shipped twice: {other:?}"),
    }
    let parcel2 = b
        .wf
        .ship("bob", &ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-2".into()], ..Default::default() })
        .expect("second partial delivery");
    // SHIPPED_OK, one per parcel.
    let ok = json!({"shipmentId": "S-1", "correlationId": parcel1.message_id});
    assert!(accepted(&b.send(&uuid(), Subject::ShippedOk.as_str(), &ok)));
    assert_eq!(b.card("C-1").status, CardStatus::ShippedOk);
    assert_eq!(b.card("C-2").status, CardStatus::Shipped, "SHIPPED_OK answers one parcel only");
    let wrong_shipment = json!({"shipmentId": "S-9", "correlationId": parcel2.message_id});
    let outcome = b.send(&uuid(), Subject::ShippedOk.as_str(), &wrong_shipment);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "UNKNOWN_SHIPMENT"), "{outcome:?}");
    let error = json!({"correlationId": parcel2.message_id, "errorCode": "CARD_NOT_REPORTED", "details": "no"});
    assert!(accepted(&b.send(&uuid(), Subject::Error.as_str(), &error)));
    assert_eq!(b.card("C-2").status, CardStatus::ShipError);
    let detail = b.wf.shipment_detail("S-1").expect("detail");
    assert_eq!(detail.parcels.len(), 2);
    assert_eq!(detail.gate.ready, vec!["C-2".to_string()], "a card of a refused parcel may go out again");
    assert_eq!(detail.accessories[0].shipped, 2);
}

#[test]
fn an_error_for_a_message_we_never_sent_is_answered_but_an_error_about_our_error_is_not() {
    let b = bench();
    let stray = json!({"correlationId": "never-sent", "errorCode": "UNKNOWN_CARD", "details": "?"});
    let outcome = b.send(&uuid(), Subject::Error.as_str(), &stray);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "UNKNOWN_CORRELATION"), "{outcome:?}");
    let our_error = b.outbox(Subject::Error).pop().expect("answered");
    let about_ours = json!({"correlationId": our_error.message_id, "errorCode": "UNKNOWN_CORRELATION", "details": "?"});
    assert!(accepted(&b.send(&uuid(), Subject::Error.as_str(), &about_ours)));
    assert_eq!(b.outbox(Subject::Error).len(), 1, "an ERROR about our ERROR is recorded, never answered (no ping-pong)");
    let broken_error = b.send_raw(Some(&uuid()), Some(Subject::Error.as_str()), b"{\"details\": 5}");
    assert!(matches!(broken_error, IngestOutcome::Rejected { .. }));
    assert_eq!(b.outbox(Subject::Error).len(), 1, "an invalid ERROR is recorded, not answered");
}

#[test]
fn a_batch_commits_together_and_the_raw_of_each_message_is_kept() {
    let b = bench();
    let bodies: Vec<Vec<u8>> = (0..50).map(|i| serde_json::to_vec(&request(&format!("C-{i}"), "S-1")).expect("json")).collect();
    let ids: Vec<String> = (0..50).map(|i| format!("m-{i}")).collect();
    let batch: Vec<Envelope> = bodies
        .iter()
        .zip(&ids)
        .map(|(body, id)| Envelope { message_id: Some(id), subject: Some(Subject::RequestSent.as_str()), body, ..Default::default() })
        .collect();
    let report = b.wf.ingest(&batch).expect("ingest");
    assert_eq!(report.outcomes.len(), 50);
    assert!(report.outcomes.iter().all(accepted));
    let detail = b.wf.shipment_detail("S-1").expect("detail");
    assert_eq!(detail.cards.len(), 50);
    assert_eq!(detail.accessories[0].requested, 50);
}

#[test]
fn a_shipment_id_reused_by_another_organisation_is_refused() {
    let b = bench();
    b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    let mut other = request("C-2", "S-1");
    other["organisationId"] = json!("ORG-2");
    let outcome = b.send("m-2", Subject::RequestSent.as_str(), &other);
    assert!(matches!(&outcome, IngestOutcome::Rejected { code, .. } if code == "INVALID_MESSAGE"), "{outcome:?}");
}

#[test]
fn every_person_made_change_is_audited_under_the_operator() {
    let b = bench();
    b.send("m-1", Subject::RequestSent.as_str(), &request("C-1", "S-1"));
    b.produce("C-1", "04A22B1C");
    b.wf.spoil("carol", "C-1", "misprint").expect("spoil");
    let rows = b.wf.store().read(|c| cardbench_store::audit::list(c, &Default::default())).expect("read");
    let seen: Vec<(&str, &str)> = rows.iter().map(|r| (r.operator.as_str(), r.action.as_str())).collect();
    assert_eq!(seen, vec![("alice", "produced"), ("carol", "spoiled")]);
}

#[test]
fn a_message_that_fails_is_released_without_touching_the_rest_of_its_batch_and_recorded_once_it_is_poison() {
    let b = bench();
    // A failure that is not a decision: the store refuses this one card (as a full disk or a
    // broken index would), every time.
    b.wf.store()
        .write(|tx| {
            let trigger = if cardbench_store::testing::on_postgres() {
                "CREATE FUNCTION fail_one() RETURNS trigger LANGUAGE plpgsql AS
                     'BEGIN RAISE EXCEPTION ''simulated storage failure''; END';
                 CREATE TRIGGER fail_one BEFORE INSERT ON cards FOR EACH ROW
                     WHEN (NEW.card_id = 'C-FAIL') EXECUTE FUNCTION fail_one();"
            } else {
                "CREATE TRIGGER fail_one BEFORE INSERT ON cards WHEN NEW.card_id = 'C-FAIL'
                 BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END;"
            };
            tx.execute_batch(trigger).map_err(cardbench_store::StoreError::from)
        })
        .expect("trigger");
    let bodies: Vec<Vec<u8>> =
        ["C-1", "C-FAIL", "C-2"].iter().map(|c| serde_json::to_vec(&request(c, "S-1")).expect("json")).collect();
    let ids = [uuid(), uuid(), uuid()];
    let batch = |delivery_count: u32| -> Vec<Envelope<'_>> {
        bodies
            .iter()
            .zip(&ids)
            .map(|(body, id)| Envelope {
                message_id: Some(id),
                subject: Some(Subject::RequestSent.as_str()),
                body,
                delivery_count,
                ..Default::default()
            })
            .collect()
    };

    let first = b.wf.ingest(&batch(0)).expect("the batch commits");
    assert!(accepted(&first.outcomes[0]) && accepted(&first.outcomes[2]), "{:?}", first.outcomes);
    assert!(matches!(&first.outcomes[1], IngestOutcome::Retry { error } if error.contains("simulated storage failure")), "{:?}", first.outcomes);
    assert!(!first.outcomes[1].settle(), "a failed message is released, to come back");
    b.card("C-1");
    b.card("C-2");
    let inbox_rows = b.wf.store().read(|c| inbox::list(c, &InboxFilter { limit: Some(100), ..Default::default() })).expect("inbox");
    assert_eq!(inbox_rows.len(), 2, "nothing recorded for the failed message");

    // Redelivered until the poison count: then recorded as rejected, answered, and settled.
    let last = b.wf.ingest(&batch(4)).expect("the batch commits");
    assert!(matches!(last.outcomes[0], IngestOutcome::Duplicate { .. }) && matches!(last.outcomes[2], IngestOutcome::Duplicate { .. }), "{:?}", last.outcomes);
    assert!(matches!(&last.outcomes[1], IngestOutcome::Rejected { code, .. } if code == "INTERNAL_ERROR"), "{:?}", last.outcomes);
    assert!(last.outcomes[1].settle());
    let errors = b.outbox(Subject::Error);
    assert_eq!(errors.len(), 1, "the poison message is answered once");
    assert_eq!(errors[0].correlation_id.as_deref(), Some(ids[1].as_str()));
}

#[test]
fn bodies_decoded_ahead_are_used_only_for_the_bytes_they_were_decoded_from() {
    let b = bench();
    let valid: Vec<Vec<u8>> = (0..2).map(|i| serde_json::to_vec(&request(&format!("C-{i}"), "S-1")).expect("json")).collect();
    let mut broken = request("C-9", "S-1");
    broken["address"]["countryCode"] = json!("se");
    let invalid = serde_json::to_vec(&broken).expect("json");
    let subject = Some(Subject::RequestSent.as_str());
    let decoded_from = vec![
        Envelope { message_id: Some("m-1"), subject, body: &valid[0], ..Default::default() },
        Envelope { message_id: Some("m-2"), subject, body: &valid[1], ..Default::default() },
    ];
    let decoded = b.wf.decode(&decoded_from);
    // The same bytes for the first message, other bytes (an invalid body) for the second: the
    // second must be judged on what it now carries, not on what was decoded.
    let applied_to = vec![
        Envelope { message_id: Some("m-1"), subject, body: &valid[0], ..Default::default() },
        Envelope { message_id: Some("m-3"), subject, body: &invalid, ..Default::default() },
    ];
    let report = b.wf.ingest_decoded(&applied_to, decoded).expect("ingest");
    assert!(accepted(&report.outcomes[0]), "{:?}", report.outcomes);
    assert!(
        matches!(&report.outcomes[1], IngestOutcome::Rejected { reason, .. } if reason.contains("address.countryCode")),
        "{:?}",
        report.outcomes
    );
    b.card("C-0");
    assert!(b.wf.store().read(|c| cards::get(c, "C-1")).expect("read").is_none(), "nothing of the body that was replaced");
}
