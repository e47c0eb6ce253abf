//! Issue 15: `cardbench store migrate --to postgres://…` moves a station's SQLite worklist into an
//! empty PostgreSQL store, verified by counts and checksums, refuses a target that holds
//! anything, and a station pointed at the result (`CARDBENCH_STORE_URL`) works on the same cards.
//! Real SQLite files, the real binary, the PostgreSQL server `tests/postgres/start-postgres.sh`
//! started (`scripts/test.sh` starts it).

mod common;

use std::sync::Arc;

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::inbox::Envelope;
use cardbench_store::{Store, move_in};
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow};

/// A worklist with a row in most tables: requests, productions, a REPORT_OK, a parcel.
fn fill(dir: &std::path::Path) {
    let wf = Workflow::new(Arc::new(Store::open_in(dir).expect("store")));
    for i in 0..30 {
        let body = serde_json::to_vec(&fixtures::request_json(&format!("C-{i:03}"), &format!("S-{}", i / 10))).expect("json");
        let id = format!("req-{i}");
        let envelope = Envelope { message_id: Some(&id), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
        wf.ingest(&[envelope]).expect("ingest");
    }
    for i in 0..5 {
        let card = format!("C-{i:03}");
        let values = [ReadoutInput { field: "MIFARE_UID".into(), value: format!("04A1B2C3D4E5{i:02X}") }];
        let produced = wf.produce("Åsa Öberg", &card, &values, "typed").expect("produce").message_id;
        let ok = serde_json::to_vec(&serde_json::json!({"cardId": card, "correlationId": produced})).expect("json");
        let id = format!("ok-{i}");
        wf.ingest(&[Envelope { message_id: Some(&id), subject: Some(Subject::ReportOk.as_str()), body: &ok, ..Default::default() }])
            .expect("report ok");
    }
    wf.ship("Åsa Öberg", &ParcelRequest { shipment_id: "S-0".into(), cards: vec!["C-000".into(), "C-001".into()], ..Default::default() })
        .expect("ship");
}

#[test]
fn a_worklist_moves_into_postgresql_verified_and_a_station_works_on_it() {
    if std::env::var(cardbench_store::testing::PG_URL_ENV).is_err() {
        eprintln!("no PostgreSQL for the tests (eval \"$(tests/postgres/start-postgres.sh)\"): skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path());
    let before = move_in::counts(&Store::open_in(dir.path()).expect("store")).expect("counts");
    let target = cardbench_store::testing::fresh_postgres_url().expect("a schema of its own");

    let cardbench = |args: &[&str]| {
        let mut cmd = common::command(dir.path(), None);
        cmd.env("CARDBENCH_SECRETS_DIR", dir.path().join("secrets")).env_remove("CARDBENCH_STORE_URL").args(args);
        cmd.output().expect("run cardbench")
    };
    let out = cardbench(&["store", "migrate", "--to", &target]);
    let said = common::text(&out.stdout);
    assert!(out.status.success(), "{said}{}", common::text(&out.stderr));
    assert!(said.contains("counts and checksums match"), "{said}");

    let moved = move_in::counts(&Store::open_url(&target).expect("target")).expect("counts");
    for table in ["cards", "inbox", "outbox", "parcels", "parcel_cards", "readouts", "audit", "events", "shipments"] {
        assert!(before[table] > 0, "the test fills {table}");
        assert_eq!(moved.get(table), before.get(table), "{table}");
    }

    // A second move into the same store is refused: it is not empty.
    let again = cardbench(&["store", "migrate", "--to", &target]);
    assert_eq!(again.status.code(), Some(3), "{}", common::text(&again.stderr));
    assert!(common::text(&again.stderr).contains("not empty"), "{}", common::text(&again.stderr));

    // A station on the moved store sees the same cards, and its ids go on after the copied ones.
    let mut list = common::command(dir.path(), None);
    list.env("CARDBENCH_SECRETS_DIR", dir.path().join("secrets"));
    list.env("CARDBENCH_STORE_URL", &target).args(["--json", "cards", "list", "--limit", "1000"]);
    let listed = list.output().expect("run");
    assert!(listed.status.success(), "{}", common::text(&listed.stderr));
    let cards: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let n = cards.as_array().or_else(|| cards["rows"].as_array()).map_or(0, Vec::len);
    assert_eq!(n, 30, "{cards}");
    let wf = Workflow::new(Arc::new(Store::open_url(&target).expect("target")));
    let body = serde_json::to_vec(&fixtures::request_json("C-NEW", "S-9")).expect("json");
    let envelope = Envelope { message_id: Some("req-new"), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
    wf.ingest(&[envelope]).expect("a new request after the move is taken");

    // The station is pointed at it by the config; the password goes to the keyring (here its
    // stand-in), never into the file. (The test server trusts loopback: any password logs in.)
    let with_password = target.replacen("://cardbench@", "://cardbench:s3cret-pw@", 1);
    let set = cardbench(&["config", "set-store", "--url", &with_password, "--station", "line-2"]);
    assert!(set.status.success(), "{}", common::text(&set.stderr));
    let file = std::fs::read_to_string(dir.path().join("config.toml")).expect("config file");
    assert!(file.contains("[store]") && file.contains("line-2"), "{file}");
    assert!(!file.contains("s3cret-pw"), "the password is not in the file: {file}");
    let kept = std::fs::read_dir(dir.path().join("secrets")).expect("secrets").filter_map(Result::ok).any(|e| {
        std::fs::read_to_string(e.path()).is_ok_and(|t| t.trim() == "s3cret-pw")
    });
    assert!(kept, "the password is kept where secrets go");
    let from_config = cardbench(&["--json", "cards", "list", "--limit", "1000"]);
    assert!(from_config.status.success(), "{}", common::text(&from_config.stderr));
    let cards: serde_json::Value = serde_json::from_slice(&from_config.stdout).expect("json");
    assert_eq!(cards.as_array().or_else(|| cards["rows"].as_array()).map_or(0, Vec::len), 31, "the moved cards and the new one");
    let local = cardbench(&["config", "set-store", "--local"]);
    assert!(local.status.success(), "{}", common::text(&local.stderr));
    let back = cardbench(&["--json", "cards", "list", "--limit", "1000"]);
    let cards: serde_json::Value = serde_json::from_slice(&back.stdout).expect("json");
    assert_eq!(cards.as_array().or_else(|| cards["rows"].as_array()).map_or(0, Vec::len), 30, "back on the SQLite store");

    let bad = cardbench(&["store", "migrate", "--to", "/var/lib/cardbench"]);
    assert_eq!(bad.status.code(), Some(2), "{}", common::text(&bad.stderr));
}
