//! `Store::commits_elsewhere` tells another process's commit from this store's own: the outbox
//! sender wakes on it for rows queued by another process, and must not need it for its own.

use cardbench_store::Store;
use cardbench_store::audit::{self, NewAudit};

fn note(store: &Store, operator: &str) {
    store
        .write(|tx| {
            audit::record(
                tx,
                &NewAudit { at: "2026-01-01T00:00:00.000Z", operator, action: "test", card_id: None, shipment_id: None, details: None },
            )
        })
        .map(|_| ())
        .unwrap_or_else(|e| panic!("write: {e}"));
}

#[test]
fn commits_elsewhere_changes_for_another_store_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let here = Store::open_in(dir.path()).expect("store");
    let other = Store::open_in(dir.path()).expect("store");
    let start = here.commits_elsewhere().expect("look").expect("the writer is free");
    note(&here, "here");
    assert_eq!(here.commits_elsewhere().expect("look"), Some(start), "this store's own commit is not another's");
    note(&other, "other");
    let after = here.commits_elsewhere().expect("look").expect("the writer is free");
    assert_ne!(after, start, "another store's commit is seen");
    // The read connection sees every commit, its own process's too.
    let read_before = here.read(cardbench_store::changes::data_version).expect("look");
    note(&here, "here");
    assert_ne!(here.read(cardbench_store::changes::data_version).expect("look"), read_before);
}

/// Issue 15: on a floor's PostgreSQL store, a commit at one station changes the number the other
/// station's screens watch (the app's watcher looks every 400 ms and turns a change into
/// `store_changed`). Needs the test server (`CARDBENCH_TEST_PG_URL`).
#[test]
fn a_commit_at_another_station_is_seen_on_postgresql() {
    if std::env::var(cardbench_store::testing::PG_URL_ENV).is_err() {
        eprintln!("no PostgreSQL for the tests: skipped");
        return;
    }
    let url = cardbench_store::testing::fresh_postgres_url().expect("schema");
    let (a, b) = (Store::open_url(&url).expect("station A"), Store::open_url(&url).expect("station B"));
    let seen = b.read(cardbench_store::changes::data_version).expect("look");
    note(&a, "line-1");
    assert_ne!(b.read(cardbench_store::changes::data_version).expect("look"), seen, "station A's commit is seen at B");
    let elsewhere = b.commits_elsewhere().expect("look").expect("the writer is free");
    note(&a, "line-1");
    assert_ne!(b.commits_elsewhere().expect("look"), Some(elsewhere), "and wakes B's sender");
}
