//! The dashboard read model (the app's dashboard and `cardbench status`): every status counted,
//! what went wrong lately (cards NGOC refused a report of, messages rejected), the backlog.

use std::sync::Arc;

use cardbench_protocol::Subject;
use cardbench_store::cards::CardStatus;
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{ReadoutInput, Workflow};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

/// The simulator's request (`cardbench_sim::fixtures`).
fn request(card_id: &str) -> Value {
    fixtures::request_json(card_id, "S-1")
}

fn send(wf: &Workflow, subject: &str, body: &[u8]) {
    let id = uuid::Uuid::new_v4().to_string();
    wf.ingest(&[Envelope { message_id: Some(&id), subject: Some(subject), body, ..Default::default() }]).expect("ingest");
}

#[test]
fn the_dashboard_counts_every_status_and_lists_report_errors_and_rejections_newest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = Workflow::new(Arc::new(cardbench_store::testing::store_in(dir.path()).expect("store")));
    for card in ["C-1", "C-2", "C-3"] {
        send(&wf, Subject::RequestSent.as_str(), &serde_json::to_vec(&request(card)).expect("json"));
    }
    let produced = wf
        .produce("alice", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1C".into() }], "typed")
        .expect("produce")
        .message_id;
    let error = json!({"correlationId": produced, "errorCode": "INVALID_REPORT_DATA", "details": "UID does not match chip", "cardId": "C-1"});
    send(&wf, Subject::Error.as_str(), &serde_json::to_vec(&error).expect("json"));
    std::thread::sleep(std::time::Duration::from_millis(5));
    send(&wf, Subject::RequestSent.as_str(), b"not json");

    let d = wf.dashboard().expect("dashboard");
    assert_eq!(d.total_cards, 3);
    assert_eq!(d.by_status.len(), CardStatus::ALL.len(), "every status, zeros too");
    let count = |s: CardStatus| d.by_status.iter().find(|(c, _)| *c == s).map(|(_, n)| *n);
    assert_eq!((count(CardStatus::Received), count(CardStatus::ReportError), count(CardStatus::Shipped)), (Some(2), Some(1), Some(0)));
    assert_eq!(d.rejected_messages, 1);
    let whats: Vec<&str> = d.recent_errors.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(whats, ["message rejected", "report_error"], "newest first");
    let report = &d.recent_errors[1];
    assert_eq!(report.card_id.as_deref(), Some("C-1"));
    assert_eq!(report.detail, "INVALID_REPORT_DATA: UID does not match chip");
    // CARD_PRODUCED (sent by nobody here) and the rejection's ERROR answer wait in the outbox.
    assert_eq!(d.outbox_depth, 2);
}
