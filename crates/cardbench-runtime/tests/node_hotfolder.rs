//! The node watches the configured encoder hot folder for as long as it runs: a result file
//! written there reaches the worklist (readouts stored, CARD_PRODUCED queued) with nobody starting
//! a separate watcher, and what happened is published and kept in the node's status. A folder
//! that cannot be watched does not stop the node; the status says why.

use std::path::Path;
use std::time::Duration;

use cardbench_devices::hotfolder::FileOutcome;
use cardbench_protocol::Subject;
use cardbench_runtime::RuntimeEvent;
use cardbench_runtime::config::Config;
use cardbench_runtime::node::{HOTFOLDER_OPERATOR, Node, NodeOptions};
use cardbench_sim::fixtures;
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter};

/// The simulator's request (`cardbench_sim::fixtures`) for `card_id`.
fn request(card_id: &str) -> Vec<u8> {
    serde_json::to_vec(&fixtures::request_json(card_id, "S-1")).expect("json")
}

async fn start(config: &Config) -> Result<Node, cardbench_runtime::node::NodeError> {
    let workflow = cardbench_runtime::node::open_workflow(config)?;
    Node::start(workflow, config, &NodeOptions::default()).await
}

fn config(data: &Path, hot: &Path) -> Config {
    let mut config = Config { data_dir: Some(data.to_owned()), simulator: false, ..Config::default() };
    config.devices.hotfolder.folder = Some(hot.to_owned());
    config.devices.hotfolder.settle_ms = 100;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_file_in_the_configured_hot_folder_reaches_the_worklist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hot = dir.path().join("hot");
    let node = start(&config(&dir.path().join("data"), &hot)).await.expect("node");
    let mut events = node.runtime.subscribe();
    for card_id in ["C-1", "C-2"] {
        let body = request(card_id);
        let id = uuid::Uuid::new_v4().to_string();
        let envelope =
            Envelope { message_id: Some(&id), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
        node.workflow.ingest(&[envelope]).expect("ingest");
    }
    let status = node.hotfolder_status().expect("a hot folder is configured");
    assert!(status.watching, "{status:?}");
    assert_eq!(status.folder, hot);

    std::fs::write(hot.join("run-1.csv"), "cardId,MIFARE_UID\nC-1,04a1b2c3d4e5f6\nC-2,04:A1:B2:C3:D4:E5:07\n").expect("write");
    let report = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match events.recv().await {
                Ok(RuntimeEvent::HotFolderFile { report }) => return report,
                Ok(_) => {}
                Err(e) => panic!("events ended: {e}"),
            }
        }
    })
    .await
    .expect("the hot folder took the file within a minute");
    assert_eq!((report.outcome, report.rows_applied, report.produced), (FileOutcome::Processed, 2, 2), "{report:?}");
    assert!(hot.join("processed").join("run-1.csv").exists());

    let store = node.workflow.store().clone();
    for card_id in ["C-1", "C-2"] {
        let card = store.read(|c| cards::get(c, card_id)).expect("read").expect("card");
        assert_eq!(card.status, CardStatus::Produced, "{card_id}");
    }
    let produced = store
        .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::CardProduced.as_str().into()), ..Default::default() }))
        .expect("outbox");
    assert_eq!(produced.len(), 2);
    let audit = store
        .read(|c| {
            c.query_row("SELECT COUNT(*) FROM audit WHERE operator = ?1", [HOTFOLDER_OPERATOR], |r| r.get::<_, i64>(0))
                .map_err(cardbench_store::StoreError::from)
        })
        .expect("audit");
    assert!(audit >= 2, "changes from the hot folder are audited under {HOTFOLDER_OPERATOR:?}");

    let status = node.hotfolder_status().expect("status");
    assert_eq!(status.recent.first().map(|r| r.file_name.as_str()), Some("run-1.csv"));
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_folder_that_cannot_be_watched_leaves_the_node_running_and_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A file where the folder should be: it can be neither created nor watched.
    let not_a_folder = dir.path().join("hot");
    std::fs::write(&not_a_folder, "x").expect("write");
    let node = start(&config(&dir.path().join("data"), &not_a_folder)).await.expect("node");
    let status = node.hotfolder_status().expect("configured");
    assert!(!status.watching);
    let problem = status.problem.expect("a reason");
    assert!(problem.contains("hot"), "the reason names the folder: {problem}");
    // The rest of the node works: a request is still taken in.
    let body = request("C-9");
    let envelope = Envelope { message_id: Some("m-9"), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
    node.workflow.ingest(&[envelope]).expect("ingest");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_as_hot_folder_is_refused_when_the_watch_starts_and_the_database_stays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // A config built in code is not validated: the watch itself must refuse.
    for hot in [data.clone(), data.join("logs"), dir.path().to_owned()] {
        let node = start(&config(&data, &hot)).await.expect("the node starts anyway");
        let body = request("C-1");
        let id = uuid::Uuid::new_v4().to_string();
        let envelope = Envelope { message_id: Some(&id), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
        node.workflow.ingest(&[envelope]).expect("ingest");
        let status = node.hotfolder_status().expect("configured");
        assert!(!status.watching, "{status:?}");
        let problem = status.problem.expect("a reason");
        assert!(problem.contains("data directory") || problem.contains("log directory"), "{problem}");
        node.shutdown().await;
        assert!(data.join("cardbench.sqlite").exists(), "the database stays where it is");
        assert!(!data.join("failed").exists() && !data.join("processed").exists() && !data.join("taking").exists());
    }
}
