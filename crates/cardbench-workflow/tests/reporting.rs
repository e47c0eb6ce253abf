//! Issue 16: every change the bureau's systems follow is an event in NGOC's envelope, written in
//! the transaction of the change, and queued in the outbox for each subscriber that wants its
//! topic (paused ones too), never for one that was removed or wants other topics. Real SQLite
//! files on disk.

use std::sync::Arc;

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::events;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_store::subscribers::{self, NewSubscriber};
use cardbench_workflow::reporting::{self, Envelope as EventEnvelope, SubscriberKind, Topic};
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow};
use serde_json::json;

struct Bench {
    _dir: tempfile::TempDir,
    wf: Workflow,
}

fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open store");
    Bench { _dir: dir, wf: Workflow::new(Arc::new(store)) }
}

impl Bench {
    fn send(&self, message_id: &str, subject: &str, body: &[u8]) {
        let envelope = Envelope { message_id: Some(message_id), subject: Some(subject), body, ..Default::default() };
        self.wf.ingest(&[envelope]).expect("ingest commits");
    }

    fn receive(&self, card: &str, shipment: &str) {
        let body = serde_json::to_vec(&fixtures::request_json(card, shipment)).expect("json");
        self.send(&format!("req-{card}"), Subject::RequestSent.as_str(), &body);
    }

    fn produce(&self, card: &str, uid: &str) -> String {
        let values = [ReadoutInput { field: "MIFARE_UID".into(), value: uid.into() }];
        self.wf.produce("alice", card, &values, "typed").expect("produce").message_id
    }

    fn answer(&self, message_id: &str, subject: Subject, body: serde_json::Value) {
        self.send(message_id, subject.as_str(), &serde_json::to_vec(&body).expect("json"));
    }

    /// A subscriber as the store keeps it (the keyring side is the CLI's and the screen's).
    fn subscribe(&self, kind: &str, name: &str, topics: &[Topic]) {
        let names: Vec<&str> = topics.iter().map(|t| t.as_str()).collect();
        let topics = serde_json::to_string(&names).expect("json");
        let added = self
            .wf
            .store()
            .write(|tx| {
                subscribers::insert(
                    tx,
                    &NewSubscriber { name, kind, url: "http://127.0.0.1:9/in", topics: &topics, settings: "{}", created_at: "2026-12-07T00:00:00.000Z" },
                )
            })
            .expect("insert");
        assert!(added);
    }

    fn rows_for(&self, destination: &str) -> Vec<OutboxRow> {
        let filter = OutboxFilter { destination: Some(destination.into()), limit: Some(1000), ..Default::default() };
        let mut rows = self.wf.store().read(|c| outbox::list(c, &filter)).expect("outbox");
        rows.reverse();
        rows
    }

    fn topics_logged(&self) -> Vec<String> {
        self.wf.store().read(|c| events::after(c, 0, 1000)).expect("events").into_iter().map(|e| e.topic).collect()
    }
}

#[test]
fn a_card_life_is_logged_and_queued_for_the_subscribers_that_want_each_topic() {
    let b = bench();
    b.subscribe("webhook", "erp", &[Topic::CardProduced, Topic::ReportOk, Topic::Shipped, Topic::ShippedOk]);
    b.subscribe("forward", "crm", &[Topic::Shipped]);
    b.subscribe("webhook", "quiet", &[Topic::CardError]);
    let mut changes = b.wf.outbox_changes();
    let seen = *changes.borrow_and_update();

    b.receive("C-1", "S-1");
    assert!(changes.has_changed().expect("sender alive"), "a received request wakes the subscribers' senders");
    let produced = b.produce("C-1", "04A1B2C3");
    b.answer("ok-1", Subject::ReportOk, json!({"cardId": "C-1", "correlationId": produced}));
    let parcel = b
        .wf
        .ship("bob", &ParcelRequest { shipment_id: "S-1".into(), cards: vec!["C-1".into()], ..Default::default() })
        .expect("ship");
    b.answer("sok-1", Subject::ShippedOk, json!({"shipmentId": "S-1", "correlationId": parcel.message_id}));
    assert_ne!(*changes.borrow_and_update(), seen);

    assert_eq!(b.topics_logged(), ["REQUEST_RECEIVED", "CARD_PRODUCED", "REPORT_OK", "SHIPPED", "SHIPPED_OK"]);

    let erp = b.rows_for(&reporting::destination(SubscriberKind::Webhook, "erp"));
    let subjects: Vec<&str> = erp.iter().map(|r| r.subject.as_str()).collect();
    assert_eq!(subjects, ["CARD_PRODUCED", "REPORT_OK", "SHIPPED", "SHIPPED_OK"], "only the topics it wants, in order");
    let crm = b.rows_for("forward:crm");
    assert_eq!(crm.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), ["SHIPPED"]);
    assert!(b.rows_for("webhook:quiet").is_empty(), "no CARD_ERROR happened");

    // The queued body is the logged envelope, byte for byte (what a webhook signs).
    let logged = b.wf.store().read(|c| events::after(c, 0, 1000)).expect("events");
    let shipped_event = logged.iter().find(|e| e.topic == "SHIPPED").expect("SHIPPED logged");
    assert_eq!(crm[0].body, shipped_event.body);
    assert_eq!(crm[0].correlation_id.as_deref(), Some(shipped_event.event_id.as_str()));
    let envelope: EventEnvelope = serde_json::from_str(&crm[0].body).expect("envelope");
    assert_eq!(envelope.topic, Topic::Shipped);
    assert_eq!(envelope.api_version, "1");
    assert_eq!(envelope.data.card_id.as_deref(), Some("C-1"));
    assert_eq!(envelope.data.shipment_id.as_deref(), Some("S-1"));
    assert_eq!(envelope.data.parcel_id, Some(parcel.id));
    assert!(envelope.data.organisation_id.is_some() && envelope.data.article_id.is_some());

    // NGOC's own queue is untouched by the subscribers: its rows are NGOC's messages only.
    let ngoc = b.rows_for(outbox::NGOC);
    assert!(ngoc.iter().all(|r| Subject::parse(&r.subject).is_some()), "{:?}", ngoc.iter().map(|r| &r.subject).collect::<Vec<_>>());
}

#[test]
fn events_carry_no_cardholder_data() {
    let b = bench();
    b.receive("C-1", "S-1");
    let request = fixtures::request_json("C-1", "S-1");
    let body = &b.wf.store().read(|c| events::after(c, 0, 10)).expect("events")[0].body;
    let mut names = Vec::new();
    for key in ["name", "street", "city", "zipCode", "email"] {
        if let Some(v) = request["address"][key].as_str() {
            names.push(v.to_owned());
        }
    }
    assert!(!names.is_empty(), "the fixture has an address: {request}");
    for value in names {
        assert!(!body.contains(&value), "{value:?} must not be in the event {body}");
    }
}

#[test]
fn a_paused_subscriber_still_gets_its_rows_and_a_removed_one_none() {
    let b = bench();
    b.subscribe("webhook", "paused", &[Topic::RequestReceived]);
    b.subscribe("webhook", "gone", &[Topic::RequestReceived]);
    b.wf.store().write(|tx| subscribers::pause(tx, "paused", "2026-12-07T00:00:00.000Z", "credentials refused")).expect("pause");
    b.wf.store().write(|tx| subscribers::remove(tx, "gone", "2026-12-07T00:00:00.000Z")).expect("remove");
    b.receive("C-1", "S-1");
    assert_eq!(b.rows_for("webhook:paused").len(), 1, "nothing is dropped while paused");
    assert!(b.rows_for("webhook:gone").is_empty());
}

#[test]
fn a_refused_request_is_an_event_and_an_invalid_one_too() {
    let b = bench();
    b.receive("C-1", "S-1");
    b.wf.refuse("alice", "C-1", &cardbench_protocol::ErrorCode::CardLayoutMismatch, "cannot print this design").expect("refuse");
    let mut invalid = fixtures::request_json("C-2", "S-1");
    invalid["card"]["cardId"] = json!(null);
    b.send("req-bad", Subject::RequestSent.as_str(), &serde_json::to_vec(&invalid).expect("json"));
    let logged = b.wf.store().read(|c| events::after(c, 0, 10)).expect("events");
    let topics: Vec<&str> = logged.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["REQUEST_RECEIVED", "REQUEST_REFUSED", "REQUEST_REFUSED"]);
    let refused: EventEnvelope = serde_json::from_str(&logged[1].body).expect("envelope");
    assert_eq!(refused.data.error_message.as_deref(), Some("cannot print this design"));
    assert!(refused.data.error_code.is_some());
}

#[test]
fn the_event_log_pages_by_id() {
    let b = bench();
    for i in 0..5 {
        b.receive(&format!("C-{i}"), "S-1");
    }
    let first = b.wf.store().read(|c| events::after(c, 0, 2)).expect("page");
    let next = b.wf.store().read(|c| events::after(c, first[1].id, 10)).expect("page");
    assert_eq!((first.len(), next.len()), (2, 3));
    assert!(next.iter().all(|e| e.id > first[1].id));
    assert_eq!(b.wf.store().read(events::last_id).expect("last"), next[2].id);
}
