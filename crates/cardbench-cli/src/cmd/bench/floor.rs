//! `cardbench bench --only floor` (`pg-ingest`, `pg-worklist`, `pg-latency`): a floor of
//! stations on one PostgreSQL store, each figure beside a baseline from the same run. Needs a
//! server (`--postgres-url` or CARDBENCH_BENCH_POSTGRES_URL); each phase works in a schema of its
//! own that it creates and drops, so the server's other contents are never touched.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cardbench_protocol::ExternalProductionData;
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_store::Store;
use cardbench_store::cards::{self, CardStatus};
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::{ReadoutInput, Workflow};

use super::common::{DAEMON_BATCH, ROUNDS, ensure_all_accepted, load_queue, median, ms, request_bodies, wait_settled};
use super::ingest::{RawRows, raw_insert_rate};

/// The environment variable naming the PostgreSQL server the floor's benchmarks use.
pub(crate) const URL_ENV: &str = "CARDBENCH_BENCH_POSTGRES_URL";
/// The phases that need it; `--only floor` runs them all.
pub(crate) const PHASES: &[&str] = &["pg-ingest", "pg-worklist", "pg-latency"];
/// At most this many requests in each run of the ingest figures: 20 runs (raw, 1, 2 and 4
/// stations, five rounds) at a few hundred to a thousand a second in a debug build.
pub(crate) const INGEST_MESSAGES: u32 = 5_000;
/// Stations counts of the ingest figures.
const STATIONS: &[usize] = &[1, 2, 4];
/// The app's watcher looks at the store's change counter this often (`src-tauri/src/events.rs`).
const WATCH_INTERVAL: Duration = Duration::from_millis(400);
/// Cards produced at station A for the latency figures, after a few unmeasured ones.
const LATENCY_CARDS: usize = 300;
const LATENCY_WARMUP: usize = 10;
/// Tables the worklist fill writes, in an order that satisfies their references.
const WORKLIST_TABLES: &[&str] = &["shipments", "inbox", "cards", "card_accessories"];

/// Why a phase does not run: no server named.
pub(crate) fn skipped(phase: &str) {
    crate::say!("\n== {phase}: a floor of stations on PostgreSQL");
    crate::say!(
        "  skipped: no PostgreSQL. Pass --postgres-url postgres://user@host:port/db or set {URL_ENV} \
         (a scratch server, e.g. from tests/postgres/start-postgres.sh); each phase makes and drops a schema of its own."
    );
}

/// A schema of its own on the bench server, dropped (with everything in it) when this is. Stores
/// opened on it must be dropped first.
struct Scratch {
    base: String,
    schema: String,
    url: String,
}

impl Scratch {
    fn new(base: &str) -> anyhow::Result<Scratch> {
        let (schema, url) = cardbench_store::postgres::create_schema(base, "bench")?;
        Ok(Scratch { base: base.to_owned(), schema, url })
    }

    fn store(&self) -> anyhow::Result<Store> {
        Ok(Store::open_url(&self.url)?)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = cardbench_store::postgres::drop_schema(&self.base, &self.schema) {
            crate::say!("  (could not drop the scratch schema {}: {e})", self.schema);
        }
    }
}

/// Ingest into PostgreSQL by 1, 2 and 4 stations, each its own store (its own connections) and
/// daemon receiving its share of the requests from a queue of its own, against the limit: a raw
/// batched insert of the same rows through one connection, `synchronous_commit = on`.
pub(super) async fn ingest(dir: &Path, base: &str, n: u32) -> anyhow::Result<()> {
    crate::say!("\n== pg-ingest: {n} requests into one PostgreSQL store by 1, 2 and 4 stations, settled");
    let bodies = request_bodies(n);
    let parsed: Vec<ExternalProductionData> = bodies.iter().map(|b| serde_json::from_slice(b)).collect::<Result<_, _>>()?;
    let mut raw_rates = Vec::with_capacity(ROUNDS);
    let mut station_rates: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); STATIONS.len()];
    // Each side ROUNDS times, alternately, each on a fresh schema: the ratios are of medians.
    for round in 0..ROUNDS {
        let raw = {
            let scratch = Scratch::new(base)?;
            let store = scratch.store()?;
            raw_insert_rate(&store, &bodies, &parsed, RawRows::Daemons)?
        };
        raw_rates.push(raw);
        let mut line = format!("     round {}: (a) {raw:>6.0} msg/s", round + 1);
        for (k, &stations) in STATIONS.iter().enumerate() {
            let scratch = Scratch::new(base)?;
            let rate = stations_rate(&dir.join(format!("pg-ingest-{round}-{stations}")), &scratch.url, &bodies, stations).await?;
            station_rates[k].push(rate);
            line.push_str(&format!(", {stations} st. {rate:>6.0}"));
        }
        crate::say!("{line}");
    }
    let raw = median(&raw_rates);
    crate::say!("  (a) raw batched insert, same rows, one connection  {raw:>8.0} msg/s  (median of {ROUNDS})");
    let rates: Vec<f64> = station_rates.iter().map(|r| median(r)).collect();
    for (&stations, rate) in STATIONS.iter().zip(&rates) {
        crate::say!(
            "      {stations} station{}                                     {rate:>8.0} msg/s  ratio to (a) {:.2}",
            if stations == 1 { " " } else { "s" },
            rate / raw
        );
    }
    crate::say!("  1 station to (a): {:.2}  (goal ≥ 0.70)", rates[0] / raw);
    crate::say!("  2 stations to 1:  {:.2}× (goal > 1.00×)", rates[1] / rates[0]);
    crate::say!("  4 stations to 1:  {:.2}×", rates[2] / rates[0]);
    Ok(())
}

/// Requests per second of `stations` daemons on the store at `url`, each receiving every
/// `stations`-th request from an embedded queue of its own, from their start until the last
/// station has settled its share.
async fn stations_rate(dir: &Path, url: &str, bodies: &[Vec<u8>], stations: usize) -> anyhow::Result<f64> {
    let config = RuntimeConfig { receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
    let mut ready = Vec::with_capacity(stations);
    for s in 0..stations {
        let station_dir = dir.join(format!("station-{s}"));
        std::fs::create_dir_all(&station_dir)?;
        let queues = Arc::new(EmbeddedQueues::open(&station_dir)?);
        let share: Vec<Vec<u8>> = bodies.iter().skip(s).step_by(stations).cloned().collect();
        load_queue(&queues, &config.inbound_queue, &share).await?;
        ready.push((Arc::new(Store::open_url(url)?), queues, share.len()));
    }
    let start = Instant::now();
    let running: Vec<(Runtime, usize)> = ready
        .iter()
        .map(|(store, queues, n)| (Runtime::start(Workflow::new(store.clone()), queues.clone(), config.clone()), *n))
        .collect();
    let mut settled = Ok(());
    for (runtime, n) in &running {
        settled = wait_settled(runtime, *n, start).await;
        if settled.is_err() {
            break;
        }
    }
    let elapsed = start.elapsed();
    for (runtime, _) in running {
        runtime.shutdown().await;
    }
    settled?;
    if let Some((store, _, _)) = ready.first() {
        ensure_all_accepted(store)?;
    }
    Ok(bodies.len() as f64 / elapsed.as_secs_f64())
}

/// The worklist's page queries on PostgreSQL and on SQLite, the same `n` cards in both: `sqlite`
/// is a store the worklist phase filled (else one is filled here), copied into PostgreSQL.
pub(super) fn worklist(dir: &Path, base: &str, n: u32, filled: Option<(Store, Vec<ExternalProductionData>)>) -> anyhow::Result<()> {
    crate::say!("\n== pg-worklist: {n} cards, the same rows in PostgreSQL and SQLite");
    let start = Instant::now();
    let (sqlite, parsed) = match filled {
        Some(filled) => filled,
        None => {
            let store = Store::open_in(&dir.join("pg-worklist"))?;
            let parsed = super::worklist::fill(&store, n)?;
            cardbench_store::bench::settle_after_fill(&store)?;
            (store, parsed)
        }
    };
    let scratch = Scratch::new(base)?;
    let pg = scratch.store()?;
    let rows = cardbench_store::bench::copy_to_postgres(&sqlite, &pg, WORKLIST_TABLES)?;
    cardbench_store::bench::settle_after_fill(&pg)?;
    // Fill-in time is set-up, not a figure.
    crate::say!("  (stores filled in {:.1} s; {rows} rows copied into PostgreSQL)", start.elapsed().as_secs_f64());
    let mut measured = super::worklist::measure(&[&sqlite, &pg], n, &parsed)?.into_iter();
    let (on_sqlite, on_pg) = (measured.next().unwrap_or_default(), measured.next().unwrap_or_default());
    crate::say!("  {:<38} {:>19} {:>19} {:>9}", "query (200 times each)", "SQLite p50 / p95", "PG p50 / p95", "p95 ratio");
    let mut worst: Option<(f64, String)> = None;
    for (s, p) in on_sqlite.iter().zip(&on_pg) {
        let ratio = p.p95.as_secs_f64() / s.p95.as_secs_f64();
        crate::say!(
            "  {:<38} {:>7.2} / {:>6.2} ms {:>7.2} / {:>6.2} ms {:>8.2}×{}",
            s.name,
            ms(s.p50),
            ms(s.p95),
            ms(p.p50),
            ms(p.p95),
            ratio,
            if ratio > 2.0 { "  over 2×" } else { "" }
        );
        if worst.as_ref().is_none_or(|(w, _)| ratio > *w) {
            worst = Some((ratio, s.name.clone()));
        }
    }
    let slowest = |t: &[super::worklist::Timed]| t.iter().map(|q| q.p95).max().unwrap_or_default();
    crate::say!("  slowest p95: SQLite {:.2} ms, PostgreSQL {:.2} ms  (goal p95 ≤ 20 ms)", ms(slowest(&on_sqlite)), ms(slowest(&on_pg)));
    if let Some((ratio, name)) = worst {
        crate::say!("  worst ratio PG/SQLite p95: {ratio:.2}× ({name})  (goal ≤ 2×)");
    }
    drop(pg);
    Ok(())
}

/// How station B learns that the store changed.
#[derive(Clone, Copy, PartialEq)]
enum Watch {
    /// The store's change feed (LISTEN/NOTIFY), as the app's watcher waits on it.
    Feed,
    /// The app's fallback without a feed: the change counter every 400 ms.
    Poll,
}

/// A card produced at station A, seen produced at station B: B learns of the commit as the app
/// does (its change feed; for comparison, the 400 ms look of a watcher without one), then reads
/// the card.
pub(super) fn latency(base: &str) -> anyhow::Result<()> {
    crate::say!("\n== pg-latency: a card produced at station A, seen produced at station B ({LATENCY_CARDS} cards each way)");
    for watch in [Watch::Feed, Watch::Poll] {
        let mut seen = latency_run(base, watch)?;
        seen.sort();
        let pick = |q: usize| seen[(seen.len() * q / 100).min(seen.len() - 1)];
        let how = match watch {
            Watch::Feed => "change feed (LISTEN/NOTIFY), the app's watcher".to_owned(),
            Watch::Poll => format!("change counter every {} ms (no feed)", WATCH_INTERVAL.as_millis()),
        };
        crate::say!(
            "  {how:<48} p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms{}",
            ms(pick(50)),
            ms(pick(99)),
            ms(seen[seen.len() - 1]),
            if watch == Watch::Feed { "  (goal p99 ≤ 1000 ms)" } else { "" }
        );
    }
    crate::say!("  (from the start of A's produce call to B having read the card as produced)");
    Ok(())
}

/// One run of [`latency`] on a fresh schema: how long each card took to be seen at B.
fn latency_run(base: &str, watch: Watch) -> anyhow::Result<Vec<Duration>> {
    let scratch = Scratch::new(base)?;
    let a = Workflow::new(Arc::new(scratch.store()?));
    let b = Arc::new(scratch.store()?);
    let total = LATENCY_WARMUP + LATENCY_CARDS;
    let bodies = request_bodies(u32::try_from(total)?);
    let ids: Vec<String> = (0..total).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for (chunk, chunk_ids) in bodies.chunks(DAEMON_BATCH).zip(ids.chunks(DAEMON_BATCH)) {
        let envelopes = super::common::request_envelopes(chunk, chunk_ids);
        a.ingest(&envelopes)?;
    }
    let card_ids: Vec<String> = (0..total).map(|i| format!("C-{i:08}")).collect();
    let mut feed = match watch {
        Watch::Feed => Some(b.change_feed()?),
        Watch::Poll => None,
    };
    if let Some(feed) = &feed {
        let listening_by = Instant::now() + Duration::from_secs(10);
        while !feed.is_listening() {
            anyhow::ensure!(Instant::now() < listening_by, "station B's change feed did not start listening in 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    // Station B: told of each card A is about to produce (the card on its screen); when it learns
    // that the store changed, it reads the cards it waits for.
    let (tell, told) = mpsc::channel::<(String, Instant)>();
    let watcher = {
        let b = b.clone();
        std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
            let mut waiting: HashMap<String, Instant> = HashMap::new();
            let mut seen = Vec::with_capacity(total);
            let mut last = b.read(cardbench_store::changes::data_version)?;
            let mut next = Instant::now() + WATCH_INTERVAL;
            let mut open = true;
            while open || !waiting.is_empty() {
                let changed = match feed.as_mut() {
                    Some(feed) => feed.wait(WATCH_INTERVAL),
                    None => {
                        std::thread::sleep(next.saturating_duration_since(Instant::now()));
                        next += WATCH_INTERVAL;
                        let now = b.read(cardbench_store::changes::data_version)?;
                        std::mem::replace(&mut last, now) != now
                    }
                };
                loop {
                    match told.try_recv() {
                        Ok((card, at)) => {
                            waiting.insert(card, at);
                        }
                        Err(mpsc::TryRecvError::Empty) => break,
                        Err(mpsc::TryRecvError::Disconnected) => {
                            open = false;
                            break;
                        }
                    }
                }
                if !changed {
                    continue;
                }
                let mut done = Vec::new();
                for (card, at) in &waiting {
                    if b.read(|c| cards::get(c, card))?.is_some_and(|row| row.status == CardStatus::Produced) {
                        seen.push(at.elapsed());
                        done.push(card.clone());
                    }
                }
                for card in done {
                    waiting.remove(&card);
                }
            }
            Ok(seen)
        })
    };
    // Station A: produces one card after another, 0-60 ms apart, as operators at a floor would.
    let produced = (|| -> anyhow::Result<()> {
        for (i, card) in card_ids.iter().enumerate() {
            let uid = format!("04{i:012X}");
            let at = Instant::now();
            if i >= LATENCY_WARMUP {
                tell.send((card.clone(), at))?;
            }
            a.produce("bench", card, &[ReadoutInput { field: "MIFARE_UID".into(), value: uid }], "typed")?;
            let gap = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 61;
            std::thread::sleep(Duration::from_millis(gap));
        }
        Ok(())
    })();
    drop(tell);
    let seen = watcher.join().map_err(|_| anyhow::anyhow!("station B's watcher panicked"))?;
    produced?;
    let seen = seen?;
    anyhow::ensure!(seen.len() == LATENCY_CARDS, "station B saw {} of {LATENCY_CARDS} cards produced", seen.len());
    drop(b);
    drop(a);
    Ok(seen)
}
