//! NGOC's two credentials from the command line: `config set-servicebus` with one connection
//! string per queue, and `check-connection` with a read-only and a write-only broker user
//! (`ngoc-reader` / `ngoc-writer`, made by tests/broker/start-rabbitmq.sh).

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::text;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A broker user's URL as start-rabbitmq.sh prints it (`env`) and writes it (`file`). `None` =
/// CARDBENCH_SKIP_BROKER_TESTS=1; missing otherwise fails the test.
fn broker_value(env: &str, file: &str) -> Option<String> {
    if let Ok(v) = std::env::var(env)
        && !v.trim().is_empty()
    {
        return Some(v.trim().to_owned());
    }
    let dir = std::env::var_os("CARDBENCH_BROKER_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/test-broker"));
    if let Ok(v) = std::fs::read_to_string(dir.join(file))
        && !v.trim().is_empty()
    {
        return Some(v.trim().to_owned());
    }
    if std::env::var("CARDBENCH_SKIP_BROKER_TESTS").is_ok_and(|v| v == "1") {
        return None;
    }
    panic!("{env} is unset and {file} is not in the broker's state dir: run tests/broker/start-rabbitmq.sh");
}

fn declare(queues: &[&str]) {
    let out = std::process::Command::new("bash").arg(repo_root().join("tests/broker/start-rabbitmq.sh")).args(queues).output().expect("run the broker script");
    assert!(out.status.success(), "declaring {queues:?}: {}", text(&out.stderr));
}

/// `cardbench check-connection` with `receiving` as CARDBENCH_AMQP_URL and `sending` as
/// CARDBENCH_AMQP_OUTBOUND_URL.
fn check(dir: &Path, receiving: &str, sending: &str) -> Output {
    common::command(dir, None)
        .arg("check-connection")
        .env("CARDBENCH_AMQP_URL", receiving)
        .env("CARDBENCH_AMQP_OUTBOUND_URL", sending)
        .output()
        .expect("run cardbench")
}

#[test]
fn check_connection_passes_with_the_two_users_and_names_the_missing_rights_when_swapped() {
    let (Some(reader), Some(writer)) =
        (broker_value("CARDBENCH_TEST_AMQP_READER_URL", "amqp-reader-url"), broker_value("CARDBENCH_TEST_AMQP_WRITER_URL", "amqp-writer-url"))
    else {
        return;
    };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("cbin-cli-{tag}"), format!("cbout-cli-{tag}"));
    declare(&[&inbound, &outbound]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), format!("[queues]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\n")).expect("config");

    let out = check(dir.path(), &reader, &writer);
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("connection ok"), "{}", text(&out.stdout));

    let out = check(dir.path(), &writer, &reader);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains(&format!("the inbound credential `ngoc-writer` has no Listen right on {inbound}")), "{stdout}");
    assert!(stdout.contains(&format!("the outbound credential `ngoc-reader` has no Send right on {outbound}")), "{stdout}");
    assert!(stderr.contains("NoPermission failed: the inbound credential `ngoc-writer` has no Listen right"), "{stderr}");
    assert!(!stdout.contains("-pw") && !stderr.contains("-pw"), "never a password");
}

#[test]
fn set_servicebus_refuses_a_swapped_pair_of_connection_strings_and_keeps_the_file() {
    let listen = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-listen;SharedAccessKey=a2V5;EntityPath=ngoc-requests";
    let send = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-send;SharedAccessKey=a2V5;EntityPath=ngoc-notifications";
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "operator = \"Åsa\"\n").expect("config");
    let out = common::run(
        dir.path(),
        None,
        &["config", "set-servicebus", "--inbound-connection-string", send, "--outbound-connection-string", listen, "--inbound", "ngoc-requests"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the inbound credential `partner-send` was issued for queue `ngoc-notifications` (EntityPath)"), "{stderr}");
    assert!(!stderr.contains("a2V5"), "never the key: {stderr}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "operator = \"Åsa\"\n", "nothing written");
    // One queue-level string for both queues.
    let out = common::run(dir.path(), None, &["config", "set-servicebus", "--connection-string", listen, "--inbound", "ngoc-requests", "--outbound", "x"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("one connection string per queue"), "{}", text(&out.stderr));
    // The inbound string alone is a usage error.
    let out = common::run(dir.path(), None, &["config", "set-servicebus", "--inbound-connection-string", listen]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
