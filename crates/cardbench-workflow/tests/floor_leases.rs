//! Issue 15: one station of a floor sends a destination's outbox rows at a time. The lease is
//! taken, renewed by its holder, refused to another station while it runs, taken over once it
//! runs out (a station that died), and handed over at once when released (a clean stop). Two
//! stores on one PostgreSQL database (`CARDBENCH_TEST_ENGINE=postgres`); on one machine's SQLite
//! store every process may send (no lease is written), which is tested too.

use std::sync::Arc;
use std::time::Duration;

use cardbench_store::{Store, leases};
use cardbench_workflow::Workflow;

fn station(store: Store, name: &str) -> Workflow {
    Workflow::new(Arc::new(store)).with_station(name).with_sending_lease(Duration::from_millis(3000))
}

#[test]
fn one_station_sends_a_destination_and_another_takes_over_when_its_lease_runs_out() {
    if !cardbench_store::testing::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = cardbench_store::testing::two_stores_in(dir.path()).expect("two stations on one database");
    let (a, b) = (station(a, "line-1"), station(b, "line-2"));

    assert!(a.sending_turn("ngoc").expect("A asks"), "a free lease is taken");
    assert!(!b.sending_turn("ngoc").expect("B asks"), "held by line-1");
    assert!(b.sending_turn("webhook:erp").expect("B asks"), "each destination has its own lease");
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(300));
        assert!(a.sending_turn("ngoc").expect("A renews"), "its holder keeps it while it runs");
        assert!(!b.sending_turn("ngoc").expect("B asks"), "still line-1's");
    }
    // line-1 stops renewing (killed): once its lease has run out, line-2 takes over.
    std::thread::sleep(Duration::from_millis(3200));
    assert!(b.sending_turn("ngoc").expect("B asks"), "a lease that ran out is taken over");
    assert!(!a.sending_turn("ngoc").expect("A asks"), "and the old holder stands by");
    let holder = a.store().read(|c| leases::holder(c, "ngoc")).expect("holder").expect("held");
    assert_eq!(holder.0, "line-2");

    // A clean stop hands it over at once.
    b.release_sending().expect("release");
    assert!(a.sending_turn("ngoc").expect("A asks"), "released: taken without waiting");
}

/// One machine's SQLite store: the app and `cardbench run` both send, as before, and nothing is
/// written to ask (a lease write would wait out another process's write lock).
#[test]
fn on_one_machines_sqlite_store_every_process_sends_without_a_lease() {
    if cardbench_store::testing::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = cardbench_store::testing::two_stores_in(dir.path()).expect("two processes on one file");
    let (a, b) = (station(a, "app"), station(b, "daemon"));
    assert!(a.sending_turn("ngoc").expect("A asks") && b.sending_turn("ngoc").expect("B asks"));
    assert_eq!(a.store().read(|c| leases::holder(c, "ngoc")).expect("holder"), None, "no lease written");
}
