//! `cardbench api token` and the card API served by `cardbench run` when `[api] enabled`: the
//! real binary, its secrets directory in place of the OS keyring, asked over HTTP on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::text;

fn cardbench(dir: &Path) -> Command {
    let mut cmd = common::command(dir, Some("alice"));
    cmd.env("CARDBENCH_SECRETS_DIR", dir.join("secrets"));
    cmd
}

/// The status code of `GET path` on `addr`, with `token` as bearer when given.
fn get(addr: &str, path: &str, token: Option<&str>) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connect to the API");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status line: {answer}"))
}

/// Runs `cardbench run` until its stderr says where the API is (or that it is not served), and
/// returns the daemon and that line.
fn run_until_api_line(dir: &Path) -> (std::process::Child, String) {
    let mut daemon = cardbench(dir).args(["run", "--no-sim", "--for-seconds", "30"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("daemon");
    let stderr = daemon.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let line = loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("card API on ") || line.starts_with("the card API is NOT served") => break line,
            Some(Ok(_)) => continue,
            _ => panic!("the daemon ended without a word on the card API"),
        }
    };
    // Keep reading so the daemon never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (daemon, line)
}

fn stop(mut daemon: std::process::Child) {
    let _ = Command::new("kill").args(["-INT", &daemon.id().to_string()]).status();
    let _ = daemon.wait();
}

#[test]
fn the_token_is_shown_once_kept_rotated_and_the_daemon_serves_the_api_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "[api]\nenabled = true\nlisten = \"127.0.0.1:0\"\n").expect("config");

    // Enabled but no token yet: the node runs, and says why the API is not served.
    let (daemon, line) = run_until_api_line(d);
    stop(daemon);
    assert!(line.contains("NOT served") && line.contains("cardbench api token"), "{line}");

    let first = cardbench(d).args(["api", "token"]).output().expect("run");
    assert!(first.status.success(), "{}", text(&first.stderr));
    let token = text(&first.stdout).trim().to_owned();
    assert!(token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()), "{token:?}");
    let again = cardbench(d).args(["api", "token"]).output().expect("run");
    assert!(!again.status.success(), "a second token is not made over the first without --rotate");
    assert!(text(&again.stderr).contains("rotate"), "{}", text(&again.stderr));
    assert!(!text(&again.stdout).contains(&token), "the kept token is never shown again");
    let status = cardbench(d).args(["--json", "api", "status"]).output().expect("run");
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!((status["enabled"].as_bool(), status["token"].as_bool()), (Some(true), Some(true)), "{status}");
    assert!(!status.to_string().contains(&token));

    let rotated = cardbench(d).args(["api", "token", "--rotate"]).output().expect("run");
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let new_token = text(&rotated.stdout).trim().to_owned();
    assert_ne!(new_token, token);

    let (daemon, line) = run_until_api_line(d);
    let addr = line.split("http://").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or_else(|| panic!("{line}")).to_owned();
    let codes = (get(&addr, "/api/events", Some(&new_token)), get(&addr, "/api/events", Some(&token)), get(&addr, "/api/events", None));
    stop(daemon);
    assert_eq!(codes, (200, 401, 401), "the rotated token is let in, the old one and none are not");
}

#[test]
fn a_listen_address_off_loopback_is_refused_by_the_config_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "[api]\nenabled = true\nlisten = \"0.0.0.0:7878\"\n").expect("config");
    let out = cardbench(d).args(["status"]).output().expect("run");
    assert_eq!(out.status.code(), Some(5), "an invalid config exits 5: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("allow_remote"), "{}", text(&out.stderr));
}
