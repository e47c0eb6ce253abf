//! Every workflow write that queues outbox rows wakes the sender itself (after its commit), so
//! no caller — app command, CLI, hot folder, receive loop — can forget to; a write that queues
//! nothing does not.

use std::sync::Arc;
use std::time::Duration;

use cardbench_protocol::{ErrorCode, Subject};
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_workflow::{IngestOutcome, ParcelRequest, ReadoutInput, Workflow};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

/// The simulator's request (`cardbench_sim::fixtures`), with what these tests rely on set here: one
/// lanyard.
fn request(card_id: &str) -> Value {
    let mut body = fixtures::request_json(card_id, "S-1");
    body["accessories"] = json!([{"articleId": "ART-LANYARD", "accessoryId": "LANYARD", "quantity": 1}]);
    body
}

fn send(wf: &Workflow, subject: &str, body: &Value) -> IngestOutcome {
    let bytes = serde_json::to_vec(body).expect("json");
    let id = uuid::Uuid::new_v4().to_string();
    let envelope = Envelope { message_id: Some(&id), subject: Some(subject), body: &bytes, ..Default::default() };
    wf.ingest(&[envelope]).expect("ingest commits").outcomes.remove(0)
}

/// Whether the wake was given since the last look (a notification nobody waited for is kept).
async fn woken(wf: &Workflow) -> bool {
    tokio::time::timeout(Duration::from_millis(50), wf.outbox_wake().notified()).await.is_ok()
}

fn uid(n: u32) -> Vec<ReadoutInput> {
    vec![ReadoutInput { field: "MIFARE_UID".into(), value: format!("04A1B2C3D4E5{n:02X}") }]
}

#[tokio::test]
async fn each_write_that_queues_wakes_the_sender_and_others_do_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = Workflow::new(Arc::new(cardbench_store::testing::store_in(dir.path()).expect("store")));
    // A clone (as the app's commands and the node hold) shares the wake.
    let node = wf.clone();
    assert!(!woken(&node).await, "nothing queued yet");

    let first = send(&wf, Subject::RequestSent.as_str(), &request("C-1"));
    assert!(matches!(first, IngestOutcome::Accepted { .. }), "{first:?}");
    send(&wf, Subject::RequestSent.as_str(), &request("C-2"));
    send(&wf, Subject::RequestSent.as_str(), &request("C-3"));
    assert!(!woken(&node).await, "an accepted request queues nothing");

    assert!(matches!(send(&wf, Subject::RequestSent.as_str(), &json!({"no": "card"})), IngestOutcome::Rejected { .. }));
    assert!(woken(&node).await, "a rejection's ERROR answer wakes");

    wf.save_readouts("alice", "C-1", &uid(1), "typed").expect("save");
    assert!(!woken(&node).await, "saved readouts queue nothing");

    wf.produce("alice", "C-1", &[], "typed").expect("produce");
    assert!(woken(&node).await, "CARD_PRODUCED wakes");

    wf.apply_readouts("alice", "C-2", &uid(2), "chip").expect("apply");
    assert!(woken(&node).await, "a chip read that produces wakes");

    let rows = vec![("C-3".to_owned(), uid(3))];
    wf.apply_readout_batch("encoder", &rows, "hot folder", false, |_, _| Ok(())).expect("batch");
    assert!(woken(&node).await, "a result file that produces wakes");

    let produced = wf
        .store()
        .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::CardProduced.as_str().into()), ..Default::default() }))
        .expect("outbox");
    for row in &produced {
        let card = row.card_id.clone().expect("card");
        send(&wf, Subject::ReportOk.as_str(), &json!({"cardId": card, "correlationId": row.message_id}));
    }
    assert!(!woken(&node).await, "REPORT_OK queues nothing");

    let parcel = ParcelRequest {
        shipment_id: "S-1".into(),
        cards: vec!["C-1".into(), "C-2".into(), "C-3".into()],
        accessories: vec![cardbench_protocol::Accessory { article_id: "ART-LANYARD".into(), accessory_id: "LANYARD".into(), quantity: 3 }],
        ..Default::default()
    };
    wf.ship("bob", &parcel).expect("ship");
    assert!(woken(&node).await, "SHIPPED wakes");

    wf.resend("bob", produced[0].id).expect("resend");
    assert!(woken(&node).await, "a resend wakes");

    send(&wf, Subject::RequestSent.as_str(), &request("C-4"));
    let code = ErrorCode::REFUSALS[0].clone();
    wf.refuse("bob", "C-4", &code, "cannot be made").expect("refuse");
    assert!(woken(&node).await, "a refusal's ERROR wakes");
}
