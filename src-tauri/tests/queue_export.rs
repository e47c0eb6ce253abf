//! The queue inspector's export to a file (issue 17): selected or filtered messages as JSON
//! Lines, bodies masked by the core's one rule, through the core function the command calls.

use std::sync::Arc;

use cardbench_app::station::Station;
use cardbench_app::dto::{InboxOutcome, QueueQuery};
use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::inbox::Envelope;

const NAME: &str = "Ingegerd Gammalsdotter";

/// The simulator's request (`cardbench_sim::fixtures`), with the cardholder data the tests look
/// for set here: [`NAME`] as holder and recipient, and the street.
fn request(card: &str) -> Vec<u8> {
    let mut body = fixtures::request_json(card, "S-1");
    body["address"]["addressOne"] = serde_json::json!("Forntidsvägen 17");
    body["address"]["recipient"] = serde_json::json!(NAME);
    body["card"]["cardElements"]["NAME"] = serde_json::json!(NAME);
    serde_json::to_vec(&body).expect("json")
}

/// Three requests (C-1…C-3) and one body that is no JSON (rejected), masked or not.
fn core_with(mask_holder: bool) -> (tempfile::TempDir, Station, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), format!("operator = \"Sam\"\n[workstation]\nmask_holder = {mask_holder}\n"))
        .expect("write config");
    let data = dir.path().join("data");
    let store = Arc::new(Store::open_in(&data).expect("open store"));
    let core = Station::new(store, data.clone(), data.join("app.log"), false, dir.path().join("config.toml")).expect("core");
    let bodies = vec![request("C-1"), request("C-2"), request("C-3"), b"{not json".to_vec()];
    let ids = ["m-1", "m-2", "m-3", "m-4"];
    let envelopes: Vec<Envelope<'_>> = bodies
        .iter()
        .zip(ids)
        .map(|(b, id)| Envelope { message_id: Some(id), subject: Some(Subject::RequestSent.as_str()), body: b, ..Default::default() })
        .collect();
    core.workflow.ingest(&envelopes).expect("ingest");
    (dir, core, bodies)
}

fn lines(file: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .expect("export file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

#[test]
fn the_filtered_messages_go_to_a_jsonl_file_in_the_documents_directory_masked_as_on_screen() {
    let (_dir, core, raw) = core_with(true);
    let shown = core.inbox(QueueQuery::default()).expect("inbox");
    let written = core.export_messages("in", QueueQuery { limit: Some(1), ..Default::default() }, None).expect("export");
    assert!(written.file.starts_with(&core.documents_dir().display().to_string()), "{}", written.file);
    assert!(written.file.ends_with(".jsonl"), "{}", written.file);
    assert_eq!(written.count, 4, "every message the filter matches, not only the page on screen");
    let text = std::fs::read_to_string(&written.file).expect("file");
    assert!(!text.contains(NAME) && !text.contains("Forntidsvägen"), "no cardholder data leaves masked: {text}");
    let got = lines(&written.file);
    assert_eq!(got.len(), 4);
    for (line, on_screen) in got.iter().zip(&shown) {
        assert_eq!(line["id"], on_screen.id);
        assert_eq!(line["direction"], "in");
        assert_eq!(line["messageId"].as_str(), on_screen.message_id.as_deref());
        assert_eq!(line["subject"].as_str(), on_screen.subject.as_deref());
        assert_eq!(line["state"], on_screen.state.as_str());
        assert_eq!(line["at"], on_screen.at.as_str());
        assert_eq!(line["body"], on_screen.body.as_str(), "the body as the inspector shows it");
        assert_eq!(line["masked"], true);
    }
    // The one masking rule, not a copy of it: what `shown_body` makes of each raw body.
    let mut expected: Vec<String> = raw.iter().map(|b| cardbench_workflow::cardholder::shown_body(b, true)).collect();
    expected.reverse(); // newest first, as listed
    let bodies: Vec<&str> = got.iter().map(|l| l["body"].as_str().expect("body text")).collect();
    assert_eq!(bodies, expected);
    assert!(got.iter().any(|l| l["state"] == "rejected" && l["reason"].is_string()), "a rejected one carries its reason");
    // A filter narrows the file as it narrows the list.
    let rejected = core
        .export_messages("in", QueueQuery { outcome: Some(InboxOutcome::Rejected), ..Default::default() }, None)
        .expect("export");
    assert_eq!(rejected.count, 1);
    assert_ne!(rejected.file, written.file, "each export is a file of its own");
    // Picked messages are masked alike.
    let picked = core.export_messages("in", QueueQuery::default(), Some(shown.iter().map(|m| m.id).collect())).expect("export");
    let text = std::fs::read_to_string(&picked.file).expect("file");
    assert!(!text.contains(NAME), "picked messages leave masked too: {text}");
    assert_eq!(lines(&picked.file).iter().map(|l| l["body"].clone()).collect::<Vec<_>>(), got.iter().map(|l| l["body"].clone()).collect::<Vec<_>>());
}

#[test]
fn the_selected_messages_go_to_the_file_and_unmasked_bodies_stay_raw() {
    let (_dir, core, raw) = core_with(false);
    let shown = core.inbox(QueueQuery::default()).expect("inbox");
    let pick: Vec<i64> = shown.iter().filter(|m| m.card_id.as_deref() != Some("C-2")).map(|m| m.id).take(2).collect();
    let written = core.export_messages("in", QueueQuery::default(), Some(pick.clone())).expect("export");
    assert_eq!(written.count, 2);
    let got = lines(&written.file);
    assert_eq!(got.iter().map(|l| l["id"].as_i64().expect("id")).collect::<Vec<_>>(), pick);
    let first = &got[0];
    let raw_text = String::from_utf8(raw[3].clone()).expect("utf8");
    assert_eq!(first["body"], raw_text.as_str(), "not masked here: the raw body, as on screen");
    assert!(core.export_messages("in", QueueQuery::default(), Some(vec![9_999])).is_err(), "an unknown id is refused");
    assert!(core.export_messages("sideways", QueueQuery::default(), None).is_err());
    let out = core.export_messages("out", QueueQuery::default(), None).expect("outbox export");
    assert!(lines(&out.file).iter().all(|l| l["direction"] == "out"), "the ERROR answers sent");
}
