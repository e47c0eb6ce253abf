//! Crash safety of sending, over a real AMQP 1.0 broker (RabbitMQ on loopback, from
//! tests/broker/start-rabbitmq.sh): the real `cardbench run` binary sends a backlog of
//! CARD_PRODUCED notifications and is killed with SIGKILL again and again — at random moments,
//! and right after a batch was marked sent, when the next one is on its way — then restarted.
//! A kill between a send and the broker's outcome leaves a message the broker has and the outbox
//! does not know it has: the next daemon sends it again, with the same messageId. Afterwards:
//! - every outbox row is marked sent, and every outbox messageId is on the queue at least once
//!   (never a loss),
//! - nothing is on the queue that is not in the outbox, and a messageId is there more than once
//!   only as such a resend (RabbitMQ has no duplicate detection, so the copies are counted),
//! - and such kills really happened (else the test proved nothing).
//!
//! Fails when no broker is reachable, unless CARDBENCH_SKIP_BROKER_TESTS=1.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_transport::QueueReceiver;
use cardbench_workflow::{IngestOutcome, ReadoutInput, Workflow};
use rand::{Rng, SeedableRng};

mod common;
use common::services::{broker_dir, broker_url, declare};

/// Kill cycles at least; more (up to MAX_KILLS) while no kill has yet landed between a send and
/// its outcome.
const KILLS: usize = 16;
const MAX_KILLS: usize = 40;
/// Notifications added to the outbox before every daemon start, so each one has a backlog to be
/// killed in: two of the sender's batches (200 rows each) or more, so a kill right after one batch
/// was recorded finds the next on its way.
const WAVE: usize = 400;





/// Messages on `queue` as the broker counts them (`rabbitmqctl list_queues`, with the node's
/// environment that start-rabbitmq.sh wrote): a look that takes nothing off the queue.
fn broker_count(queue: &str) -> usize {
    let env = broker_dir().join("env");
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#". "$1" && /usr/lib/rabbitmq/bin/rabbitmqctl -q list_queues name messages"#)
        .arg("count")
        .arg(&env)
        .output()
        .expect("run rabbitmqctl");
    assert!(
        out.status.success(),
        "rabbitmqctl list_queues: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some(queue))
                .then(|| fields.next().and_then(|n| n.parse().ok()))
                .flatten()
        })
        .next()
        .unwrap_or_else(|| {
            panic!(
                "queue {queue} not listed by rabbitmqctl: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
}

fn daemon(dir: &Path, url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cardbench"))
        .args(["run", "--no-sim"])
        .env("CARDBENCH_DATA_DIR", dir)
        .env("CARDBENCH_CONFIG", dir.join("config.toml"))
        .env("CARDBENCH_AMQP_URL", url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon")
}

/// The simulator's request (`cardbench_sim::fixtures`) for `card_id`.
fn request(card_id: &str) -> Vec<u8> {
    serde_json::to_vec(&fixtures::request_json(card_id, &format!("S-{card_id}"))).expect("json")
}

/// Cards `first..first+n` received (straight into the store, as the daemon would) and produced:
/// one CARD_PRODUCED each in the outbox.
fn produce_cards(wf: &Workflow, first: usize, n: usize) {
    let ids: Vec<String> = (first..first + n).map(|i| format!("C-{i:05}")).collect();
    let bodies: Vec<Vec<u8>> = ids.iter().map(|id| request(id)).collect();
    let message_ids: Vec<String> = ids.iter().map(|id| format!("req-{id}")).collect();
    let batch: Vec<Envelope<'_>> = bodies
        .iter()
        .zip(&message_ids)
        .map(|(body, message_id)| Envelope {
            message_id: Some(message_id),
            subject: Some(Subject::RequestSent.as_str()),
            correlation_id: None,
            content_type: Some("application/json"),
            body,
            delivery_count: 0,
        })
        .collect();
    let report = wf.ingest(&batch).expect("ingest");
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(o, IngestOutcome::Accepted { .. })),
        "{:?}",
        report.outcomes
    );
    for (k, card_id) in ids.iter().enumerate() {
        let uid = ReadoutInput {
            field: "MIFARE_UID".into(),
            value: format!("04{:012X}", first + k + 1),
        };
        wf.produce("operator", card_id, &[uid], "test")
            .expect("produce");
    }
}

fn outbox_rows(store: &Store) -> Vec<OutboxRow> {
    store
        .read(|c| {
            outbox::list(
                c,
                &OutboxFilter {
                    limit: Some(1_000_000),
                    ..Default::default()
                },
            )
        })
        .expect("outbox")
}

fn sent_count(store: &Store) -> usize {
    outbox_rows(store)
        .iter()
        .filter(|r| r.sent_at.is_some())
        .count()
}

/// Rows waiting to be sent (a cheap count, for polling).
fn pending(store: &Store) -> i64 {
    store.read(outbox::pending_count).expect("pending")
}

/// When the daemon's outbound link last came up, as the daemon writes it to the store.
fn outbound_up_since(store: &Store) -> Option<String> {
    let rows = store
        .read(cardbench_store::link_status::all)
        .expect("link rows");
    rows.into_iter()
        .find(|r| r.link == "outbound" && r.state == "up")
        .map(|r| r.since)
}

#[test]
fn kill_9_between_send_and_outcome_resends_with_the_same_message_id_and_loses_nothing() {
    let Some(url) = broker_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (
        format!("crash-send-in-{tag}"),
        format!("crash-send-out-{tag}"),
    );
    declare(&[&inbound, &outbound]);

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "simulator = false\n[queues]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\n"
        ),
    )
    .expect("config");
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = Workflow::new(store.clone());
    let mut rng = rand::rngs::StdRng::seed_from_u64(2028);

    let mut produced = 0;
    let mut kill = 0;
    // Kills after which the broker held more messages than the outbox had marked sent: the kill
    // fell between a send and the recording of its outcome.
    let mut landed = 0;
    while kill < KILLS || (landed == 0 && kill < MAX_KILLS) {
        produce_cards(&wf, produced, WAVE);
        produced += WAVE;
        let up_before = outbound_up_since(&store);
        let waiting = pending(&store);
        let mut child = daemon(dir.path(), &url);
        let born = Instant::now();
        if kill % 2 == 0 {
            // Right after a batch was recorded as sent: the next batch is then on its way.
            while pending(&store) == waiting && born.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_micros(500));
            }
        } else {
            // At a random moment once this daemon's sender is connected: the first batch goes
            // out then, and its outcomes come back within a few tens of milliseconds.
            while outbound_up_since(&store) == up_before && born.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(rng.random_range(0..60)));
        }
        child.kill().expect("SIGKILL the daemon");
        child.wait().expect("reap");
        kill += 1;
        // What the broker has but the outbox does not know it has: resends to come.
        let on_broker = broker_count(&outbound);
        let sent = sent_count(&store);
        assert!(
            on_broker >= sent,
            "kill {kill}: the outbox marked {sent} sent but the broker holds only {on_broker}"
        );
        if on_broker > sent {
            landed += 1;
        }
    }

    // A last daemon runs until the outbox is empty, then stops cleanly (SIGINT).
    let mut child = daemon(dir.path(), &url);
    let start = Instant::now();
    while sent_count(&store) < produced {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not drained: {} of {produced} sent",
            sent_count(&store)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success());
    let exited = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if exited.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the daemon did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // Everything on the outbound queue, counted by messageId.
    let amqp = ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("broker url");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let on_queue: HashMap<String, usize> = rt.block_on(async {
        let mut receiver = AmqpConnector::new(amqp)
            .open_receiver(&outbound)
            .await
            .expect("receiver");
        let mut seen: HashMap<String, usize> = HashMap::new();
        loop {
            let got = receiver
                .receive(1000, Duration::from_secs(3))
                .await
                .expect("receive");
            if got.is_empty() {
                break;
            }
            receiver
                .accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>())
                .await
                .expect("accept");
            for d in got {
                *seen
                    .entry(d.message_id.unwrap_or_else(|| "<none>".into()))
                    .or_default() += 1;
            }
        }
        receiver.close().await;
        seen
    });

    let rows = outbox_rows(&store);
    assert_eq!(rows.len(), produced, "one CARD_PRODUCED per produced card");
    let unsent: Vec<i64> = rows
        .iter()
        .filter(|r| r.sent_at.is_none())
        .map(|r| r.id)
        .collect();
    assert!(
        unsent.is_empty(),
        "outbox rows never marked sent: {unsent:?}"
    );
    let in_outbox: HashSet<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
    let lost: Vec<&str> = in_outbox
        .iter()
        .copied()
        .filter(|id| !on_queue.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} outbox rows never reached the broker: {lost:?}",
        lost.len()
    );
    let strangers: Vec<&String> = on_queue
        .keys()
        .filter(|id| !in_outbox.contains(id.as_str()))
        .collect();
    assert!(
        strangers.is_empty(),
        "messages on the queue that are not in the outbox: {strangers:?}"
    );
    let resends: usize = on_queue.values().map(|n| n - 1).sum();
    let resent_ids = on_queue.values().filter(|n| **n > 1).count();
    let most = on_queue.values().copied().max().unwrap_or(0);
    eprintln!(
        "{kill} kills, {landed} between a send and its outcome; {produced} notifications, {resends} resent copies of {resent_ids} messageIds (at most {most} copies of one)"
    );
    assert!(
        landed > 0,
        "no kill landed between a send and its outcome in {kill} tries: the test proved nothing"
    );
    assert!(
        resends > 0,
        "kills landed between send and outcome, yet nothing was sent again: the resend was not seen"
    );
}
