//! Limits on what comes in, through a real AMQP 1.0 broker (RabbitMQ on loopback): a message
//! larger than the maximum message size (default 1 MiB) is consumed, recorded without its body
//! beyond the limit, never decoded, and answered with ERROR; the request behind it still arrives.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, DEFAULT_MAX_MESSAGE_SIZE, ServiceBusConfig};
use cardbench_protocol::{ErrorMessage, Subject};
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_store::Store;
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_transport::{OutboundMessage, QueueSender};
use common::{broker_url, declare, repo_root, wait_until};

fn ngoc_message(subject: Subject, body: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        subject: subject.as_str().into(),
        correlation_id: None,
        content_type: "application/json".into(),
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2_mib_message_is_consumed_and_answered_with_error_and_the_next_request_arrives() {
    let Some(url) = broker_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("oversized-in-{tag}"), format!("oversized-out-{tag}"));
    declare(&[&inbound, &outbound]);
    let amqp = ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("broker url");
    assert_eq!(amqp.max_message_size, 1024 * 1024, "the default is Service Bus premium's limit");
    let connector = Arc::new(AmqpConnector::new(amqp));
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = cardbench_workflow::Workflow::new(store.clone());
    let config = RuntimeConfig {
        inbound_queue: inbound.clone(),
        outbound_queue: outbound.clone(),
        receive_wait: Duration::from_millis(100),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::start(wf, connector.clone(), config);
    let mut ngoc = connector.open_sender(&inbound).await.expect("NGOC's sender");

    // A request whose card element is 2 MiB of text: valid JSON, and it would validate were it
    // read (the element bound is 768 KiB; the limit must refuse it before that).
    let sample = std::fs::read(repo_root().join("crates/cardbench-protocol/tests/ngoc/request-sent.json")).expect("fixture");
    let mut big: serde_json::Value = serde_json::from_slice(&sample).expect("json");
    big["card"]["cardId"] = serde_json::json!("CRD-BIG");
    big["card"]["cardElements"]["PHOTO"] = serde_json::json!("A".repeat(2 * 1024 * 1024));
    let big = ngoc_message(Subject::RequestSent, serde_json::to_vec(&big).expect("json"));
    let mut next: serde_json::Value = serde_json::from_slice(&sample).expect("json");
    next["card"]["cardId"] = serde_json::json!("CRD-NEXT");
    let next = ngoc_message(Subject::RequestSent, serde_json::to_vec(&next).expect("json"));
    for r in ngoc.send(std::slice::from_ref(&big)).await {
        r.expect("the 2 MiB message is sent");
    }
    for r in ngoc.send(std::slice::from_ref(&next)).await {
        r.expect("sent");
    }

    let received = |id: &str| {
        let store = store.clone();
        let id = id.to_owned();
        move || {
            store
                .read(|c| inbox::list(c, &InboxFilter { message_id: Some(id.clone()), limit: Some(5), ..Default::default() }))
                .unwrap_or_default()
        }
    };
    wait_until("the request after the big one arrives", Duration::from_secs(60), || {
        store.read(|c| cards::get(c, "CRD-NEXT")).ok().flatten().is_some_and(|c| c.status == CardStatus::Received)
    })
    .await;
    let rows = received(&big.message_id)();
    assert_eq!(rows.len(), 1, "the big message is recorded once");
    assert_eq!(rows[0].outcome, Outcome::Rejected);
    assert!(
        rows[0].body.len() as u64 <= DEFAULT_MAX_MESSAGE_SIZE + 1,
        "recorded without its body beyond the limit: {} bytes",
        rows[0].body.len()
    );
    assert!(store.read(|c| cards::get(c, "CRD-BIG")).expect("read").is_none(), "never decoded into a card");
    let errors = store
        .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::Error.as_str().into()), ..Default::default() }))
        .expect("outbox");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].correlation_id.as_deref(), Some(big.message_id.as_str()));
    let error: ErrorMessage = serde_json::from_str(&errors[0].body).expect("ERROR body");
    assert_eq!(error.error_code.to_string(), "INVALID_MESSAGE");
    assert!(error.details.contains("larger than 1048576 bytes"), "{}", error.details);
    wait_until("the ERROR is sent to NGOC", Duration::from_secs(60), || {
        store
            .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::Error.as_str().into()), ..Default::default() }))
            .is_ok_and(|rows| rows.iter().all(|r| r.sent_at.is_some()))
    })
    .await;
    // Consumed: the big message is not on the queue any more (nothing comes back to a new receiver).
    runtime.shutdown().await;
    let mut rx = connector.open_receiver(&inbound).await.expect("receiver");
    let left = cardbench_transport::QueueReceiver::receive(&mut rx, 10, Duration::from_secs(2)).await.expect("receive");
    assert!(left.is_empty(), "the queue is empty: {} message(s) left", left.len());
    ngoc.close().await;
}
