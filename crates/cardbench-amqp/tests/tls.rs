//! TLS for real: RabbitMQ's TLS listener and the wss relay present a certificate from a throwaway
//! CA made by start-rabbitmq.sh (openssl). The client trusts it only through `ca_file`; without
//! it, or with another CA, the handshake must fail at the TLS step.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, ServiceBusConfig, Step, check_connection};
use cardbench_transport::{Connector, TransportErrorKind};
use common::{declare, msg, unique};

const WAIT: Duration = Duration::from_secs(5);

fn tls_setup(url: Option<String>, inbound: &str, outbound: &str) -> Option<(ServiceBusConfig, PathBuf)> {
    let url = url?;
    let ca = common::ca_file()?;
    common::broker_url()?;
    declare(&[inbound, outbound]);
    let mut cfg = ServiceBusConfig::from_amqp_url(&url, inbound, outbound).expect("TLS URL");
    assert!(cfg.tls);
    cfg.ca_file = Some(ca.clone());
    Some((cfg, ca))
}

async fn round_trip(cfg: ServiceBusConfig, queue: &str) {
    let report = check_connection(&cfg).await;
    assert!(report.ok(), "{report:#?}");
    assert!(report.steps[0].detail.contains("TLS"), "{report:#?}");
    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(queue).await.expect("sender over TLS");
    let sent = [msg("tls-1", "CARD_PRODUCED", b"{\"over\":\"tls\"}"), msg("tls-2", "SHIPPED", b"{\"n\":2}")];
    let results = tx.send(&sent).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let mut rx = c.receiver(queue).await.expect("receiver over TLS");
    common::receive_as_sent(rx.as_mut(), &sent, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_over_amqps_trusting_the_test_ca() {
    let (inq, outq) = (unique("tls-in"), unique("tls-out"));
    let Some((cfg, _)) = tls_setup(common::amqps_url(), &inq, &outq) else { return };
    assert_eq!(cfg.websocket, None);
    round_trip(cfg, &outq).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_over_wss_trusting_the_test_ca() {
    // Service Bus's WebSocket path for real: TCP, TLS, then the upgrade inside TLS.
    let (inq, outq) = (unique("wss-in"), unique("wss-out"));
    let Some((cfg, _)) = tls_setup(common::wss_url(), &inq, &outq) else { return };
    assert!(cfg.websocket.is_some());
    round_trip(cfg, &outq).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_server_certificate_fails_at_tls() {
    let (inq, outq) = (unique("tlsx-in"), unique("tlsx-out"));
    let Some((good, ca)) = tls_setup(common::amqps_url(), &inq, &outq) else { return };
    let Some(wss) = common::wss_url() else { return };

    let tls_failure = |r: &cardbench_amqp::CheckReport| {
        assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::Tls), "{r:#?}");
        r.failed.as_ref().map(|f| f.1.clone()).unwrap_or_default()
    };

    // Platform + Mozilla roots only: the test CA is in neither.
    let mut cfg = good.clone();
    cfg.ca_file = None;
    let r = check_connection(&cfg).await;
    let m = tls_failure(&r);
    assert!(m.contains("UnknownIssuer"), "{m}");
    assert!(r.steps.iter().any(|s| s.ok && s.what.contains("TCP")), "TCP passed: {r:#?}");

    // Trusting a CA that did not sign the server's certificate does not help.
    cfg.ca_file = Some(ca.with_file_name("other-ca.pem"));
    let m = tls_failure(&check_connection(&cfg).await);
    assert!(m.contains("UnknownIssuer"), "{m}");

    // Over wss the TLS failure comes before (and instead of) the WebSocket upgrade.
    let mut cfg = ServiceBusConfig::from_amqp_url(&wss, &inq, &outq).expect("wss url");
    assert_eq!(cfg.ca_file, None);
    tls_failure(&check_connection(&cfg).await);

    // A CA file that is not there, or holds no certificate, is named as such.
    cfg.ca_file = Some(ca.with_file_name("no-such-ca.pem"));
    let m = tls_failure(&check_connection(&cfg).await);
    assert!(m.contains("CA file") && m.contains("no-such-ca.pem"), "{m}");
    cfg.ca_file = Some(ca.with_file_name("server.ext"));
    let m = tls_failure(&check_connection(&cfg).await);
    assert!(m.contains("no PEM certificate"), "{m}");

    // Through the Connector: a Connection error (retried), not Auth.
    let mut cfg = good.clone();
    cfg.ca_file = None;
    let e = AmqpConnector::new(cfg).sender(&outq).await.err().expect("untrusted");
    assert_eq!(e.kind, TransportErrorKind::Connection, "{e}");
}
