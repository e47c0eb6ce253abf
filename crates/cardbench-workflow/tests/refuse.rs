//! The partner refuses a request, and the REPORT_OK gate counts the right cards: against a real
//! SQLite file on disk.

use std::sync::Arc;

use cardbench_protocol::{Accessory, ErrorCode, ErrorMessage, Subject};
use cardbench_store::audit::{self, AuditFilter};
use cardbench_store::cards::{self, CardStatus, WorklistFilter};
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_store::shipments;
use cardbench_workflow::{
    GateNoteKind, IngestOutcome, ParcelRequest, ReadoutInput, ShipProblem, Workflow, WorkflowError,
};
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

/// The simulator's request (`cardbench_sim::fixtures`), with what these tests rely on set here: one
/// lanyard.
fn request(card_id: &str, shipment_id: &str) -> Value {
    let mut body = fixtures::request_json(card_id, shipment_id);
    body["accessories"] = json!([{"articleId": "ART-LANYARD", "accessoryId": "LANYARD", "quantity": 1}]);
    body
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Bench {
    fn send(&self, message_id: &str, subject: Subject, body: &Value) -> IngestOutcome {
        let bytes = serde_json::to_vec(body).expect("json");
        let envelope =
            cardbench_store::inbox::Envelope { message_id: Some(message_id), subject: Some(subject.as_str()), body: &bytes, ..Default::default() };
        self.wf.ingest(&[envelope]).expect("ingest commits").outcomes.into_iter().next().expect("one outcome")
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

    fn produce(&self, card_id: &str, uid: &str) -> String {
        self.wf
            .produce("alice", card_id, &[ReadoutInput { field: "MIFARE_UID".into(), value: uid.into() }], "typed")
            .expect("produce")
            .message_id
    }

    fn report_ok(&self, card_id: &str, correlation: &str) {
        let outcome = self.send(&uuid(), Subject::ReportOk, &json!({"cardId": card_id, "correlationId": correlation}));
        assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
    }

    /// NGOC answers a CARD_PRODUCED with ERROR: the card goes to `report_error`.
    fn ngoc_error(&self, card_id: &str, correlation: &str, code: &str) {
        let body = json!({"correlationId": correlation, "errorCode": code, "details": "UID does not match chip", "cardId": card_id});
        let outcome = self.send(&uuid(), Subject::Error, &body);
        assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
        assert_eq!(self.card(card_id).status, CardStatus::ReportError);
    }

    fn refuse(&self, card_id: &str, code: ErrorCode) -> Result<cardbench_workflow::RefuseResult, WorkflowError> {
        self.wf.refuse("alice", card_id, &code, "the name element is longer than the article prints")
    }
}

#[test]
fn refusing_a_request_queues_exactly_one_error_answering_it_and_audits_who_and_why() {
    let b = bench();
    b.send("req-1", Subject::RequestSent, &request("C-1", "S-1"));
    let refused = b.refuse("C-1", ErrorCode::CardLayoutMismatch).expect("a received card may be refused");
    assert_eq!(refused.correlation_id.as_deref(), Some("req-1"));

    let errors = b.errors_sent();
    assert_eq!(errors.len(), 1, "exactly one ERROR: {errors:?}");
    let row = &errors[0];
    assert_eq!(row.message_id, refused.message_id);
    assert_eq!(row.correlation_id.as_deref(), Some("req-1"), "the AMQP correlation-id is the request's messageId");
    assert_eq!((row.card_id.as_deref(), row.shipment_id.as_deref()), (Some("C-1"), Some("S-1")));
    let body: ErrorMessage = serde_json::from_str(&row.body).expect("ERROR body");
    assert_eq!(body.error_code, ErrorCode::CardLayoutMismatch);
    assert_eq!(body.correlation_id.as_deref(), Some("req-1"));
    assert_eq!((body.card_id.as_deref(), body.shipment_id.as_deref()), (Some("C-1"), Some("S-1")));
    assert_eq!(body.details, "the name element is longer than the article prints");
    let as_sent: Value = serde_json::from_str(&row.body).expect("json");
    assert_eq!(as_sent["errorCode"], "CARD_LAYOUT_MISMATCH");

    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::Refused);
    assert_eq!(card.last_error_code.as_deref(), Some("CARD_LAYOUT_MISMATCH"));
    let audit = b.wf.store().read(|c| audit::list(c, &AuditFilter { card_id: Some("C-1".into()), ..Default::default() })).expect("read");
    let entry = audit.iter().find(|a| a.action == "refused").expect("the refusal is audited");
    assert_eq!(entry.operator, "alice");
    let details = entry.details.as_ref().expect("details");
    assert_eq!(details["code"], "CARD_LAYOUT_MISMATCH");
    assert_eq!(details["reason"], "the name element is longer than the article prints");
    let detail = b.wf.card_detail("C-1").expect("detail");
    assert!(detail.next_step.contains("refused"), "{}", detail.next_step);
    assert!(detail.timeline.iter().any(|t| t.what == "refused"), "{:?}", detail.timeline);
}

#[test]
fn a_refused_card_leaves_the_waiting_worklist_and_cannot_be_produced_or_spoiled() {
    let b = bench();
    b.send("req-1", Subject::RequestSent, &request("C-1", "S-1"));
    b.send("req-2", Subject::RequestSent, &request("C-2", "S-1"));
    b.wf
        .save_readouts("alice", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1C".into() }], "typed")
        .expect("readouts captured");
    assert_eq!(b.card("C-1").status, CardStatus::ReadoutsCaptured);
    b.refuse("C-1", ErrorCode::PhotoUnusable).expect("a card with readouts captured may be refused");
    let waiting = WorklistFilter { statuses: vec![CardStatus::Received, CardStatus::ReadoutsCaptured], ..Default::default() };
    let rows = b.wf.store().read(|c| cards::worklist(c, &waiting)).expect("read").rows;
    let ids: Vec<&str> = rows.iter().map(|r| r.card_id.as_str()).collect();
    assert_eq!(ids, ["C-2"], "the refused card is no longer waiting to be made");
    // Its chip was never reported: the same UID may go on another card.
    b.produce("C-2", "04A22B1C");
    let produce = b.wf.produce("alice", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1D".into() }], "typed");
    assert!(matches!(produce, Err(WorkflowError::NotAllowed { .. })), "{produce:?}");
    assert!(matches!(b.wf.spoil("alice", "C-1", "try again"), Err(WorkflowError::NotAllowed { .. })));
    assert_eq!(b.card("C-1").status, CardStatus::Refused);
}

#[test]
fn only_a_request_not_accepted_as_produced_can_be_refused() {
    let b = bench();
    for (i, card) in ["C-1", "C-2", "C-3"].iter().enumerate() {
        b.send(&format!("req-{i}"), Subject::RequestSent, &request(card, "S-1"));
    }
    let m1 = b.produce("C-1", "04000001");
    b.report_ok("C-1", &m1);
    let after_ok = b.refuse("C-1", ErrorCode::RequestRefused);
    match &after_ok {
        Err(e @ WorkflowError::NotRefusable { status: CardStatus::ReportOk, .. }) => {
            assert!(e.to_string().contains("REPORT_OK"), "the refusal says why: {e}");
        }
        other => panic!("a REPORT_OK'd card must not be refused: {other:?}"),
    }
    b.produce("C-2", "04000002");
    assert!(matches!(b.refuse("C-2", ErrorCode::RequestRefused), Err(WorkflowError::NotRefusable { status: CardStatus::Produced, .. })));
    let wrong_code = b.refuse("C-3", ErrorCode::InvalidMessage);
    assert!(matches!(wrong_code, Err(WorkflowError::InvalidRequest(_))), "{wrong_code:?}");
    let no_reason = b.wf.refuse("alice", "C-3", &ErrorCode::UnknownArticle, "  ");
    assert!(matches!(no_reason, Err(WorkflowError::InvalidRequest(_))), "{no_reason:?}");
    assert!(b.errors_sent().is_empty(), "a refused refusal sends nothing");
    assert_eq!(b.card("C-1").status, CardStatus::ReportOk);

    // Produced and answered with ERROR by NGOC: may be refused.
    let m2 = b.card("C-2").produced_message_id.expect("produced");
    b.ngoc_error("C-2", &m2, "INVALID_REPORT_DATA");
    b.refuse("C-2", ErrorCode::RequestRefused).expect("a card NGOC answered with ERROR may be refused");
    assert_eq!(b.card("C-2").status, CardStatus::Refused);
}

#[test]
fn a_new_request_with_new_content_brings_a_refused_card_back_and_the_same_content_stays_a_duplicate() {
    let b = bench();
    b.send("req-1", Subject::RequestSent, &request("C-1", "S-1"));
    b.refuse("C-1", ErrorCode::UnknownArticle).expect("refuse");

    let same = b.send("req-2", Subject::RequestSent, &request("C-1", "S-1"));
    assert!(matches!(same, IngestOutcome::Duplicate { .. }), "the refused content again is a duplicate: {same:?}");
    assert_eq!(b.card("C-1").status, CardStatus::Refused);
    assert_eq!(b.errors_sent().len(), 1, "a duplicate is not answered");

    let mut fixed = request("C-1", "S-1");
    fixed["card"]["articleId"] = json!("ART-STAFF-2");
    fixed["accessories"] = json!([{"articleId": "ART-CLIP", "accessoryId": "CLIP", "quantity": 2}]);
    let outcome = b.send("req-3", Subject::RequestSent, &fixed);
    let IngestOutcome::Accepted { inbox_id } = outcome else { panic!("new content for a refused card is taken: {outcome:?}") };
    let card = b.card("C-1");
    assert_eq!(card.status, CardStatus::Received);
    assert_eq!(card.article_id, "ART-STAFF-2");
    assert_eq!(card.request_inbox_id, inbox_id, "the card points at the new request");
    assert_eq!(card.last_error_code, None);
    assert_eq!(b.errors_sent().len(), 1, "taking the new request sends nothing");
    let balance = b.wf.store().read(|c| shipments::accessory_balance(c, "S-1")).expect("read");
    let lines: Vec<(&str, u64)> = balance.iter().map(|a| (a.accessory_id.as_str(), a.requested)).collect();
    assert_eq!(lines, [("CLIP", 2)], "the new request's accessories replace the refused one's");
    let timeline = b.wf.card_detail("C-1").expect("detail").timeline;
    let whats: Vec<&str> = timeline.iter().map(|t| t.what.as_str()).collect();
    assert!(whats.contains(&"refused"), "the refusal stays in the card's history: {whats:?}");
    assert!(whats.iter().filter(|w| **w == "received").count() >= 2, "both requests are in its history: {whats:?}");
    b.produce("C-1", "04000001");
    assert_eq!(b.card("C-1").status, CardStatus::Produced, "the card is made from the new request");

    // Once taken again, the same cardId with yet other content is the usual conflict.
    let mut other = fixed.clone();
    other["card"]["articleId"] = json!("ART-STAFF-3");
    let conflict = b.send("req-4", Subject::RequestSent, &other);
    assert!(matches!(&conflict, IngestOutcome::Rejected { code, .. } if code == "CARD_CONFLICT"), "{conflict:?}");
}

#[test]
fn a_card_ngoc_answered_with_error_blocks_its_shipment_until_made_again_and_passed() {
    let b = bench();
    b.send("req-1", Subject::RequestSent, &request("C-1", "S-1"));
    b.send("req-2", Subject::RequestSent, &request("C-2", "S-1"));
    let m1 = b.produce("C-1", "04000001");
    b.report_ok("C-1", &m1);
    let m2 = b.produce("C-2", "04000002");
    b.ngoc_error("C-2", &m2, "INVALID_REPORT_DATA");

    let parcel = ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-1".into()], ..Default::default() };
    match b.wf.ship("bob", &parcel) {
        Err(WorkflowError::ShipRefused(problems)) => {
            let blocking = problems.iter().find_map(|p| match p {
                ShipProblem::ReportErrors { cards } => Some(cards),
                _ => None,
            });
            let cards = blocking.unwrap_or_else(|| panic!("the card with NGOC's ERROR blocks: {problems:?}"));
            assert_eq!(cards.len(), 1);
            assert_eq!((cards[0].card_id.as_str(), cards[0].error_code.as_deref()), ("C-2", Some("INVALID_REPORT_DATA")));
        }
        other => panic!("no SHIPPED before REPORT_OK for every produced card: {other:?}"),
    }
    let gate = b.wf.shipment_detail("S-1").expect("detail").gate;
    assert_eq!(gate.report_error, ["C-2"]);
    assert!(gate.summary.starts_with("blocked") && gate.summary.contains("C-2") && gate.summary.contains("INVALID_REPORT_DATA"), "{}", gate.summary);
    let note = gate.notes.iter().find(|n| n.card_id == "C-2").expect("the gate says why C-2 blocks");
    assert_eq!(note.kind, GateNoteKind::ReportError);
    assert!(note.text.contains("INVALID_REPORT_DATA") && note.text.contains("produce again"), "{}", note.text);
    let summary = b.wf.store().read(|c| shipments::list(c, &Default::default())).expect("read");
    assert_eq!(summary[0].awaiting_report, 1, "the shipment list counts it as blocking");

    // Made again and passed: the gate opens.
    let again = b
        .wf
        .produce("alice", "C-2", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04000003".into() }], "typed")
        .expect("produce again")
        .message_id;
    b.report_ok("C-2", &again);
    b.wf.ship("bob", &parcel).expect("ships once every produced card has REPORT_OK");
}

#[test]
fn a_refused_card_does_not_block_its_shipment_does_not_count_and_cannot_go_in_a_parcel() {
    let b = bench();
    b.send("req-1", Subject::RequestSent, &request("C-1", "S-1"));
    b.send("req-2", Subject::RequestSent, &request("C-2", "S-1"));
    let m1 = b.produce("C-1", "04000001");
    b.report_ok("C-1", &m1);
    let m2 = b.produce("C-2", "04000002");
    b.ngoc_error("C-2", &m2, "INVALID_REPORT_DATA");
    b.refuse("C-2", ErrorCode::RequestRefused).expect("refuse");

    let gate = b.wf.shipment_detail("S-1").expect("detail").gate;
    assert_eq!(gate.ready, ["C-1"]);
    assert!(gate.report_error.is_empty() && gate.awaiting_report.is_empty(), "{gate:?}");
    assert_eq!(gate.refused, ["C-2"]);
    assert!(gate.summary.starts_with("ready"), "{}", gate.summary);
    let note = gate.notes.iter().find(|n| n.card_id == "C-2").expect("the gate says C-2 does not count");
    assert_eq!(note.kind, GateNoteKind::Refused);
    assert!(note.text.contains("not counted"), "{}", note.text);

    let with_refused = ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-1".into(), "C-2".into()], ..Default::default() };
    match b.wf.ship("bob", &with_refused) {
        Err(WorkflowError::ShipRefused(problems)) => {
            assert_eq!(problems, vec![ShipProblem::Refused { card_id: "C-2".into() }], "only the refused card is a problem");
        }
        other => panic!("a refused card cannot go in a parcel: {other:?}"),
    }
    assert_eq!(b.wf.check_parcel_card("S-1", "C-2").expect("check"), Some(ShipProblem::Refused { card_id: "C-2".into() }));

    // The refused request's lanyard is not owed any more: one lanyard, for C-1.
    let one_lanyard = vec![Accessory { article_id: "ART-LANYARD".into(), accessory_id: "LANYARD".into(), quantity: 1 }];
    let too_many = ParcelRequest {
        shipment_id: "S-1".into(),
        cards: vec!["C-1".into()],
        accessories: vec![Accessory { quantity: 2, ..one_lanyard[0].clone() }],
        ..Default::default()
    };
    assert!(matches!(b.wf.ship("bob", &too_many), Err(WorkflowError::ShipRefused(_))));
    let parcel = ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-1".into()], accessories: one_lanyard, ..Default::default() };
    b.wf.ship("bob", &parcel).expect("the refused card does not block");

    let gate = b.wf.shipment_detail("S-1").expect("detail").gate;
    assert_eq!(gate.summary, "all cards shipped", "a refused card is not waited for");
    let open = b.wf.store().read(|c| shipments::list(c, &shipments::ShipmentFilter { open_only: true, ..Default::default() })).expect("read");
    assert!(open.is_empty(), "a shipment whose cards are shipped or refused is not open: {open:?}");
}
