//! AMQP over WebSockets through a real WebSocket hop: `tests/broker/ws-relay.py` (Python
//! websockets) accepts the upgrade only on `/$servicebus/websocket` with subprotocol `amqp` and
//! relays binary frames to the real RabbitMQ. RabbitMQ itself does not listen on that port, so a
//! message that arrives went through our WebSocket code.

mod common;

use std::time::Duration;

use cardbench_amqp::{AmqpConnector, ServiceBusConfig, Step, check_connection};
use cardbench_transport::{Connector, OutboundMessage, TransportErrorKind};
use common::{declare, unique, ws_url};

const WAIT: Duration = Duration::from_secs(5);

fn ws_setup(inbound: &str, outbound: &str) -> Option<ServiceBusConfig> {
    let url = ws_url()?;
    common::broker_url()?;
    declare(&[inbound, outbound]);
    let cfg = ServiceBusConfig::from_amqp_url(&url, inbound, outbound).expect("relay URL");
    assert_eq!(cfg.websocket.as_deref(), Some("/$servicebus/websocket"));
    Some(cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_round_trip_over_websocket() {
    let (inq, outq) = (unique("ws-in"), unique("ws-out"));
    let Some(cfg) = ws_setup(&inq, &outq) else { return };

    let report = check_connection(&cfg).await;
    assert!(report.ok(), "{report:#?}");
    assert!(report.target.starts_with("ws://127.0.0.1:") && report.target.contains("/$servicebus/websocket"), "{}", report.target);
    assert!(report.steps[0].detail.contains("WebSocket"), "{report:#?}");

    let c = AmqpConnector::new(cfg);
    let mut tx = c.sender(&outq).await.expect("sender over ws");
    // A body larger than one read/frame of the relay, so messages are split and joined again.
    let big: Vec<u8> = format!("{{\"pad\":\"{}\"}}", "x".repeat(200_000)).into_bytes();
    let sent: Vec<OutboundMessage> = vec![
        OutboundMessage {
            message_id: "ws-0001".into(),
            subject: "CARD_PRODUCED".into(),
            correlation_id: Some("req-7".into()),
            content_type: "application/json".into(),
            body: "{\"name\":\"Zoë\"}".as_bytes().to_vec(),
        },
        OutboundMessage { message_id: "ws-0002".into(), subject: "SHIPPED".into(), correlation_id: None, content_type: "application/json".into(), body: big.clone() },
    ];
    let results = tx.send(&sent).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");

    let mut rx = c.receiver(&outq).await.expect("receiver over ws");
    common::receive_as_sent(rx.as_mut(), &sent, WAIT).await;
    assert!(rx.receive(10, Duration::from_millis(700)).await.expect("receive").is_empty(), "accepted = gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_upgrade_is_a_websocket_failure() {
    let (inq, outq) = (unique("wsx-in"), unique("wsx-out"));
    let Some(good) = ws_setup(&inq, &outq) else { return };

    // The relay answers 404 on any other path: the upgrade is refused, TCP worked, no AMQP yet.
    let mut cfg = good.clone();
    cfg.websocket = Some("/not-the-endpoint".into());
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::WebSocket), "{r:#?}");
    let msg = &r.failed.as_ref().expect("failed").1;
    assert!(msg.contains("404") && msg.contains("/not-the-endpoint"), "{msg}");
    assert!(r.steps.iter().any(|s| s.ok && s.what.contains("TCP")), "TCP is listed as passed: {r:#?}");
    assert!(!format!("{r:?}").contains("guest:guest"), "no password in the report");
    let e = AmqpConnector::new(cfg).sender(&outq).await.err().expect("refused upgrade");
    assert_eq!(e.kind, TransportErrorKind::Connection, "{e}");

    // WebSocket towards the broker's plain AMQP port: it answers AMQP, not HTTP.
    let plain = ServiceBusConfig::from_amqp_url(&common::broker_url().expect("broker"), &inq, &outq).expect("url");
    let mut cfg = good.clone();
    cfg.port = plain.port;
    let r = check_connection(&cfg).await;
    assert_eq!(r.failed.as_ref().map(|f| f.0), Some(Step::WebSocket), "{r:#?}");
}
