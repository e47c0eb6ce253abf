//! The daemon's receive loop over the embedded queues: what pipelining must not change.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_protocol::Subject;
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::inbox::{self, InboxFilter};
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_transport::{Connector, OutboundMessage};
use cardbench_workflow::Workflow;

/// The simulator's request (`cardbench_sim::fixtures`) for card `C-{i}`, with `padding`.
fn request(i: usize, padding: usize) -> Vec<u8> {
    let mut body = fixtures::request_json(&format!("C-{i}"), &format!("S-{}", i / 4));
    // Unknown fields are tolerated: here they make some bodies slow to decode.
    body["padding"] = serde_json::json!(vec!["x"; padding]);
    serde_json::to_vec(&body).expect("json")
}

/// Message `i` on the inbound queue as NGOC sends a request: messageId `m-<i>`, the subject, JSON.
fn request_sent(i: usize, body: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        message_id: format!("m-{i:04}"),
        subject: Subject::RequestSent.as_str().into(),
        correlation_id: None,
        content_type: "application/json".into(),
        body,
    }
}

fn outbox_rows(store: &Store) -> usize {
    let filter = cardbench_store::outbox::OutboxFilter { limit: Some(100_000), ..Default::default() };
    store.read(|c| cardbench_store::outbox::list(c, &filter)).expect("outbox").len()
}

async fn inbox_rows(store: &Store, at_least: usize) -> Vec<inbox::InboxRow> {
    let start = Instant::now();
    loop {
        let rows = store.read(|c| inbox::list(c, &InboxFilter { limit: Some(100_000), ..Default::default() })).expect("inbox");
        if rows.len() >= at_least {
            return rows;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "only {} of {at_least} messages recorded", rows.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_commit_in_the_order_they_were_received() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = Arc::new(EmbeddedQueues::open(dir.path()).expect("queues"));
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let config = RuntimeConfig { receive_batch: 3, receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
    // Batches alternate between slow and quick to decode, so a batch decoded after a slow one is
    // ready to commit first: only the loop's ordering keeps it waiting.
    let messages: Vec<OutboundMessage> = (0..240)
        .map(|i| request_sent(i, request(i, if (i / 3) % 2 == 0 { 8_000 } else { 0 })))
        .collect();
    let mut sender = queues.sender(&config.inbound_queue).await.expect("sender");
    for result in sender.send(&messages).await {
        result.expect("sent");
    }
    let runtime = Runtime::start(Workflow::new(store.clone()), queues.clone(), config);
    let mut rows = inbox_rows(&store, messages.len()).await;
    runtime.shutdown().await;
    rows.sort_by_key(|r| r.id);
    let recorded: Vec<&str> = rows.iter().filter_map(|r| r.message_id.as_deref()).collect();
    let sent: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(recorded, sent, "inbox rows are written in the order the queue delivered them");
    assert!(rows.iter().all(|r| r.outcome == inbox::Outcome::Accepted));
}

/// A batch committed to the store but never accepted on the queue (the daemon died between the
/// two, or the accept failed or was lost) comes back. Here every accept is undone — the queue file
/// is put back as it was before the daemon took anything — and the daemon runs again: each
/// message is recorded as a duplicate and changes nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_committed_but_never_accepted_come_back_with_no_second_effect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = RuntimeConfig { receive_batch: 16, receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
    // Every tenth request is invalid: it is answered with ERROR, so a redelivery not recognised
    // by its messageId would show as a second answer (a valid one would pass as an identical card).
    let messages: Vec<OutboundMessage> = (0..100)
        .map(|i| request_sent(i, if i % 10 == 0 { b"{\"organisationId\": 1}".to_vec() } else { request(i, 0) }))
        .collect();
    {
        let queues = EmbeddedQueues::open(dir.path()).expect("queues");
        let mut sender = queues.sender(&config.inbound_queue).await.expect("sender");
        for result in sender.send(&messages).await {
            result.expect("sent");
        }
    }
    // The queue file as it is before any accept (closed, so the file holds everything).
    let queue_file = dir.path().join(cardbench_transport::embedded::FILE_NAME);
    let before = std::fs::read(&queue_file).expect("read queue file");
    assert!(!dir.path().join(format!("{}-wal", cardbench_transport::embedded::FILE_NAME)).exists(), "checkpointed on close");

    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let workflow = Workflow::new(store.clone());
    let run_until_drained = |expected_rows: usize| {
        let (workflow, store, config, dir) = (workflow.clone(), store.clone(), config.clone(), dir.path().to_owned());
        async move {
            let queues = Arc::new(EmbeddedQueues::open(&dir).expect("queues"));
            let runtime = Runtime::start(workflow, queues.clone(), config.clone());
            inbox_rows(&store, expected_rows).await;
            let start = Instant::now();
            while queues.depth(&config.inbound_queue).await.expect("depth") > 0 {
                assert!(start.elapsed() < Duration::from_secs(60), "the queue does not drain");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            runtime.shutdown().await;
        }
    };
    run_until_drained(messages.len()).await;
    let cards_before = store.read(cardbench_store::cards::count_by_status).expect("count");
    let outbox_before = outbox_rows(&store);
    assert_eq!(outbox_before, 10, "each invalid request is answered");

    std::fs::write(&queue_file, &before).expect("put the queue file back");
    run_until_drained(2 * messages.len()).await;

    let rows = inbox_rows(&store, 2 * messages.len()).await;
    assert_eq!(rows.len(), 2 * messages.len(), "each message recorded once more, no more");
    let duplicates = rows.iter().filter(|r| r.outcome == inbox::Outcome::Duplicate).count();
    assert_eq!(duplicates, messages.len(), "every redelivery is recorded as a duplicate");
    assert_eq!(store.read(cardbench_store::cards::count_by_status).expect("count"), cards_before, "no second card");
    assert_eq!(outbox_rows(&store), outbox_before, "nothing answered twice");
}

/// A fresh data directory whose inbound queue holds `n` valid requests (`m-0000`…), and a config
/// that takes them `batch` at a time.
struct Loaded {
    _dir: tempfile::TempDir,
    queues: Arc<EmbeddedQueues>,
    store: Arc<Store>,
    config: RuntimeConfig,
}

async fn loaded(n: usize, batch: usize) -> Loaded {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = Arc::new(EmbeddedQueues::open(dir.path()).expect("queues"));
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let config = RuntimeConfig { receive_batch: batch, receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
    let messages: Vec<OutboundMessage> = (0..n).map(|i| request_sent(i, request(i, 0))).collect();
    let mut sender = queues.sender(&config.inbound_queue).await.expect("sender");
    for result in sender.send(&messages).await {
        result.expect("sent");
    }
    Loaded { _dir: dir, queues, store, config }
}

/// `Runtime::settled` is a running total of messages committed and then accepted: it reaches
/// the number sent exactly when the queue holds none of them any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settled_total_counts_each_message_once_it_is_accepted() {
    let Loaded { _dir, queues, store, config } = loaded(50, 7).await;
    let inbound = config.inbound_queue.clone();
    let runtime = Runtime::start(Workflow::new(store.clone()), queues.clone(), config);
    let mut settled = runtime.settled();
    tokio::time::timeout(Duration::from_secs(60), settled.wait_for(|n| *n >= 50))
        .await
        .expect("all 50 settled within 60 s")
        .expect("runtime running");
    assert_eq!(queues.depth(&inbound).await.expect("depth"), 0, "settled means accepted: nothing left on the queue");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(*runtime.settled().borrow(), 50, "each message counted once");
    runtime.shutdown().await;
}

/// A shutdown right after the last commit still accepts what was committed: nothing committed
/// is left on the queue to come back as a duplicate at the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_right_after_the_last_commit_leaves_nothing_committed_on_the_queue() {
    for round in 0..5 {
        let Loaded { _dir, queues, store, config } = loaded(1000, 64).await;
        let inbound = config.inbound_queue.clone();
        let runtime = Runtime::start(Workflow::new(store.clone()), queues.clone(), config);
        // Watch the store, not the settled total: stop the moment the last batch is committed.
        loop {
            let committed: i64 = store.read(inbox::count_by_outcome).expect("count").iter().map(|(_, n)| *n).sum();
            if committed >= 1000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        runtime.shutdown().await;
        assert_eq!(queues.depth(&inbound).await.expect("depth"), 0, "round {round}: committed messages left on the queue after shutdown");
    }
}
