//! NGOC's sender claims only the outbox rows for NGOC: a row another outbound consumer queued
//! (an HTTP event forwarder) stays in the outbox for that consumer's sender.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_store::Store;
use cardbench_store::outbox::{self, NewOutboxRow};
use cardbench_transport::Connector;
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::Workflow;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ngoc_sender_leaves_another_destinations_rows_in_the_outbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = Arc::new(EmbeddedQueues::open(dir.path()).expect("queues"));
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let row = |body| NewOutboxRow {
        subject: "EXTERNAL_PRODUCTION_ERROR",
        correlation_id: None,
        body,
        card_id: None,
        shipment_id: None,
        created_at: "2026-11-23T08:00:00.000Z",
    };
    let (hook, ngoc) = store
        .write(|tx| {
            let hook = outbox::insert_for(tx, "webhook", &row("{\"for\":\"webhook\"}"))?;
            let ngoc = outbox::insert(tx, &row("{\"for\":\"ngoc\"}"))?;
            Ok::<_, cardbench_store::StoreError>((hook, ngoc))
        })
        .expect("queue");

    let config = RuntimeConfig { receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
    let outbound = config.outbound_queue.clone();
    let workflow = Workflow::new(store.clone());
    let wake = workflow.outbox_wake();
    let runtime = Runtime::start(workflow, queues.clone(), config);
    let start = Instant::now();
    while store.read(|c| outbox::get(c, ngoc.id)).expect("read").and_then(|r| r.sent_at).is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "NGOC's row was never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A few more send rounds: the other row must still not go.
    wake.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    runtime.shutdown().await;

    let mut receiver = queues.receiver(&outbound).await.expect("receiver");
    let got = receiver.receive(10, Duration::from_millis(200)).await.expect("receive");
    let ids: Vec<Option<String>> = got.iter().map(|d| d.message_id.clone()).collect();
    assert_eq!(ids, [Some(ngoc.message_id.clone())], "only NGOC's row reaches NGOC's queue");
    let hook_row = store.read(|c| outbox::get(c, hook.id)).expect("read").expect("row");
    assert_eq!((hook_row.sent_at, hook_row.attempts), (None, 0), "the webhook's row waits for its own sender, untouched");
}
