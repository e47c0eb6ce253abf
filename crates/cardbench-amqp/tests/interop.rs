//! Interop with an independent AMQP client: Qpid Proton (python3-qpid-proton) sends the kinds of
//! messages NGOC or a hostile peer might, and reads what we send.

mod common;

use std::process::Command;
use std::time::Duration;

use cardbench_amqp::AmqpConnector;
use cardbench_transport::{Connector, Delivery, OutboundMessage};
use common::{setup, unique};

const PYTHON: &str = "/usr/bin/python3";

fn peer(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop_peer.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {PYTHON} (install python3-qpid-proton: tests/broker/install.sh): {e}"));
    assert!(out.status.success(), "interop peer {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn b64(s: &str) -> Vec<u8> {
    // Tiny decoder so the test needs no base64 dev-dependency of its own.
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).expect("base64 from the peer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_read_what_proton_sends_in_every_form() {
    let q = unique("interop-in");
    let Some(cfg) = setup(&q, &unique("unused")) else { return };
    let url = std::fs::read_to_string(common::broker_dir().join("amqp-url")).ok().map(|s| s.trim().to_owned());
    let url = std::env::var("CARDBENCH_TEST_AMQP_URL").ok().or(url).expect("broker url");
    let sent = peer(&["send", &url, &cfg.address(&q)]);
    assert_eq!(sent.trim(), "7");

    let c = AmqpConnector::new(cfg);
    let mut rx = c.receiver(&q).await.expect("receiver");
    let mut got: Vec<Delivery> = Vec::new();
    while got.len() < 7 {
        let batch = rx.receive(10, Duration::from_secs(5)).await.expect("receive");
        assert!(!batch.is_empty(), "only {} of 7 arrived: {got:?}", got.len());
        got.extend(batch);
    }
    // Every message is handed on, malformed or not: the workflow records and answers it.
    rx.accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>()).await.expect("accept all");

    let data = &got[0];
    assert_eq!(data.message_id.as_deref(), Some("py-data"));
    assert_eq!(data.subject.as_deref(), Some("CARD_REQUEST"));
    assert_eq!(data.correlation_id.as_deref(), Some("py-corr"));
    assert_eq!(data.content_type.as_deref(), Some("application/json"));
    assert_eq!(data.body, br#"{"kind":"data"}"#);

    assert_eq!(got[1].message_id.as_deref(), Some("py-bin"));
    assert_eq!(got[1].body, br#"{"kind":"binary"}"#, "amqp-value(binary) body accepted");
    assert_eq!(got[1].content_type, None);

    assert_eq!(got[2].message_id.as_deref(), Some("6f9619ff-8b86-d011-b42d-00cf4fc964ff"), "uuid message-id as text");
    assert_eq!(got[2].body, r#"{"kind":"string","name":"Zoë"}"#.as_bytes(), "amqp-value(string) body accepted");

    assert_eq!(got[3].message_id, None, "missing message-id stays missing");
    assert_eq!(got[3].subject.as_deref(), Some("CARD_REQUEST"));

    assert_eq!(got[4].subject, None, "missing subject stays missing");
    assert_eq!(got[4].message_id.as_deref(), Some("12345"), "ulong message-id as text");

    assert_eq!(got[5].message_id.as_deref(), Some("py-garbage"));
    assert_eq!(got[5].body, b"\xff\xfe\x00\x01garbage\x80", "garbage bytes passed through untouched");

    assert_eq!(got[6].message_id.as_deref(), Some("py-int"));
    assert_eq!(got[6].body, b"Long(42)", "a non-binary amqp-value (python int = AMQP long) is rendered, not dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proton_reads_what_we_send() {
    let q = unique("interop-out");
    let Some(cfg) = setup(&unique("unused"), &q) else { return };
    let url = std::fs::read_to_string(common::broker_dir().join("amqp-url")).ok().map(|s| s.trim().to_owned());
    let url = std::env::var("CARDBENCH_TEST_AMQP_URL").ok().or(url).expect("broker url");
    let address = cfg.address(&q);
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&q).await.expect("sender");
    let msgs = vec![
        OutboundMessage {
            message_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            subject: "CARD_PRODUCED".into(),
            correlation_id: Some("req-1".into()),
            content_type: "application/json".into(),
            body: r#"{"pan_last4":"1234","name":"Zoë"}"#.as_bytes().to_vec(),
        },
        OutboundMessage {
            message_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7".into(),
            subject: "ERROR".into(),
            correlation_id: None,
            content_type: "application/json".into(),
            body: br#"{"code":"E_SCHEMA"}"#.to_vec(),
        },
    ];
    assert!(tx.send(&msgs).await.iter().all(|r| r.is_ok()));

    let out = peer(&["receive", &url, &address, "2"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (line, m) in lines.iter().zip(&msgs) {
        let field = |name: &str| -> Option<String> {
            // The peer prints flat JSON objects with string/null/bool values: find `"name": ...`.
            let key = format!("\"{name}\": ");
            let start = line.find(&key)? + key.len();
            let rest = &line[start..];
            if rest.starts_with("null") {
                None
            } else if let Some(r) = rest.strip_prefix('"') {
                r.find('"').map(|e| r[..e].to_owned())
            } else {
                Some(rest.split([',', '}']).next().unwrap_or("").trim().to_owned())
            }
        };
        assert_eq!(field("id").as_deref(), Some(m.message_id.as_str()), "{line}");
        assert_eq!(field("subject").as_deref(), Some(m.subject.as_str()), "{line}");
        assert_eq!(field("correlation_id"), m.correlation_id, "{line}");
        assert_eq!(field("content_type").as_deref(), Some("application/json"), "{line}");
        assert_eq!(field("section").as_deref(), Some("data"), "we send a Data section: {line}");
        assert_eq!(field("durable").as_deref(), Some("true"), "{line}");
        assert_eq!(b64(&field("body").expect("body")), m.body, "{line}");
    }
}
