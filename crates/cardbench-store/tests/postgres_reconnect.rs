//! A floor's database restarts (IT's maintenance, a failover): the server ends every session.
//! A station's store connects again by itself at its next call outside a transaction — the call
//! that found the connection gone fails, nothing of a transaction cut off is kept, and the
//! station goes on without being restarted. Simulated by ending the store's own sessions with
//! `pg_terminate_backend` (what a restart does to them), so other tests on the server go on.

use std::time::Duration;

use cardbench_store::audit::{self, AuditFilter, NewAudit};
use cardbench_store::{Store, StoreError};

fn note(store: &Store, operator: &str) -> Result<(), StoreError> {
    store.write(|tx| {
        audit::record(tx, &NewAudit { at: "2026-01-01T00:00:00.000Z", operator, action: "test", card_id: None, shipment_id: None, details: None })
    })
}

fn backend(store: &Store, write: bool) -> i32 {
    let pid = |c: &cardbench_store::Connection| c.query_row("SELECT pg_backend_pid()", [], |r| r.get::<_, i32>(0)).map_err(StoreError::from);
    if write { store.write(pid) } else { store.read(pid) }.expect("pid")
}

#[test]
fn a_store_connects_again_after_the_server_ended_its_sessions() {
    if std::env::var(cardbench_store::testing::PG_URL_ENV).is_err() {
        eprintln!("no PostgreSQL for the tests: skipped");
        return;
    }
    let url = cardbench_store::testing::fresh_postgres_url().expect("schema");
    let (station, admin) = (Store::open_url(&url).expect("station"), Store::open_url(&url).expect("admin"));
    note(&station, "before").expect("write");
    let pids = [backend(&station, false), backend(&station, true)];
    let ended: i64 = admin
        .read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (?1, ?2)) t",
                [pids[0], pids[1]],
                |r| r.get(0),
            )
            .map_err(StoreError::from)
        })
        .expect("terminate");
    assert_eq!(ended, 2, "both sessions ended");

    // The first calls may fail (the store learns the connection is gone by using it); within a
    // few the station writes and reads again.
    let mut failures = 0;
    let wrote = (0..20).any(|_| match note(&station, "after") {
        Ok(()) => true,
        Err(_) => {
            failures += 1;
            std::thread::sleep(Duration::from_millis(100));
            false
        }
    });
    assert!(wrote, "the station writes again ({failures} failed attempts)");
    let read = (0..20).find_map(|_| {
        let rows = station.read(|c| audit::list(c, &AuditFilter::default()));
        if rows.is_err() {
            std::thread::sleep(Duration::from_millis(100));
        }
        rows.ok()
    });
    let rows = read.expect("the station reads again");
    let operators: Vec<&str> = rows.iter().map(|r| r.operator.as_str()).collect();
    assert_eq!(operators, ["before", "after"], "nothing of a failed attempt was kept, and the write after is there once");
    assert_ne!(backend(&station, true), pids[1], "a new session");
}
