//! The card API over a real SQLite store, served on 127.0.0.1 by the real server, asked over HTTP,
//! and held to `docs/api/openapi.yaml`: every answer's status is documented for its path and its
//! body matches the documented schema; every documented status is seen; every route is documented.

use std::collections::BTreeSet;
use std::sync::Arc;

use cardbench_api::{ApiConfig, ApiServer, Token};
use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::inbox::Envelope;
use cardbench_workflow::reporting::Topic;
use cardbench_workflow::{IngestOutcome, ParcelRequest, ReadoutInput, Workflow};
use serde_json::{Value, json};

const TOKEN: &str = "test-token-0123456789abcdef";
const HEX_MSB: &str = "TRANSLATION_MIFARE_HEX_MSB";
const HEX_LSB: &str = "TRANSLATION_MIFARE_HEX_LSB";
/// A PIN code distinctive enough to look for in every answer.
const PIN: &str = "93175824";

struct Bench {
    _dir: tempfile::TempDir,
    wf: Workflow,
    server: Option<ApiServer>,
    base: String,
    http: reqwest::Client,
}

fn input(field: &str, value: &str) -> ReadoutInput {
    ReadoutInput { field: field.into(), value: value.into() }
}

fn ingest(wf: &Workflow, subject: Subject, body: &Value) -> IngestOutcome {
    let bytes = serde_json::to_vec(body).expect("json");
    let id = uuid::Uuid::new_v4().to_string();
    let envelope = Envelope { message_id: Some(&id), subject: Some(subject.as_str()), body: &bytes, ..Default::default() };
    wf.ingest(&[envelope]).expect("ingest").outcomes.into_iter().next().expect("one outcome")
}

fn request(wf: &Workflow, card_id: &str, shipment_id: &str, fields: &[&str], external: &[&str]) {
    let mut body = fixtures::request_json(card_id, shipment_id);
    body["card"]["expectedReportDataFields"] = json!(fields);
    body["card"]["expectedExternalReportDataFields"] = json!(external);
    body["accessories"] = json!([]);
    let outcome = ingest(wf, Subject::RequestSent, &body);
    assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
}

/// A store with: C-1 produced with a PIN (awaiting REPORT_OK), C-2 produced, REPORT_OK and
/// shipped in S-2, C-3 only received; and the server over it.
async fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = Workflow::new(Arc::new(cardbench_store::testing::store_in(dir.path()).expect("store")));
    request(&wf, "C-1", "S-1", &[HEX_MSB, HEX_LSB], &["PIN_CODE"]);
    wf.produce("alice", "C-1", &[input("MIFARE_UID", "04A22B1C"), input("PIN_CODE", PIN)], "typed").expect("produce C-1");
    request(&wf, "C-2", "S-2", &[HEX_MSB], &[]);
    let produced = wf.produce("alice", "C-2", &[input("MIFARE_UID", "11223344")], "typed").expect("produce C-2");
    let ok = ingest(&wf, Subject::ReportOk, &json!({"cardId": "C-2", "correlationId": produced.message_id}));
    assert!(matches!(ok, IngestOutcome::Accepted { .. }), "{ok:?}");
    let parcel = ParcelRequest {
        shipment_id: "S-2".into(),
        cards: vec!["C-2".into()],
        carrier: Some("DHL".into()),
        tracking_id: Some("TRK-1".into()),
        ..Default::default()
    };
    wf.ship("alice", &parcel).expect("ship C-2");
    request(&wf, "C-3", "S-1", &[HEX_MSB], &[]);

    let config = ApiConfig { enabled: true, listen: "127.0.0.1:0".into(), allow_remote: false };
    let server = ApiServer::start(wf.clone(), &config, Token::new(TOKEN)).await.expect("start the API");
    let base = format!("http://{}", server.local_addr());
    Bench { _dir: dir, wf, server: Some(server), base, http: reqwest::Client::new() }
}

impl Bench {
    async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let response = req.send().await.expect("an answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.expect("body"))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.call(reqwest::Method::GET, path, Some(TOKEN)).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

fn document() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/openapi.yaml")).expect("docs/api/openapi.yaml");
    serde_norway::from_str(&text).expect("the OpenAPI document is YAML")
}

/// `$ref` of a response object followed within the document.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => value,
    }
}

/// Checks one answer against the document: its status is documented for the path's `method`,
/// and a JSON body matches the documented schema (a documented body must be there).
fn check(doc: &Value, template: &str, method: &str, status: u16, body: &str) {
    let operation = doc["paths"][template].get(method).unwrap_or_else(|| panic!("{method} {template} is not documented"));
    let response = operation["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {template} answered {status}, which the document does not list"));
    let response = resolve(doc, response);
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return;
    };
    let instance: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{template} {status}: not JSON ({e}): {body}"));
    // The schema with the document's components beside it, so its $refs resolve.
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        map.insert("components".into(), doc["components"].clone());
        map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    }
    let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{template} {status}: schema does not compile: {e}"));
    let problems: Vec<String> = validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(problems.is_empty(), "{method} {template} {status} does not match the document: {problems:?}\n{instance:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_as_its_openapi_document_says() {
    let doc = document();
    let b = bench().await;
    use reqwest::Method;
    // (template, concrete path, method, token, expected status)
    let wrong = "wrong-token";
    let calls: Vec<(&str, &str, Method, Option<&str>, u16)> = vec![
        ("/api/card/{cardId}", "/api/card/C-1", Method::GET, Some(TOKEN), 200),
        ("/api/card/{cardId}", "/api/card/C-2", Method::GET, Some(TOKEN), 200),
        ("/api/card/{cardId}", "/api/card/C-3", Method::GET, Some(TOKEN), 200),
        ("/api/card/{cardId}", "/api/card/NOPE", Method::GET, Some(TOKEN), 404),
        ("/api/card/{cardId}", "/api/card/C-1", Method::GET, None, 401),
        ("/api/card/{cardId}", "/api/card/C-1", Method::DELETE, Some(TOKEN), 405),
        ("/api/shipment/{shipmentId}", "/api/shipment/S-1", Method::GET, Some(TOKEN), 200),
        ("/api/shipment/{shipmentId}", "/api/shipment/S-2", Method::GET, Some(TOKEN), 200),
        ("/api/shipment/{shipmentId}", "/api/shipment/NOPE", Method::GET, Some(TOKEN), 404),
        ("/api/shipment/{shipmentId}", "/api/shipment/S-1", Method::GET, Some(wrong), 401),
        ("/api/shipment/{shipmentId}", "/api/shipment/S-1", Method::POST, Some(TOKEN), 405),
        ("/api/events", "/api/events", Method::GET, Some(TOKEN), 200),
        ("/api/events", "/api/events?after=2&limit=2", Method::GET, Some(TOKEN), 200),
        ("/api/events", "/api/events?limit=0", Method::GET, Some(TOKEN), 400),
        ("/api/events", "/api/events", Method::GET, None, 401),
        ("/api/events", "/api/events", Method::PUT, Some(TOKEN), 405),
    ];
    let mut seen = BTreeSet::new();
    for (template, path, method, token, expected) in calls {
        let (status, _, body) = b.call(method.clone(), path, token).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        // 405 is documented on the path's GET: the path refuses every other method.
        check(&doc, template, "get", status, &body);
        seen.insert((template.to_owned(), status.to_string()));
    }

    // Every documented status of every path was seen, and every route is documented.
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for status in item["get"]["responses"].as_object().expect("responses").keys() {
            documented.insert((path.clone(), status.clone()));
        }
    }
    assert_eq!(seen, documented, "the test exercises exactly what the document lists");
    let paths: BTreeSet<&str> = doc["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
    assert_eq!(paths, cardbench_api::ROUTES.into_iter().collect(), "every route the server has is documented, and no other");

    // The document's topics are the workflow's.
    let topics: BTreeSet<String> =
        doc["components"]["schemas"]["Event"]["properties"]["topic"]["enum"].as_array().expect("enum").iter().map(|t| t.as_str().expect("text").to_owned()).collect();
    assert_eq!(topics, Topic::ALL.iter().map(|t| t.as_str().to_owned()).collect());
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_token_or_with_a_wrong_one_every_request_is_401() {
    let b = bench().await;
    use reqwest::Method;
    for (method, path, token) in [
        (Method::GET, "/api/card/C-1", None),
        (Method::GET, "/api/card/C-1", Some("")),
        (Method::GET, "/api/card/C-1", Some("test-token-0123456789abcdeF")),
        (Method::GET, "/api/card/C-1", Some("test-token-0123456789abcde")),
        (Method::GET, "/api/events", Some("x")),
        (Method::GET, "/api/unknown", None),
        (Method::POST, "/api/card/C-1", None),
    ] {
        let (status, headers, body) = b.call(method.clone(), path, token).await;
        assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
        let challenge = headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "{method} {path}: WWW-Authenticate {challenge:?}");
        assert!(!body.contains("C-1") || !body.contains("cardElements"), "nothing of the card without the token: {body}");
    }
    // A scheme other than Bearer does not count.
    let response = b.http.get(format!("{}/api/card/C-1", b.base)).basic_auth("x", Some(TOKEN)).send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 401);
    let (status, _) = b.get("/api/card/C-1").await;
    assert_eq!(status, 200, "the right token is let in");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_its_report_with_external_report_data_masked() {
    let b = bench().await;
    let (status, _, text) = b.call(reqwest::Method::GET, "/api/card/C-1", Some(TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(PIN), "the PIN code never leaves in the clear: {text}");
    let card: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(card["externalReportData"], json!({"PIN_CODE": cardbench_workflow::secrets::MASK}));
    assert_eq!(card["reportData"], json!({HEX_MSB: "04A22B1C", HEX_LSB: "1C2BA204"}), "both byte orders, as CARD_PRODUCED carries them");
    assert_eq!(card["status"], "produced");
    assert!(card["produced"].is_string() && card["reportOk"].is_null() && card["parcel"].is_null(), "{card:#}");
    assert!(card["cardElements"].as_object().is_some_and(|e| !e.is_empty()), "{card:#}");
    // The store still holds it: masking is the API's doing, not an absence.
    let stored = b.wf.store().read(|c| cardbench_store::readouts::for_card(c, "C-1")).expect("readouts");
    assert!(stored.iter().any(|r| r.value == PIN));

    let (_, shipped) = b.get("/api/card/C-2").await;
    assert_eq!(shipped["status"], "shipped", "{shipped:#}");
    assert!(shipped["reportOk"].is_string() && shipped["shipped"].is_string(), "{shipped:#}");
    assert_eq!(shipped["parcel"]["carrier"], "DHL");
    assert_eq!(shipped["parcel"]["trackingId"], "TRK-1");
    assert_eq!(shipped["parcel"]["cardIds"], json!(["C-2"]));
    assert_eq!(shipped["externalReportData"], json!({}));

    let (status, missing) = b.get("/api/card/NO-SUCH-CARD").await;
    assert_eq!(status, 404);
    assert_eq!(missing, json!({"error": "unknown card NO-SUCH-CARD"}));
    let (status, missing) = b.get("/api/shipment/NO-SUCH").await;
    assert_eq!((status, missing), (404, json!({"error": "unknown shipment NO-SUCH"})));

    let (status, shipment) = b.get("/api/shipment/S-1").await;
    assert_eq!(status, 200);
    let cards: Vec<(&str, &str)> =
        shipment["cards"].as_array().expect("cards").iter().map(|c| (c["cardId"].as_str().unwrap_or(""), c["status"].as_str().unwrap_or(""))).collect();
    assert_eq!(cards, vec![("C-1", "produced"), ("C-3", "received")]);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_log_pages_by_its_cursor() {
    let b = bench().await;
    let (status, all) = b.get("/api/events?limit=1000").await;
    assert_eq!(status, 200);
    let all = all["events"].as_array().expect("events").clone();
    let topics: Vec<&str> = all.iter().map(|e| e["topic"].as_str().unwrap_or("")).collect();
    assert_eq!(
        topics,
        ["REQUEST_RECEIVED", "CARD_PRODUCED", "REQUEST_RECEIVED", "CARD_PRODUCED", "REPORT_OK", "SHIPPED", "REQUEST_RECEIVED"],
        "every change, in order"
    );
    // Walking two at a time gives the same events, each once, and says when it reached the end.
    let mut walked = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = b.get(&format!("/api/events?after={after}&limit=2")).await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().expect("events");
        walked.extend(events.iter().cloned());
        after = page["next"].as_i64().expect("next");
        if !page["more"].as_bool().expect("more") {
            break;
        }
        assert_eq!(events.len(), 2, "a page that says more is full");
    }
    assert_eq!(walked, all);
    assert_eq!(after, all.last().and_then(|e| e["id"].as_i64()).expect("last id"));
    let (_, empty) = b.get(&format!("/api/events?after={after}")).await;
    assert_eq!(empty, json!({"events": [], "next": after, "more": false}), "polling at the end: nothing, same cursor");
    for bad in ["after=-1", "after=x", "limit=0", "limit=1001", "limit=two", "page=2"] {
        let (status, body) = b.get(&format!("/api/events?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    b.stop().await;
}

#[tokio::test]
async fn a_listen_address_off_loopback_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = Workflow::new(Arc::new(cardbench_store::testing::store_in(dir.path()).expect("store")));
    let config = ApiConfig { enabled: true, listen: "0.0.0.0:0".into(), allow_remote: false };
    let refused = ApiServer::start(wf, &config, Token::new(TOKEN)).await;
    assert!(matches!(refused, Err(cardbench_api::ApiError::Listen { .. })), "{:?}", refused.err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_does_not_wait_forever_for_a_client_that_keeps_its_connection() {
    use std::io::Write as _;
    let b = bench().await;
    let addr = b.server.as_ref().map(ApiServer::local_addr).expect("serving");
    // A request begun and never finished: the connection stays open.
    let mut stalled = std::net::TcpStream::connect(addr).expect("connect");
    stalled.write_all(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ").expect("write");
    let started = std::time::Instant::now();
    tokio::time::timeout(std::time::Duration::from_secs(20), b.stop()).await.expect("the server stops");
    assert!(started.elapsed() < cardbench_api::STOP_GRACE + std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    drop(stalled);
}
