//! The `interpret_scan` command body against a real store on disk, and the JSON the webview
//! receives (`kind` + camelCase fields, as in `ui/src/lib/bindings/ScanMeaningView.ts`).

use std::sync::Arc;

use cardbench_app::station::Station;
use cardbench_app::dto::ScanMeaningView;
use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::inbox::Envelope;
use serde_json::json;

fn core_with(cards: &[(&str, &str, &[&str])]) -> (tempfile::TempDir, Station) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let store = Arc::new(Store::open_in(&data).expect("open store"));
    let core = Station::new(store, data.clone(), data.join("app.log"), false, dir.path().join("config.toml")).expect("core");
    let bodies: Vec<Vec<u8>> = cards
        .iter()
        .map(|(card_id, shipment_id, expected)| {
            let mut body = fixtures::request_json(card_id, shipment_id);
            body["card"]["cardElements"]["NAME"] = json!("<b>Åsa</b>");
            body["card"]["expectedReportDataFields"] = json!(expected);
            serde_json::to_vec(&body).expect("json")
        })
        .collect();
    let ids: Vec<String> = (0..bodies.len()).map(|i| format!("msg-{i}")).collect();
    let envelopes: Vec<Envelope<'_>> = bodies
        .iter()
        .zip(&ids)
        .map(|(b, id)| Envelope { message_id: Some(id), subject: Some(Subject::RequestSent.as_str()), body: b, ..Default::default() })
        .collect();
    let report = core.workflow.ingest(&envelopes).expect("ingest");
    assert_eq!(report.outcomes.len(), cards.len());
    assert!(format!("{report:?}").matches("Rejected").count() == 0, "{report:?}");
    (dir, core)
}

fn wire(m: &ScanMeaningView) -> serde_json::Value {
    serde_json::to_value(m).expect("serialise")
}

#[test]
fn a_scan_is_interpreted_by_the_core_and_sent_in_the_bindings_shape() {
    let (_dir, core) = core_with(&[("C-1", "S-1", &["MIFARE_UID"]), ("C-2", "S-1", &["MIFARE_UID"])]);

    let m = core.interpret_scan("C-2\r", Some("C-1")).expect("scan");
    assert_eq!(wire(&m), json!({"kind": "card", "cardId": "C-2"}));

    let m = core.interpret_scan("S-1", None).expect("scan");
    assert_eq!(wire(&m), json!({"kind": "shipment", "shipmentId": "S-1"}));

    let m = core.interpret_scan("04:a2:2b:1c", Some("C-1")).expect("scan");
    assert_eq!(
        wire(&m),
        json!({"kind": "readout", "cardId": "C-1", "field": "MIFARE_UID", "value": "04A22B1C",
               "msbFirst": "04A22B1C", "lsbFirst": "1C2BA204"})
    );

    let m = core.interpret_scan("04A22B", Some("C-1")).expect("scan");
    let v = wire(&m);
    assert_eq!((v["kind"].as_str(), v["field"].as_str()), (Some("bad_readout"), Some("MIFARE_UID")), "{v}");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");

    let m = core.interpret_scan("NO-SUCH-THING", None).expect("scan");
    assert_eq!(wire(&m), json!({"kind": "unknown", "reason": "no such card or shipment, and no card is selected"}));
}

#[test]
fn a_blank_or_unknown_card_in_hand_is_no_card_in_hand() {
    let (_dir, core) = core_with(&[("C-1", "S-1", &["MIFARE_UID"])]);
    // The webview may send "" when nothing is selected; a card that vanished is no card either.
    for hand in [Some(""), Some("  "), Some("C-GONE"), None] {
        let m = core.interpret_scan("04A22B1C", hand).expect("scan");
        assert!(matches!(m, ScanMeaningView::Unknown { .. }), "{hand:?}: {m:?}");
    }
}
