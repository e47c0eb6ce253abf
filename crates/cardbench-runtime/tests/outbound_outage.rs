//! Notifications across outages, over a real broker (RabbitMQ with AMQP 1.0): CARD_PRODUCED
//! notifications are queued before, during and after an outage, and once the broker is back every
//! outbox row is on the outbound queue exactly once, counted by messageId. RabbitMQ has no
//! duplicate detection, so a resend of a message the broker already had shows here as a second
//! copy.
//! - The broker is down: its node is stopped and started again on the same port and data (a
//!   private node, so the other tests keep theirs). The link state says the sender retries.
//! - The link is cut for real: the node runs in its own network namespace
//!   (`tests/broker/start-rabbitmq.sh --netns NAME`, root only; scripts/test.sh starts it) and the
//!   namespace's end of its veth pair is taken down: packets vanish, no RST, no refusal, so the
//!   sender only learns of the cut when the broker stops answering. Skipped, saying so, when that
//!   node's exports (CARDBENCH_TEST_NETNS_*) are absent.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_protocol::Subject;
use cardbench_runtime::backoff::Backoff;
use cardbench_runtime::link::LinkPhase;
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_transport::QueueReceiver;
use cardbench_workflow::{ReadoutInput, Workflow};
use common::{repo_root, wait_until};

/// The simulator's request (`cardbench_sim::fixtures`) for card `card_id`: one expected
/// readout, MIFARE_UID.
fn request(card_id: &str) -> Vec<u8> {
    serde_json::to_vec(&fixtures::request_json(card_id, &format!("S-{card_id}"))).expect("json")
}

/// Cards `first..first+n` received (straight into the workflow: the inbound side is not what
/// these tests are about) and produced, each queueing one CARD_PRODUCED.
fn produce_cards(wf: &Workflow, first: usize, n: usize) {
    let ids: Vec<String> = (first..first + n).map(|i| format!("C-{i:04}")).collect();
    let bodies: Vec<Vec<u8>> = ids.iter().map(|id| request(id)).collect();
    let message_ids: Vec<String> = ids.iter().map(|id| format!("req-{id}")).collect();
    let subject = Subject::RequestSent.as_str();
    let batch: Vec<Envelope<'_>> = bodies
        .iter()
        .zip(&message_ids)
        .map(|(body, message_id)| Envelope {
            message_id: Some(message_id),
            subject: Some(subject),
            correlation_id: None,
            content_type: Some("application/json"),
            body,
            delivery_count: 0,
        })
        .collect();
    let report = wf.ingest(&batch).expect("ingest");
    assert!(
        report.outcomes.iter().all(|o| matches!(
            o,
            cardbench_workflow::ingest::IngestOutcome::Accepted { .. }
        )),
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
                    limit: Some(100_000),
                    ..Default::default()
                },
            )
        })
        .expect("outbox")
}

/// Waits until nothing in the outbox is unsent (the writes that queued them woke the sender).
async fn wait_all_sent(store: &Store, what: &str, limit: Duration) {
    wait_until(what, limit, || unsent(store) == 0).await;
}

fn unsent(store: &Store) -> usize {
    outbox_rows(store)
        .iter()
        .filter(|r| r.sent_at.is_none())
        .count()
}

/// Takes everything off `queue` (until it has been quiet for a few seconds) and counts each
/// messageId.
async fn drain(connector: &AmqpConnector, queue: &str) -> HashMap<String, usize> {
    let mut receiver = connector
        .open_receiver(queue)
        .await
        .expect("receiver on the outbound queue");
    let mut seen: HashMap<String, usize> = HashMap::new();
    loop {
        let got = receiver
            .receive(500, Duration::from_secs(3))
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
}

/// Every outbox row is marked sent and is on the queue exactly once; nothing else is there.
fn assert_each_row_once(rows: &[OutboxRow], on_queue: &HashMap<String, usize>) {
    assert!(
        rows.iter()
            .all(|r| r.subject == Subject::CardProduced.as_str()),
        "only CARD_PRODUCED was queued"
    );
    let unsent: Vec<_> = rows
        .iter()
        .filter(|r| r.sent_at.is_none())
        .map(|r| r.id)
        .collect();
    assert!(
        unsent.is_empty(),
        "outbox rows never marked sent: {unsent:?}"
    );
    let missing: Vec<_> = rows
        .iter()
        .filter(|r| !on_queue.contains_key(&r.message_id))
        .map(|r| r.id)
        .collect();
    assert!(
        missing.is_empty(),
        "outbox rows that never reached the broker: {missing:?}"
    );
    let twice: Vec<_> = on_queue.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "messages on the queue more than once (a resend of what the broker had): {twice:?}"
    );
    let strangers: Vec<_> = on_queue
        .keys()
        .filter(|id| !rows.iter().any(|r| &r.message_id == *id))
        .collect();
    assert!(
        strangers.is_empty(),
        "messages on the queue that are not in the outbox: {strangers:?}"
    );
}

fn runtime_config(inbound: &str, outbound: &str) -> RuntimeConfig {
    RuntimeConfig {
        inbound_queue: inbound.to_owned(),
        outbound_queue: outbound.to_owned(),
        send_batch: 10,
        // Reconnect soon after the broker is back; the default waits up to 30 s.
        backoff: Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
        },
        ..RuntimeConfig::default()
    }
}

/// Until the outbound link reports `phase` (and, for Retrying, a reason and a next attempt).
async fn wait_for_outbound(runtime: &Runtime, phase: LinkPhase, limit: Duration) {
    let mut link = runtime.link_state();
    let start = Instant::now();
    loop {
        let state = link.borrow_and_update().clone();
        if state.outbound.phase == phase
            && (phase != LinkPhase::Retrying
                || (state.outbound.last_error.is_some() && state.outbound.next_retry_at.is_some()))
        {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "the outbound link never reported {phase:?}: {state:?}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), link.changed()).await;
    }
}

/// A broker node of its own (own state dir, ports and epmd), for a test that stops and starts
/// it. Stopped and deleted on drop, also when the test fails.
struct PrivateBroker {
    dir: tempfile::TempDir,
    url: String,
}

impl PrivateBroker {
    fn start(queues: &[&str]) -> PrivateBroker {
        let dir = tempfile::Builder::new()
            .prefix("cardbench-broker-")
            .tempdir()
            .expect("temp dir");
        let url = Self::run_start(dir.path(), queues);
        PrivateBroker { dir, url }
    }

    fn run_start(dir: &Path, queues: &[&str]) -> String {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/broker/start-rabbitmq.sh"))
            .args(queues)
            .env("CARDBENCH_BROKER_DIR", dir)
            .output()
            .expect("run start-rabbitmq.sh");
        assert!(
            out.status.success(),
            "private broker failed to start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(dir.join("amqp-url"))
            .expect("amqp-url written")
            .trim()
            .to_owned()
    }

    /// Stops the node, keeping its data and port.
    fn stop(&self) {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/broker/stop-rabbitmq.sh"))
            .env("CARDBENCH_BROKER_DIR", self.dir.path())
            .output()
            .expect("run stop-rabbitmq.sh");
        assert!(
            out.status.success(),
            "stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn restart(&self) {
        let url = Self::run_start(self.dir.path(), &[]);
        assert_eq!(
            url, self.url,
            "a restarted broker must come back on the same port"
        );
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo_root().join("tests/broker/stop-rabbitmq.sh"))
            .arg("--clean")
            .env("CARDBENCH_BROKER_DIR", self.dir.path())
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_wait_while_the_broker_is_down_and_are_delivered_once_when_it_is_back() {
    if std::env::var("CARDBENCH_SKIP_BROKER_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("CARDBENCH_SKIP_BROKER_TESTS=1: broker test skipped");
        return;
    }
    let (inbound, outbound) = ("down-in", "down-out");
    let broker = PrivateBroker::start(&[inbound, outbound]);
    let amqp = ServiceBusConfig::from_amqp_url(&broker.url, inbound, outbound).expect("url");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = Workflow::new(store.clone());
    let runtime = Runtime::start(
        wf.clone(),
        Arc::new(AmqpConnector::new(amqp.clone())),
        runtime_config(inbound, outbound),
    );

    // Before: sent while the broker is up.
    produce_cards(&wf, 0, 10);
    wait_all_sent(&store, "the first 10 notifications are sent", Duration::from_secs(60)).await;

    broker.stop();
    // During: queued while nothing listens on the broker's port. They wait, and the link state
    // (live and in the store, for another process) says the sender retries and why.
    produce_cards(&wf, 10, 15);
    wait_for_outbound(&runtime, LinkPhase::Retrying, Duration::from_secs(30)).await;
    wait_until(
        "another process can read that the outbound link retries",
        Duration::from_secs(10),
        || {
            let rows = store
                .read(cardbench_store::link_status::all)
                .expect("link rows");
            rows.iter()
                .any(|r| r.link == "outbound" && r.state == "retrying" && r.detail.is_some())
        },
    )
    .await;
    assert_eq!(
        unsent(&store),
        15,
        "the notifications queued while the broker is down wait in the outbox"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    produce_cards(&wf, 25, 5);
    assert_eq!(unsent(&store), 20, "still waiting after more retries");

    broker.restart();
    wait_for_outbound(&runtime, LinkPhase::Up, Duration::from_secs(60)).await;
    // After: queued once the link is back.
    produce_cards(&wf, 30, 5);
    wait_all_sent(&store, "every notification is sent", Duration::from_secs(60)).await;
    runtime.shutdown().await;

    let rows = outbox_rows(&store);
    assert_eq!(rows.len(), 35);
    let on_queue = drain(&AmqpConnector::new(amqp), outbound).await;
    assert_each_row_once(&rows, &on_queue);
}

/// The node `start-rabbitmq.sh --netns NAME` started: its URL, namespace, the namespace's end of
/// the veth pair, and its state dir.
struct NetnsBroker {
    url: String,
    netns: String,
    veth_ns: String,
    dir: PathBuf,
}

impl NetnsBroker {
    fn from_env() -> Option<NetnsBroker> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Some(NetnsBroker {
            url: var("CARDBENCH_TEST_NETNS_AMQP_URL")?,
            netns: var("CARDBENCH_TEST_NETNS")?,
            veth_ns: var("CARDBENCH_TEST_NETNS_VETH_NS")?,
            dir: PathBuf::from(var("CARDBENCH_TEST_NETNS_BROKER_DIR")?),
        })
    }

    /// Plain AMQP to a host other than loopback is refused by the config (credentials would
    /// cross a network in clear). The namespace's address is a network only this machine has, a
    /// pair of addresses nothing else holds: the config is made for loopback and then pointed there.
    fn config(&self, inbound: &str, outbound: &str) -> ServiceBusConfig {
        let (host, port) = self
            .url
            .rsplit_once('@')
            .and_then(|(_, hp)| hp.rsplit_once(':'))
            .expect("host:port in the URL");
        let mut config = ServiceBusConfig::from_amqp_url(
            &format!("amqp://guest:guest@127.0.0.1:{port}"),
            inbound,
            outbound,
        )
        .expect("url");
        config.host = host.to_owned();
        config
    }

    fn host_port(&self) -> String {
        self.url
            .rsplit_once('@')
            .map(|(_, hp)| hp.to_owned())
            .expect("host:port in the URL")
    }

    fn declare(&self, queues: &[&str]) {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/broker/start-rabbitmq.sh"))
            .args(["--netns", &self.netns])
            .args(queues)
            .env("CARDBENCH_NETNS_BROKER_DIR", &self.dir)
            .output()
            .expect("run start-rabbitmq.sh --netns");
        assert!(
            out.status.success(),
            "declaring {queues:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Takes the namespace's end of the pair down (`up: false`) or up again.
    fn set_link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.netns,
                "ip",
                "link",
                "set",
                &self.veth_ns,
                state,
            ])
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "ip link set {} {state}: {}",
            self.veth_ns,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Bytes written to TCP sockets towards `host_port` and not yet acknowledged by the peer (the
/// Send-Q column of `ss`), over all such sockets of this machine.
fn unsent_bytes_towards(host_port: &str) -> u64 {
    let out = Command::new("ss")
        .args(["-tnH", "dst", host_port])
        .output()
        .expect("run ss");
    assert!(
        out.status.success(),
        "ss: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            line.split_whitespace()
                .nth(2)
                .and_then(|q| q.parse::<u64>().ok())
        })
        .sum()
}

/// Brings the link back up however the test ends, so a failed run does not leave the broker
/// unreachable for the next.
struct CutLink<'a>(&'a NetnsBroker);

impl<'a> CutLink<'a> {
    fn cut(broker: &'a NetnsBroker) -> CutLink<'a> {
        broker.set_link(false);
        CutLink(broker)
    }
}

impl Drop for CutLink<'_> {
    fn drop(&mut self) {
        self.0.set_link(true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_queued_across_a_silent_link_cut_are_delivered_once_when_it_heals() {
    let Some(broker) = NetnsBroker::from_env() else {
        eprintln!(
            "SKIPPED: no broker in a network namespace (CARDBENCH_TEST_NETNS_* unset). As root: \
             eval \"$(tests/broker/start-rabbitmq.sh --netns cbtest)\"; scripts/test.sh does this."
        );
        return;
    };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("cut-in-{tag}"), format!("cut-out-{tag}"));
    broker.declare(&[&inbound, &outbound]);
    let amqp = broker.config(&inbound, &outbound);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = Workflow::new(store.clone());
    let runtime = Runtime::start(
        wf.clone(),
        Arc::new(AmqpConnector::new(amqp.clone())),
        runtime_config(&inbound, &outbound),
    );

    produce_cards(&wf, 0, 10);
    wait_all_sent(&store, "the first 10 notifications are sent", Duration::from_secs(60)).await;
    wait_for_outbound(&runtime, LinkPhase::Up, Duration::from_secs(10)).await;

    let cut = CutLink::cut(&broker);
    // Sent into the cut: the connection still looks open, the transfers go into the socket and
    // no outcome comes back. The sender must give up on that connection, and these must wait.
    produce_cards(&wf, 10, 10);
    wait_for_outbound(&runtime, LinkPhase::Retrying, Duration::from_secs(120)).await;
    assert_eq!(
        unsent(&store),
        10,
        "the notifications sent into the cut wait in the outbox"
    );
    // Queued while the sender knows the link is down.
    produce_cards(&wf, 20, 10);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(unsent(&store), 20, "still waiting while the link is cut");
    drop(cut);

    wait_until(
        "every notification is sent after the link is back",
        Duration::from_secs(120),
        || unsent(&store) == 0,
    )
    .await;
    produce_cards(&wf, 30, 5);
    wait_all_sent(&store, "the ones queued after the cut are sent too", Duration::from_secs(60)).await;
    runtime.shutdown().await;
    // A connection abandoned during the cut that still held our transfers would deliver them
    // when TCP retransmits after the heal (up to two minutes later): wait until no socket towards
    // the broker holds unsent bytes, so any such copy shows in the count below.
    let start = Instant::now();
    loop {
        let held = unsent_bytes_towards(&broker.host_port());
        if held == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(200),
            "sockets towards the broker still hold {held} unsent bytes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "sockets towards the broker empty {} ms after the last send",
        start.elapsed().as_millis()
    );

    let rows = outbox_rows(&store);
    assert_eq!(rows.len(), 35);
    let on_queue = drain(&AmqpConnector::new(amqp), &outbound).await;
    assert_each_row_once(&rows, &on_queue);
}
