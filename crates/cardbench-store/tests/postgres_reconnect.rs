//! A floor's database restarts (IT's maintenance, a failover): the server ends every session.
//! A station's store connects again by itself at its next call outside a transaction — the call
//! that found the connection gone fails, nothing of a transaction cut off is kept, and the
//! station goes on without being restarted. Simulated by ending the store's own sessions with
//! `pg_terminate_backend` (what a restart does to them), so other tests on the server go on.

use std::time::Duration;

use cardbench_store::audit::{self, AuditFilter, NewAudit};
use cardbench_store::{Store, StoreError, StoreFailure};

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
    if cardbench_store::testing::test_server().is_none() {
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
        Err(e) => {
            // The store as a whole, not the write: what the receive loop holds its messages for.
            assert_eq!(e.failure(), Some(StoreFailure::Unreachable), "{e}");
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

/// A database of its own on the test server, so refusing its connections touches no other test;
/// allowed again and dropped at the end, however the test ends.
struct ScratchDatabase {
    admin: Store,
    name: String,
    /// Its URL.
    url: String,
}

impl ScratchDatabase {
    /// None (and the test skipped) without a test server.
    fn create(prefix: &str) -> Option<ScratchDatabase> {
        let base = cardbench_store::testing::test_server()?;
        let admin = Store::open_url(&cardbench_store::testing::fresh_postgres_url().expect("schema")).expect("admin");
        let name = format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let (server, _) = base.rsplit_once('/').expect("the test server's URL names a database");
        let db = ScratchDatabase { admin, url: format!("{server}/{name}"), name };
        db.sql(&format!("CREATE DATABASE {}", db.name));
        Some(db)
    }

    fn sql(&self, sql: &str) {
        self.admin.read(|c| c.execute_batch(sql).map_err(StoreError::from)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn allow_connections(&self, allow: bool) {
        self.sql(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS {allow}", self.name));
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        self.allow_connections(true);
        self.sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// A database that refuses connections for a while (a failover in progress, IT's maintenance):
/// every call fails as the store being unreachable, a failure of the store as a whole (which the
/// receive loop waits out holding its messages), and the store works again once the database
/// takes connections. A database of its own, so refusing connections touches no other test.
#[test]
fn a_database_refusing_connections_is_the_store_unreachable_until_it_takes_them_again() {
    let Some(db) = ScratchDatabase::create("unreachable") else { return };
    let name = &db.name;
    let station = Store::open_url(&db.url).expect("station");
    note(&station, "before").expect("write");
    backend(&station, false);

    db.allow_connections(false);
    db.sql(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"));
    for attempt in 0..5 {
        let e = note(&station, "during").expect_err("no write while the database refuses connections");
        assert_eq!(e.failure(), Some(StoreFailure::Unreachable), "write {attempt}: {e}");
        let e = station.read(|c| audit::list(c, &AuditFilter::default())).expect_err("no read either");
        assert_eq!(e.failure(), Some(StoreFailure::Unreachable), "read {attempt}: {e}");
        if attempt > 0 {
            assert!(e.to_string().contains("cannot be reached"), "says why: {e}");
        }
    }

    db.allow_connections(true);
    note(&station, "after").expect("the station writes again at once");
    let rows = station.read(|c| audit::list(c, &AuditFilter::default())).expect("and reads");
    let operators: Vec<&str> = rows.iter().map(|r| r.operator.as_str()).collect();
    assert_eq!(operators, ["before", "after"]);
}

/// A station started while the floor's database refuses connections (a failover, maintenance):
/// the store opens, each call fails as the store being unreachable, and once the database takes
/// connections the first call creates the schema of an empty database and the station works. A
/// wrong setting is still refused at once.
#[test]
fn a_store_opened_while_its_database_refuses_connections_works_once_it_takes_them() {
    let Some(db) = ScratchDatabase::create("late") else { return };
    db.allow_connections(false);

    // A tool checking a URL (Settings, `cardbench config store`) wants an answer now.
    let now = Store::open_url(&db.url).err().expect("a database refusing connections is no store to save");
    assert_eq!(now.failure(), Some(StoreFailure::Unreachable), "{now}");
    let station = Store::open_url_when_reachable(&db.url).expect("the station's store opens while its database refuses connections");
    let e = note(&station, "during").expect_err("nothing is written meanwhile");
    assert_eq!(e.failure(), Some(StoreFailure::Unreachable), "{e}");
    let e = station.read(|c| audit::list(c, &AuditFilter::default())).expect_err("nor read");
    assert_eq!(e.failure(), Some(StoreFailure::Unreachable), "{e}");

    db.allow_connections(true);
    note(&station, "after").expect("the first write once it answers creates the schema and writes");
    let rows = station.read(|c| audit::list(c, &AuditFilter::default())).expect("and reads");
    assert_eq!(rows.iter().map(|r| r.operator.as_str()).collect::<Vec<_>>(), ["after"]);
    let version = station
        .read(|c| c.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get::<_, i64>(0)).map_err(StoreError::from))
        .expect("version");
    assert_eq!(version, i64::from(cardbench_store::SCHEMA_VERSION));

    // A wrong database name is a setting to fix, not an outage to wait out.
    let wrong = Store::open_url_when_reachable(&format!("{}_missing", db.url)).err().expect("refused at once");
    assert_eq!(wrong.failure(), None, "{wrong}");
}
