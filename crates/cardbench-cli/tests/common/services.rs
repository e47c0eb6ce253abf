//! The real services the daemon tests use, as `scripts/test.sh` starts them: the test broker
//! (`tests/broker/`) and PostgreSQL (`tests/postgres/`). A missing one fails the test (CI must not
//! skip it silently) unless its skip variable says otherwise.

use std::path::PathBuf;
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the test broker keeps its state (its URL, CA, env).
pub fn broker_dir() -> PathBuf {
    std::env::var_os("CARDBENCH_BROKER_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/test-broker"))
}

fn skipped(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// The test broker's AMQP URL; None only with CARDBENCH_SKIP_BROKER_TESTS=1.
pub fn broker_url() -> Option<String> {
    let url = std::env::var("CARDBENCH_TEST_AMQP_URL")
        .ok()
        .or_else(|| std::fs::read_to_string(broker_dir().join("amqp-url")).ok())
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            skipped("CARDBENCH_SKIP_BROKER_TESTS"),
            "no test broker: run `eval \"$(tests/broker/start-rabbitmq.sh)\"` or set CARDBENCH_SKIP_BROKER_TESTS=1"
        );
        eprintln!("CARDBENCH_SKIP_BROKER_TESTS=1: broker test skipped");
    }
    url
}

/// The test PostgreSQL server's URL; None only with CARDBENCH_SKIP_POSTGRES_TESTS=1.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var(cardbench_store::testing::PG_URL_ENV).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        assert!(
            skipped("CARDBENCH_SKIP_POSTGRES_TESTS"),
            "no test PostgreSQL: run `eval \"$(tests/postgres/start-postgres.sh)\"` or set CARDBENCH_SKIP_POSTGRES_TESTS=1"
        );
        eprintln!("CARDBENCH_SKIP_POSTGRES_TESTS=1: PostgreSQL test skipped");
    }
    url
}

/// Fresh durable queues for this test, so parallel tests never share a queue.
pub fn declare(queues: &[&str]) {
    let out = Command::new("bash")
        .arg(repo_root().join("tests/broker/start-rabbitmq.sh"))
        .args(queues)
        .output()
        .expect("run the broker script");
    assert!(out.status.success(), "declaring {queues:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// How many messages wait on `queue` (up to 100, each taken off it): 0 is an empty queue.
pub fn queued(rt: &tokio::runtime::Runtime, amqp: &cardbench_amqp::ServiceBusConfig, queue: &str) -> usize {
    rt.block_on(async {
        let mut receiver = cardbench_amqp::AmqpConnector::new(amqp.clone()).open_receiver(queue).await.expect("receiver");
        let got = cardbench_transport::QueueReceiver::receive(&mut receiver, 100, std::time::Duration::from_secs(2)).await.expect("receive");
        receiver.close().await;
        got.len()
    })
}
