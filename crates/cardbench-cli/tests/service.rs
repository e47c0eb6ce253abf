//! `cardbench run` as a system service: systemd stops a unit with SIGTERM (`systemctl stop`), and
//! the daemon must stop then as it does on Ctrl-C — settle what it committed, close its links and
//! exit 0 — not die by the signal's default action.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn sigterm_stops_the_daemon_cleanly_like_ctrl_c() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Requests waiting on the embedded queue before the daemon starts, so it has work in hand.
    let generated = common::run(dir.path(), Some("Service Test"), &["sim", "generate", "5"]);
    assert!(generated.status.success(), "sim generate: {}", common::text(&generated.stderr));

    let mut child = common::command(dir.path(), Some("Service Test"))
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cardbench run");
    let stderr = child.stderr.take().expect("stderr piped");
    let (lines_tx, lines) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    // Wait until the daemon says it runs, then until the five requests are in the worklist.
    let mut seen = Vec::new();
    let started = Instant::now();
    while !seen.iter().any(|l: &String| l.starts_with("cardbench running")) {
        assert!(started.elapsed() < Duration::from_secs(60), "the daemon did not start: {seen:?}");
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            seen.push(line);
        }
    }
    loop {
        let listed = common::run(dir.path(), None, &["--json", "cards", "list"]);
        let page: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap_or_default();
        if page.pointer("/rows").and_then(|rows| rows.as_array()).is_some_and(|rows| rows.len() == 5) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the five requests did not arrive");
        std::thread::sleep(Duration::from_millis(100));
    }

    let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
    assert!(sent.success());
    let asked = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if asked.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the daemon did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = reader.join();
    seen.extend(lines.try_iter());
    assert!(status.success(), "SIGTERM must stop the daemon cleanly (exit 0), got {status:?}; stderr: {seen:?}");
    assert!(seen.iter().any(|l| l.contains("SIGTERM received")), "the daemon says what stopped it: {seen:?}");
    assert!(seen.iter().any(|l| l.contains("stopping")), "it went through the orderly stop: {seen:?}");

    // The stop left a store the next process opens as it was: the same five cards.
    let listed = common::run(dir.path(), None, &["--json", "cards", "list"]);
    let page: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("cards list --json after the stop");
    assert_eq!(page.pointer("/rows").and_then(|rows| rows.as_array()).map(Vec::len), Some(5));
}
