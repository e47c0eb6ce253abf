//! The store failing under the receive loop, over the real broker: a data directory on a small
//! tmpfs that fills up mid-ingest, and another process holding the database's write lock for
//! 30 s. Either way the received messages are held, not released (a release counts a delivery
//! and, on Service Bus, sends the message to the dead-letter queue after ten), the failure is
//! shown, and once the store takes writes again every request ends in the worklist once.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_protocol::Subject;
use cardbench_runtime::{Runtime, RuntimeConfig, RuntimeEvent};
use cardbench_sim::fixtures;
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::{Store, StoreFailure};
use cardbench_transport::{OutboundMessage, QueueReceiver, QueueSender};
use cardbench_workflow::Workflow;
use common::{broker_url, declare, wait_until};

/// Set by the test that starts this test binary again as the lock holder.
const HOLD_LOCK_ENV: &str = "CARDBENCH_TEST_HOLD_WRITE_LOCK";
/// What the lock holder prints once it holds the lock.
const LOCK_TAKEN: &str = "CARDBENCH-TEST-WRITE-LOCK-TAKEN";

fn request(tag: &str, i: usize) -> OutboundMessage {
    // The simulator's request (`cardbench_sim::fixtures`), made larger by a 400-byte element.
    let mut body = fixtures::request_json(&format!("C-{tag}-{i:05}"), &format!("S-{tag}-{}", i / 4));
    body["card"]["cardElements"]["NOTE"] = serde_json::json!("x".repeat(400));
    OutboundMessage {
        message_id: format!("m-{tag}-{i:05}"),
        subject: Subject::RequestSent.as_str().into(),
        correlation_id: None,
        content_type: "application/json".into(),
        body: serde_json::to_vec(&body).expect("json"),
    }
}

/// A broker, fresh queues, and the daemon's receive loop over them on `data_dir`.
struct Rig {
    connector: Arc<AmqpConnector>,
    inbound: String,
    store: Arc<Store>,
    runtime: Runtime,
    released: Arc<std::sync::atomic::AtomicUsize>,
    failures_seen: Arc<std::sync::Mutex<Vec<StoreFailure>>>,
    tag: String,
}

impl Rig {
    async fn start(url: &str, data_dir: &Path) -> Rig {
        let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let (inbound, outbound) = (format!("store-fail-in-{tag}"), format!("store-fail-out-{tag}"));
        declare(&[&inbound, &outbound]);
        let connector = Arc::new(AmqpConnector::new(ServiceBusConfig::from_amqp_url(url, &inbound, &outbound).expect("url")));
        let store = Arc::new(Store::open_in(data_dir).expect("store"));
        let config = RuntimeConfig {
            inbound_queue: inbound.clone(),
            outbound_queue: outbound,
            receive_batch: 100,
            receive_wait: Duration::from_millis(50),
            ..RuntimeConfig::default()
        };
        let runtime = Runtime::start(Workflow::new(store.clone()), connector.clone(), config);
        // Every release the loop makes, and every store failure it shows, as they happen.
        let released = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let failures_seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut events = runtime.subscribe();
        let (r, f) = (released.clone(), failures_seen.clone());
        tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                match event {
                    RuntimeEvent::Ingested { released, .. } => {
                        r.fetch_add(released, std::sync::atomic::Ordering::SeqCst);
                    }
                    RuntimeEvent::Store { health } => {
                        if let Some(failing) = health.failing {
                            f.lock().unwrap_or_else(|p| p.into_inner()).push(failing.failure);
                        }
                    }
                    _ => {}
                }
            }
        });
        Rig { connector, inbound, store, runtime, released, failures_seen, tag }
    }

    async fn send(&self, range: std::ops::Range<usize>) {
        let mut ngoc = self.connector.open_sender(&self.inbound).await.expect("NGOC's sender");
        let messages: Vec<OutboundMessage> = range.map(|i| request(&self.tag, i)).collect();
        for chunk in messages.chunks(200) {
            for r in ngoc.send(chunk).await {
                r.expect("sent");
            }
        }
        ngoc.close().await;
    }

    fn settled(&self) -> u64 {
        *self.runtime.settled().borrow()
    }

    fn saw(&self, failure: StoreFailure) -> bool {
        self.failures_seen.lock().unwrap_or_else(|p| p.into_inner()).contains(&failure)
    }

    /// Every request recorded once, accepted, never released or redelivered, nothing on the
    /// dead-letter queue, and the store shown healthy again.
    async fn assert_all_arrived_once(self, total: usize) {
        wait_until(&format!("all {total} requests are settled"), Duration::from_secs(180), || self.settled() as usize >= total)
            .await;
        let rows = self.store.read(|c| inbox::list(c, &InboxFilter { limit: Some(100_000), ..Default::default() })).expect("inbox");
        assert_eq!(rows.len(), total, "one inbox row per request");
        let not_accepted: Vec<_> = rows.iter().filter(|r| r.outcome != Outcome::Accepted).map(|r| (&r.message_id, r.outcome)).collect();
        assert!(not_accepted.is_empty(), "every request accepted, none rejected: {not_accepted:?}");
        let redelivered = rows.iter().filter(|r| r.delivery_count > 0).count();
        assert_eq!(redelivered, 0, "no request was released and delivered again while the store failed");
        assert_eq!(self.released.load(std::sync::atomic::Ordering::SeqCst), 0, "the loop released nothing");
        let cards: i64 = self.store.read(cardbench_store::cards::count_by_status).expect("cards").iter().map(|(_, n)| n).sum();
        assert_eq!(cards, total as i64, "every request is in the worklist once");
        assert!(self.runtime.store_health().borrow().failing.is_none(), "the store is shown healthy again");

        let mut dead = self.connector.open_receiver(&format!("{}.dlq", self.inbound)).await.expect("dead-letter receiver");
        let dead_letters = dead.receive(10, Duration::from_millis(500)).await.expect("receive dead letters");
        assert!(dead_letters.is_empty(), "nothing dead-lettered, found {}", dead_letters.len());
        dead.close().await;
        self.runtime.shutdown().await;
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mounting a tmpfs needs root (the test script runs as root in CI)");
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes zeros until the disk is full; returns the filler file.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_mid_ingest_holds_the_backlog_and_every_request_arrives_once() {
    let Some(url) = broker_url() else { return };
    let disk = SmallDisk::mount("24m");
    let data_dir = disk.path().join("data");
    let rig = Rig::start(&url, &data_dir).await;

    rig.send(0..400).await;
    wait_until("the first 400 are settled", Duration::from_secs(60), || rig.settled() >= 400).await;
    let filler = disk.fill();
    rig.send(400..1600).await;
    wait_until("the store is shown failing: disk full", Duration::from_secs(60), || rig.saw(StoreFailure::DiskFull)).await;
    // The daemon says so where a support engineer looks: `cardbench status`'s own probe.
    assert_eq!(cardbench_store::health::probe(&data_dir.join(cardbench_store::DATABASE_FILE), Duration::from_secs(1)), Some(StoreFailure::DiskFull));
    // Failing for a while: several attempts, each of which used to count a delivery.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let held_at = rig.settled();
    assert!(held_at < 1600, "the disk filled before the backlog was taken (settled {held_at})");

    std::fs::remove_file(filler).expect("free the space");
    rig.assert_all_arrived_once(1600).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_by_another_process_for_30_s_holds_the_backlog_and_every_request_arrives_once() {
    let Some(url) = broker_url() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let rig = Rig::start(&url, dir.path()).await;

    rig.send(0..300).await;
    wait_until("the first 300 are settled", Duration::from_secs(60), || rig.settled() >= 300).await;
    let mut holder = hold_write_lock(&dir.path().join(cardbench_store::DATABASE_FILE), 30);
    rig.send(300..1000).await;
    wait_until("the store is shown failing: locked", Duration::from_secs(60), || rig.saw(StoreFailure::Locked)).await;
    assert!(rig.settled() < 1000, "nothing more is taken while the lock is held");
    let status = tokio::task::spawn_blocking(move || holder.wait()).await.expect("join").expect("lock holder");
    assert!(status.success(), "the lock holder ran its 30 s");
    rig.assert_all_arrived_once(1000).await;
}

/// Starts this test binary again as a second process that takes the write lock of `database`
/// and holds it for `seconds`; returns once the lock is taken.
fn hold_write_lock(database: &Path, seconds: u64) -> Child {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "hold_the_write_lock_as_a_second_process", "--ignored", "--nocapture", "--test-threads=1"])
        .env(HOLD_LOCK_ENV, format!("{}\n{seconds}", database.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the lock holder");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut line).expect("read the lock holder");
        assert!(n > 0, "the lock holder ended before taking the lock");
        // libtest may print the test's name on the same line first.
        if line.contains(LOCK_TAKEN) {
            break;
        }
    }
    // Keep reading (and dropping) its output so it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    child
}

/// Not a test of its own: the second process of the lock test.
#[test]
#[ignore = "run by the write-lock test as a second process"]
fn hold_the_write_lock_as_a_second_process() {
    let Ok(spec) = std::env::var(HOLD_LOCK_ENV) else { return };
    let (path, seconds) = spec.split_once('\n').expect("path and seconds");
    let seconds = Duration::from_secs(seconds.parse().expect("seconds"));
    cardbench_store::health::hold_write_lock(Path::new(path), seconds, || println!("{LOCK_TAKEN}")).expect("hold the write lock");
}
