//! The contract in `docs/protocol/` and the code agree.
//!
//! Reads the real AsyncAPI document and the real schema files (no copies), decodes their examples
//! with the same `decode_inbound` the workflow uses, and checks what we send against the same
//! embedded schemas the receiver uses.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use cardbench_protocol::validate_schema::{self, SCHEMAS, schema_file};
use cardbench_protocol::{
    Accessory, Address, CardProduced, CardRequest, ErrorCode, ErrorMessage, ExternalProductionData, Inbound,
    Problem, Shipped, Subject, decode_inbound,
};
use chrono::{DateTime, TimeZone, Utc};
use indexmap::IndexMap;
use serde_json::{Value, json};

fn protocol_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol")
}

fn asyncapi() -> Value {
    let path = protocol_dir().join("asyncapi.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

/// Follows a local `$ref` (`#/a/b`) inside the AsyncAPI document, through chained refs.
fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{reference} is not a local $ref"));
    let target = doc.pointer(pointer).unwrap_or_else(|| panic!("$ref {reference} points nowhere"));
    match target.get("$ref").and_then(Value::as_str) {
        Some(next) if next.starts_with('#') => resolve(doc, next),
        _ => target,
    }
}

/// (subject, message object) of every message in `components.messages`.
fn messages(doc: &Value) -> Vec<(Subject, &Value)> {
    let all = doc.pointer("/components/messages").and_then(Value::as_object).expect("components.messages");
    all.iter()
        .map(|(key, message)| {
            let name = message.get("name").and_then(Value::as_str).unwrap_or_else(|| panic!("message {key} has no name"));
            let subject = Subject::parse(name).unwrap_or_else(|| panic!("message {key}: name {name} is not a subject"));
            (subject, message)
        })
        .collect()
}

fn message_of(doc: &Value, subject: Subject) -> &Value {
    messages(doc).into_iter().find(|(s, _)| *s == subject).map(|(_, m)| m).expect("message for subject")
}

/// The payloads of a message's examples.
fn example_payloads(doc: &Value, subject: Subject) -> Vec<Value> {
    let examples = message_of(doc, subject).get("examples").and_then(Value::as_array).expect("examples");
    examples.iter().map(|e| e.get("payload").cloned().expect("example payload")).collect()
}

fn decode(subject: Subject, value: &Value) -> Result<Inbound, Vec<Problem>> {
    decode_inbound(subject, &serde_json::to_vec(value).expect("serialise"))
}

fn paths(problems: &[Problem]) -> BTreeSet<&str> {
    problems.iter().map(|p| p.path.as_str()).collect()
}

/// Serialises the typed message and decodes that again: what we would send of it.
fn reserialised(inbound: &Inbound) -> Value {
    match inbound {
        Inbound::Request(m) => serde_json::to_value(m),
        Inbound::CardProduced(m) => serde_json::to_value(m),
        Inbound::ReportOk(m) => serde_json::to_value(m),
        Inbound::Shipped(m) => serde_json::to_value(m),
        Inbound::ShippedOk(m) => serde_json::to_value(m),
        Inbound::Error(m) => serde_json::to_value(m),
    }
    .expect("typed messages serialise")
}

fn schema_problems(subject: Subject, value: &Value) -> Vec<Problem> {
    validate_schema::check(subject, value)
}

// ---------------------------------------------------------------------------------------------
// The document itself
// ---------------------------------------------------------------------------------------------

#[test]
fn asyncapi_has_two_channels_and_exactly_the_six_messages_in_the_right_directions() {
    let doc = asyncapi();
    assert_eq!(doc["asyncapi"], "3.0.0");

    let names: BTreeSet<&str> = messages(&doc).iter().map(|(s, _)| s.as_str()).collect();
    let expected: BTreeSet<&str> = Subject::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, expected, "one message per subject, named by the subject");

    let channels = doc["channels"].as_object().expect("channels");
    assert_eq!(channels.keys().map(String::as_str).collect::<BTreeSet<_>>(), BTreeSet::from(["inbound", "outbound"]));
    for (channel, allowed) in [
        ("inbound", [cardbench_protocol::Direction::FromNgoc, cardbench_protocol::Direction::Both]),
        ("outbound", [cardbench_protocol::Direction::ToNgoc, cardbench_protocol::Direction::Both]),
    ] {
        let listed = doc["channels"][channel]["messages"].as_object().expect("channel messages");
        let mut subjects = HashSet::new();
        for reference in listed.values() {
            let message = resolve(&doc, reference["$ref"].as_str().expect("message $ref"));
            let subject = Subject::parse(message["name"].as_str().expect("name")).expect("subject");
            assert!(allowed.contains(&subject.direction()), "{subject} does not travel on the {channel} queue");
            subjects.insert(subject);
        }
        // Every subject travelling in this direction is listed on this channel.
        for subject in Subject::ALL {
            if allowed.contains(&subject.direction()) {
                assert!(subjects.contains(&subject), "{subject} missing from channel {channel}");
            }
        }
    }

    // Operations: we receive on inbound, send on outbound.
    let operations = doc["operations"].as_object().expect("operations");
    assert!(!operations.is_empty());
    for (name, operation) in operations {
        let channel = operation["channel"]["$ref"].as_str().expect("operation channel");
        let expected_channel = match operation["action"].as_str() {
            Some("receive") => "#/channels/inbound",
            Some("send") => "#/channels/outbound",
            other => panic!("operation {name}: action {other:?}"),
        };
        assert_eq!(channel, expected_channel, "operation {name}");
        for m in operation["messages"].as_array().expect("operation messages") {
            let reference = m["$ref"].as_str().expect("$ref");
            assert!(reference.starts_with(&format!("{channel}/messages/")), "operation {name} lists {reference} of another channel");
        }
    }
}

#[test]
fn every_local_ref_in_the_document_resolves() {
    fn walk(doc: &Value, node: &Value, seen: &mut usize) {
        match node {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    *seen += 1;
                    if reference.starts_with('#') {
                        resolve(doc, reference);
                    } else {
                        let file = protocol_dir().join(reference);
                        assert!(file.is_file(), "$ref {reference} is not a file in docs/protocol");
                    }
                }
                map.values().for_each(|v| walk(doc, v, seen));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(doc, v, seen)),
            _ => {}
        }
    }
    let doc = asyncapi();
    let mut seen = 0;
    walk(&doc, &doc, &mut seen);
    assert!(seen > 20, "expected the document to use $refs, found {seen}");
}

#[test]
fn every_payload_refers_to_the_embedded_schema_file_of_its_subject() {
    let doc = asyncapi();
    let embedded: BTreeSet<&str> = SCHEMAS.iter().map(|(name, _)| *name).collect();
    for (subject, message) in messages(&doc) {
        let reference = message["payload"]["$ref"].as_str().unwrap_or_else(|| panic!("{subject}: payload has no $ref"));
        let file = reference
            .strip_prefix("./schemas/")
            .unwrap_or_else(|| panic!("{subject}: payload $ref {reference} is not under ./schemas/"));
        assert!(protocol_dir().join("schemas").join(file).is_file(), "{subject}: {reference} does not exist");
        assert!(embedded.contains(file), "{subject}: {file} is not embedded in SCHEMAS");
        assert_eq!(file, schema_file(subject), "{subject}: document and code name different schemas");
    }

    // The embedded copies are the files (include_str! of each), and no schema file is forgotten.
    let on_disk: BTreeSet<String> = std::fs::read_dir(protocol_dir().join("schemas"))
        .expect("schemas dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".schema.json"))
        .collect();
    assert_eq!(on_disk.iter().map(String::as_str).collect::<BTreeSet<_>>(), embedded);
    for (name, text) in SCHEMAS {
        let file = std::fs::read_to_string(protocol_dir().join("schemas").join(name)).expect("schema file");
        assert_eq!(file, text, "{name}: embedded copy differs from the file (rebuild?)");
    }
}

// ---------------------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------------------

#[test]
fn every_example_decodes_validates_and_round_trips_through_the_rust_type() {
    let doc = asyncapi();
    for subject in Subject::ALL {
        let payloads = example_payloads(&doc, subject);
        assert!(!payloads.is_empty(), "{subject} has no example");
        for payload in payloads {
            let typed = decode(subject, &payload)
                .unwrap_or_else(|problems| panic!("{subject} example is invalid: {problems:?}\n{payload:#}"));
            assert_eq!(typed.subject(), subject);
            // deserialize → serialize → deserialize gives the same value, and what the type
            // serialises still satisfies the schema.
            let again = reserialised(&typed);
            assert_eq!(schema_problems(subject, &again), vec![], "{subject}: reserialised example breaks its schema");
            let twice = decode(subject, &again).expect("reserialised example decodes");
            assert_eq!(twice, typed, "{subject}: round trip changed the message");
        }
    }
}

#[test]
fn example_headers_follow_the_envelope() {
    let doc = asyncapi();
    // Validate example headers with the document's own header schemas: the document is the root,
    // so its `#/components/...` refs resolve inside it.
    for (subject, message) in messages(&doc) {
        let key = doc["components"]["messages"]
            .as_object()
            .expect("messages")
            .iter()
            .find(|(_, m)| m["name"] == subject.as_str())
            .map(|(k, _)| k.clone())
            .expect("key");
        let mut root = doc.clone();
        root["$ref"] = json!(format!("#/components/messages/{key}/headers"));
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{subject}: headers schema does not compile: {e}"));
        assert_eq!(message["contentType"], "application/json");
        assert_eq!(message["bindings"]["amqp"]["messageType"], subject.as_str());
        for example in message["examples"].as_array().expect("examples") {
            let headers = &example["headers"];
            let errors: Vec<String> = validator.iter_errors(headers).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{subject} example headers: {errors:?}");
            let id = headers["messageId"].as_str().expect("messageId");
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{subject}: messageId {id} is not a UUID");
            // An answer's body repeats the AMQP correlation-id.
            if let Some(body_correlation) = example["payload"].get("correlationId") {
                assert_eq!(&headers["correlationId"], body_correlation, "{subject}: header and body correlationId differ");
            }
        }
        // A header without the right subject is refused, so the const is really there.
        let mut wrong = message["examples"][0]["headers"].clone();
        wrong["subject"] = json!("EXTERNAL_PRODUCTION_SOMETHING_ELSE");
        assert!(!validator.is_valid(&wrong), "{subject}: headers schema accepts any subject");
    }
}

#[test]
fn request_examples_carry_non_ascii_names_intact() {
    let doc = asyncapi();
    let holders: Vec<String> = example_payloads(&doc, Subject::RequestSent)
        .iter()
        .map(|p| match decode(Subject::RequestSent, p) {
            Ok(Inbound::Request(r)) => r.holder_name().expect("holder").to_owned(),
            other => panic!("not a request: {other:?}"),
        })
        .collect();
    assert!(holders.contains(&"Åsa Öberg".to_owned()), "{holders:?}");
    assert!(holders.contains(&"Łukasz Żółć".to_owned()), "{holders:?}");
}

#[test]
fn error_example_lists_exactly_what_decode_inbound_reports_for_that_request() {
    // The ERROR example in the contract is what Cardbench really answers to a request with those
    // three mistakes, so the document cannot drift from the code.
    let doc = asyncapi();
    let mut bad = example_payloads(&doc, Subject::RequestSent)[0].clone();
    bad["ordered"] = json!("yesterday");
    bad["address"]["countryCode"] = json!("se");
    bad["card"]["expectedReportDataFields"] = json!([""]);
    let problems = decode(Subject::RequestSent, &bad).expect_err("three mistakes");

    let example = example_payloads(&doc, Subject::Error)
        .into_iter()
        .find(|p| p["errorCode"] == "INVALID_MESSAGE")
        .expect("an INVALID_MESSAGE example");
    let documented: Vec<Problem> = serde_json::from_value(example["problems"].clone()).expect("problems");
    let as_set = |ps: &[Problem]| ps.iter().map(|p| (p.path.clone(), p.message.clone())).collect::<BTreeSet<_>>();
    assert_eq!(as_set(&problems), as_set(&documented));
}

// ---------------------------------------------------------------------------------------------
// What we send
// ---------------------------------------------------------------------------------------------

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").with_timezone(&Utc)
}

fn card_produced() -> CardProduced {
    CardProduced {
        organisation_id: "ORG-4711".into(),
        shipment_id: "SHP-1".into(),
        card_id: "CRD-1".into(),
        // Sub-second precision as the clock gives it: must still be a schema date-time.
        produced: Utc.timestamp_opt(1_795_000_000, 123_456_789).single().expect("time"),
        report_data: IndexMap::from([("MIFARE_UID".to_owned(), "04A22B1C".to_owned()), ("ATR".to_owned(), "3B8F8001".to_owned())]),
        external_report_data: IndexMap::new(),
    }
}

fn shipped(with_optionals: bool) -> Shipped {
    Shipped {
        organisation_id: "ORG-4711".into(),
        shipment_id: "SHP-1".into(),
        shipped: at("2026-11-23T14:30:00Z"),
        cards: vec!["CRD-1".into(), "CRD-2".into()],
        accessories: if with_optionals {
            vec![Accessory { article_id: "ART-L".into(), accessory_id: "ACC-1".into(), quantity: u32::MAX }]
        } else {
            vec![]
        },
        carrier: with_optionals.then(|| "PostNord".into()),
        tracking_id: with_optionals.then(|| "00370712345678901234".into()),
    }
}

fn error_message(with_optionals: bool, code: ErrorCode) -> ErrorMessage {
    ErrorMessage {
        correlation_id: with_optionals.then(|| "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into()),
        error_code: code,
        details: "invalid EXTERNAL_PRODUCTION_REQUEST_SENT".into(),
        card_id: with_optionals.then(|| "CRD-1".into()),
        shipment_id: with_optionals.then(|| "SHP-1".into()),
        problems: if with_optionals { vec![Problem::new("address.countryCode", "must be upper case")] } else { vec![] },
    }
}

fn request(recipient: Option<&str>, company: Option<&str>) -> ExternalProductionData {
    ExternalProductionData {
        organisation_id: "ORG-4711".into(),
        shipment_id: "SHP-1".into(),
        ordered: DateTime::parse_from_rfc3339("2026-11-23T09:12:45+01:00").expect("time").into(),
        address: Address {
            address_one: "Storgatan 12".into(),
            address_two: None,
            postal_code: "114 51".into(),
            city: "Stockholm".into(),
            country_code: "SE".into(),
            recipient: recipient.map(Into::into),
            recipient_phone: None,
            company_name: company.map(Into::into),
        },
        card: CardRequest {
            article_id: "ART-1".into(),
            card_id: "CRD-1".into(),
            card_elements: IndexMap::from([("NAME".to_owned(), "Åsa Öberg".to_owned())]),
            expected_report_data_fields: vec!["MIFARE_UID".into()],
            expected_external_report_data_fields: vec![],
        },
        accessories: vec![],
    }
}

fn assert_sends_valid(subject: Subject, value: &impl serde::Serialize) -> Value {
    let json = serde_json::to_value(value).expect("serialise");
    assert_eq!(schema_problems(subject, &json), vec![], "{subject} we send breaks its schema: {json:#}");
    json
}

#[test]
fn what_we_send_validates_against_its_schema_with_optional_fields_absent_and_present() {
    assert_sends_valid(Subject::CardProduced, &card_produced());

    let minimal = assert_sends_valid(Subject::Shipped, &shipped(false));
    // Strict send: absent optionals are omitted, not null.
    assert!(minimal.get("carrier").is_none() && minimal.get("trackingId").is_none(), "{minimal}");
    assert_eq!(minimal["accessories"], json!([]), "accessories is required by the schema, so always sent");
    assert_sends_valid(Subject::Shipped, &shipped(true));
    let accessories_only = Shipped { cards: vec![], ..shipped(true) };
    assert_sends_valid(Subject::Shipped, &accessories_only);

    let bare = assert_sends_valid(Subject::Error, &error_message(false, ErrorCode::InvalidMessage));
    assert_eq!(bare.as_object().expect("object").keys().collect::<Vec<_>>(), ["errorCode", "details"]);
    for code in ErrorCode::KNOWN {
        assert_sends_valid(Subject::Error, &error_message(true, code));
    }
    assert_sends_valid(Subject::Error, &error_message(true, ErrorCode::Other("NGOC_NEW".into())));

    // The simulator sends requests: both address forms.
    assert_sends_valid(Subject::RequestSent, &request(Some("Åsa Öberg"), None));
    assert_sends_valid(Subject::RequestSent, &request(None, Some("Żółć Logistyka")));
}

#[test]
fn schemas_of_what_we_send_refuse_undocumented_fields() {
    // These guard the strictness itself: if someone drops additionalProperties:false, this fails.
    let mut produced = serde_json::to_value(card_produced()).expect("serialise");
    produced["operator"] = json!("anna");
    let problems = schema_problems(Subject::CardProduced, &produced);
    assert_eq!(paths(&problems), BTreeSet::from([""]), "{problems:?}");
    assert!(problems[0].message.contains("operator"), "{problems:?}");

    let mut parcel = serde_json::to_value(shipped(true)).expect("serialise");
    parcel["weightGrams"] = json!(120);
    parcel["accessories"][0]["colour"] = json!("blue");
    let problems = schema_problems(Subject::Shipped, &parcel);
    assert_eq!(paths(&problems), BTreeSet::from(["", "accessories[0]"]), "{problems:?}");
}

// ---------------------------------------------------------------------------------------------
// Receiving
// ---------------------------------------------------------------------------------------------

fn good_request() -> Value {
    example_payloads(&asyncapi(), Subject::RequestSent)[0].clone()
}

#[test]
fn decode_inbound_reports_every_problem_with_its_dotted_path() {
    let mut bad = good_request();
    bad["ordered"] = json!("23/11/2026");
    bad["address"]["countryCode"] = json!("Sweden");
    bad["card"]["expectedReportDataFields"] = json!(["", "ATR"]);
    let problems = decode(Subject::RequestSent, &bad).expect_err("invalid");
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(paths(&problems), BTreeSet::from(["ordered", "address.countryCode", "card.expectedReportDataFields[0]"]));

    // Missing fields are located at the field itself; nested and top level at once.
    let mut missing = good_request();
    missing["address"].as_object_mut().expect("address").remove("city");
    missing.as_object_mut().expect("request").remove("organisationId");
    missing["accessories"][0]["quantity"] = json!(0);
    let problems = decode(Subject::RequestSent, &missing).expect_err("invalid");
    assert_eq!(paths(&problems), BTreeSet::from(["organisationId", "address.city", "accessories[0].quantity"]), "{problems:?}");
    assert!(problems.iter().any(|p| p.path == "address.city" && p.message == "is required"), "{problems:?}");

    // quantity is a u32 on the Rust side: the schema refuses what the type could not hold.
    let mut huge = good_request();
    huge["accessories"][0]["quantity"] = json!(4_294_967_296_u64);
    let problems = decode(Subject::RequestSent, &huge).expect_err("too large");
    assert_eq!(paths(&problems), BTreeSet::from(["accessories[0].quantity"]));
    let mut fractional = good_request();
    fractional["accessories"][0]["quantity"] = json!(1.5);
    assert_eq!(paths(&decode(Subject::RequestSent, &fractional).expect_err("not integer")), BTreeSet::from(["accessories[0].quantity"]));

    // A readout asked for twice is reported at its second occurrence (rule outside the schema).
    let mut twice = good_request();
    twice["card"]["expectedReportDataFields"] = json!(["MIFARE_UID", "MIFARE_UID"]);
    let problems = decode(Subject::RequestSent, &twice).expect_err("duplicate field");
    assert_eq!(paths(&problems), BTreeSet::from(["card.expectedReportDataFields[1]"]));
}

#[test]
fn problem_messages_are_readable_and_quote_no_cardholder_data() {
    let mut bad = good_request();
    let address = bad["address"].as_object_mut().expect("address");
    address.remove("recipient");
    address.insert("countryCode".into(), json!("se"));
    let problems = decode(Subject::RequestSent, &bad).expect_err("no recipient");
    let anyof = problems.iter().find(|p| p.path == "address" && !p.message.is_empty()).expect("address problem");
    assert_eq!(anyof.message, "recipient or companyName is required", "{problems:?}");
    for p in &problems {
        for secret in ["Öberg", "Storgatan", "Stockholm", "\"se\""] {
            assert!(!p.message.contains(secret), "problem quotes cardholder data: {p}");
        }
    }
    // An empty recipient does not count either.
    let mut empty = good_request();
    empty["address"]["recipient"] = json!("");
    let problems = decode(Subject::RequestSent, &empty).expect_err("empty recipient");
    assert_eq!(problems, vec![Problem::new("address", "recipient or companyName is required")]);

    let mut parcel = serde_json::to_value(shipped(false)).expect("serialise");
    parcel["cards"] = json!([]);
    let problems = decode(Subject::Shipped, &parcel).expect_err("empty parcel");
    assert_eq!(problems, vec![Problem::new("", "a parcel must contain at least one card or accessory")]);

    let mut produced = serde_json::to_value(card_produced()).expect("serialise");
    produced["produced"] = json!("2026-11-23 10:00");
    produced["cardId"] = json!(17);
    let problems = decode(Subject::CardProduced, &produced).expect_err("bad types");
    assert!(problems.contains(&Problem::new("cardId", "must be a string")), "{problems:?}");
    assert!(
        problems.contains(&Problem::new("produced", "must be an RFC 3339 date-time with offset, e.g. 2026-11-23T09:30:00Z")),
        "{problems:?}"
    );
}

#[test]
fn unknown_fields_are_tolerated_on_receive() {
    let plain = good_request();
    let mut extended = plain.clone();
    extended["priority"] = json!("HIGH");
    extended["address"]["floor"] = json!(3);
    extended["card"]["chipProfile"] = json!({"aid": "F0010203"});
    extended["accessories"][0]["colour"] = json!("blue");
    let a = decode(Subject::RequestSent, &plain).expect("plain");
    let b = decode(Subject::RequestSent, &extended).expect("unknown fields are ignored");
    assert_eq!(a, b);

    let answers = [
        (Subject::ReportOk, json!({"cardId": "CRD-1", "correlationId": "m-1", "acceptedAt": "2026-11-23T10:00:00Z"})),
        (Subject::ShippedOk, json!({"shipmentId": "SHP-1", "correlationId": "m-2", "note": "ok"})),
        (
            Subject::Error,
            json!({"errorCode": "UNKNOWN_CARD", "details": "no such card", "timestamp": "2026-11-23T10:00:00Z",
                   "problems": [{"path": "cardId", "message": "unknown", "severity": "error"}]}),
        ),
    ];
    for (subject, body) in answers {
        assert!(decode(subject, &body).is_ok(), "{subject} with an unknown field was refused");
    }
}

#[test]
fn bodies_that_are_not_utf8_or_not_json_give_one_clear_problem_without_panicking() {
    // "Öberg" in Latin-1: a plausible mistake of a sender.
    let latin1 = b"{\"recipient\": \"\xD6berg\"}";
    let cases: [(&[u8], &str); 6] = [
        (latin1, "not UTF-8"),
        (b"\xff\xfe{\0}\0", "not UTF-8"),
        (b"", "not valid JSON"),
        (b"{\"organisationId\": ", "not valid JSON"),
        (b"<xml/>", "not valid JSON"),
        (b"{} trailing", "not valid JSON"),
    ];
    for subject in Subject::ALL {
        for (body, expected) in cases {
            let problems = decode_inbound(subject, body).expect_err("refused");
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].path, "");
            assert!(problems[0].message.contains(expected), "{subject}: {:?} should say {expected}", problems[0].message);
        }
        // JSON, but not an object.
        for body in [&b"[]"[..], b"null", b"\"text\"", b"42"] {
            let problems = decode_inbound(subject, body).expect_err("not an object");
            assert_eq!(problems, vec![Problem::new("", "must be an object")], "{subject}");
        }
    }
}

#[test]
fn an_unknown_error_code_is_kept_verbatim() {
    let body = json!({"correlationId": "m-1", "errorCode": "NGOC_QUOTA_EXCEEDED", "details": "try tomorrow"});
    let Ok(Inbound::Error(error)) = decode(Subject::Error, &body) else { panic!("an unknown code is not an invalid ERROR") };
    assert_eq!(error.error_code, ErrorCode::Other("NGOC_QUOTA_EXCEEDED".into()));
    assert_eq!(serde_json::to_value(&error).expect("serialise")["errorCode"], "NGOC_QUOTA_EXCEEDED");
    // But an empty one is not a code.
    let empty = json!({"errorCode": "", "details": "?"});
    assert_eq!(paths(&decode(Subject::Error, &empty).expect_err("empty code")), BTreeSet::from(["errorCode"]));
}

// ---------------------------------------------------------------------------------------------
// Error codes are documented
// ---------------------------------------------------------------------------------------------

#[test]
fn every_error_code_is_documented_in_the_contract() {
    let doc = asyncapi();
    let description = message_of(&doc, Subject::Error)["description"].as_str().expect("ERROR description");
    let readme = std::fs::read_to_string(protocol_dir().join("README.md")).expect("docs/protocol/README.md");
    let (_, schema_text) = SCHEMAS.iter().find(|(n, _)| *n == "error.schema.json").expect("error schema");
    let schema: Value = serde_json::from_str(schema_text).expect("json");
    let listed: Vec<&str> =
        schema["properties"]["errorCode"]["examples"].as_array().expect("examples").iter().filter_map(Value::as_str).collect();
    for code in ErrorCode::KNOWN {
        let code = code.as_str();
        assert!(description.contains(&format!("| `{code}` |")), "{code} missing from the ERROR table in asyncapi.yaml");
        assert!(readme.contains(&format!("| `{code}` |")), "{code} missing from the table in README.md");
        assert!(listed.contains(&code), "{code} missing from error.schema.json examples");
    }
    assert_eq!(listed.len(), ErrorCode::KNOWN.len(), "error.schema.json lists a code the code does not know");
}

// ---------------------------------------------------------------------------------------------
// NGOC's report fields and external report data
// ---------------------------------------------------------------------------------------------

#[test]
fn card_produced_with_external_report_data_validates_and_without_it_omits_the_key() {
    let with_pin = CardProduced {
        report_data: IndexMap::from([
            ("TRANSLATION_MIFARE_HEX_MSB".to_owned(), "04A22B1C".to_owned()),
            ("TRANSLATION_MIFARE_HEX_LSB".to_owned(), "1C2BA204".to_owned()),
        ]),
        external_report_data: IndexMap::from([("PIN_CODE".to_owned(), "4711".to_owned())]),
        ..card_produced()
    };
    let sent = assert_sends_valid(Subject::CardProduced, &with_pin);
    assert_eq!(sent["externalReportData"], json!({"PIN_CODE": "4711"}));
    let plain = assert_sends_valid(Subject::CardProduced, &card_produced());
    assert!(plain.get("externalReportData").is_none(), "absent when nothing is asked for: {plain}");
    // Strict: an empty object or a non-text value is not what we send.
    for bad in [json!({}), json!({"PIN_CODE": 4711}), json!({"PIN_CODE": ""})] {
        let mut body = sent.clone();
        body["externalReportData"] = bad.clone();
        assert!(!schema_problems(Subject::CardProduced, &body).is_empty(), "accepted {bad}");
    }
}

#[test]
fn a_request_may_ask_for_external_report_data_once_per_name() {
    let mut body = good_request();
    body["card"]["expectedReportDataFields"] = json!(["TRANSLATION_MIFARE_HEX_LSB"]);
    body["card"]["expectedExternalReportDataFields"] = json!(["PIN_CODE"]);
    match decode(Subject::RequestSent, &body) {
        Ok(Inbound::Request(r)) => assert_eq!(r.card.expected_external_report_data_fields, ["PIN_CODE"]),
        other => panic!("not taken: {other:?}"),
    }
    body["card"]["expectedExternalReportDataFields"] = json!(["PIN_CODE", "PIN_CODE", "TRANSLATION_MIFARE_HEX_LSB"]);
    let problems = decode(Subject::RequestSent, &body).expect_err("twice, and in both lists");
    assert_eq!(
        paths(&problems),
        BTreeSet::from(["card.expectedExternalReportDataFields[1]", "card.expectedExternalReportDataFields[2]"]),
        "{problems:?}"
    );
}
