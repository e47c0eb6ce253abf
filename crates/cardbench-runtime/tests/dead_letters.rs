//! Importing the inbound queue's dead letters against the real broker (RabbitMQ 3.10 on
//! loopback, `tests/broker/start-rabbitmq.sh`, which declares `<queue>.dlq` behind each queue):
//! the dead letter is recorded through the receive loop's ingest and then removed from the
//! dead-letter queue; nothing is ever sent into the inbound queue.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, Auth, Secret, ServiceBusConfig};
use cardbench_runtime::deadletters;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_transport::{Connector, OutboundMessage, QueueSender};
use cardbench_workflow::{IngestOutcome, Workflow};
use common::{broker_dir, broker_url, declare};

const QUIET: Duration = Duration::from_millis(700);

/// A fresh inbound queue (with its `.dlq`) for this test; the config to reach it.
fn setup(name: &str) -> Option<(ServiceBusConfig, String)> {
    let url = broker_url()?;
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("{name}-in-{tag}"), format!("{name}-out-{tag}"));
    declare(&[&inbound, &outbound]);
    Some((ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("broker url"), inbound))
}

/// The simulator's request (`cardbench_sim::fixtures`) for `card_id`.
fn request_body(card_id: &str) -> Vec<u8> {
    serde_json::to_vec(&fixtures::request_json(card_id, "S-DL")).expect("json")
}

fn message(message_id: &str, body: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        message_id: message_id.into(),
        subject: "EXTERNAL_PRODUCTION_REQUEST_SENT".into(),
        correlation_id: None,
        content_type: "application/json".into(),
        body,
    }
}

/// Puts messages straight into the dead-letter queue, as the broker leaves them after
/// dead-lettering (the broker tests of cardbench-amqp cover the rejection itself).
async fn dead_letter(config: &ServiceBusConfig, inbound: &str, messages: &[OutboundMessage]) {
    let mut tx = AmqpConnector::new(config.clone()).open_sender(&format!("{inbound}.dlq")).await.expect("sender");
    let sent = tx.send(messages).await;
    assert!(sent.iter().all(|r| r.is_ok()), "{sent:?}");
    tx.close().await;
}

fn workflow() -> (tempfile::TempDir, Arc<Store>, Workflow) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = Workflow::new(store.clone());
    (dir, store, wf)
}

fn cards_received(store: &Store) -> i64 {
    store.read(cards::count_by_status).expect("count").into_iter().find(|(s, _)| *s == CardStatus::Received).map_or(0, |(_, n)| n)
}

fn all_cards(store: &Store) -> i64 {
    store.read(cards::count_by_status).expect("count").into_iter().map(|(_, n)| n).sum()
}

async fn dead_letters_left(config: &ServiceBusConfig) -> Vec<String> {
    let listing = deadletters::list(config, 50).await.expect("list");
    listing.letters.into_iter().filter_map(|d| d.message_id).collect()
}

/// Nothing arrived in the inbound queue itself.
async fn assert_inbound_empty(config: &ServiceBusConfig, inbound: &str) {
    let mut rx = AmqpConnector::new(config.clone()).receiver(inbound).await.expect("receiver");
    let got = rx.receive(10, QUIET).await.expect("receive");
    assert!(got.is_empty(), "nothing may be sent into the inbound queue: {got:?}");
}

/// A user who may only read (and not write or configure) the inbound queue and its dead-letter
/// queue, like the inbound credential NGOC hands out.
fn read_only_user(config: &ServiceBusConfig, inbound: &str) -> ServiceBusConfig {
    let user = format!("reader-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let read = format!("^{}(\\.dlq)?$", inbound.replace('.', "\\."));
    let script = format!(
        ". '{env}' && {ctl} -q add_user '{user}' secret >/dev/null && {ctl} -q set_permissions -p / '{user}' '^$' '^$' '{read}'",
        env = broker_dir().join("env").display(),
        ctl = "/usr/lib/rabbitmq/bin/rabbitmqctl",
    );
    let out = std::process::Command::new("bash").args(["-c", &script]).output().expect("rabbitmqctl");
    assert!(out.status.success(), "adding a read-only user: {}", String::from_utf8_lossy(&out.stderr));
    let mut reader = config.clone();
    reader.auth = Auth::SaslPlain { user, password: Secret::new("secret".to_owned()) };
    reader
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_dead_letter_is_received_once_and_leaves_the_dead_letter_queue() {
    let Some((config, inbound)) = setup("dl-import") else { return };
    dead_letter(&config, &inbound, &[message("req-1", request_body("C-DL-1")), message("req-2", request_body("C-DL-2"))]).await;
    let (_dir, store, wf) = workflow();
    // With the credential NGOC hands out for the inbound queue: it may read, never write.
    let reader = read_only_user(&config, &inbound);

    let outcome = deadletters::import(&wf, &reader, "req-1").await.expect("import").expect("req-1 found");
    assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
    assert_eq!(cards_received(&store), 1, "the card is in the worklist");
    let card = wf.card_detail("C-DL-1").expect("card C-DL-1");
    assert_eq!(card.card.status, CardStatus::Received);
    assert_eq!(dead_letters_left(&config).await, ["req-2"], "req-1 left the dead-letter queue, req-2 stayed");
    assert_inbound_empty(&config, &inbound).await;

    assert!(deadletters::import(&wf, &reader, "no-such-id").await.expect("import").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_dead_letter_is_recorded_as_rejected_with_one_error_queued() {
    let Some((config, inbound)) = setup("dl-invalid") else { return };
    dead_letter(&config, &inbound, &[message("bad-1", b"{\"bad\":true}".to_vec())]).await;
    let (_dir, store, wf) = workflow();

    let outcome = deadletters::import(&wf, &config, "bad-1").await.expect("import").expect("bad-1 found");
    assert!(matches!(outcome, IngestOutcome::Rejected { .. }), "{outcome:?}");
    let rows = store
        .read(|c| inbox::list(c, &InboxFilter { message_id: Some("bad-1".into()), ..Default::default() }))
        .expect("inbox");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, Outcome::Rejected);
    let answers = store.read(|c| outbox::list(c, &OutboxFilter { limit: Some(100), ..Default::default() })).expect("outbox");
    assert_eq!(answers.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), ["EXTERNAL_PRODUCTION_ERROR"], "one ERROR for NGOC");
    assert_eq!(answers[0].correlation_id.as_deref(), Some("bad-1"));
    assert_eq!(all_cards(&store), 0);
    assert!(dead_letters_left(&config).await.is_empty());
    assert_inbound_empty(&config, &inbound).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_message_id_imported_twice_is_a_duplicate() {
    let Some((config, inbound)) = setup("dl-twice") else { return };
    let copy = message("req-same", request_body("C-DL-SAME"));
    dead_letter(&config, &inbound, &[copy.clone(), copy]).await;
    let (_dir, store, wf) = workflow();

    let first = deadletters::import(&wf, &config, "req-same").await.expect("import").expect("found");
    assert!(matches!(first, IngestOutcome::Accepted { .. }), "{first:?}");
    let second = deadletters::import(&wf, &config, "req-same").await.expect("import").expect("found again");
    assert!(matches!(second, IngestOutcome::Duplicate { .. }), "{second:?}");
    assert_eq!(all_cards(&store), 1, "no second card");
    assert!(dead_letters_left(&config).await.is_empty(), "both copies left the dead-letter queue");
    assert_inbound_empty(&config, &inbound).await;
}
