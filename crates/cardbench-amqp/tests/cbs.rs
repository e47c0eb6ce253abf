//! CBS put-token (SAS) against a peer: `tests/broker/cbs_peer.py` (Qpid Proton) stands in for
//! Service Bus's `$cbs` node, which RabbitMQ lacks. It checks each put-token (operation, type,
//! audience, rule, HMAC signature with the key given here, expiry), answers 200/401, serves its
//! queues only to a connection holding a valid token, and detaches links whose token ran out.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, Auth, Secret, ServiceBusConfig, Step, check_connection};
use cardbench_transport::{Connector, TransportErrorKind};
use common::{msg, repo_root};

const RULE: &str = "bureau-0042";
const KEY: &str = "c2VjcmV0LWtleS1mb3ItdGhlLWNicy10ZXN0LXBlZXI=";
const WAIT: Duration = Duration::from_secs(5);

/// The peer process, killed on drop (also when the test panics).
struct CbsPeer {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl CbsPeer {
    fn start(queues: &[&str]) -> CbsPeer {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("cbs-peer.jsonl");
        let mut child = Command::new("/usr/bin/python3")
            .arg(repo_root().join("tests/broker/cbs_peer.py"))
            .args(["--rule", RULE, "--log"])
            .arg(&log)
            .args(queues)
            .env("CBS_PEER_KEY", KEY)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start /usr/bin/python3 tests/broker/cbs_peer.py (python3-qpid-proton)");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("peer stdout");
        BufReader::new(stdout).read_line(&mut line).expect("peer says ready");
        let port = line.trim().strip_prefix("ready ").and_then(|p| p.parse().ok()).unwrap_or_else(|| {
            let _ = child.kill();
            panic!("cbs_peer.py did not start: {line:?}")
        });
        CbsPeer { child, port, log, _dir: dir }
    }

    /// What the peer saw, one JSON object per event.
    fn events(&self) -> Vec<serde_json::Value> {
        read_events(&self.log)
    }

    fn config(&self, inbound: &str, outbound: &str, key: &str) -> ServiceBusConfig {
        let mut cfg = ServiceBusConfig::from_amqp_url(&format!("amqp://127.0.0.1:{}", self.port), inbound, outbound).expect("url");
        // Service Bus addressing: plain queue names, audience sb://<host>/<queue>.
        cfg.address_prefix = String::new();
        cfg.count_first_acquirer = false;
        cfg.auth = Auth::SasCbs { rule: RULE.into(), key: Secret::new(key) };
        cfg.validated().expect("valid")
    }
}

impl Drop for CbsPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_events(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn put_tokens<'a>(events: &'a [serde_json::Value], audience: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == "put-token" && e["audience"] == audience).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sas_token_via_cbs_authorizes_and_messages_flow() {
    let peer = CbsPeer::start(&["to-bureau", "to-ngoc"]);
    let cfg = peer.config("to-bureau", "to-ngoc", KEY);

    let report = check_connection(&cfg).await;
    assert!(report.ok(), "{report:#?}");
    assert!(report.steps.iter().any(|s| s.what.contains("CBS")), "{report:#?}");

    let c = AmqpConnector::new(cfg.clone());
    let mut tx = c.sender("to-ngoc").await.expect("sender after put-token");
    let sent = [msg("cbs-1", "CARD_PRODUCED", b"{\"n\":1}"), msg("cbs-2", "SHIPPED", b"{\"n\":2}")];
    let results = tx.send(&sent).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let mut rx = c.receiver("to-ngoc").await.expect("receiver after put-token");
    common::receive_as_sent(rx.as_mut(), &sent, WAIT).await;

    // The peer checked real tokens for the right audiences.
    let events = peer.events();
    let out = put_tokens(&events, "sb://127.0.0.1/to-ngoc");
    assert!(out.len() >= 3 && out.iter().all(|e| e["status"] == 200), "{events:#?}");
    assert!(put_tokens(&events, "sb://127.0.0.1/to-bureau").iter().any(|e| e["status"] == 200), "{events:#?}");
    assert!(!std::fs::read_to_string(&peer.log).unwrap_or_default().contains(KEY));

    // Without a put-token the queue is not served (so the successes above were the token's doing).
    let mut anon = cfg.clone();
    anon.auth = Auth::Anonymous;
    let e = AmqpConnector::new(anon).receiver("to-ngoc").await.err().expect("no token, no queue");
    assert_eq!(e.kind, TransportErrorKind::Auth, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_is_a_precise_auth_failure() {
    let peer = CbsPeer::start(&["to-bureau", "to-ngoc"]);
    let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=";
    let cfg = peer.config("to-bureau", "to-ngoc", wrong);
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::Auth), "{r:#?}");
    let m = &r.failed.as_ref().expect("failed").1;
    assert!(m.contains("401") && m.contains("sb://127.0.0.1/to-bureau") && m.contains("InvalidSignature"), "{m}");
    assert!(!format!("{r:?}").contains(wrong), "the report must not carry the key");
    let e = AmqpConnector::new(cfg).sender("to-ngoc").await.err().expect("wrong key");
    assert_eq!(e.kind, TransportErrorKind::Auth, "{e}");
    assert!(put_tokens(&peer.events(), "sb://127.0.0.1/to-bureau").iter().all(|e| e["status"] == 401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_renewed_before_it_expires_and_links_stay_up() {
    let peer = CbsPeer::start(&["renew"]);
    let mut cfg = peer.config("renew", "renew", KEY);
    // Renewal at 80 %: 4.8 s. The expiry is whole seconds, so a token lives 5-6 s.
    cfg.token_lifetime = Duration::from_secs(6);
    let c = AmqpConnector::new(cfg);
    let mut rx = c.receiver("renew").await.expect("receiver");
    let mut tx = c.sender("renew").await.expect("sender");
    assert!(tx.send(&[msg("before", "S", b"1")]).await.iter().all(|r| r.is_ok()));
    let got = rx.receive(10, WAIT).await.expect("receive");
    assert_eq!(got.len(), 1);
    rx.accept(&[got[0].tag]).await.expect("accept");

    // Well past two lifetimes: without renewal the peer detaches both links at ~6 s.
    tokio::time::sleep(Duration::from_secs(13)).await;

    assert!(tx.send(&[msg("after", "S", b"2")]).await.iter().all(|r| r.is_ok()), "sender link still up");
    let got = rx.receive(10, WAIT).await.expect("receiver link still up");
    assert_eq!(got.iter().map(|d| d.message_id.clone()).collect::<Vec<_>>(), [Some("after".to_owned())]);
    rx.accept(&[got[0].tag]).await.expect("accept");

    let events = peer.events();
    assert!(!events.iter().any(|e| e["event"] == "link-expired"), "no link lost its token: {events:#?}");
    // Per connection: each put-token came before the previous token's expiry.
    let tokens = put_tokens(&events, "sb://127.0.0.1/renew");
    let mut conns: Vec<i64> = tokens.iter().filter_map(|e| e["conn"].as_i64()).collect();
    conns.dedup();
    for conn in [conns.first(), conns.last()].into_iter().flatten() {
        let mine: Vec<_> = tokens.iter().filter(|e| e["conn"].as_i64() == Some(*conn)).collect();
        assert!(mine.len() >= 3, "connection {conn}: initial token and at least two renewals: {mine:#?}");
        for pair in mine.windows(2) {
            assert_eq!(pair[1]["status"], 200);
            let (t, prev_expiry) = (pair[1]["t"].as_f64().unwrap_or(f64::MAX), pair[0]["expiry"].as_f64().unwrap_or(0.0));
            assert!(t < prev_expiry, "renewed at {t}, after the previous token expired at {prev_expiry}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_by_a_peek_on_the_management_node_without_taking_them() {
    // Service Bus addressing: the dead-letter sub-queue and its `$management` node.
    let dlq = "to-bureau/$DeadLetterQueue";
    let peer = CbsPeer::start(&["to-bureau", "to-ngoc", dlq]);
    let mut cfg = peer.config("to-bureau", "to-ngoc", KEY);
    cfg.dead_letter_suffix = "/$DeadLetterQueue".into();
    let c = AmqpConnector::new(cfg.clone());
    let mut tx = c.sender(dlq).await.expect("sender");
    let sent = [msg("dl-1", "EXTERNAL_PRODUCTION_REQUEST_SENT", b"{\"n\":1}"), msg("dl-2", "EXTERNAL_PRODUCTION_REQUEST_SENT", b"{\"n\":2}")];
    assert!(tx.send(&sent).await.iter().all(|r| r.is_ok()));

    let mut browser = c.dead_letters("to-bureau");
    let listing = browser.list(10, WAIT).await.expect("list");
    assert_eq!(listing.method, cardbench_amqp::BrowseMethod::Peek);
    let ids: Vec<_> = listing.letters.iter().filter_map(|d| d.delivery.message_id.as_deref()).collect();
    assert_eq!(ids, ["dl-1", "dl-2"]);
    assert_eq!(listing.letters[1].delivery.body, b"{\"n\":2}");
    // Asked again from after the last sequence number: nothing more (a 204), so two requests.
    let shown = browser.show("dl-2", 10, WAIT).await.expect("show").expect("dl-2 shown");
    assert_eq!(shown.delivery.subject.as_deref(), Some("EXTERNAL_PRODUCTION_REQUEST_SENT"));
    browser.close().await;

    let events = peer.events();
    let peeks: Vec<_> = events.iter().filter(|e| e["event"] == "management").collect();
    assert!(peeks.iter().all(|e| e["operation"] == "com.microsoft:peek-message"), "{events:#?}");
    assert_eq!(peeks.iter().map(|e| e["status"].as_i64().unwrap_or(0)).collect::<Vec<_>>(), [200, 204, 200, 204], "{events:#?}");
    // Listing and showing never attached a receiving link to the dead-letter queue: nothing was
    // taken, locked or counted.
    let dlq_audience = format!("sb://127.0.0.1/{dlq}");
    assert!(
        !events.iter().any(|e| e["event"] == "link-attached" && e["audience"] == dlq_audience.as_str() && e["role"] == "sender"),
        "{events:#?}"
    );
    // Both are still there, untouched, for a receiver.
    let mut rx = c.receiver(dlq).await.expect("receiver");
    common::receive_as_sent(rx.as_mut(), &sent, WAIT).await;
}
