//! The broker stops mid-flow and comes back: our ends report Connection errors, new ones work,
//! and durable messages survived. Uses a private broker (own port, own data) so stopping it does
//! not disturb other tests using the shared one.

mod common;

use std::time::Duration;

use cardbench_amqp::{AmqpConnector, ServiceBusConfig, Step, check_connection};
use cardbench_transport::{Connector, TransportErrorKind};
use common::{PrivateBroker, msg};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_gives_connection_errors_then_recovers() {
    // Same rule as the other broker tests: no broker setup here means fail, unless skipping.
    if common::skip_requested() {
        eprintln!("CARDBENCH_SKIP_BROKER_TESTS=1: broker test skipped");
        return;
    }
    let broker = PrivateBroker::start(&["rs-in", "rs-out"]);
    let cfg = ServiceBusConfig::from_amqp_url(&broker.url, "rs-in", "rs-out").expect("config");
    let c = AmqpConnector::new(cfg.clone());

    let mut tx = c.sender("rs-in").await.expect("sender");
    assert!(tx.send(&[msg("before-1", "S", b"1"), msg("before-2", "S", b"2")]).await.iter().all(|r| r.is_ok()));
    let mut rx = c.receiver("rs-in").await.expect("receiver");
    let got = rx.receive(1, Duration::from_secs(5)).await.expect("receive");
    assert_eq!(got.len(), 1);
    let held = got[0].tag;

    broker.stop();

    // The sender: every message of the batch gets a Connection error (none silently lost).
    let results = tx.send(&[msg("during-1", "S", b"x"), msg("during-2", "S", b"y")]).await;
    assert_eq!(results.len(), 2);
    for r in &results {
        let e = r.as_ref().expect_err("send while the broker is down");
        assert!(e.is_link_failure(), "{e}");
        assert_eq!(e.kind, TransportErrorKind::Connection, "{e}");
    }
    // The receiver: receive (or settling what it held) fails with a link failure.
    let r = rx.receive(10, Duration::from_secs(2)).await;
    let settle = rx.accept(&[held]).await;
    let e = r.err().or(settle.err()).expect("receiver must report the lost broker");
    assert!(e.is_link_failure(), "{e}");
    // Opening while it is down: TCP refused, as a Connection error.
    let e = c.receiver("rs-in").await.err().expect("down");
    assert_eq!(e.kind, TransportErrorKind::Connection, "{e}");
    assert_eq!(check_connection(&cfg).await.failed.map(|f| f.0), Some(Step::Tcp));

    broker.restart();

    // A new connector (and new ends) work; both durable messages survived, the unsettled one
    // included.
    let c2 = AmqpConnector::new(cfg.clone());
    let mut rx2 = c2.receiver("rs-in").await.expect("receiver after restart");
    let mut ids = Vec::new();
    while ids.len() < 2 {
        let got = rx2.receive(10, Duration::from_secs(10)).await.expect("receive after restart");
        assert!(!got.is_empty(), "messages lost over the restart; got {ids:?}");
        rx2.accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>()).await.expect("accept");
        ids.extend(got.into_iter().map(|d| d.message_id.unwrap_or_default()));
    }
    ids.sort();
    assert_eq!(ids, ["before-1", "before-2"]);
    let mut tx2 = c2.sender("rs-out").await.expect("sender after restart");
    assert!(tx2.send(&[msg("after", "S", b"z")]).await[0].is_ok());
    assert!(check_connection(&cfg).await.ok());
}
