//! `cardbench refuse` from the outside: the ERROR queued, the card refused, the gate's words,
//! exit code 3 when a workflow rule refuses.

use std::path::Path;
use std::process::Output;

mod common;

use common::text;
use serde_json::Value;

fn cardbench(dir: &Path, args: &[&str]) -> Output {
    common::run(dir, Some("Åsa Öberg"), args)
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON on stdout ({e}): {}", text(&out.stdout)))
}

#[test]
fn a_request_is_refused_from_the_command_line_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cardbench(dir.path(), &["sim", "generate", "2", "--seed", "3", "--max-shipment", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cardbench(dir.path(), &["run", "--no-sim", "--for-seconds", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = json(&cardbench(dir.path(), &["--json", "cards", "list"]));
    let row = &page["rows"][0];
    let card = row["card_id"].as_str().expect("card id").to_owned();
    let shipment = row["shipment_id"].as_str().expect("shipment id").to_owned();
    let inbox = json(&cardbench(dir.path(), &["--json", "inbox"]));
    let request_id = inbox
        .as_array()
        .expect("inbox rows")
        .iter()
        .find(|r| r["cardId"] == card.as_str())
        .and_then(|r| r["messageId"].as_str())
        .expect("the request's messageId")
        .to_owned();

    let no_operator = common::run(dir.path(), None, &["refuse", &card, "--code", "PHOTO_UNUSABLE", "--details", "blurred"]);
    assert_eq!(no_operator.status.code(), Some(1), "{}", text(&no_operator.stderr));
    let wrong_code = cardbench(dir.path(), &["refuse", &card, "--code", "INVALID_MESSAGE", "--details", "blurred"]);
    assert_eq!(wrong_code.status.code(), Some(3), "a code that is not a refusal is refused by the rule");
    assert!(text(&wrong_code.stderr).contains("PHOTO_UNUSABLE"), "the refusal names the codes: {}", text(&wrong_code.stderr));

    let refused = cardbench(dir.path(), &["refuse", &card, "--code", "PHOTO_UNUSABLE", "--details", "photo blurred, face not visible"]);
    assert!(refused.status.success(), "{}", text(&refused.stderr));
    assert!(text(&refused.stdout).contains("refused"), "{}", text(&refused.stdout));

    let errors = json(&cardbench(dir.path(), &["--json", "outbox", "--subject", "EXTERNAL_PRODUCTION_ERROR"]));
    let errors = errors.as_array().expect("outbox rows");
    assert_eq!(errors.len(), 1, "exactly one ERROR queued: {errors:?}");
    assert_eq!(errors[0]["correlation_id"], request_id.as_str());
    let body: Value = serde_json::from_str(errors[0]["body"].as_str().expect("body")).expect("ERROR body");
    assert_eq!(body["errorCode"], "PHOTO_UNUSABLE");
    assert_eq!(body["correlationId"], request_id.as_str());
    assert_eq!(body["cardId"], card.as_str());
    assert_eq!(body["shipmentId"], shipment.as_str());

    let shown = json(&cardbench(dir.path(), &["--json", "cards", "show", &card]));
    assert_eq!(shown["card"]["status"], "refused");
    let listed = json(&cardbench(dir.path(), &["--json", "cards", "list", "--status", "refused"]));
    assert_eq!(listed["rows"].as_array().map(Vec::len), Some(1));

    let again = cardbench(dir.path(), &["refuse", &card, "--code", "PHOTO_UNUSABLE", "--details", "again"]);
    assert_eq!(again.status.code(), Some(3), "refusing twice is refused by a rule");
    assert!(text(&again.stderr).contains("already refused"), "{}", text(&again.stderr));

    let gate = cardbench(dir.path(), &["shipments", "show", &shipment]);
    assert!(gate.status.success(), "{}", text(&gate.stderr));
    let gate = text(&gate.stdout);
    assert!(gate.contains(&card) && gate.contains("refused (PHOTO_UNUSABLE): not counted"), "the gate says which card and why: {gate}");
}
