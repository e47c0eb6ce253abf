//! The production station's view of NGOC's translations and of external report data, against a
//! real store on disk: one check fills the translations, and no screen DTO carries a secret.

use std::sync::Arc;

use cardbench_app::station::Station;
use cardbench_app::dto::{QueueQuery, ReadoutValue};
use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::inbox::Envelope;
use serde_json::json;

const PIN: &str = "93175824";

#[test]
fn one_check_gives_every_translation_and_no_screen_carries_the_pin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "operator = \"Åsa Öberg\"\n").expect("config");
    let store = Arc::new(Store::open_in(&data).expect("open store"));
    let core = Station::new(store, data.clone(), data.join("app.log"), false, config).expect("core");
    // The simulator's request, asking for the UID by its translations and a PIN as external data.
    let mut body = fixtures::request_json("C-1", "S-1");
    body["card"]["expectedReportDataFields"] = json!(["TRANSLATION_MIFARE_HEX_MSB", "TRANSLATION_MIFARE_HEX_LSB"]);
    body["card"]["expectedExternalReportDataFields"] = json!(["PIN_CODE"]);
    let body = serde_json::to_vec(&body).expect("json");
    let envelope = Envelope { message_id: Some("m-1"), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
    core.workflow.ingest(&[envelope]).expect("ingest");

    let check = core.check_readout("TRANSLATION_MIFARE_HEX_LSB", "1c 2b a2 04");
    assert!(check.ok, "{check:?}");
    let msb = check.translations.iter().find(|t| t.field == "TRANSLATION_MIFARE_HEX_MSB").map(|t| t.value.as_str());
    assert_eq!(msb, Some("04A22B1C"), "{check:?}");

    let view = core.card("C-1").expect("card");
    let pin = view.expected.iter().find(|f| f.field == "PIN_CODE").expect("the PIN is an expected field");
    assert!(pin.secret, "{pin:?}");
    let values = vec![
        ReadoutValue { field: "TRANSLATION_MIFARE_HEX_LSB".into(), value: "1C2BA204".into() },
        ReadoutValue { field: "PIN_CODE".into(), value: PIN.into() },
    ];
    core.produce("C-1", values, "typed").expect("produce");

    let shown = serde_json::to_string(&core.card("C-1").expect("card")).expect("json");
    assert!(!shown.contains(PIN), "card view: {shown}");
    assert!(shown.contains("04A22B1C"), "the translation filled from the one value: {shown}");
    let queue = core.outbox(QueueQuery::default()).expect("outbox");
    assert_eq!(queue.len(), 1);
    let shown = serde_json::to_string(&queue).expect("json");
    assert!(!shown.contains(PIN), "queue inspector, raw body included: {shown}");
    assert!(shown.contains("externalReportData"), "{shown}");
}
