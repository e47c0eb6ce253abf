//! A forwarding sink's Event is built when it is sent, from the card's request in the store:
//! the outbox holds only the envelope, and a card whose data retention purged is not sent.

use std::sync::Arc;

use cardbench_hooks::delivery::forward_body;
use cardbench_hooks::forward::{ForwardSettings, Unsendable};
use cardbench_protocol::Subject;
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{ReadoutInput, Workflow};
use serde_json::Value;

fn produced_card(dir: &std::path::Path) -> (Workflow, String) {
    let wf = Workflow::new(Arc::new(cardbench_store::testing::store_in(dir).expect("store")));
    let mut request = cardbench_sim::fixtures::request_json("C-1", "S-1");
    request["card"]["cardElements"]["EMAIL"] = "zoe@example.com".into();
    request["address"]["countryCode"] = "SE".into();
    let body = serde_json::to_vec(&request).expect("json");
    let envelope = Envelope {
        message_id: Some("req-1"),
        subject: Some(Subject::RequestSent.as_str()),
        correlation_id: None,
        content_type: Some("application/json"),
        body: &body,
        delivery_count: 0,
    };
    wf.ingest(&[envelope]).expect("ingest");
    wf.produce("tester", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A1B2C3D4E5F6".into() }], "test")
        .expect("produce");
    let produced = wf
        .store()
        .read(|c| cardbench_store::events::for_card(c, "C-1"))
        .expect("events")
        .into_iter()
        .find(|e| e.topic == "CARD_PRODUCED")
        .expect("CARD_PRODUCED recorded");
    (wf, produced.body)
}

#[test]
fn the_event_comes_from_the_request_and_the_envelope_holds_no_cardholder_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (wf, envelope) = produced_card(dir.path());
    assert!(!envelope.contains("zoe@example.com"), "the queued envelope holds no cardholder data: {envelope}");
    let event: Value = serde_json::from_str(&forward_body(&wf, &ForwardSettings::default(), &envelope).expect("event")).expect("json");
    assert_eq!(event["user"]["email"], "zoe@example.com");
    assert_eq!(event["user"]["addresses"][0]["country"], "SE");
    assert_eq!(event["order"]["id"], "S-1");
    assert_eq!(event["action"], "PRODUCED");
    let created = serde_json::from_str::<Value>(&envelope).expect("envelope")["created"].as_str().map(str::to_owned).expect("created");
    let created_ms = cardbench_store::time::parse(&created).expect("time").timestamp_millis();
    assert_eq!(event["actionTime"].as_i64(), Some(created_ms), "actionTime is the event's time, epoch ms");
}

#[test]
fn a_card_purged_by_retention_is_not_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (wf, envelope) = produced_card(dir.path());
    wf.store()
        .write(|tx| cardbench_store::retention::purge_card(tx, "C-1", "{}", "2026-12-01T00:00:00.000Z"))
        .expect("purge");
    assert_eq!(forward_body(&wf, &ForwardSettings::default(), &envelope), Err(Unsendable::Purged("C-1".into())));
}
