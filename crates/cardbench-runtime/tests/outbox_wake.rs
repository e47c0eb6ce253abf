//! How the sender learns of new outbox rows: this process's workflow wakes it after each commit
//! that queued rows; another process's commits (another store on the same file) are seen by
//! looking at the store's commits made elsewhere. Nothing else polls: a row written in this
//! process without the workflow is not sent until the next wake, so a forgotten wake shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_protocol::Subject;
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, NewOutboxRow, OutboxFilter};
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::{ReadoutInput, Workflow};

fn unsent(store: &Store) -> usize {
    store.read(|c| outbox::list(c, &OutboxFilter { sent: Some(false), ..Default::default() })).expect("outbox").len()
}

async fn wait_all_sent(store: &Store, what: &str) {
    let start = Instant::now();
    while unsent(store) > 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn request_and_produce(wf: &Workflow, card_id: &str) {
    let body = serde_json::to_vec(&fixtures::request_json(card_id, "S-1")).expect("json");
    let id = uuid::Uuid::new_v4().to_string();
    let envelope = Envelope { message_id: Some(&id), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
    wf.ingest(&[envelope]).expect("ingest");
    let uid = format!("04A1B2C3D4{:04X}", card_id.len() * 7 + card_id.as_bytes()[card_id.len() - 1] as usize);
    wf.produce("alice", card_id, &[ReadoutInput { field: "MIFARE_UID".into(), value: uid }], "typed").expect("produce");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_wakes_for_own_writes_and_another_process_commits_but_never_polls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = Arc::new(EmbeddedQueues::open(dir.path()).expect("queues"));
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = Workflow::new(store.clone());
    let runtime = Runtime::start(wf.clone(), queues, RuntimeConfig::default());

    // This process: the workflow's produce wakes the sender; nobody calls anything else.
    request_and_produce(&wf, "C-1");
    wait_all_sent(&store, "CARD_PRODUCED of this process is sent").await;

    // A row written past the workflow (a forgotten wake) waits: nothing polls the outbox.
    let now = cardbench_store::time::now();
    store
        .write(|tx| {
            outbox::insert(
                tx,
                &NewOutboxRow { subject: Subject::Error.as_str(), correlation_id: None, body: "{}", card_id: None, shipment_id: None, created_at: &now },
            )
        })
        .expect("insert");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(unsent(&store), 1, "a row queued without the workflow must not be found by a poll");

    // Another process (its own store on the same file): seen as a commit made elsewhere.
    let other = Workflow::new(Arc::new(Store::open_in(dir.path()).expect("other store")));
    request_and_produce(&other, "C-2");
    wait_all_sent(&store, "the other process's CARD_PRODUCED (and the row left waiting) is sent").await;
    runtime.shutdown().await;
}
