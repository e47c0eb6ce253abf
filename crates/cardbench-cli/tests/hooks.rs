//! Webhooks and HTTP event forwarding end to end: the real `cardbench` binary (`webhook …`,
//! `forward …`, `run`) posting to real HTTP receivers on 127.0.0.1 (`tests/http/receiver.py`,
//! which checks signatures with Python's own `hmac`). Secrets go to a folder of the test
//! (`CARDBENCH_SECRETS_DIR`), never the OS keyring.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cardbench_protocol::Subject;
use cardbench_store::Store;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter, OutboxRow};
use cardbench_workflow::{IngestOutcome, ReadoutInput, Workflow};
use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `cardbench args…` in `dir`, secrets in `dir/secrets`, with `stdin` given.
fn cardbench(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = common::command(dir, Some("tester"));
    cmd.env("CARDBENCH_SECRETS_DIR", dir.join("secrets")).args(args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run cardbench");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.unwrap_or_default()).expect("stdin");
    }
    child.wait_with_output().expect("cardbench output")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "cardbench failed: {}\n{}", common::text(&out.stdout), common::text(&out.stderr));
    common::text(&out.stdout)
}

/// The daemon, `cardbench run --no-sim`.
fn daemon(dir: &Path) -> Child {
    common::command(dir, Some("tester"))
        .env("CARDBENCH_SECRETS_DIR", dir.join("secrets"))
        .args(["run", "--no-sim"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon")
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A test config: quick retries.
fn write_config(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("config.toml"),
        format!("[hooks]\nretry_initial_ms = 100\nretry_max_ms = 400\ntimeout_seconds = 5\n{extra}"),
    )
    .expect("config");
}

/// `tests/http/receiver.py` on a port of its own.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path, name: &str, args: &[&str]) -> Receiver {
        Receiver::start_on(dir, name, 0, args)
    }

    fn start_on(dir: &Path, name: &str, port: u16, args: &[&str]) -> Receiver {
        let port_file = dir.join(format!("{name}.port"));
        let log = dir.join(format!("{name}.jsonl"));
        let _ = std::fs::remove_file(&port_file);
        let child = Command::new("python3")
            .arg(repo_root().join("tests/http/receiver.py"))
            .args(["--port", &port.to_string()])
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the receiver (python3)");
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Ok(port) = text.trim().parse()
            {
                break port;
            }
            assert!(Instant::now() < deadline, "the receiver did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Receiver { child, port, log }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every line logged so far.
    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The requests answered (kind "answered").
    fn answered(&self) -> Vec<Value> {
        self.records().into_iter().filter(|r| r["kind"] == "answered").collect()
    }

    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let records = self.records();
            if done(&records) {
                return records;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {records:#?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_sign(secret: &str, body: &[u8]) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys,hmac,hashlib; print('HMAC-SHA256='+hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())",
            secret,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("stdin").write_all(body)?;
            c.wait_with_output()
        })
        .expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn verify_exit_codes_follow_pythons_hmac() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "6b1f0c2a9e";
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, format!("{secret}\n")).expect("secret");
    let body = "{\"topic\":\"CARD_ERROR\",\"data\":{\"errorMessage\":\"Zoë Ångström\"}}".as_bytes();
    let header = python_sign(secret, body);
    let verify = |sig: &str, body: &[u8], file: &Path| {
        cardbench(dir.path(), &["webhook", "verify", "--secret-file", &file.to_string_lossy(), "--signature", sig], Some(body))
            .status
            .code()
    };
    assert_eq!(verify(&header, body, &secret_file), Some(0), "Python's signature verifies");
    let mut changed = body.to_vec();
    let at = changed.len() - 5;
    changed[at] ^= 0x01;
    assert_eq!(verify(&header, &changed, &secret_file), Some(1), "one changed byte is refused");
    let hex = header.trim_start_matches("HMAC-SHA256=");
    let b64 = {
        let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect();
        let out = Command::new("python3")
            .args(["-c", "import sys,base64; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())", &hex::encode(bytes)])
            .output()
            .expect("python3");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(verify(&format!("HMAC-SHA256={b64}"), body, &secret_file), Some(0), "base64 is taken too");
    assert_eq!(verify("sha256=abcdef", body, &secret_file), Some(2), "a malformed header is bad usage");
    assert_eq!(verify(&header, body, &dir.path().join("missing.txt")), Some(2), "an unreadable secret file is bad usage");
}

/// Cards `ids` received (straight into the store, as the daemon would) for organisation `org`,
/// and produced: a CARD_PRODUCED event each.
fn produce(dir: &Path, ids: &[String], org: &str) {
    let wf = Workflow::new(std::sync::Arc::new(Store::open_in(dir).expect("store")));
    let bodies: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| {
            let mut r = cardbench_sim::fixtures::request_json(id, &format!("S-{id}"));
            r["organisationId"] = org.into();
            serde_json::to_vec(&r).expect("json")
        })
        .collect();
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
    assert!(report.outcomes.iter().all(|o| matches!(o, IngestOutcome::Accepted { .. })), "{:?}", report.outcomes);
    for (k, id) in ids.iter().enumerate() {
        let uid = ReadoutInput { field: "MIFARE_UID".into(), value: format!("04{:012X}", k + 1) };
        wf.produce("tester", id, &[uid], "test").expect("produce");
    }
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}-{i:03}")).collect()
}

fn store(dir: &Path) -> Store {
    Store::open_in(dir).expect("store")
}

/// The outbox rows of `destination`, oldest first.
fn rows_of(dir: &Path, destination: &str) -> Vec<OutboxRow> {
    let mut rows = store(dir)
        .read(|c| outbox::list(c, &OutboxFilter { destination: Some(destination.into()), limit: Some(100_000), ..Default::default() }))
        .expect("outbox");
    rows.reverse();
    rows
}

fn wait_until(what: &str, timeout: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `webhook add` → the secret it printed (its last line).
fn add_webhook(dir: &Path, name: &str, url: &str, topics: &str, encoding: &str) -> String {
    let out = ok(&cardbench(dir, &["webhook", "add", name, "--url", url, "--topics", topics, "--encoding", encoding], None));
    out.lines().last().expect("the secret").trim().to_owned()
}

#[test]
fn webhooks_are_signed_as_pythons_hmac_computes_it_non_ascii_bodies_included() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d, "");
    let hex_rx = Receiver::start(d, "hex", &["--secret-file", &d.join("hex.secret").to_string_lossy()]);
    let b64_rx = Receiver::start(d, "b64", &["--secret-file", &d.join("b64.secret").to_string_lossy()]);
    let secret = add_webhook(d, "erp", &hex_rx.url(), "CARD_PRODUCED", "hex");
    std::fs::write(d.join("hex.secret"), format!("{secret}\n")).expect("secret");
    let secret = add_webhook(d, "mes", &b64_rx.url(), "CARD_PRODUCED", "base64");
    std::fs::write(d.join("b64.secret"), &secret).expect("secret");
    let cards = ids("C", 3);
    produce(d, &cards, "Zoë Ångström GmbH");
    let _daemon = Daemon(daemon(d));
    for (rx, sig_len) in [(&hex_rx, 64), (&b64_rx, 44)] {
        let done = rx.wait_for("three signed events", Duration::from_secs(30), |r| r.iter().filter(|x| x["kind"] == "answered").count() >= 3);
        let answered: Vec<&Value> = done.iter().filter(|x| x["kind"] == "answered").collect();
        assert_eq!(answered.len(), 3, "{answered:#?}");
        for r in &answered {
            assert_eq!(r["signatureOk"], true, "Python's hmac agrees: {r:#}");
            let body = r["body"].as_str().expect("body");
            assert!(body.contains("Zoë Ångström GmbH"), "the non-ASCII organisation is in the signed body: {body}");
            let envelope: Value = serde_json::from_str(body).expect("envelope");
            assert_eq!(r["eventId"], envelope["eventId"]);
            assert_eq!((r["topic"].as_str(), envelope["topic"].as_str()), (Some("CARD_PRODUCED"), Some("CARD_PRODUCED")));
            assert_eq!(r["contentType"], "application/json");
            let sig = r["signature"].as_str().expect("signature").trim_start_matches("HMAC-SHA256=").to_owned();
            assert_eq!(sig.len(), sig_len, "{sig}");
            if sig_len == 64 {
                assert_eq!(sig, sig.to_lowercase(), "hex is lowercase");
            }
        }
        let ids: HashSet<&str> = answered.iter().filter_map(|r| r["eventId"].as_str()).collect();
        assert_eq!(ids.len(), 3, "three distinct events");
    }
    for dest in ["webhook:erp", "webhook:mes"] {
        wait_until("the deliveries recorded", Duration::from_secs(10), || rows_of(d, dest).iter().all(|r| r.sent_at.is_some()));
    }
    // `webhook test`: a signed TEST event now, its answer shown.
    let out = ok(&cardbench(d, &["webhook", "test", "mes"], None));
    assert!(out.contains("delivered: HTTP 204"), "{out}");
    let test = b64_rx.answered().into_iter().find(|r| r["topic"] == "TEST").expect("the test event");
    assert_eq!(test["signatureOk"], true, "{test:#}");
    let listed = ok(&cardbench(d, &["webhook", "list"], None));
    assert!(listed.contains("erp") && listed.contains("mes") && listed.contains("active"), "{listed}");
    // Redelivery is the outbox's resend: the same event, signed again.
    let first = rows_of(d, "webhook:erp").remove(0);
    ok(&cardbench(d, &["resend", &first.id.to_string()], None));
    let again = hex_rx.wait_for("the resent event", Duration::from_secs(20), |r| r.iter().filter(|x| x["kind"] == "answered").count() >= 4);
    let last = again.iter().rev().find(|x| x["kind"] == "answered").expect("answered");
    assert_eq!(last["eventId"].as_str(), first.correlation_id.as_deref());
    assert_eq!(last["signatureOk"], true);
}

/// One forwarding sink per answer of the endpoint; each receiver answers its status to the first
/// request, then 204.
#[test]
fn every_status_code_of_the_event_endpoint_has_its_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Pausing only for a 401 here: the retried codes succeed on the second attempt.
    write_config(d, "");
    std::fs::write(d.join("pw.txt"), "s3cret-pw\n").expect("password");
    // The fixture has no email element: a fixed one through the mapping.
    std::fs::write(d.join("mapping.json"), r#"{"fields": {"email": "=erp@bureau.example"}}"#).expect("settings");
    let codes = [204u16, 400, 401, 429, 500, 503, 501];
    let mut receivers = BTreeMap::new();
    for code in codes {
        let name = format!("s{code}");
        let rx = Receiver::start(d, &name, &["--script", &code.to_string()]);
        ok(&cardbench(
            d,
            &["forward", "add", &name, "--url", &rx.url(), "--user", "bureau", "--password-file", &d.join("pw.txt").to_string_lossy(),
              "--topics", "CARD_PRODUCED", "--settings-file", &d.join("mapping.json").to_string_lossy()],
            None,
        ));
        receivers.insert(code, rx);
    }
    // A sink whose mapping finds no email: what the endpoint would refuse never leaves.
    let invalid = Receiver::start(d, "invalid", &[]);
    ok(&cardbench(
        d,
        &["forward", "add", "noemail", "--url", &invalid.url(), "--user", "bureau", "--topics", "CARD_PRODUCED"],
        Some(b"s3cret-pw\n"),
    ));
    produce(d, &ids("F", 2), "ORG-1");
    let _daemon = Daemon(daemon(d));
    let sub = |name: &str| store(d).read(|c| cardbench_store::subscribers::get(c, name)).expect("read").expect("subscriber");
    let attempts = |row: &OutboxRow| store(d).read(|c| cardbench_store::deliveries::for_outbox(c, row.id)).expect("attempts");
    let settled = |name: &str| rows_of(d, &format!("forward:{name}")).iter().all(|r| r.sent_at.is_some());
    for code in [204, 400, 429, 500, 503, 501] {
        wait_until(&format!("sink s{code} settled"), Duration::from_secs(30), || settled(&format!("s{code}")));
    }
    wait_until("sink s401 paused", Duration::from_secs(30), || sub("s401").paused_at.is_some());
    wait_until("sink noemail settled", Duration::from_secs(30), || settled("noemail"));

    let outcomes = |name: &str| -> Vec<Vec<(Option<u16>, String)>> {
        rows_of(d, &format!("forward:{name}")).iter().map(|r| attempts(r).into_iter().map(|a| (a.status, a.outcome)).collect()).collect()
    };
    let one = |s: u16, o: &str| vec![(Some(s), o.to_owned())];
    assert_eq!(outcomes("s204"), vec![one(204, "delivered"), one(204, "delivered")]);
    assert_eq!(outcomes("s400"), vec![one(400, "permanent"), one(204, "delivered")], "400 is not retried");
    assert_eq!(outcomes("s429"), vec![one(429, "delivered"), one(204, "delivered")], "already processed counts as delivered");
    assert_eq!(outcomes("s501"), vec![one(501, "permanent"), one(204, "delivered")]);
    for code in [500, 503] {
        assert_eq!(
            outcomes(&format!("s{code}")),
            vec![vec![(Some(code), "retry".to_owned()), (Some(204), "delivered".to_owned())], one(204, "delivered")],
            "{code} is retried"
        );
    }
    // The 400's response body is kept with its attempt, and the row says why it was given up.
    let bad = &rows_of(d, "forward:s400")[0];
    let first = &attempts(bad)[0];
    assert!(first.response.as_deref().is_some_and(|r| r.contains("user.email")), "{first:?}");
    assert!(bad.last_error.as_deref().is_some_and(|e| e.contains("400")), "{bad:?}");
    // Each receiver got exactly what the rules send: no retry of a permanent answer.
    let counts: BTreeMap<u16, usize> = receivers.iter().map(|(c, rx)| (*c, rx.answered().len())).collect();
    assert_eq!(counts, BTreeMap::from([(204, 2), (400, 2), (401, 1), (429, 2), (500, 3), (503, 3), (501, 2)]));
    // Every Event sent was valid and carried the BASIC user.
    for rx in receivers.values() {
        for r in rx.answered() {
            assert_eq!(r["authUser"], "bureau");
            let event: Value = serde_json::from_str(r["body"].as_str().expect("body")).expect("event");
            assert_eq!(event["action"], "PRODUCED");
            assert_eq!(event["user"]["email"], "erp@bureau.example");
            assert!(event["actionTime"].as_i64().is_some_and(|t| t > 1_600_000_000_000), "{event}");
            assert!(event["_meta"]["dataAcquisitionTime"].as_i64().is_some());
        }
    }
    // 401: stopped with the reason, its events wait; nothing after it was tried.
    let s401 = sub("s401");
    assert!(s401.paused_reason.as_deref().is_some_and(|r| r.contains("credentials refused")), "{s401:?}");
    assert_eq!(outcomes("s401"), vec![one(401, "stopped"), vec![]]);
    let listed = ok(&cardbench(d, &["forward", "list"], None));
    assert!(listed.contains("paused") && listed.contains("credentials refused"), "{listed}");
    // The invalid Event never left: permanent with the endpoint's rule as the reason.
    assert!(invalid.records().is_empty(), "{:?}", invalid.records());
    for row in rows_of(d, "forward:noemail") {
        let a = attempts(&row);
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].status, a[0].outcome.as_str()), (None, "permanent"));
        assert!(a[0].error.as_deref().is_some_and(|e| e.contains("user.email is mandatory")), "{a:?}");
    }
    // Resumed (credentials fixed): both events go.
    ok(&cardbench(d, &["forward", "resume", "s401"], None));
    wait_until("sink s401 settled", Duration::from_secs(30), || settled("s401"));
    assert_eq!(receivers[&401].answered().len(), 3);
    assert!(sub("s401").paused_at.is_none());
    // `forward test`: a valid sample Event now, with the sink's credentials.
    let out = ok(&cardbench(d, &["forward", "test", "s204"], None));
    assert!(out.contains("delivered: HTTP 204"), "{out}");
    // The sample is told apart by its topic: the sink's own events may still be arriving.
    let sample = receivers[&204].answered().into_iter().find(|r| r["topic"].as_str() == Some("TEST")).expect("the sample");
    assert_eq!((sample["topic"].as_str(), sample["authUser"].as_str()), (Some("TEST"), Some("bureau")));
}

/// `cardbench run` is killed (SIGKILL) while the receiver holds a request, then started again:
/// every event arrives, and none that was answered 2xx arrives twice.
#[test]
fn a_kill_mid_delivery_loses_nothing_and_delivers_nothing_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d, "");
    const N: usize = 30;
    let rx = Receiver::start(d, "rx", &["--hold-at", "12", "--hold-seconds", "1.5"]);
    add_webhook(d, "erp", &rx.url(), "CARD_PRODUCED", "hex");
    produce(d, &ids("K", N), "ORG-1");
    let mut first = daemon(d);
    rx.wait_for("the held request", Duration::from_secs(30), |r| r.iter().any(|x| x["kind"] == "holding"));
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    rx.wait_for("the held request dropped", Duration::from_secs(10), |r| r.iter().any(|x| x["kind"] == "dropped"));
    let before = rx.answered().len();
    assert_eq!(before, 11, "the first eleven were answered before the kill");
    let _second = Daemon(daemon(d));
    let records = rx.wait_for("every event", Duration::from_secs(30), |r| {
        r.iter().filter(|x| x["kind"] == "answered").count() >= N
    });
    std::thread::sleep(Duration::from_millis(500));
    let answered: Vec<String> = rx.answered().iter().filter_map(|r| r["eventId"].as_str().map(str::to_owned)).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in &answered {
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    assert_eq!(seen.len(), N, "every event delivered: {records:#?}");
    let dropped = records.iter().find(|r| r["kind"] == "dropped").and_then(|r| r["eventId"].as_str()).expect("dropped");
    assert!(seen.contains_key(dropped), "the event in flight at the kill went again");
    wait_until("all recorded", Duration::from_secs(10), || rows_of(d, "webhook:erp").iter().all(|r| r.sent_at.is_some()));
}

/// The receiver is down when the daemon starts and comes up seconds later: it gets every event,
/// in order, and the webhook was not paused for the outage.
#[test]
fn a_receiver_down_for_a_while_gets_everything_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d, "");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    add_webhook(d, "erp", &format!("http://127.0.0.1:{port}/hook"), "CARD_PRODUCED", "hex");
    produce(d, &ids("D", 5), "ORG-1");
    let _daemon = Daemon(daemon(d));
    wait_until("failed attempts", Duration::from_secs(20), || {
        rows_of(d, "webhook:erp").first().is_some_and(|r| r.attempts >= 3)
    });
    std::thread::sleep(Duration::from_secs(3));
    let rx = Receiver::start_on(d, "late", port, &[]);
    rx.wait_for("every event", Duration::from_secs(20), |r| r.iter().filter(|x| x["kind"] == "answered").count() >= 5);
    let order: Vec<String> = rx
        .answered()
        .iter()
        .map(|r| serde_json::from_str::<Value>(r["body"].as_str().unwrap_or("{}")).expect("body")["data"]["cardId"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(order, ids("D", 5), "in order");
    let first = &rows_of(d, "webhook:erp")[0];
    let attempts = store(d).read(|c| cardbench_store::deliveries::for_outbox(c, first.id)).expect("attempts");
    assert!(attempts.len() >= 4, "retried while down: {attempts:?}");
    assert!(attempts.iter().rev().skip(1).all(|a| a.status.is_none() && a.outcome == "retry"), "{attempts:?}");
    let sub = store(d).read(|c| cardbench_store::subscribers::get(c, "erp")).expect("read").expect("sub");
    assert!(sub.paused_at.is_none(), "a short outage does not pause: {sub:?}");
}

/// A webhook that keeps failing is paused with the reason; its events wait and go on resume.
#[test]
fn a_webhook_that_keeps_failing_is_paused_and_resumed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d, "pause_after_failures = 3\npause_after_seconds = 0\n");
    let rx = Receiver::start(d, "rx", &["--script", "500,500,500,500,500"]);
    add_webhook(d, "erp", &rx.url(), "CARD_PRODUCED", "hex");
    produce(d, &ids("P", 2), "ORG-1");
    let _daemon = Daemon(daemon(d));
    let sub = || store(d).read(|c| cardbench_store::subscribers::get(c, "erp")).expect("read").expect("sub");
    wait_until("paused", Duration::from_secs(20), || sub().paused_at.is_some());
    let reason = sub().paused_reason.unwrap_or_default();
    assert!(reason.contains("3 failed attempts in a row") && reason.contains("HTTP 500"), "{reason}");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(rx.answered().len(), 3, "nothing is sent while paused");
    assert!(rows_of(d, "webhook:erp").iter().all(|r| r.sent_at.is_none()), "nothing dropped");
    let listed = ok(&cardbench(d, &["webhook", "list"], None));
    assert!(listed.contains("paused") && listed.contains("3 failed attempts"), "{listed}");
    ok(&cardbench(d, &["webhook", "resume", "erp"], None));
    // Two more 500s (retried, not paused again: the count starts over), then 204s.
    wait_until("delivered after resume", Duration::from_secs(20), || rows_of(d, "webhook:erp").iter().all(|r| r.sent_at.is_some()));
    assert_eq!(rx.answered().len(), 7);
}
