//! NGOC's credentials on the real broker: one user that may only read the inbound queue, one
//! that may only write the outbound queue (`ngoc-reader` / `ngoc-writer`, made by
//! tests/broker/start-rabbitmq.sh). Receivers use the inbound credential, senders the outbound
//! one, and `check_connection` names a missing right with the credential and the queue.

mod common;

use std::time::Duration;

use cardbench_amqp::{AmqpConnector, ServiceBusConfig, Step, check_connection};
use cardbench_transport::{Connector, TransportErrorKind};
use common::{declare, msg, reader_url, unique, writer_url};

/// Queues the two users' rights cover (`cbin-*` readable, `cbout-*` writable), declared.
fn queues() -> (String, String) {
    let (inq, outq) = (unique("cbin"), unique("cbout"));
    declare(&[&inq, &outq]);
    (inq, outq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_connection_passes_with_the_two_credentials_each_on_its_own_queue() {
    let (Some(reader), Some(writer)) = (reader_url(), writer_url()) else { return };
    let (inq, outq) = queues();
    let cfg = ServiceBusConfig::from_amqp_urls(&reader, Some(&writer), &inq, &outq).expect("two urls");
    let report = check_connection(&cfg).await;
    assert!(report.ok(), "{report:#?}");
    let whats: Vec<&str> = report.steps.iter().map(|s| s.what.as_str()).collect();
    assert!(whats.contains(&"resolve, connect, TLS and log in (the inbound credential `ngoc-reader`)"), "{whats:?}");
    assert!(whats.contains(&"resolve, connect, TLS and log in (the outbound credential `ngoc-writer`)"), "{whats:?}");
    // The Send check's probe went to a queue that does not exist: nothing waits on the outbound
    // queue (NGOC's) afterwards.
    let guest = common::setup(&inq, &outq).expect("broker");
    let mut rx = AmqpConnector::new(guest).receiver(&outq).await.expect("receiver");
    assert!(rx.receive(10, Duration::from_millis(700)).await.expect("receive").is_empty(), "the check left a message on the outbound queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_connection_names_each_missing_right_when_the_credentials_are_swapped() {
    let (Some(reader), Some(writer)) = (reader_url(), writer_url()) else { return };
    let (inq, outq) = queues();
    // The writer used to receive, the reader used to send.
    let cfg = ServiceBusConfig::from_amqp_urls(&writer, Some(&reader), &inq, &outq).expect("two urls");
    let report = check_connection(&cfg).await;
    assert_eq!(report.failed.as_ref().map(|f| f.0), Some(Step::NoPermission), "{report:#?}");
    let failed: Vec<&str> = report.steps.iter().filter(|s| !s.ok).map(|s| s.detail.as_str()).collect();
    assert_eq!(failed.len(), 2, "both rights are checked and both are missing: {report:#?}");
    assert!(failed[0].starts_with(&format!("the inbound credential `ngoc-writer` has no Listen right on {inq}")), "{failed:?}");
    assert!(failed[1].starts_with(&format!("the outbound credential `ngoc-reader` has no Send right on {outq}")), "{failed:?}");
    assert!(!format!("{report:?}").contains("-pw"), "the report must not carry a password");

    // Only the send right missing: the first failure is the outbound one.
    let cfg = ServiceBusConfig::from_amqp_urls(&reader, Some(&reader), &inq, &outq).expect("two urls");
    let report = check_connection(&cfg).await;
    let (step, message) = report.failed.clone().expect("no send right");
    assert_eq!(step, Step::NoPermission);
    assert!(message.starts_with(&format!("the outbound credential `ngoc-reader` has no Send right on {outq}")), "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_use_the_inbound_credential_and_senders_the_outbound_one() {
    let (Some(reader), Some(writer)) = (reader_url(), writer_url()) else { return };
    let (inq, outq) = queues();
    let c = AmqpConnector::new(ServiceBusConfig::from_amqp_urls(&reader, Some(&writer), &inq, &outq).expect("two urls"));
    let mut tx = c.sender(&outq).await.expect("sender");
    let sent = msg("cred-1", "EXTERNAL_PRODUCTION_CARD_PRODUCED", b"{}");
    let results = tx.send(std::slice::from_ref(&sent)).await;
    assert!(results.iter().all(|r| r.is_ok()), "the writer may send: {results:?}");
    // The reader may not read the outbound queue: the receiver really logs in as the reader.
    let e = c.receiver(&outq).await.err().expect("the reader cannot read the outbound queue");
    assert_eq!(e.kind, TransportErrorKind::Forbidden, "{e}");
    let mut rx = c.receiver(&inq).await.expect("the reader may read the inbound queue");
    assert!(rx.receive(1, Duration::from_millis(300)).await.expect("receive").is_empty());
    // The send above went through as the writer: as the reader it would have been refused
    // (check_connection_names_each_missing_right_when_the_credentials_are_swapped).
}
