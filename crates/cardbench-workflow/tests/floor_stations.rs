//! Issue 15: each station has a name, and the audit trail says which station did what. Two
//! stations on one database (PostgreSQL with `CARDBENCH_TEST_ENGINE=postgres`, one SQLite file
//! otherwise): a card received at LINE-1, produced at LINE-2, spoiled at LINE-1; each audit row
//! names its station, and the card's timeline says who did it where.

use std::sync::Arc;

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::audit::{self, AuditFilter};
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{ReadoutInput, Workflow};

#[test]
fn the_audit_trail_and_the_timeline_say_which_station_did_what() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = cardbench_store::testing::two_stores_in(dir.path()).expect("two stations on one database");
    let line1 = Workflow::new(Arc::new(a)).with_station("LINE-1");
    let line2 = Workflow::new(Arc::new(b)).with_station("LINE-2");
    let body = serde_json::to_vec(&fixtures::request_json("C-1", "S-1")).expect("json");
    let envelope = Envelope { message_id: Some("req-1"), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
    line1.ingest(&[envelope]).expect("received at LINE-1");

    line2.produce("björn", "C-1", &[ReadoutInput { field: "MIFARE_UID".into(), value: "04A1B2C3D4E5F6".into() }], "typed").expect("produced at LINE-2");
    line1.spoil("anna", "C-1", "chip cracked").expect("spoiled at LINE-1");

    let rows = line1.store().read(|c| audit::list(c, &AuditFilter { card_id: Some("C-1".into()), ..Default::default() })).expect("audit");
    let done: Vec<(&str, &str, Option<&str>)> = rows.iter().map(|r| (r.action.as_str(), r.operator.as_str(), r.station.as_deref())).collect();
    assert!(done.contains(&("produced", "björn", Some("LINE-2"))), "{done:?}");
    assert!(done.contains(&("spoiled", "anna", Some("LINE-1"))), "{done:?}");

    let timeline = line1.card_detail("C-1").expect("detail").timeline;
    let said = |what: &str| timeline.iter().filter(|e| e.what == what).filter_map(|e| e.detail.clone()).collect::<Vec<_>>().join(" | ");
    let sent = timeline.iter().find(|e| e.detail.as_deref().is_some_and(|d| d.contains("björn"))).map(|e| e.detail.clone());
    assert!(sent.flatten().is_some_and(|d| d.starts_with("by björn at LINE-2")), "the CARD_PRODUCED entry says who, where: {timeline:?}");
    assert!(said("spoiled").starts_with("by anna at LINE-1: chip cracked"), "{timeline:?}");
}
