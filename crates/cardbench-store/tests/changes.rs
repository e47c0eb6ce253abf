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
    if cardbench_store::testing::test_server().is_none() {
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

/// The change feed tells of another connection's commit and this store's own, and not of nothing.
/// `exact`: PostgreSQL tells commits only; on SQLite a checkpoint (the store copying its log into
/// the file after a commit, on a thread of its own) may be told as one spare change, so only what
/// must be told is asserted there.
fn feed_tells_commits(here: &Store, there: &Store, exact: bool) {
    let mut feed = here.change_feed().expect("feed");
    // The feed may start with "changed" (it just connected); settle that first.
    feed.wait(std::time::Duration::from_millis(300));
    assert!(feed.is_listening(), "the feed is listening");
    if exact {
        assert!(!feed.wait(std::time::Duration::from_millis(400)), "no commit, no change");
    }
    note(there, "there");
    note(there, "there");
    assert!(feed.wait(std::time::Duration::from_secs(5)), "another connection's commit is told");
    // Settle the second commit's notification (and the SQLite store's checkpoint).
    feed.wait(std::time::Duration::from_millis(300));
    note(here, "here");
    assert!(feed.wait(std::time::Duration::from_secs(5)), "this store's own commit is told too");
    if !exact {
        return;
    }
    // A write that fails is rolled back, and nothing is told.
    let failed: Result<(), cardbench_store::StoreError> = there.write(|tx| {
        note_in(tx, "rolled back")?;
        Err(cardbench_store::StoreError::Conversion("the work failed".into()))
    });
    assert!(failed.is_err());
    assert!(!feed.wait(std::time::Duration::from_millis(400)), "a rolled-back write is not a change");
}

fn note_in(tx: &cardbench_store::Connection, operator: &str) -> cardbench_store::Result<()> {
    audit::record(tx, &NewAudit { at: "2026-01-01T00:00:00.000Z", operator, action: "test", card_id: None, shipment_id: None, details: None })
}

#[test]
fn the_change_feed_tells_commits_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let here = Store::open_in(dir.path()).expect("store");
    let there = Store::open_in(dir.path()).expect("store");
    feed_tells_commits(&here, &there, false);
}

/// Issue 15: a floor's screens are told of another station's commit (LISTEN/NOTIFY), and not of
/// commits to another store on the same server (another schema).
#[test]
fn the_change_feed_tells_another_stations_commits_on_postgresql() {
    if cardbench_store::testing::test_server().is_none() {
        return;
    }
    let url = cardbench_store::testing::fresh_postgres_url().expect("schema");
    let (a, b) = (Store::open_url(&url).expect("station A"), Store::open_url(&url).expect("station B"));
    feed_tells_commits(&b, &a, true);
    let elsewhere = Store::open_url(&cardbench_store::testing::fresh_postgres_url().expect("schema")).expect("another store");
    let mut feed = b.change_feed().expect("feed");
    feed.wait(std::time::Duration::from_millis(300));
    note(&elsewhere, "another floor");
    assert!(!feed.wait(std::time::Duration::from_millis(500)), "another store's commit is not this store's change");
}
