//! Crash safety: the daemon is killed with SIGKILL at random points, at least 50 times, while
//! requests arrive, operators produce and ship, and the simulator answers. After a final run that
//! drains everything:
//! - every message taken off the inbound queue is in the store (nothing lost),
//! - every outbox row reached NGOC exactly once (resends keep the messageId; the queue drops copies),
//! - no card was shipped without REPORT_OK,
//! - the end state is complete: every card SHIPPED_OK.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_protocol::Subject;
use cardbench_sim::{SimConfig, Simulator};
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, InboxFilter};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::parcels;
use cardbench_store::Store;
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow};
use rand::{Rng, SeedableRng};

const KILLS: usize = 50;

fn daemon(dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cardbench"))
        .args(["run", "--no-sim"])
        .env("CARDBENCH_DATA_DIR", dir)
        .env("CARDBENCH_CONFIG", dir.join("config.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon")
}

fn readouts(card: &cards::CardRow, index: usize) -> Vec<ReadoutInput> {
    card.request
        .card
        .expected_report_data_fields
        .iter()
        .map(|f| ReadoutInput {
            field: f.clone(),
            value: if f == "MIFARE_UID" { format!("04{:012X}", index + 1) } else { format!("{f}-{index}") },
        })
        .collect()
}

/// What an operator and a shipper would do now: produce a few received cards, ship what is ready.
fn operator_work(wf: &Workflow, store: &Store, rng: &mut impl Rng) {
    let page = store
        .read(|c| cards::worklist(c, &cards::WorklistFilter { statuses: vec![CardStatus::Received], limit: Some(5), ..Default::default() }))
        .expect("worklist");
    for row in page.rows {
        let card = store.read(|c| cards::get(c, &row.card_id)).expect("read").expect("card");
        let index: usize = row.card_id.bytes().map(usize::from).sum::<usize>() * 1_000 + row.card_id.len() + rng.random_range(0..1_000);
        // A UID collision with another card is refused by the workflow; try again next round.
        let _ = wf.produce("operator", &row.card_id, &readouts(&card, index), "test");
    }
    let shipments = store
        .read(|c| cardbench_store::shipments::list(c, &cardbench_store::shipments::ShipmentFilter { open_only: true, ..Default::default() }))
        .expect("shipments");
    for s in shipments.iter().filter(|s| s.ready > 0 && s.awaiting_report == 0).take(2) {
        let detail = wf.shipment_detail(&s.shipment_id).expect("detail");
        let accessories = detail
            .accessories
            .iter()
            .filter(|a| a.requested > a.shipped)
            .map(|a| cardbench_protocol::Accessory { article_id: a.article_id.clone(), accessory_id: a.accessory_id.clone(), quantity: u32::try_from(a.remaining()).expect("the test's shipments are small") })
            .collect();
        // Partial deliveries: sometimes only the first ready card.
        let cards = if rng.random_bool(0.5) { detail.gate.ready.clone() } else { detail.gate.ready[..1].to_vec() };
        let _ = wf.ship("shipper", &ParcelRequest { shipment_id: s.shipment_id.clone(), cards, accessories, carrier: None, tracking_id: None });
    }
}

#[test]
fn kill_9_at_random_points_loses_nothing_and_sends_nothing_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    // The store is created before any daemon, as `cardbench` would on first start.
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = Workflow::new(store.clone());
    let queues = Arc::new(EmbeddedQueues::open(dir.path()).expect("queues"));
    let sim = Arc::new(
        Simulator::open(dir.path(), SimConfig { seed: Some(7), receive_wait_ms: 50, ..SimConfig::default() }, queues.clone())
            .expect("sim"),
    );
    let (stop_sim, stop_rx) = tokio::sync::watch::channel(false);
    let sim_task = {
        let sim = sim.clone();
        rt.spawn(async move { sim.run(stop_rx).await })
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut generated = 0;

    for kill in 0..KILLS {
        if kill % 5 == 0 {
            generated += rt.block_on(sim.generate(8)).expect("generate").requests;
        }
        let mut child = daemon(dir.path());
        let life = Duration::from_millis(rng.random_range(30..400));
        let born = Instant::now();
        while born.elapsed() < life {
            operator_work(&wf, &store, &mut rng);
            std::thread::sleep(Duration::from_millis(rng.random_range(5..60)));
        }
        child.kill().expect("SIGKILL the daemon");
        child.wait().expect("reap");
    }

    // A last daemon runs until everything is through.
    let mut child = daemon(dir.path());
    let start = Instant::now();
    loop {
        operator_work(&wf, &store, &mut rng);
        let done = store.read(cards::count_by_status).expect("count");
        let shipped_ok = done.iter().find(|(s, _)| *s == CardStatus::ShippedOk).map_or(0, |(_, n)| *n);
        let pending = store.read(outbox::pending_count).expect("pending");
        if shipped_ok == i64::from(generated) && pending == 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(180), "not drained: {done:?}, {pending} waiting to send");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the simulator take the last notifications off the queue.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("kill");
    child.wait().expect("reap");
    let _ = stop_sim.send(true);
    rt.block_on(sim_task).expect("sim task").expect("sim run");

    // Nothing lost: every request NGOC sent was taken, and every one taken is in the inbox.
    assert_eq!(rt.block_on(queues.depth("ngoc-requests")).expect("depth"), 0, "the inbound queue is drained");
    let inbox_rows = store.read(|c| inbox::list(c, &InboxFilter { limit: Some(100_000), ..Default::default() })).expect("inbox");
    let received_ids: std::collections::HashSet<&str> = inbox_rows.iter().filter_map(|r| r.message_id.as_deref()).collect();
    let sent_by_ngoc = rt.block_on(sim.sent()).expect("sim sent");
    assert!(!sent_by_ngoc.is_empty());
    for m in &sent_by_ngoc {
        assert!(received_ids.contains(m.message_id.as_str()), "message {} ({:?}) was settled but is not in the store", m.message_id, m.subject);
    }
    assert!(inbox_rows.iter().all(|r| r.outcome != cardbench_store::inbox::Outcome::Rejected), "no message was rejected on a clean run");

    // Exactly once: every outbox row arrived at NGOC once, and nothing else did.
    let outbox_rows = store.read(|c| outbox::list(c, &OutboxFilter { limit: Some(100_000), ..Default::default() })).expect("outbox");
    let received_by_ngoc = rt.block_on(sim.received()).expect("sim received");
    let mut times: HashMap<&str, usize> = HashMap::new();
    for r in &received_by_ngoc {
        *times.entry(r.message_id.as_deref().unwrap_or("")).or_default() += 1;
    }
    for row in &outbox_rows {
        assert_eq!(times.get(row.message_id.as_str()), Some(&1), "outbox #{} ({}) must reach NGOC exactly once", row.id, row.subject);
    }
    assert_eq!(received_by_ngoc.len(), outbox_rows.len(), "NGOC received only what the outbox holds");
    assert!(outbox_rows.iter().all(|r| r.subject != Subject::Error.as_str()), "no ERROR was needed");

    // Never shipped without REPORT_OK, and NGOC agrees.
    let all = store.read(|c| cards::worklist(c, &cards::WorklistFilter { limit: Some(1000), ..Default::default() })).expect("cards");
    assert_eq!(all.rows.len(), generated as usize);
    for row in &all.rows {
        let card = store.read(|c| cards::get(c, &row.card_id)).expect("read").expect("card");
        let parcel = store.read(|c| parcels::get(c, card.parcel_id.expect("shipped card has a parcel"))).expect("read").expect("parcel");
        let report_ok_at = card.report_ok_at.as_deref().expect("a shipped card has REPORT_OK");
        assert!(report_ok_at <= parcel.created_at.as_str(), "card {} shipped before its REPORT_OK", card.card_id);
    }
    assert!(received_by_ngoc.iter().all(|r| r.error_code.is_none()), "NGOC refused nothing we sent");
    assert!(rt.block_on(sim.cards()).expect("sim cards").iter().all(|c| c.report_ok && c.shipped));
}
