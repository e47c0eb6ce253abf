//! The daemon's receive loop over the embedded queues: what pipelining must not change.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_protocol::Subject;
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_store::Store;
use cardbench_store::inbox::{self, InboxFilter};
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_transport::{Connector, OutboundMessage};
use cardbench_workflow::Workflow;

fn request(i: usize, padding: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "organisationId": "ORG-1",
        "shipmentId": format!("S-{}", i / 4),
        "ordered": "2026-11-20T08:30:00+01:00",
        "address": {"addressOne": "Storgatan 1", "postalCode": "111 22", "city": "Stockholm",
                    "countryCode": "SE", "recipient": "Åsa Öberg"},
        "card": {"articleId": "ART-STAFF", "cardId": format!("C-{i}"),
                 "cardElements": {"NAME": "Åsa Öberg", "EMPLOYEE_NO": i.to_string()},
                 "expectedReportDataFields": ["MIFARE_UID"]},
        "accessories": [],
        // Unknown fields are tolerated: here they make some bodies slow to decode.
        "padding": vec!["x"; padding],
    }))
    .expect("json")
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
        .map(|i| OutboundMessage {
            message_id: format!("m-{i:04}"),
            subject: Subject::RequestSent.as_str().into(),
            correlation_id: None,
            content_type: "application/json".into(),
            body: request(i, if (i / 3) % 2 == 0 { 8_000 } else { 0 }),
        })
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
