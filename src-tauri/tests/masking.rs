//! The queue inspector's masking, its Reveal button and the worklist search, through the core
//! functions the commands call, on a store on disk.

use std::sync::Arc;

use cardbench_app::station::Station;
use cardbench_app::dto::{QueueQuery, WorklistQuery};
use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::audit::{self, AuditFilter};
use cardbench_store::inbox::Envelope;

const NAME: &str = "Ingegerd Gammalsdotter";
const STREET: &str = "Forntidsvägen 17";

fn core_with(mask_holder: bool, operator: &str) -> (tempfile::TempDir, Station) {
    let dir = tempfile::tempdir().expect("tempdir");
    // No operator line at all for "": the config refuses a blank name.
    let operator_line = if operator.is_empty() {
        String::new()
    } else {
        format!("operator = {operator:?}\n")
    };
    let config = format!("{operator_line}[workstation]\nmask_holder = {mask_holder}\n");
    std::fs::write(dir.path().join("config.toml"), config).expect("write config");
    let data = dir.path().join("data");
    let store = Arc::new(Store::open_in(&data).expect("open store"));
    let core = Station::new(
        store,
        data.clone(),
        data.join("app.log"),
        false,
        dir.path().join("config.toml"),
    )
    .expect("core");
    // The simulator's request, with the cardholder data the tests look for set here.
    let mut body = fixtures::request_json("C-1", "S-1");
    body["address"]["addressOne"] = serde_json::json!(STREET);
    body["address"]["recipient"] = serde_json::json!(NAME);
    body["card"]["cardElements"]["NAME"] = serde_json::json!(NAME);
    let bytes = serde_json::to_vec(&body).expect("json");
    let envelope = Envelope {
        message_id: Some("m-1"),
        subject: Some(Subject::RequestSent.as_str()),
        body: &bytes,
        ..Default::default()
    };
    core.workflow.ingest(&[envelope]).expect("ingest");
    (dir, core)
}

#[test]
fn the_inspector_masks_received_bodies_and_reveal_shows_one_audited_with_the_operator() {
    let (_dir, core) = core_with(true, "Support Sam");
    let listed = core.inbox(QueueQuery::default()).expect("inbox");
    let message = &listed[0];
    assert!(message.masked, "{message:?}");
    for text in [&message.body, message.pretty.as_ref().expect("JSON")] {
        assert!(!text.contains(NAME) && !text.contains(STREET), "{text}");
        assert!(text.contains("C-1"), "ids stay: {text}");
    }
    let revealed = core.reveal_inbox(message.id).expect("reveal");
    assert!(
        !revealed.masked && revealed.body.contains(NAME),
        "{revealed:?}"
    );
    let trail = core
        .store()
        .read(|c| {
            audit::list(
                c,
                &AuditFilter {
                    card_id: Some("C-1".into()),
                    ..Default::default()
                },
            )
        })
        .expect("audit");
    let reveal = trail
        .iter()
        .find(|a| a.action == cardbench_workflow::cardholder::REVEALED)
        .expect("audited");
    assert_eq!(reveal.operator, "Support Sam");

    let (_dir, unmasked) = core_with(false, "Support Sam");
    let shown = &unmasked.inbox(QueueQuery::default()).expect("inbox")[0];
    assert!(
        !shown.masked && shown.body.contains(NAME),
        "masking off shows the body: {shown:?}"
    );
}

#[test]
fn reveal_without_an_operator_is_refused_and_not_shown() {
    let (_dir, core) = core_with(true, "");
    let id = core.inbox(QueueQuery::default()).expect("inbox")[0].id;
    let err = core.reveal_inbox(id).expect_err("no operator, no reveal");
    assert!(!err.to_string().contains(NAME), "{err}");
}

#[test]
fn a_masked_name_is_not_found_by_the_worklist_search() {
    for mask in [true, false] {
        let (_dir, core) = core_with(mask, "alice");
        let count = |search: &str| {
            core.worklist(WorklistQuery {
                search: Some(search.into()),
                ..WorklistQuery::default()
            })
            .expect("worklist")
            .rows
            .len()
        };
        assert_eq!(count("C-"), 1, "ids are found either way");
        assert_eq!(count("Inge"), usize::from(!mask), "mask {mask}");
        assert_eq!(
            count(NAME),
            usize::from(!mask),
            "mask {mask}: not even the full name"
        );
    }
}

#[test]
fn the_worklist_is_not_sorted_by_masked_holder_names() {
    use cardbench_app::dto::WorklistSort;
    let by_holder = || WorklistQuery { sort: Some(WorklistSort::Holder), ..Default::default() };
    let (_dir, masked) = core_with(true, "Support Sam");
    let refused = masked.worklist(by_holder()).expect_err("the order of hidden names would tell them");
    assert!(refused.to_string().contains("masked"), "{refused}");
    assert!(masked.worklist(WorklistQuery { sort: Some(WorklistSort::Organisation), ..Default::default() }).is_ok());
    let (_dir, shown) = core_with(false, "Support Sam");
    assert_eq!(shown.worklist(by_holder()).expect("names shown: sortable").rows.len(), 1);
}
