//! Crash safety over a real AMQP 1.0 broker (RabbitMQ on loopback, from
//! tests/broker/start-rabbitmq.sh): the real `cardbench run` binary ingests requests from the
//! broker and is killed with SIGKILL again and again — at random moments, and right after it
//! committed a batch (the moment between commit and accept) — then restarted. Afterwards:
//! - the inbound queue is empty, every request NGOC sent is in the store once as a card,
//! - among accepted inbox rows every messageId is unique; a request that came back after a kill
//!   is recorded as a duplicate, with no second effect,
//! - and kills really landed between a commit and its accept (else the test proved nothing):
//!   each redelivered copy is traced to the daemon run that committed the original (by inbox row
//!   id ranges), and the kills of those runs are counted.
//!
//! Fails when no broker is reachable, unless CARDBENCH_SKIP_BROKER_TESTS=1.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_sim::{SimConfig, Simulator};
use cardbench_store::Store;
use cardbench_store::cards;
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use rand::{Rng, SeedableRng};

mod common;
use common::services::{broker_url, declare, queued};

/// Kill cycles at least; more (up to MAX_KILLS) while no kill has yet landed between a commit
/// and its accept.
const KILLS: usize = 24;
const MAX_KILLS: usize = 60;
/// Requests put on the queue before every daemon start, so each one finds work to be killed in.
const WAVE: u32 = 40;




fn daemon(dir: &Path, url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cardbench"))
        .args(["run", "--no-sim"])
        .env("CARDBENCH_DATA_DIR", dir)
        .env("CARDBENCH_CONFIG", dir.join("config.toml"))
        .env("CARDBENCH_AMQP_URL", url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon")
}

fn inbox_rows(store: &Store) -> Vec<inbox::InboxRow> {
    store.read(|c| inbox::list(c, &InboxFilter { limit: Some(1_000_000), ..Default::default() })).expect("inbox")
}

/// The whole worklist, page by page: a page holds at most 1,000 cards, and a run of this test
/// can receive more.
fn every_card(store: &Store) -> Vec<cards::WorklistRow> {
    let mut all = Vec::new();
    let mut filter = cards::WorklistFilter { limit: Some(1_000), ..Default::default() };
    loop {
        let page = store.read(|c| cards::worklist(c, &filter)).expect("cards");
        all.extend(page.rows);
        match page.next {
            Some(next) => filter.after = Some(next),
            None => return all,
        }
    }
}

fn inbox_count(store: &Store) -> i64 {
    store.read(inbox::count_by_outcome).expect("count").iter().map(|(_, n)| n).sum()
}

/// The newest inbox row's id (rows are numbered in commit order).
fn last_inbox_id(store: &Store) -> i64 {
    inbox_rows(store).iter().map(|r| r.id).max().unwrap_or(0)
}

fn duplicates(store: &Store) -> i64 {
    store.read(inbox::count_by_outcome).expect("count").iter().filter(|(o, _)| *o == Outcome::Duplicate).map(|(_, n)| n).sum()
}

#[test]
fn kill_9_between_commit_and_accept_brings_the_message_back_without_a_second_effect() {
    let Some(url) = broker_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("crash-in-{tag}"), format!("crash-out-{tag}"));
    declare(&[&inbound, &outbound]);

    let dir = tempfile::tempdir().expect("tempdir");
    // The queues go in the config file; the broker comes from CARDBENCH_AMQP_URL, as in production.
    std::fs::write(
        dir.path().join("config.toml"),
        format!("simulator = false\n[queues]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\n"),
    )
    .expect("config");
    // The store is created before any daemon, as `cardbench` would on first start.
    let store = Store::open_in(dir.path()).expect("store");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let amqp = ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("broker url");
    let sim_config = SimConfig { requests_queue: inbound.clone(), notifications_queue: outbound.clone(), seed: Some(3), ..SimConfig::default() };
    let sim = Simulator::open(&dir.path().join("ngoc"), sim_config, Arc::new(AmqpConnector::new(amqp.clone()))).expect("sim");
    let mut rng = rand::rngs::StdRng::seed_from_u64(2027);
    let mut card_ids: Vec<String> = Vec::new();

    let mut kill = 0;
    // The last inbox row id after each killed run: run k committed the rows after
    // `run_ends[k - 1]` up to `run_ends[k]`.
    let mut run_ends: Vec<i64> = Vec::new();
    while kill < KILLS || (duplicates(&store) == 0 && kill < MAX_KILLS) {
        card_ids.extend(rt.block_on(sim.generate(WAVE)).expect("generate").card_ids);
        let mut child = daemon(dir.path(), &url);
        let born = Instant::now();
        if kill % 2 == 0 {
            // Right after a commit: the moment the inbox grows, the batch is committed and its
            // accept is at best on its way.
            let before = inbox_count(&store);
            while inbox_count(&store) == before && born.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_micros(200));
            }
        } else {
            std::thread::sleep(Duration::from_millis(rng.random_range(20..600)));
        }
        child.kill().expect("SIGKILL the daemon");
        child.wait().expect("reap");
        run_ends.push(last_inbox_id(&store));
        kill += 1;
    }
    let redelivered = duplicates(&store);

    // A last daemon runs until every request is in, then stops cleanly (SIGINT).
    let mut child = daemon(dir.path(), &url);
    let start = Instant::now();
    let expected: HashSet<String> =
        rt.block_on(sim.sent()).expect("sim sent").into_iter().map(|m| m.message_id).collect();
    loop {
        let accepted: HashSet<String> = inbox_rows(&store)
            .into_iter()
            .filter(|r| r.outcome == Outcome::Accepted)
            .filter_map(|r| r.message_id)
            .collect();
        if expected.is_subset(&accepted) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "not drained: {} of {} requests in", accepted.len(), expected.len());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Give the last batch's accept time to reach the broker, then stop the way Ctrl-C does.
    std::thread::sleep(Duration::from_millis(500));
    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
    assert!(interrupted.success());
    let exited = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if exited.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the daemon did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // The inbound queue is empty: nothing is left locked or waiting once every link is gone.
    let left = queued(&rt, &amqp, &inbound);
    assert_eq!(left, 0, "the inbound queue must be empty");

    // Every request NGOC sent is recorded once as accepted; the copies a kill brought back are
    // recorded as duplicates of it, never as a second request.
    assert_eq!(expected.len(), card_ids.len(), "one request per generated card");
    let rows = inbox_rows(&store);
    let mut accepted_times: HashMap<&str, usize> = HashMap::new();
    for row in &rows {
        let id = row.message_id.as_deref().expect("every request has a messageId");
        assert!(expected.contains(id), "inbox row #{} has a messageId NGOC never sent", row.id);
        match row.outcome {
            Outcome::Accepted => *accepted_times.entry(id).or_default() += 1,
            Outcome::Duplicate => {}
            other => panic!("inbox row #{} is {other:?}: a clean request must be accepted or a duplicate", row.id),
        }
    }
    for id in &expected {
        assert_eq!(accepted_times.get(id.as_str()), Some(&1), "request {id} must be accepted exactly once");
    }
    let duplicate_rows = rows.iter().filter(|r| r.outcome == Outcome::Duplicate).count();

    // Which kills landed between a commit and its accept: a copy recorded as a duplicate came
    // back because the run that committed the original was killed before its accept reached the
    // broker. The original's row id tells which run committed it.
    let original: HashMap<&str, i64> =
        rows.iter().filter(|r| r.outcome == Outcome::Accepted).filter_map(|r| Some((r.message_id.as_deref()?, r.id))).collect();
    let mut landed: BTreeSet<usize> = BTreeSet::new();
    for row in rows.iter().filter(|r| r.outcome == Outcome::Duplicate) {
        let id = row.message_id.as_deref().expect("every request has a messageId");
        let committed = original[id];
        let run = run_ends.partition_point(|end| *end < committed);
        if run < run_ends.len() {
            landed.insert(run);
        }
    }

    // No card lost, none twice.
    let all = every_card(&store);
    assert_eq!(all.len(), card_ids.len(), "one card per request");
    let in_store: HashSet<&str> = all.iter().map(|r| r.card_id.as_str()).collect();
    for card_id in &card_ids {
        assert!(in_store.contains(card_id.as_str()), "card {card_id} was lost");
    }

    eprintln!(
        "{kill} kills, {} of them between a commit and its accept; {} requests, {duplicate_rows} redelivered copies recorded as duplicates ({redelivered} during the kills)",
        landed.len(),
        expected.len()
    );
    assert!(!landed.is_empty(), "no kill landed between a commit and its accept in {kill} tries: the test proved nothing");
}
