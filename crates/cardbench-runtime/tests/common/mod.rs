//! What the runtime's broker tests share: finding the test broker that `scripts/test.sh` (or
//! `tests/broker/start-rabbitmq.sh`) started, declaring fresh queues on it, and waiting for a
//! condition.

#![allow(dead_code)] // each test file uses its own part of this

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The test broker's state directory (its URLs are written there).
pub fn broker_dir() -> PathBuf {
    std::env::var_os("CARDBENCH_BROKER_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/test-broker"))
}

/// The test broker's admin URL. Missing → the test fails (CI must not skip it silently), unless
/// CARDBENCH_SKIP_BROKER_TESTS=1.
pub fn broker_url() -> Option<String> {
    broker_user_url("CARDBENCH_TEST_AMQP_URL", "amqp-url")
}

/// A URL that start-rabbitmq.sh prints (`env`) and writes to its state directory (`file`): the
/// admin's, or one of the users with rights on some queues only.
pub fn broker_user_url(env: &str, file: &str) -> Option<String> {
    if let Ok(url) = std::env::var(env)
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    if let Ok(url) = std::fs::read_to_string(broker_dir().join(file))
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    if std::env::var("CARDBENCH_SKIP_BROKER_TESTS").is_ok_and(|v| v == "1") {
        return None;
    }
    panic!("no test broker ({env}): run `eval \"$(tests/broker/start-rabbitmq.sh)\"` or set CARDBENCH_SKIP_BROKER_TESTS=1");
}

/// Fresh durable queues (each with its `.dlq`) for this test, so parallel tests never share one.
pub fn declare(queues: &[&str]) {
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("tests/broker/start-rabbitmq.sh"))
        .args(queues)
        .output()
        .expect("run the broker script");
    assert!(out.status.success(), "declaring {queues:?}: {}", String::from_utf8_lossy(&out.stderr));
}

pub async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
