//! A floor's database goes away under a running station (IT restarts PostgreSQL, a failover): the
//! server ends every session of the station's `cardbench run` again and again while NGOC's
//! requests arrive. The daemon keeps running, connects again by itself, and every request ends
//! in the worklist once: nothing settled on the broker before it was committed, nothing taken
//! twice, the inbound queue empty. A database of its own for this test, so ending its sessions
//! (`pg_terminate_backend`, what a restart does to them) touches no other test.
//!
//! Needs the test broker and PostgreSQL (as `floor_soak.rs`); fails without them unless
//! CARDBENCH_SKIP_BROKER_TESTS=1 / CARDBENCH_SKIP_POSTGRES_TESTS=1.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_sim::{SimConfig, Simulator};
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::{Store, StoreError};

mod common;

use common::services::{broker_url, declare, postgres_url, queued};

const REQUESTS: u32 = 2_000;
const OUTAGES: usize = 6;



/// A store on the test server's own database (for CREATE/DROP DATABASE and ending sessions).
fn server(base: &str) -> Store {
    Store::open_url(&cardbench_store::testing::fresh_postgres_url().unwrap_or_else(|e| panic!("a scratch schema on {base}: {e}"))).expect("admin")
}

fn batch(store: &Store, sql: &str) {
    store.read(|c| c.execute_batch(sql).map_err(StoreError::from)).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The daemon, killed when the test ends however it ends (a failed assertion included).
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Drops the test's database at the end, whatever happened.
struct Database<'a> {
    server: &'a Store,
    name: String,
}

impl Drop for Database<'_> {
    fn drop(&mut self) {
        let _ = self.server.read(|c| c.execute_batch(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).map_err(StoreError::from));
    }
}

/// What befalls the station's database while requests arrive, done from the server's side
/// (`server`, a session on another database) to the station's database `name`. Returns how many
/// of the station's sessions it ended.
type Outage<'a> = &'a dyn Fn(&Store, &str, &std::path::Path) -> i64;

fn end_sessions(server: &Store, name: &str) -> i64 {
    server
        .read(|c| {
            c.query_row(
                &format!("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(StoreError::from)
        })
        .expect("end the sessions")
}

#[test]
fn a_running_station_rides_out_its_database_ending_every_session() {
    ride_out(false, OUTAGES, &|server, name, _| {
        let ended = end_sessions(server, name);
        std::thread::sleep(Duration::from_millis(250));
        ended
    });
}

/// A failover or maintenance that takes a while: the database refuses connections for 5 s. The
/// station says its store is failing ("database unreachable") and holds what it received instead
/// of handing it back to the queue again and again (each time a delivery counted: on Service Bus
/// ten make a dead letter), then takes it in once the database is back.
#[test]
fn a_running_station_holds_its_requests_while_its_database_refuses_connections() {
    ride_out(false, 1, &|server, name, log| {
        batch(server, &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
        let ended = end_sessions(server, name);
        refuse_for_5_seconds(server, name, log);
        ended
    });
}

/// A station started while its database takes no connections (maintenance, a failover under
/// way): `cardbench run` starts anyway, says its store is failing, holds what it receives, and
/// takes everything in once the database answers.
#[test]
fn a_station_started_while_its_database_refuses_connections_takes_its_requests_in_once_it_is_back() {
    ride_out(true, 0, &|_, _, _| 0);
}

/// Waits until the station's log says its store is unreachable (at most 20 s), lets the database
/// refuse connections for 5 s in all, then lets it take them again.
fn refuse_for_5_seconds(server: &Store, name: &str, log: &std::path::Path) {
    let seen = Instant::now();
    let said = loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("store failing") && text.contains("database unreachable") {
            break true;
        }
        if seen.elapsed() > Duration::from_secs(20) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(5).saturating_sub(seen.elapsed()));
    batch(server, &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
    assert!(said, "the station says its store is failing: database unreachable:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

/// A station (`cardbench run`) on a database of its own takes NGOC's requests in while `outage`
/// befalls its database `outages` times; with `refused_at_start`, the database refuses
/// connections when the station starts, until it said so and 5 s passed.
fn ride_out(refused_at_start: bool, outages: usize, outage: Outage<'_>) {
    let (Some(amqp_url), Some(pg)) = (broker_url(), postgres_url()) else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("dbr-in-{tag}"), format!("dbr-out-{tag}"));
    declare(&[&inbound, &outbound]);
    let server = server(&pg);
    let database = Database { server: &server, name: format!("dbr_{tag}") };
    batch(&server, &format!("CREATE DATABASE {}", database.name));
    let (base, _) = pg.rsplit_once('/').expect("the test server's URL names a database");
    let store_url = format!("{base}/{}", database.name);
    let store = Store::open_url(&store_url).expect("the station's store");

    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("line-1");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("config.toml"),
        format!("simulator = false\n[queues]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\n[store]\nurl = \"{store_url}\"\nstation = \"line-1\"\n"),
    )
    .expect("config");
    let log = dir.join("run.log");
    if refused_at_start {
        batch(&server, &format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", database.name));
    }
    let mut daemon = Daemon(Command::new(env!("CARGO_BIN_EXE_cardbench"))
        .args(["run", "--no-sim"])
        .env("CARDBENCH_DATA_DIR", &dir)
        .env("CARDBENCH_CONFIG", dir.join("config.toml"))
        .env("CARDBENCH_SECRETS_DIR", dir.join("secrets"))
        .env("CARDBENCH_AMQP_URL", &amqp_url)
        .env_remove("CARDBENCH_STORE_URL")
        .env_remove("CARDBENCH_STATION")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("cardbench run"));

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let amqp = ServiceBusConfig::from_amqp_url(&amqp_url, &inbound, &outbound).expect("broker url");
    let sim_config = SimConfig { requests_queue: inbound.clone(), notifications_queue: outbound.clone(), seed: Some(7), ..SimConfig::default() };
    let sim = Arc::new(Simulator::open(&root.path().join("ngoc"), sim_config, Arc::new(AmqpConnector::new(amqp.clone()))).expect("sim"));
    let generated = rt.block_on(sim.generate(REQUESTS)).expect("generate");
    if refused_at_start {
        refuse_for_5_seconds(&server, &database.name, &log);
        assert!(daemon.0.try_wait().expect("wait").is_none(), "the daemon exited: {}", std::fs::read_to_string(&log).unwrap_or_default());
    }

    // While the station takes them in: every session of its database ended, again and again.
    let accepted = |store: &Store| -> usize {
        store
            .read(|c| inbox::list(c, &InboxFilter { outcome: Some(Outcome::Accepted), limit: Some(10_000), ..InboxFilter::default() }))
            .map(|rows| rows.len())
            .unwrap_or(0)
    };
    // The first outage once the station is taking requests in, the others while it goes on.
    let started = Instant::now();
    while accepted(&store) < 100 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut ended = 0_i64;
    for _ in 0..outages {
        ended += outage(&server, &database.name, &log);
        assert!(daemon.0.try_wait().expect("wait").is_none(), "the daemon exited: {}", std::fs::read_to_string(&log).unwrap_or_default());
    }
    let during = accepted(&store);
    assert!(ended >= outages as i64, "sessions were ended ({ended})");
    assert!(outages == 0 || during < generated.card_ids.len(), "the outages landed while requests were still arriving ({during} already in)");

    let deadline = Instant::now() + Duration::from_secs(120);
    while accepted(&store) < generated.card_ids.len() && Instant::now() < deadline {
        assert!(daemon.0.try_wait().expect("wait").is_none(), "the daemon exited: {}", std::fs::read_to_string(&log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill").args(["-INT", &daemon.0.id().to_string()]).status();
    let stopped = Instant::now();
    while daemon.0.try_wait().expect("wait").is_none() && stopped.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(daemon);

    let rows = store
        .read(|c| inbox::list(c, &InboxFilter { outcome: Some(Outcome::Accepted), limit: Some(10_000), ..InboxFilter::default() }))
        .expect("inbox");
    let ids: HashSet<&str> = rows.iter().filter_map(|r| r.message_id.as_deref()).collect();
    assert_eq!(rows.len(), ids.len(), "each message accepted once");
    let cards = store.read(|c| c.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get::<_, i64>(0)).map_err(StoreError::from)).expect("cards");
    assert_eq!(cards, i64::try_from(generated.card_ids.len()).expect("n"), "every request is a card, once ({ended} sessions ended on the way)");
    let left = queued(&rt, &amqp, &inbound);
    assert_eq!(left, 0, "the inbound queue is empty");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let connected = if refused_at_start { "connected to PostgreSQL, which did not answer when the store was opened" } else { "connected to PostgreSQL again" };
    assert!(text.contains(connected), "the daemon says it connected:\n{text}");
    assert!(!text.contains("releasing them"), "no received batch was handed back to the queue for the database's absence:\n{text}");
    // The loops that keep trying say an outage once, not at every turn.
    for said_once in ["cannot take the sending lease", "cannot read the outbox", "cannot read the subscribers"] {
        let times = text.matches(said_once).count();
        assert!(times <= outages.max(1), "\"{said_once}\" said {times} times in {} outages:\n{text}", outages.max(1));
    }
    eprintln!("{} requests, {ended} sessions ended in {outages} outages; {during} were in when the last one came", generated.card_ids.len());
}
