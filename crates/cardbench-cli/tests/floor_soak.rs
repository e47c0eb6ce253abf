//! Issue 15, the floor's soak test: three stations on one PostgreSQL store and one broker.
//!
//! Three real `cardbench run` daemons (three data directories, one fresh PostgreSQL schema, each
//! its own `[store] station` name) receive from the same inbound queue and send to the same
//! outbound queue (competing consumers) of the test's RabbitMQ (AMQP 1.0). The NGOC simulator
//! (`cardbench_sim`, over AMQP) puts CARDBENCH_SOAK_REQUESTS (default 3,000) requests on the
//! inbound queue in shipments of 1 to 10 cards, answers every CARD_PRODUCED with REPORT_OK and
//! every SHIPPED with SHIPPED_OK, and records everything it receives. Meanwhile one driver thread
//! per station runs the `cardbench` CLI against that station's config: `capture` and `produce`
//! for the cards of its shipments (every 9th card is produced by two stations at the same moment:
//! one wins, the other must be refused with exit 3 naming the card), and `ship --all-ready
//! --all-accessories` once every card of a shipment is produced (the REPORT_OK gate refuses until
//! NGOC answered; the driver tries again later; every 5th shipment is shipped by two stations at
//! the same moment: one parcel, the other refused).
//!
//! Run twice: on a quiet floor, and with CARDBENCH_SOAK_KILLS (default 20) SIGKILLs of one
//! station's `cardbench run` at random moments, each time the station holding NGOC's sending
//! lease, restarted at once or, every third time, only once its lease (2 s here,
//! `[store] sending_lease_secs`) ran out and another station took the sending over and sent the
//! rows the dead one left waiting (within the lease and 5 s).
//!
//! What is asserted, both runs:
//! - every card ends SHIPPED_OK in the store, produced once (one CARD_PRODUCED outbox row, one
//!   `produced` audit row naming the station whose `produce` command succeeded, the only one that
//!   did), in exactly one parcel (one parcel per successful `ship`; a shipment may take two when
//!   a REPORT_OK lands between `--all-ready` looking and the gate deciding), every parcel
//!   answered SHIPPED_OK, nothing left in the outbox, no ERROR queued;
//! - every message NGOC sent (requests and answers) is accepted once in the inbox (a copy that
//!   came back after a kill is recorded as a duplicate);
//! - NGOC received, per card, CARD_PRODUCED under exactly one messageId (the store's), per parcel
//!   SHIPPED under exactly one messageId, no other CARD_PRODUCED or SHIPPED, no ERROR, and
//!   answered none with ERROR. "Sent once" means one messageId: RabbitMQ has no duplicate
//!   detection, so a row a killed station sent but did not mark as sent goes again with the same
//!   messageId and arrives twice, which Service Bus's duplicate detection would drop. The raw
//!   copies are counted and printed; on the quiet floor there must be none;
//! - the inbound and outbound queues are empty at the end, and the stations, stopped cleanly,
//!   hold no sending lease;
//! - the kill run: the kills happened while work was left, and every time the dead station was
//!   left down, another station took its lease and sent the rows it left waiting.
//!
//! Fails when no broker or no PostgreSQL is there, unless CARDBENCH_SKIP_BROKER_TESTS=1 or
//! CARDBENCH_SKIP_POSTGRES_TESTS=1. `scripts/soak-floor.sh` runs it alone with the figures. A
//! smaller CARDBENCH_SOAK_REQUESTS wants fewer CARDBENCH_SOAK_KILLS: most kills must land while
//! work is left (3,000 requests last some 100 s; 20 kills about 50 s).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_protocol::Subject;
use cardbench_sim::{SimConfig, Simulator};
use cardbench_store::Store;
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::{audit, leases, parcels};
use rand::{Rng, SeedableRng};

mod common;

use common::services::{broker_url, declare, postgres_url, queued};

const DEFAULT_REQUESTS: usize = 3_000;
const DEFAULT_KILLS: usize = 20;
/// The stations' sending lease in the test (`[store] sending_lease_secs`; 15 s by default).
const LEASE_SECS: u64 = 2;
/// Shipments a driver works on at once: it produces the next ones while earlier ones await
/// REPORT_OK.
const WINDOW: usize = 6;
/// How long one run may take before it is declared stuck (2 to 2.5 minutes on two busy cores;
/// nextest ends it at 8).
const RUN_LIMIT: Duration = Duration::from_secs(420);

/// The two runs share two cores: one at a time, also under plain `cargo test`.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());


fn number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
        Err(_) => default,
    }
}



/// One workstation: its data directory and config, and its daemon.
struct Station {
    name: String,
    dir: PathBuf,
    amqp: String,
    daemon: Mutex<Option<Child>>,
    starts: AtomicUsize,
}

impl Station {
    fn new(root: &Path, n: usize, amqp: &str, store_url: &str, inbound: &str, outbound: &str) -> Station {
        let name = format!("line-{n}");
        let dir = root.join(&name);
        std::fs::create_dir_all(&dir).expect("station dir");
        std::fs::write(
            dir.join("config.toml"),
            format!(
                "simulator = false\noperator = \"Operator at {name}\"\n\
                 [queues]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\n\
                 [store]\nurl = \"{store_url}\"\nstation = \"{name}\"\nsending_lease_secs = {LEASE_SECS}\n"
            ),
        )
        .expect("config");
        Station { name, dir, amqp: amqp.to_owned(), daemon: Mutex::new(None), starts: AtomicUsize::new(0) }
    }

    /// `cardbench` as this station: its config, its data directory, nothing from the caller's
    /// environment that would override them.
    fn cardbench(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cardbench"));
        cmd.env("CARDBENCH_DATA_DIR", &self.dir)
            .env("CARDBENCH_CONFIG", self.dir.join("config.toml"))
            .env("CARDBENCH_SECRETS_DIR", self.dir.join("secrets"))
            .env_remove("CARDBENCH_OPERATOR")
            .env_remove("CARDBENCH_STORE_URL")
            .env_remove("CARDBENCH_STATION")
            .env_remove("CARDBENCH_AMQP_URL")
            .env_remove("RUST_LOG");
        cmd
    }

    fn start(&self) {
        let n = self.starts.fetch_add(1, Ordering::SeqCst);
        let log = std::fs::File::create(self.dir.join(format!("run-{n}.log"))).expect("log file");
        let child = self
            .cardbench()
            .args(["run", "--no-sim"])
            .env("CARDBENCH_AMQP_URL", &self.amqp)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start cardbench run");
        *self.daemon.lock().expect("daemon") = Some(child);
    }

    fn kill9(&self) {
        if let Some(mut child) = self.daemon.lock().expect("daemon").take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }

    /// Stops the daemon the way Ctrl-C does, and waits for it.
    fn stop(&self) {
        let Some(mut child) = self.daemon.lock().expect("daemon").take() else { return };
        let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
        assert!(sent.success());
        let asked = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if asked.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("{} did not stop on SIGINT", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the daemon is still running (it must be, until stopped or killed).
    fn exited(&self) -> Option<std::process::ExitStatus> {
        self.daemon.lock().expect("daemon").as_mut().and_then(|c| c.try_wait().expect("try_wait"))
    }
}

/// A test that fails leaves no daemon behind.
impl Drop for Station {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.get_mut().ok().and_then(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A card to make, as NGOC asked for it.
struct CardPlan {
    index: usize,
    card_id: String,
    fields: Vec<String>,
}

struct ShipmentPlan {
    index: usize,
    shipment_id: String,
    cards: Vec<CardPlan>,
}

/// The readouts of a card: a chip UID unique per card (the rival of a contested production puts
/// on another chip, so a second production would show), a print serial.
fn readouts(card: &CardPlan, rival: bool) -> Vec<String> {
    card.fields
        .iter()
        .map(|f| match f.as_str() {
            "MIFARE_UID" => format!("{f}={}{:012X}", if rival { "05" } else { "04" }, card.index + 1),
            _ => format!("{f}=PS{}{}", card.index, if rival { "R" } else { "" }),
        })
        .collect()
}

/// What the drivers saw.
#[derive(Default)]
struct Tally {
    /// Per card, the stations whose `produce` succeeded.
    produced_by: HashMap<String, Vec<String>>,
    /// Contested productions: the loser refused with exit 3, naming the card.
    lost_productions: usize,
    /// Per shipment, the `ship` commands that made a parcel.
    parcels_made: HashMap<String, usize>,
    /// Contested parcels: the loser refused.
    lost_parcels: usize,
    /// `ship` refused by the REPORT_OK gate (produced cards awaiting NGOC's answer), or with
    /// nothing ready yet.
    gate_refusals: usize,
    commands: usize,
    /// Anything else: a command that failed otherwise than expected.
    problems: Vec<String>,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

fn describe(what: &str, out: &Output) -> String {
    format!("{what}: exit {:?}: {} {}", out.status.code(), text(&out.stderr), text(&out.stdout))
}

struct Floor {
    stations: Vec<Station>,
    store_url: String,
    tally: Mutex<Tally>,
    /// Set once the drivers are done or the run is declared stuck.
    done: AtomicBool,
}

impl Floor {
    fn run(&self, station: usize, args: &[&str]) -> Output {
        self.tally.lock().expect("tally").commands += 1;
        self.stations[station].cardbench().args(args).output().expect("run cardbench")
    }

    /// Two stations run the same command at the same moment.
    fn race(&self, a: usize, b: usize, args_a: &[String], args_b: &[String]) -> (Output, Output) {
        self.tally.lock().expect("tally").commands += 2;
        let spawn = |s: usize, args: &[String]| {
            self.stations[s].cardbench().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn cardbench")
        };
        let (first, second) = (spawn(a, args_a), spawn(b, args_b));
        (first.wait_with_output().expect("wait"), second.wait_with_output().expect("wait"))
    }

    fn problem(&self, what: String) {
        self.tally.lock().expect("tally").problems.push(what);
    }

    /// Produces a card at `me` (contested: at `me` and the next station at once).
    fn produce(&self, me: usize, card: &CardPlan, status: CardStatus) {
        let n = self.stations.len();
        if card.index % 9 == 4 {
            let rival = (me + 1) % n;
            let args = |r: bool| -> Vec<String> {
                let mut a = vec!["produce".to_owned(), card.card_id.clone()];
                a.extend(readouts(card, r));
                a
            };
            let (mine, theirs) = self.race(me, rival, &args(false), &args(true));
            let mut tally = self.tally.lock().expect("tally");
            for (station, out) in [(me, &mine), (rival, &theirs)] {
                if out.status.success() {
                    tally.produced_by.entry(card.card_id.clone()).or_default().push(self.stations[station].name.clone());
                } else if out.status.code() == Some(3) && text(&out.stderr).contains(&card.card_id) {
                    tally.lost_productions += 1;
                } else {
                    tally.problems.push(describe(&format!("contested produce {} at {}", card.card_id, self.stations[station].name), out));
                }
            }
            return;
        }
        let mut values = readouts(card, false);
        // A card with two fields is scanned in two steps: the chip, then the rest with production.
        if status == CardStatus::Received && values.len() > 1 {
            let chip = values.remove(0);
            let out = self.run(me, &["capture", &card.card_id, &chip]);
            if !out.status.success() {
                self.problem(describe(&format!("capture {}", card.card_id), &out));
                return;
            }
        }
        let mut args = vec!["produce", card.card_id.as_str()];
        args.extend(values.iter().map(String::as_str));
        let out = self.run(me, &args);
        if out.status.success() {
            self.tally.lock().expect("tally").produced_by.entry(card.card_id.clone()).or_default().push(self.stations[me].name.clone());
        } else {
            self.problem(describe(&format!("produce {} at {}", card.card_id, self.stations[me].name), &out));
        }
    }

    /// Ships every ready card and accessory of a shipment from `me` (contested: from `me` and
    /// another station at once). Returns whether the gate refused (to try again later).
    fn ship(&self, me: usize, shipment: &ShipmentPlan) -> bool {
        let args: Vec<String> = ["--json", "ship", &shipment.shipment_id, "--all-ready", "--all-accessories"].map(str::to_owned).to_vec();
        let n = self.stations.len();
        let outs: Vec<(usize, Output)> = if shipment.index % 5 == 2 {
            let rival = (me + 2) % n;
            let (a, b) = self.race(me, rival, &args, &args);
            vec![(me, a), (rival, b)]
        } else {
            self.tally.lock().expect("tally").commands += 1;
            vec![(me, self.stations[me].cardbench().args(&args).output().expect("run cardbench"))]
        };
        let contested = outs.len() > 1;
        let made = outs.iter().filter(|(_, o)| o.status.success()).count();
        let mut tally = self.tally.lock().expect("tally");
        let mut gated = false;
        for (station, out) in &outs {
            let said = text(&out.stderr);
            if out.status.success() {
                *tally.parcels_made.entry(shipment.shipment_id.clone()).or_default() += 1;
            } else if out.status.code() == Some(3)
                && contested
                && made == 1
                // The rival's parcel took the cards ("already"), or all of them and the
                // accessories ("nothing to ship", "only 0 left to ship").
                && (said.contains("already") || said.contains("nothing to ship") || said.contains("left to ship"))
            {
                tally.lost_parcels += 1;
            } else if out.status.code() == Some(3) && (said.contains("REPORT_OK") && said.contains("await") || said.contains("nothing to ship")) {
                // The gate held the parcel (produced cards await REPORT_OK), or no card was ready
                // yet when `--all-ready` looked.
                tally.gate_refusals += 1;
                gated = true;
            } else {
                tally.problems.push(describe(&format!("ship {} at {}", shipment.shipment_id, self.stations[*station].name), out));
            }
        }
        gated && made == 0
    }

    /// One station's driver: produces the cards of its shipments as they arrive, ships each
    /// shipment once all its cards are produced, until every one is shipped.
    fn drive(&self, me: usize, plan: &[&ShipmentPlan], deadline: Instant) {
        let store = Store::open_url(&self.store_url).expect("driver's store");
        let mut shipped = vec![false; plan.len()];
        let mut next_try: HashMap<usize, Instant> = HashMap::new();
        let mut first_open = 0;
        while first_open < plan.len() {
            if Instant::now() > deadline || self.done.load(Ordering::SeqCst) {
                self.problem(format!("{}: {} of {} shipments not shipped in time", self.stations[me].name, plan.len() - first_open, plan.len()));
                return;
            }
            let mut busy = false;
            for k in first_open..(first_open + WINDOW).min(plan.len()) {
                if shipped[k] {
                    continue;
                }
                let shipment = plan[k];
                let rows = match store.read(|c| cards::in_shipment(c, &shipment.shipment_id)) {
                    Ok(rows) => rows,
                    Err(e) => {
                        self.problem(format!("reading shipment {}: {e}", shipment.shipment_id));
                        continue;
                    }
                };
                let status: HashMap<&str, CardStatus> = rows.iter().map(|r| (r.card_id.as_str(), r.status)).collect();
                for card in &shipment.cards {
                    if let Some(&s @ (CardStatus::Received | CardStatus::ReadoutsCaptured)) = status.get(card.card_id.as_str()) {
                        self.produce(me, card, s);
                        busy = true;
                    }
                }
                let all_in = rows.len() == shipment.cards.len();
                if all_in && rows.iter().all(|r| matches!(r.status, CardStatus::Shipped | CardStatus::ShippedOk)) {
                    shipped[k] = true;
                    continue;
                }
                // Every card produced, some not yet in a parcel. (A parcel may leave a card behind:
                // `--all-ready` takes the cards ready when it looks, and a card whose REPORT_OK
                // lands just after that no longer holds the gate shut. It goes in the next one.)
                let produced = rows.iter().all(|r| !matches!(r.status, CardStatus::Received | CardStatus::ReadoutsCaptured))
                    && rows.iter().any(|r| matches!(r.status, CardStatus::Produced | CardStatus::ReportOk));
                if all_in && produced && next_try.get(&k).is_none_or(|at| Instant::now() >= *at) {
                    busy = true;
                    if self.ship(me, shipment) {
                        next_try.insert(k, Instant::now() + Duration::from_millis(300));
                    }
                }
            }
            while first_open < plan.len() && shipped[first_open] {
                first_open += 1;
            }
            if !busy {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// What the kills did.
#[derive(Default, Debug)]
struct Kills {
    kills: usize,
    /// Kills while cards were still to be shipped.
    during_work: usize,
    /// Kills of the station that held NGOC's sending lease.
    of_the_sender: usize,
    /// Times another station took the lease once the killed holder's ran out, and sent the rows
    /// it left waiting, before it came back.
    handovers: usize,
    rows_handed_over: usize,
    /// Times that did not happen within the lease and 5 s.
    missed: Vec<String>,
}

/// NGOC's outbox rows not sent yet.
fn unsent(store: &Store) -> HashSet<i64> {
    let filter = OutboxFilter { sent: Some(false), destination: Some(outbox::NGOC.into()), limit: Some(1_000_000), ..Default::default() };
    store.read(|c| outbox::list(c, &filter)).expect("outbox").into_iter().map(|r| r.id).collect()
}

fn lease_holder(store: &Store) -> Option<String> {
    store.read(|c| leases::holder(c, outbox::NGOC)).ok().flatten().map(|(station, _)| station)
}

fn shipped_ok(store: &Store) -> i64 {
    store.read(cards::count_by_status).expect("count").iter().filter(|(s, _)| *s == CardStatus::ShippedOk).map(|(_, n)| n).sum()
}

/// Kills the station holding NGOC's sending lease (any station while none holds it) `kills`
/// times at random moments, restarting it at once or, every third time, after its lease ran out.
fn killer(floor: &Floor, kills: usize, cards: i64, seed: u64) -> Kills {
    let store = Store::open_url(&floor.store_url).expect("killer's store");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut report = Kills::default();
    for k in 0..kills {
        std::thread::sleep(Duration::from_millis(rng.random_range(300..2500)));
        if floor.done.load(Ordering::SeqCst) {
            break;
        }
        let leave_down = k % 3 == 2;
        if leave_down {
            // At a moment rows are waiting to be sent, so the takeover has something to send.
            let until = Instant::now() + Duration::from_secs(3);
            while unsent(&store).is_empty() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let holder = lease_holder(&store);
        let victim = holder
            .as_deref()
            .and_then(|h| floor.stations.iter().position(|s| s.name == h))
            .unwrap_or_else(|| rng.random_range(0..floor.stations.len()));
        report.of_the_sender += usize::from(holder.is_some());
        report.during_work += usize::from(shipped_ok(&store) < cards);
        floor.stations[victim].kill9();
        report.kills += 1;
        if leave_down {
            // Left down: once its lease ran out, another station takes the sending over and
            // sends what the dead one left waiting.
            let name = floor.stations[victim].name.clone();
            let waiting = unsent(&store);
            let until = Instant::now() + Duration::from_secs(LEASE_SECS + 5);
            loop {
                let other = lease_holder(&store).is_some_and(|h| h != name);
                let left = unsent(&store).intersection(&waiting).count();
                if other && left == 0 {
                    report.handovers += 1;
                    report.rows_handed_over += waiting.len();
                    break;
                }
                if Instant::now() > until {
                    report.missed.push(format!("kill {k} of {name}: lease held by {:?}, {left} of {} rows still waiting", lease_holder(&store), waiting.len()));
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        } else {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
        }
        floor.stations[victim].start();
    }
    report
}

fn every<T>(mut page: impl FnMut(Option<i64>) -> Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let rows = page(before);
        let Some(last) = rows.last() else { return all };
        before = Some(id(last));
        all.extend(rows);
    }
}

fn soak(kills: usize) {
    let (Some(amqp_url), Some(_)) = (broker_url(), postgres_url()) else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let requests = number("CARDBENCH_SOAK_REQUESTS", DEFAULT_REQUESTS);
    let began = Instant::now();
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("soak-in-{tag}"), format!("soak-out-{tag}"));
    declare(&[&inbound, &outbound]);
    let root = tempfile::tempdir().expect("tempdir");
    let store_url = cardbench_store::testing::fresh_postgres_url().expect("a schema of its own");
    // The schema is created before the stations start, as the first station would.
    let store = Store::open_url(&store_url).expect("store");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let amqp = ServiceBusConfig::from_amqp_url(&amqp_url, &inbound, &outbound).expect("broker url");
    let sim_config = SimConfig {
        requests_queue: inbound.clone(),
        notifications_queue: outbound.clone(),
        seed: Some(15),
        min_cards_per_shipment: 1,
        max_cards_per_shipment: 10,
        receive_wait_ms: 100,
        ..SimConfig::default()
    };
    let sim = Arc::new(Simulator::open(&root.path().join("ngoc"), sim_config, Arc::new(AmqpConnector::new(amqp.clone()))).expect("sim"));
    let generated = rt.block_on(sim.generate(u32::try_from(requests).expect("requests"))).expect("generate");
    assert_eq!(generated.card_ids.len(), requests, "one valid request per card");
    let (stop_sim, stop_rx) = tokio::sync::watch::channel(false);
    let ngoc = {
        let sim = sim.clone();
        rt.spawn(async move { sim.run(stop_rx).await })
    };

    // The work, shipment by shipment, as NGOC asked for it; shipment k is station k % 3's.
    let mut plan: Vec<ShipmentPlan> = Vec::new();
    for (index, card) in rt.block_on(sim.cards()).expect("sim cards").into_iter().enumerate() {
        let card_plan = CardPlan { index, card_id: card.card_id, fields: card.request.card.expected_report_data_fields.clone() };
        match plan.last_mut() {
            Some(s) if s.shipment_id == card.shipment_id => s.cards.push(card_plan),
            _ => plan.push(ShipmentPlan { index: plan.len(), shipment_id: card.shipment_id, cards: vec![card_plan] }),
        }
    }

    let floor = Floor {
        stations: (1..=3).map(|n| Station::new(root.path(), n, &amqp_url, &store_url, &inbound, &outbound)).collect(),
        store_url: store_url.clone(),
        tally: Mutex::new(Tally::default()),
        done: AtomicBool::new(false),
    };
    for station in &floor.stations {
        station.start();
    }
    let deadline = began + RUN_LIMIT;
    let cards_total = i64::try_from(requests).expect("count");
    let (killed, drove) = std::thread::scope(|scope| {
        let drivers: Vec<_> = (0..floor.stations.len())
            .map(|me| {
                let mine: Vec<&ShipmentPlan> = plan.iter().filter(|s| s.index % floor.stations.len() == me).collect();
                let floor = &floor;
                scope.spawn(move || floor.drive(me, &mine, deadline))
            })
            .collect();
        let killer = (kills > 0).then(|| scope.spawn(|| killer(&floor, kills, cards_total, 2026)));
        for driver in drivers {
            driver.join().expect("driver");
        }
        let drove = began.elapsed();
        let killed = killer.map(|k| k.join().expect("killer")).unwrap_or_default();
        floor.done.store(true, Ordering::SeqCst);
        (killed, drove)
    });

    // Every card SHIPPED_OK and nothing left to send.
    let settled = loop {
        let pending = store.read(outbox::pending_count).expect("pending");
        if shipped_ok(&store) == cards_total && pending == 0 {
            break began.elapsed();
        }
        if Instant::now() > deadline {
            let counts = store.read(cards::count_by_status).expect("count");
            let problems = floor.tally.lock().expect("tally").problems.clone();
            for station in &floor.stations {
                station.kill9();
            }
            panic!("not settled in time: cards {counts:?}, {pending} outbox rows waiting; driver problems: {problems:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for station in &floor.stations {
        assert_eq!(station.exited(), None, "{} stopped by itself (see {})", station.name, station.dir.display());
    }
    for station in &floor.stations {
        station.stop();
    }
    // A clean stop hands the sending over at once: no lease is left to run out.
    assert_eq!(lease_holder(&store), None, "the stations stopped cleanly and still hold NGOC's sending lease");
    // Anything a station sent last (a copy) reaches NGOC before it stops.
    std::thread::sleep(Duration::from_millis(1500));
    let _ = stop_sim.send(true);
    rt.block_on(ngoc).expect("sim task").expect("sim");
    assert_eq!(queued(&rt, &amqp, &inbound), 0, "the inbound queue must be empty");
    assert_eq!(queued(&rt, &amqp, &outbound), 0, "the outbound queue must be empty: NGOC read everything");

    let tally = floor.tally.into_inner().expect("tally");
    assert!(tally.problems.is_empty(), "commands that failed otherwise than expected: {:#?}", tally.problems);

    // The store: every card SHIPPED_OK, produced once, in one parcel per shipment.
    let all_cards: Vec<cards::CardRow> =
        plan.iter().flat_map(|s| store.read(|c| cards::in_shipment(c, &s.shipment_id)).expect("cards")).collect();
    assert_eq!(all_cards.len(), requests, "one card per request");
    assert!(all_cards.iter().all(|c| c.status == CardStatus::ShippedOk), "every card SHIPPED_OK");
    let produced_rows = every(
        |before| {
            let filter = OutboxFilter { subject: Some(Subject::CardProduced.as_str().into()), before_id: before, limit: Some(10_000), ..Default::default() };
            store.read(|c| outbox::list(c, &filter)).expect("outbox")
        },
        |r| r.id,
    );
    let mut produced_per_card: HashMap<&str, Vec<&str>> = HashMap::new();
    for row in &produced_rows {
        produced_per_card.entry(row.card_id.as_deref().expect("a card")).or_default().push(&row.message_id);
    }
    let audit_rows = store.read(|c| audit::list(c, &audit::AuditFilter { limit: Some(10_000_000), ..Default::default() })).expect("audit");
    let mut produced_audit: HashMap<&str, Vec<Option<&str>>> = HashMap::new();
    for row in audit_rows.iter().filter(|a| a.action == "produced") {
        produced_audit.entry(row.card_id.as_deref().expect("a card")).or_default().push(row.station.as_deref());
    }
    for card in &all_cards {
        let id = card.card_id.as_str();
        assert_eq!(produced_per_card.get(id).map(Vec::len), Some(1), "card {id}: one CARD_PRODUCED queued");
        assert_eq!(produced_per_card[id][0], card.produced_message_id.as_deref().expect("produced"), "card {id}");
        assert_eq!(tally.produced_by.get(id).map(Vec::len), Some(1), "card {id}: one `produce` succeeded: {:?}", tally.produced_by.get(id));
        let by = tally.produced_by[id][0].as_str();
        assert_eq!(produced_audit.get(id), Some(&vec![Some(by)]), "card {id}: produced once in the audit, at the station that did it");
    }
    let mut store_parcels: Vec<parcels::ParcelRow> = Vec::new();
    let mut split = 0;
    for shipment in &plan {
        let of = store.read(|c| parcels::for_shipment(c, &shipment.shipment_id)).expect("parcels");
        assert!(!of.is_empty(), "shipment {}: shipped", shipment.shipment_id);
        assert_eq!(tally.parcels_made.get(&shipment.shipment_id), Some(&of.len()), "shipment {}: one parcel per `ship` that made one", shipment.shipment_id);
        split += usize::from(of.len() > 1);
        store_parcels.extend(of);
    }
    assert!(store_parcels.iter().all(|p| p.status == parcels::ParcelStatus::ShippedOk), "every parcel SHIPPED_OK");
    let mut parcel_of: HashMap<&str, i64> = HashMap::new();
    for parcel in &store_parcels {
        for card in &parcel.cards {
            assert!(parcel_of.insert(card, parcel.id).is_none(), "card {card} in two parcels");
        }
    }
    assert_eq!(parcel_of.len(), requests, "every card in a parcel");
    let errors_queued = store.read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::Error.as_str().into()), ..Default::default() })).expect("outbox");
    assert!(errors_queued.is_empty(), "no ERROR queued for NGOC: {errors_queued:?}");

    // Every message NGOC sent is accepted once; copies are duplicates.
    let ngoc_sent = rt.block_on(sim.sent()).expect("sim sent");
    let inbox_rows = every(
        |before| store.read(|c| inbox::list(c, &InboxFilter { before_id: before, limit: Some(10_000), ..Default::default() })).expect("inbox"),
        |r| r.id,
    );
    let mut accepted: HashMap<&str, usize> = HashMap::new();
    let mut inbox_duplicates = 0;
    for row in &inbox_rows {
        match row.outcome {
            Outcome::Accepted => *accepted.entry(row.message_id.as_deref().expect("messageId")).or_default() += 1,
            Outcome::Duplicate => inbox_duplicates += 1,
            other => panic!("inbox row #{} is {other:?}", row.id),
        }
    }
    for message in &ngoc_sent {
        assert_eq!(accepted.get(message.message_id.as_str()), Some(&1), "{} {} accepted once", message.subject, message.message_id);
    }
    assert_eq!(accepted.len(), ngoc_sent.len(), "nothing accepted that NGOC did not send");
    let ngoc_errors: Vec<_> = ngoc_sent.iter().filter(|m| m.subject == Subject::Error.as_str()).collect();
    assert!(ngoc_errors.is_empty(), "NGOC answered with ERROR: {:?}", ngoc_errors.iter().map(|m| text(&m.body)).collect::<Vec<_>>());

    // NGOC: one CARD_PRODUCED per card, one SHIPPED per parcel, by messageId; no ERROR.
    let received = rt.block_on(sim.received()).expect("sim received");
    let mut produced_at_ngoc: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut shipped_at_ngoc: HashSet<&str> = HashSet::new();
    let mut copies = 0u32;
    let mut copies_by_subject: BTreeMap<&str, u32> = BTreeMap::new();
    for r in &received {
        let subject = r.subject.as_deref().unwrap_or("(none)");
        let id = r.message_id.as_deref().expect("every notification has a messageId");
        copies += r.times_received - 1;
        *copies_by_subject.entry(subject).or_default() += r.times_received - 1;
        match subject {
            s if s == Subject::CardProduced.as_str() => {
                produced_at_ngoc.entry(r.card_id.as_deref().expect("cardId")).or_default().insert(id);
            }
            s if s == Subject::Shipped.as_str() => assert!(shipped_at_ngoc.insert(id), "SHIPPED {id} recorded twice"),
            other => panic!("NGOC received {other} ({id}): nothing but CARD_PRODUCED and SHIPPED is sent on a clean floor"),
        }
    }
    for card in &all_cards {
        let ids = produced_at_ngoc.get(card.card_id.as_str()).cloned().unwrap_or_default();
        assert_eq!(ids.len(), 1, "card {}: CARD_PRODUCED under one messageId at NGOC: {ids:?}", card.card_id);
        assert!(ids.contains(card.produced_message_id.as_deref().expect("produced")), "card {}", card.card_id);
    }
    assert_eq!(produced_at_ngoc.len(), requests, "no CARD_PRODUCED for a card NGOC did not ask for");
    let parcel_ids: HashSet<&str> = store_parcels.iter().map(|p| p.message_id.as_str()).collect();
    assert_eq!(shipped_at_ngoc, parcel_ids, "one SHIPPED per parcel at NGOC, by messageId");

    let figures = format!(
        "{requests} requests in {} shipments, 3 stations: driven in {:.0} s, all SHIPPED_OK after {:.0} s; \
         {} CLI commands; {} contested productions lost cleanly, {} contested parcels lost cleanly, {} gate refusals; {} parcels, {split} shipments in two or more; \
         {inbox_duplicates} inbox duplicates; {copies} raw copies at NGOC {copies_by_subject:?}; {} kills ({} while work was left, {} of the sender, {} handovers sending {} rows the dead station left)",
        plan.len(),
        drove.as_secs_f64(),
        settled.as_secs_f64(),
        tally.commands,
        tally.lost_productions,
        tally.lost_parcels,
        tally.gate_refusals,
        store_parcels.len(),
        killed.kills,
        killed.during_work,
        killed.of_the_sender,
        killed.handovers,
        killed.rows_handed_over,
    );
    eprintln!("{figures}");
    if let Ok(path) = std::env::var("CARDBENCH_SOAK_FIGURES")
        && let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path)
    {
        let _ = writeln!(file, "{figures}");
    }
    assert!(tally.lost_productions > 0 && tally.lost_parcels > 0, "the contested commands raced");
    if kills == 0 {
        assert_eq!(copies, 0, "a quiet floor sends every notification once");
    } else {
        assert_eq!(killed.kills, kills, "every kill was made");
        assert!(killed.during_work * 2 >= kills, "most kills landed while work was left: {killed:?}");
        assert!(killed.missed.is_empty(), "the sending must pass to another station after a kill: {killed:?}");
        assert!(killed.handovers > 0 && killed.rows_handed_over > 0, "a dead station's rows went out from another: {killed:?}");
    }
}

#[test]
fn three_stations_produce_and_ship_every_card_once() {
    soak(0);
}

#[test]
fn three_stations_with_one_killed_9_twenty_times_still_produce_and_ship_every_card_once() {
    soak(number("CARDBENCH_SOAK_KILLS", DEFAULT_KILLS));
}
