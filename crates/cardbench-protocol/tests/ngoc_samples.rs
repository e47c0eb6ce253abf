//! What NGOC really sends decodes: bodies written as NGOC's published samples write them (the
//! fixtures in `tests/ngoc/`), read with the same `decode_inbound_with` the workflow uses. And what
//! we send stays strict.

use std::path::{Path, PathBuf};

use cardbench_protocol::validate_schema;
use cardbench_protocol::{DecodeOptions, Inbound, ReceivedZone, Subject, decode_inbound, decode_inbound_with};
use serde_json::json;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ngoc").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn protocol_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol")
}

fn in_zone(name: &str) -> DecodeOptions {
    DecodeOptions { received_time_zone: ReceivedZone::named(name).expect("zone"), ..Default::default() }
}

#[test]
fn ngocs_sample_request_with_an_offset_less_nine_digit_time_is_taken_and_keeps_its_text() {
    let body = fixture("request-sent.json");
    let Ok(Inbound::Request(request)) = decode_inbound(Subject::RequestSent, &body) else {
        panic!("NGOC's sample form is refused: {:?}", decode_inbound(Subject::RequestSent, &body));
    };
    assert_eq!(request.ordered.as_received(), "2022-02-04T09:36:45.650982100", "the text as received is kept");
    assert_eq!(request.ordered.to_utc().to_rfc3339(), "2022-02-04T09:36:45.650982100+00:00", "read as UTC by default");
    assert_eq!(
        request.card.expected_report_data_fields,
        ["TRANSLATION_MIFARE_HEX_MSB", "TRANSLATION_MIFARE_HEX_LSB"],
        "NGOC's report field names are taken as listed"
    );
    // Serialised as the worklist keeps it: the time as written, not rewritten.
    let stored = serde_json::to_value(&request).expect("serialise");
    assert_eq!(stored["ordered"], "2022-02-04T09:36:45.650982100");
}

#[test]
fn an_offset_less_time_is_read_in_the_configured_zone_and_a_written_offset_wins() {
    let body = fixture("request-sent.json");
    let Ok(Inbound::Request(request)) = decode_inbound_with(Subject::RequestSent, &body, &in_zone("Europe/Stockholm")) else {
        panic!("refused");
    };
    assert_eq!(request.ordered.to_utc().to_rfc3339(), "2022-02-04T08:36:45.650982100+00:00", "CET is UTC+1 in February");
    assert_eq!(request.ordered.as_received(), "2022-02-04T09:36:45.650982100");

    let mut with_offset: serde_json::Value = serde_json::from_slice(&body).expect("json");
    with_offset["ordered"] = json!("2022-02-04T09:36:45Z");
    let bytes = serde_json::to_vec(&with_offset).expect("json");
    let Ok(Inbound::Request(request)) = decode_inbound_with(Subject::RequestSent, &bytes, &in_zone("America/New_York")) else {
        panic!("refused");
    };
    assert_eq!(request.ordered.to_utc().to_rfc3339(), "2022-02-04T09:36:45+00:00");
}

#[test]
fn every_tolerated_time_form_passes_the_schema_and_others_still_fail_with_a_readable_problem() {
    let body = fixture("request-sent.json");
    let mut value: serde_json::Value = serde_json::from_slice(&body).expect("json");
    for form in [
        "2022-02-04T09:36:45",
        "2022-02-04T09:36:45.6",
        "2022-02-04 09:36:45.650982100",
        "2022-02-04T09:36:45.650982100+01:00",
        "2022-02-04t09:36:45z",
    ] {
        value["ordered"] = json!(form);
        assert!(validate_schema::check(Subject::RequestSent, &value).is_empty(), "{form} refused by the schema");
        let bytes = serde_json::to_vec(&value).expect("json");
        assert!(decode_inbound(Subject::RequestSent, &bytes).is_ok(), "{form} refused");
    }
    for bad in ["2022-03-04T09:36:45.1234567891", "2022-03-04T09:36", "04.02.2022 09:36", "2022-02-30T09:36:45"] {
        value["ordered"] = json!(bad);
        let bytes = serde_json::to_vec(&value).expect("json");
        let problems = decode_inbound(Subject::RequestSent, &bytes).expect_err(bad);
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert_eq!(problems[0].path, "ordered");
        assert!(!problems[0].message.contains(bad), "a problem never quotes the value: {}", problems[0].message);
    }
}

#[test]
fn answers_without_correlation_id_in_the_body_decode() {
    let Ok(Inbound::ReportOk(ok)) = decode_inbound(Subject::ReportOk, &fixture("report-ok-without-correlation.json")) else {
        panic!("a REPORT_OK without correlationId is refused");
    };
    assert_eq!((ok.card_id.as_str(), ok.correlation_id), ("CRD-000918290", None));
    let Ok(Inbound::ShippedOk(ok)) = decode_inbound(Subject::ShippedOk, &fixture("shipped-ok-without-correlation.json")) else {
        panic!("a SHIPPED_OK without correlationId is refused");
    };
    assert_eq!((ok.shipment_id.as_str(), ok.correlation_id), ("SHP-2026-000186", None));
}

#[test]
fn what_we_send_stays_strict_rfc_3339_with_offset() {
    let produced = json!({
        "organisationId": "ORG-1", "shipmentId": "S-1", "cardId": "C-1",
        "produced": "2022-02-04T09:36:45.650982100", "reportData": {"MIFARE_UID": "04A22B1C5D6E80"}
    });
    let problems = validate_schema::check(Subject::CardProduced, &produced);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "produced");
}

#[test]
fn the_contract_says_each_request_carries_its_own_accessories() {
    // The code sums the accessories of a shipment's requests (workflow test
    // `accessories_of_several_requests_of_one_shipment_add_up`); the document must say the same.
    let text = std::fs::read_to_string(protocol_dir().join("asyncapi.yaml")).expect("asyncapi");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!flat.contains("the same `accessories`"), "asyncapi.yaml still says every request carries the shipment's accessories");
    assert!(!flat.contains("the shipment's accessories"), "asyncapi.yaml still says a request carries the shipment's accessories");
    assert!(flat.contains("each carries its own `accessories`"), "asyncapi.yaml must say each request carries its own accessories");
}
