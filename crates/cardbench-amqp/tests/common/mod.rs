//! Shared by the broker tests: where the broker is, declaring queues, a private broker.
//!
//! The broker comes from `tests/broker/start-rabbitmq.sh`: CARDBENCH_TEST_AMQP_URL, or the file
//! it writes (`$CARDBENCH_BROKER_DIR/amqp-url`, default `<repo>/target/test-broker/amqp-url`).
//! Without either the tests FAIL, unless CARDBENCH_SKIP_BROKER_TESTS=1 (so CI cannot skip them
//! by accident).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use cardbench_amqp::ServiceBusConfig;
use cardbench_transport::{OutboundMessage, QueueReceiver};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn broker_dir() -> PathBuf {
    std::env::var_os("CARDBENCH_BROKER_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/test-broker"))
}

pub fn skip_requested() -> bool {
    std::env::var("CARDBENCH_SKIP_BROKER_TESTS").is_ok_and(|v| v == "1")
}

/// The broker URL, or `None` when skipping was asked for. Panics (fails the test) otherwise.
pub fn broker_url() -> Option<String> {
    if let Ok(u) = std::env::var("CARDBENCH_TEST_AMQP_URL")
        && !u.trim().is_empty()
    {
        return Some(u.trim().to_owned());
    }
    let file = broker_dir().join("amqp-url");
    if let Ok(u) = std::fs::read_to_string(&file)
        && !u.trim().is_empty()
    {
        return Some(u.trim().to_owned());
    }
    if skip_requested() {
        eprintln!("CARDBENCH_SKIP_BROKER_TESTS=1: broker test skipped");
        return None;
    }
    panic!(
        "no test broker: CARDBENCH_TEST_AMQP_URL is unset and {} does not exist.\n\
         Start one with `eval \"$(tests/broker/start-rabbitmq.sh)\"` (after tests/broker/install.sh), \
         or set CARDBENCH_SKIP_BROKER_TESTS=1 to skip these tests on purpose.",
        file.display()
    );
}

/// A value start-rabbitmq.sh exports (`env`) and also writes to `$CARDBENCH_BROKER_DIR/<file>`.
/// `None` = skip (as for the broker); panics otherwise.
pub fn broker_value(env: &str, file: &str) -> Option<String> {
    if let Ok(u) = std::env::var(env)
        && !u.trim().is_empty()
    {
        return Some(u.trim().to_owned());
    }
    let path = broker_dir().join(file);
    if let Ok(u) = std::fs::read_to_string(&path)
        && !u.trim().is_empty()
    {
        return Some(u.trim().to_owned());
    }
    if skip_requested() {
        eprintln!("CARDBENCH_SKIP_BROKER_TESTS=1: test skipped");
        return None;
    }
    panic!("{env} is unset and {} does not exist: run tests/broker/start-rabbitmq.sh", path.display());
}

/// The WebSocket relay (`tests/broker/ws-relay.py`) in front of the broker.
pub fn ws_url() -> Option<String> {
    broker_value("CARDBENCH_TEST_AMQP_WS_URL", "amqp-ws-url")
}

/// The same relay over TLS (the test CA's server certificate).
pub fn wss_url() -> Option<String> {
    broker_value("CARDBENCH_TEST_AMQP_WSS_URL", "amqp-wss-url")
}

/// The broker's TLS listener.
pub fn amqps_url() -> Option<String> {
    broker_value("CARDBENCH_TEST_AMQPS_URL", "amqps-url")
}

/// The throwaway CA that signed the broker's and the wss relay's certificate; `other-ca.pem`
/// beside it signed nothing they use.
pub fn ca_file() -> Option<PathBuf> {
    broker_value("CARDBENCH_TEST_CA_FILE", "ca-file").map(PathBuf::from)
}

/// Declares durable queues (and their `.dlq`) on the broker of `dir` via the start script,
/// which on a running node only declares.
pub fn declare_in(dir: &std::path::Path, queues: &[&str]) {
    let out = Command::new(repo_root().join("tests/broker/start-rabbitmq.sh"))
        .args(queues)
        .env("CARDBENCH_BROKER_DIR", dir)
        .output()
        .expect("run tests/broker/start-rabbitmq.sh");
    assert!(out.status.success(), "declaring {queues:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn declare(queues: &[&str]) {
    declare_in(&broker_dir(), queues);
}

/// A queue name no earlier run used.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// Config for the test broker with these queues declared. `None` = skip.
pub fn setup(inbound: &str, outbound: &str) -> Option<ServiceBusConfig> {
    let url = broker_url()?;
    declare(&[inbound, outbound]);
    Some(ServiceBusConfig::from_amqp_url(&url, inbound, outbound).expect("test broker URL"))
}

pub fn msg(id: &str, subject: &str, body: &[u8]) -> OutboundMessage {
    OutboundMessage {
        message_id: id.to_owned(),
        subject: subject.to_owned(),
        correlation_id: None,
        content_type: "application/json".to_owned(),
        body: body.to_vec(),
    }
}

/// A broker of its own (own dir, ports, epmd), for tests that stop and restart it. Stopped and
/// removed on drop, also when the test panics.
pub struct PrivateBroker {
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl PrivateBroker {
    pub fn start(queues: &[&str]) -> PrivateBroker {
        let dir = tempfile::Builder::new().prefix("cardbench-broker-").tempdir().expect("temp dir");
        let url = Self::run_start(dir.path(), queues);
        PrivateBroker { dir, url }
    }

    fn run_start(dir: &std::path::Path, queues: &[&str]) -> String {
        let out = Command::new(repo_root().join("tests/broker/start-rabbitmq.sh"))
            .args(queues)
            .env("CARDBENCH_BROKER_DIR", dir)
            .output()
            .expect("run start-rabbitmq.sh");
        assert!(out.status.success(), "private broker failed to start: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::read_to_string(dir.join("amqp-url")).expect("amqp-url written").trim().to_owned()
    }

    /// Stops the node (data kept) so it can be started again on the same port.
    pub fn stop(&self) {
        let out = Command::new(repo_root().join("tests/broker/stop-rabbitmq.sh"))
            .env("CARDBENCH_BROKER_DIR", self.dir.path())
            .output()
            .expect("run stop-rabbitmq.sh");
        assert!(out.status.success(), "stop failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn restart(&self) {
        let url = Self::run_start(self.dir.path(), &[]);
        assert_eq!(url, self.url, "a restarted broker must come back on the same port");
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/broker/stop-rabbitmq.sh"))
            .arg("--clean")
            .env("CARDBENCH_BROKER_DIR", self.dir.path())
            .output();
    }
}

/// Receives as many messages as were `sent` (the broker may hand them over in two rounds), checks
/// each against what was sent — message-id, subject, correlation-id, body — and accepts them.
pub async fn receive_as_sent(rx: &mut dyn QueueReceiver, sent: &[OutboundMessage], wait: std::time::Duration) {
    let mut got = rx.receive(10, wait).await.expect("receive");
    if got.len() < sent.len() {
        got.extend(rx.receive(10, wait).await.expect("receive"));
    }
    assert_eq!(got.len(), sent.len(), "{got:?}");
    for (d, s) in got.iter().zip(sent) {
        assert_eq!(d.message_id.as_deref(), Some(s.message_id.as_str()));
        assert_eq!(d.subject.as_deref(), Some(s.subject.as_str()));
        assert_eq!(d.correlation_id, s.correlation_id);
        assert_eq!(d.body, s.body);
    }
    rx.accept(&got.iter().map(|d| d.tag).collect::<Vec<_>>()).await.expect("accept");
}

/// The broker's read-only user (`ngoc-reader`: may read `ngoc-requests` and `cbin-*` queues and
/// their `.dlq`, nothing else), as NGOC's inbound credential would be.
pub fn reader_url() -> Option<String> {
    broker_value("CARDBENCH_TEST_AMQP_READER_URL", "amqp-reader-url")
}

/// The broker's write-only user (`ngoc-writer`: may write `ngoc-notifications` and `cbout-*`
/// queues, through `amq.default`), as NGOC's outbound credential would be.
pub fn writer_url() -> Option<String> {
    broker_value("CARDBENCH_TEST_AMQP_WRITER_URL", "amqp-writer-url")
}

/// The AMQP encoding of `depth` lists, each inside the one before, each a well-formed list32 of
/// one element; the innermost is the empty list (9 bytes a level). Built flat: encoding such a
/// `Value` with serde_amqp recurses once per level and copies each level's bytes (quadratic).
pub fn nested_lists(depth: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 * depth + 1);
    for level in 0..depth {
        let inside = 9 * (depth - 1 - level) + 1; // bytes of the lists within this one
        out.push(0xd0); // list32
        out.extend_from_slice(&u32::try_from(4 + inside).expect("under 4 GiB").to_be_bytes());
        out.extend_from_slice(&1u32.to_be_bytes());
    }
    out.push(0x45); // list0
    out
}
