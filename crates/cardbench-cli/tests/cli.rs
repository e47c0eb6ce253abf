//! The `cardbench` binary from the outside: output, JSON, exit codes, clear errors.

use std::path::Path;
use std::process::Output;

mod common;

use common::text;

fn cardbench(dir: &Path, args: &[&str]) -> Output {
    common::run(dir, None, args)
}

/// Requests from the simulator, taken in by a short daemon run.
fn with_cards(dir: &Path, n: &str) {
    let out = cardbench(dir, &["sim", "generate", n, "--seed", "3", "--max-shipment", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cardbench(dir, &["run", "--no-sim", "--for-seconds", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn the_operator_flow_works_from_the_command_line_with_stable_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    with_cards(dir.path(), "4");
    let list = cardbench(dir.path(), &["--json", "cards", "list"]);
    assert!(list.status.success());
    let page: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON worklist");
    let rows = page["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let card = rows[0]["card_id"].as_str().expect("card id").to_owned();

    let no_operator = cardbench(dir.path(), &["produce", &card, "MIFARE_UID=04A22B1C"]);
    assert_eq!(no_operator.status.code(), Some(1), "a change without an operator name fails");
    assert!(text(&no_operator.stderr).contains("no operator name"), "{}", text(&no_operator.stderr));

    let bad = cardbench(dir.path(), &["--operator", "alice", "produce", &card, "MIFARE_UID=04A2"]);
    assert_eq!(bad.status.code(), Some(3), "a readout refused by a rule exits 3");
    assert!(text(&bad.stderr).contains("MIFARE_UID"), "{}", text(&bad.stderr));

    let malformed = cardbench(dir.path(), &["--operator", "alice", "produce", &card, "MIFARE_UID"]);
    assert!(text(&malformed.stderr).contains("FIELD=VALUE"), "{}", text(&malformed.stderr));

    let unknown = cardbench(dir.path(), &["cards", "show", "NO-SUCH-CARD"]);
    assert_eq!(unknown.status.code(), Some(4), "an unknown card exits 4");

    let json_error = cardbench(dir.path(), &["--json", "cards", "show", "NO-SUCH-CARD"]);
    let err: serde_json::Value = serde_json::from_slice(&json_error.stderr).expect("JSON error on stderr");
    assert_eq!(err["error"]["code"], "unknown_card");

    let shown = cardbench(dir.path(), &["cards", "show", &card]);
    assert!(text(&shown.stdout).contains("capture the readouts"), "{}", text(&shown.stdout));

    let inbox = cardbench(dir.path(), &["--json", "inbox"]);
    let rows: serde_json::Value = serde_json::from_slice(&inbox.stdout).expect("JSON inbox");
    assert_eq!(rows.as_array().map(Vec::len), Some(4));
    let raw = cardbench(dir.path(), &["inbox", &rows[0]["id"].to_string(), "--raw"]);
    let body: serde_json::Value = serde_json::from_slice(&raw.stdout).expect("the raw body is the JSON received");
    assert!(body["card"]["cardId"].is_string());
}

#[test]
fn an_invalid_config_file_is_refused_with_exit_code_5() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), "colour = 1\n").expect("write");
    let out = cardbench(dir.path(), &["status"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("colour"), "{}", text(&out.stderr));
}

#[test]
fn a_pipe_closed_early_is_not_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    with_cards(dir.path(), "30");
    let mut child = common::command(dir.path(), None)
        .args(["cards", "list", "--limit", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
    // Not ended by a signal (SIGPIPE, an abort) either: it exits with a code of its own.
    assert!(out.status.code().is_some(), "ended by a signal: {:?}; {}", out.status, text(&out.stderr));
}

#[test]
fn ship_refuses_an_empty_parcel_and_says_what_all_accessories_would_send() {
    let dir = tempfile::tempdir().expect("tempdir");
    with_cards(dir.path(), "3");
    let list = cardbench(dir.path(), &["--json", "cards", "list"]);
    let page: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON worklist");
    let shipment = page["rows"][0]["shipment_id"].as_str().expect("shipment id").to_owned();

    let empty = common::run(dir.path(), Some("bob"), &["ship", &shipment, "--carrier", "PostNord"]);
    assert_eq!(empty.status.code(), Some(3), "an empty parcel is refused by a rule: {}", text(&empty.stderr));
    let said = text(&empty.stderr);
    assert!(said.contains("nothing to ship"), "{said}");
    assert!(said.contains("--all-accessories would send") || said.contains("no accessory is left"), "{said}");
    let outbox = cardbench(dir.path(), &["--json", "outbox"]);
    assert!(!text(&outbox.stdout).contains("SHIPPED"), "nothing was queued: {}", text(&outbox.stdout));
}

#[test]
fn cards_list_sorts_by_any_column_and_filters_by_article_as_the_app_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    with_cards(dir.path(), "12");
    let ids = |args: &[&str]| -> Vec<(String, String)> {
        let mut all = vec!["--json", "cards", "list", "--limit", "1000"];
        all.extend_from_slice(args);
        let out = cardbench(dir.path(), &all);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON worklist");
        page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| (r["card_id"].as_str().unwrap_or("").to_owned(), r["article_id"].as_str().unwrap_or("").to_owned()))
            .collect()
    };
    let mut by_card: Vec<String> = ids(&[]).into_iter().map(|(c, _)| c).collect();
    by_card.sort();
    by_card.reverse();
    let desc: Vec<String> = ids(&["--sort", "card", "--desc"]).into_iter().map(|(c, _)| c).collect();
    assert_eq!(desc, by_card, "--sort card --desc: highest cardId first");
    let all = ids(&[]);
    let article = all[0].1.clone();
    let only = ids(&["--article", &article]);
    assert!(!only.is_empty() && only.iter().all(|(_, a)| *a == article), "--article {article}: {only:?}");
    assert_eq!(only.len(), all.iter().filter(|(_, a)| *a == article).count());
    let bad = cardbench(dir.path(), &["cards", "list", "--sort", "colour"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("unknown sort column"), "{}", text(&bad.stderr));
}

/// `cards show` (text and JSON) masks the holder as the app's card panel does, by the core's
/// rule (`CardDetail::shown`), when the workstation masks names.
#[test]
fn cards_show_masks_the_holder_when_the_workstation_masks_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    with_cards(dir.path(), "1");
    let page: serde_json::Value = serde_json::from_slice(&cardbench(dir.path(), &["--json", "cards", "list"]).stdout).expect("JSON");
    let card = page["rows"][0]["card_id"].as_str().expect("card id").to_owned();
    std::fs::write(dir.path().join("config.toml"), "[workstation]\nmask_holder = false\n").expect("config");
    let shown: serde_json::Value = serde_json::from_slice(&cardbench(dir.path(), &["--json", "cards", "show", &card]).stdout).expect("JSON");
    let holder = shown["card"]["holder"].as_str().expect("the simulator's requests name a holder").to_owned();
    assert!(!holder.contains('•'), "not masked when the workstation shows names: {holder}");

    std::fs::write(dir.path().join("config.toml"), "[workstation]\nmask_holder = true\n").expect("config");
    let masked: serde_json::Value = serde_json::from_slice(&cardbench(dir.path(), &["--json", "cards", "show", &card]).stdout).expect("JSON");
    let masked_holder = masked["card"]["holder"].as_str().expect("holder");
    assert_eq!(masked_holder, cardbench_workflow::cardholder::mask_name(&holder));
    let text_out = text(&cardbench(dir.path(), &["cards", "show", &card]).stdout);
    // The holder line as the worklist and the app's card panel show it (the card elements stay
    // whole in both: the card is printed from them).
    let line = text_out.lines().find(|l| l.starts_with("holder")).expect("a holder line");
    assert!(!line.contains(&holder) && line.contains(masked_holder), "{line}");
}

/// `--from DAY --to DAY` is one rule everywhere: both days included, so one day is a period.
#[test]
fn a_period_of_one_day_is_a_period_and_a_reversed_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let day = chrono::Utc::now().date_naive().to_string();
    let out = dir.path().join("billing");
    let one_day = cardbench(dir.path(), &["billing", "--from", &day, "--to", &day, "--out", out.to_str().expect("path")]);
    assert!(one_day.status.success(), "{}", text(&one_day.stderr));
    let bad = cardbench(dir.path(), &["billing", "--from", "2026-11-02", "--to", "2026-11-01", "--out", out.to_str().expect("path")]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("2026-11-02 is after 2026-11-01"), "{}", text(&bad.stderr));
}

/// The floor's benchmarks need a PostgreSQL server: without one, `--only floor` names each of its
/// phases as skipped, says how to give one, and the run succeeds; `--only` one of them runs that one.
#[test]
fn the_floor_benchmarks_without_postgresql_are_skipped_not_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = |only: &str| {
        common::command(dir.path(), None)
            .env_remove("CARDBENCH_BENCH_POSTGRES_URL")
            .args(["bench", "--only", only])
            .output()
            .expect("run cardbench")
    };
    let out = bench("floor");
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    for phase in ["pg-ingest", "pg-worklist", "pg-latency"] {
        assert!(said.contains(&format!("== {phase}:")), "{phase} is named: {said}");
    }
    assert_eq!(said.matches("skipped: no PostgreSQL").count(), 3, "{said}");
    assert!(said.contains("CARDBENCH_BENCH_POSTGRES_URL"), "says how to give a server: {said}");

    let out = bench("pg-latency");
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert_eq!(said.matches("skipped: no PostgreSQL").count(), 1, "only the phase asked for: {said}");
    assert!(said.contains("== pg-latency:") && !said.contains("== worklist"), "{said}");
}
