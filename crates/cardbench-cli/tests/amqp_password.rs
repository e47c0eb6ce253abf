//! A broker URL's password goes where a SAS key goes (the OS keyring, here its stand-in
//! CARDBENCH_SECRETS_DIR), never into the config file or onto the screen: `cardbench config
//! set-amqp-url` with the test broker's two users (passwords `ngoc-reader-pw`, `ngoc-writer-pw`),
//! then the file's bytes, `config show`, and a real `cardbench run` that must still log in with
//! the passwords it reads back, receiving requests from the real broker.
//!
//! Fails when no broker is reachable, unless CARDBENCH_SKIP_BROKER_TESTS=1.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_sim::{SimConfig, Simulator};
use cardbench_store::Store;
use cardbench_store::inbox::{self, Outcome};
use common::text;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A URL the broker script published (`amqp-url`, `amqp-reader-url`, …).
fn broker_url(var: &str, file: &str) -> Option<String> {
    if let Ok(url) = std::env::var(var)
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    let dir = std::env::var_os("CARDBENCH_BROKER_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/test-broker"));
    if let Ok(url) = std::fs::read_to_string(dir.join(file))
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    if std::env::var("CARDBENCH_SKIP_BROKER_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("CARDBENCH_SKIP_BROKER_TESTS=1: broker test skipped");
        return None;
    }
    panic!("no test broker: run `eval \"$(tests/broker/start-rabbitmq.sh)\"` or set CARDBENCH_SKIP_BROKER_TESTS=1");
}

fn declare(queues: &[&str]) {
    let out = Command::new("bash").arg(repo_root().join("tests/broker/start-rabbitmq.sh")).args(queues).output().expect("run the broker script");
    assert!(out.status.success(), "declaring {queues:?}: {}", text(&out.stderr));
}

/// `cardbench` on `dir` with the secrets directory in place of the OS keyring.
fn cardbench(dir: &Path) -> Command {
    let mut cmd = common::command(dir, Some("Åsa Öberg"));
    cmd.env("CARDBENCH_SECRETS_DIR", dir.join("secrets")).env_remove("CARDBENCH_AMQP_URL").env_remove("CARDBENCH_AMQP_OUTBOUND_URL");
    cmd
}

#[test]
fn a_broker_password_is_kept_out_of_the_config_file_and_the_screen_and_still_logs_in() {
    let (Some(guest), Some(reader), Some(writer)) = (
        broker_url("CARDBENCH_TEST_AMQP_URL", "amqp-url"),
        broker_url("CARDBENCH_TEST_AMQP_READER_URL", "amqp-reader-url"),
        broker_url("CARDBENCH_TEST_AMQP_WRITER_URL", "amqp-writer-url"),
    ) else {
        return;
    };
    let passwords = ["ngoc-reader-pw", "ngoc-writer-pw"];
    assert!(reader.contains(passwords[0]) && writer.contains(passwords[1]), "the broker script's users: {reader} {writer}");
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("cbin-{tag}"), format!("cbout-{tag}"));
    declare(&[&inbound, &outbound]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config_file = d.join("config.toml");
    std::fs::write(&config_file, format!("simulator = false\n[queues]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\n")).expect("config");

    let out = cardbench(d).args(["config", "set-amqp-url", &reader, "--outbound-url", &writer]).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout) + &text(&out.stderr);

    // The file: the URLs without their passwords.
    let bytes = std::fs::read(&config_file).expect("config file");
    let file_text = String::from_utf8_lossy(&bytes);
    for password in passwords {
        assert!(!file_text.contains(password), "{password} in the config file:\n{file_text}");
        assert!(!said.contains(password), "{password} in the command's output: {said}");
    }
    assert!(file_text.contains("amqp_url = \"amqp://ngoc-reader@127.0.0.1:"), "{file_text}");
    assert!(file_text.contains("amqp_outbound_url = \"amqp://ngoc-writer@127.0.0.1:"), "{file_text}");
    // The passwords: in the secrets directory, one file per user.
    let kept: Vec<String> = std::fs::read_dir(d.join("secrets"))
        .expect("secrets dir")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    for password in passwords {
        assert!(kept.iter().any(|k| k == password), "{password} is kept: {} file(s)", kept.len());
    }

    // `config show`, in words and as JSON, and with the password coming from the environment.
    for args in [&["config", "show"][..], &["--json", "config", "show"][..]] {
        for env_url in [None, Some(reader.as_str())] {
            let mut cmd = cardbench(d);
            if let Some(url) = env_url {
                cmd.env("CARDBENCH_AMQP_URL", url);
            }
            let out = cmd.args(args).output().expect("run");
            assert!(out.status.success(), "{}", text(&out.stderr));
            let shown = text(&out.stdout);
            for password in passwords {
                assert!(!shown.contains(password), "{password} shown by {args:?} (env {env_url:?}):\n{shown}");
            }
            assert!(shown.contains("amqp://ngoc-reader:***@127.0.0.1:"), "{args:?}:\n{shown}");
        }
    }

    // NGOC (the guest user) puts three requests on the inbound queue; the daemon, configured
    // only by the file and the kept passwords, must log in as ngoc-reader and take them in.
    let store = Store::open_in(d).expect("store");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let amqp = ServiceBusConfig::from_amqp_url(&guest, &inbound, &outbound).expect("guest url");
    let sim_config = SimConfig { requests_queue: inbound.clone(), notifications_queue: outbound.clone(), seed: Some(7), ..SimConfig::default() };
    let sim = Simulator::open(&d.join("ngoc"), sim_config, Arc::new(AmqpConnector::new(amqp))).expect("sim");
    let sent = rt.block_on(sim.generate(3)).expect("generate").card_ids.len();
    let mut daemon = cardbench(d).args(["run", "--no-sim"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("daemon");
    let started = Instant::now();
    let accepted = loop {
        let accepted =
            store.read(inbox::count_by_outcome).expect("count").iter().filter(|(o, _)| *o == Outcome::Accepted).map(|(_, n)| *n).sum::<i64>();
        if accepted >= sent as i64 || started.elapsed() > Duration::from_secs(60) || daemon.try_wait().expect("wait").is_some() {
            break accepted;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = Command::new("kill").args(["-INT", &daemon.id().to_string()]).status();
    let out = daemon.wait_with_output().expect("daemon output");
    let log = text(&out.stderr);
    assert_eq!(accepted, sent as i64, "the daemon logged in with the kept password and took every request in:\n{log}");
    for password in passwords {
        assert!(!log.contains(password), "{password} in the daemon's log");
    }
}
