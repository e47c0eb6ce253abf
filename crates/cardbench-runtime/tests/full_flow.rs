//! The whole flow through the daemon and the embedded transport, with the simulator on the other
//! end: 100 requests in 20 shipments → readouts → CARD_PRODUCED → REPORT_OK → partial and full
//! parcels → SHIPPED_OK, everything checked in the store and in the simulator's own records.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_sim::{SimConfig, Simulator};
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::parcels::ParcelStatus;
use cardbench_store::Store;
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::{ParcelRequest, ReadoutInput, ShipProblem, Workflow, WorkflowError};

fn count(store: &Store, status: CardStatus) -> i64 {
    store
        .read(cards::count_by_status)
        .expect("count")
        .into_iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, n)| n)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(120), "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A readout value for a field, unique per card.
pub fn readouts_for(index: usize, fields: &[String]) -> Vec<ReadoutInput> {
    fields
        .iter()
        .map(|f| ReadoutInput {
            field: f.clone(),
            value: if f == "MIFARE_UID" { format!("04{:012X}", index + 1) } else { format!("{f}-{index}") },
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_in_twenty_shipments_go_all_the_way_to_shipped_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = Arc::new(EmbeddedQueues::open(dir.path()).expect("queues"));
    let store = Arc::new(Store::open_in(dir.path()).expect("store"));
    let wf = Workflow::new(store.clone());
    let sim_config = SimConfig {
        seed: Some(42),
        min_cards_per_shipment: 5,
        max_cards_per_shipment: 5,
        accessory_rate: 0.5,
        receive_wait_ms: 50,
        ..SimConfig::default()
    };
    let sim = Arc::new(Simulator::open(dir.path(), sim_config, queues.clone()).expect("sim"));
    let generated = sim.generate(100).await.expect("generate");
    assert_eq!(generated.shipment_ids.len(), 20);

    let config = RuntimeConfig { receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
    let runtime = Runtime::start(wf.clone(), queues.clone(), config);
    let (stop_sim, stop_rx) = tokio::sync::watch::channel(false);
    let sim_task = {
        let sim = sim.clone();
        tokio::spawn(async move { sim.run(stop_rx).await })
    };

    wait_until("all 100 requests are in the worklist", || count(&store, CardStatus::Received) == 100).await;

    // Produce every card, shipment by shipment. Right after the first shipment's cards are
    // produced (microseconds, while REPORT_OK needs a round trip through both queues), a parcel of
    // that shipment must be refused: its cards await REPORT_OK.
    let first_shipment = generated.shipment_ids[0].clone();
    let mut index = 0;
    for shipment_id in &generated.shipment_ids {
        let detail = wf.shipment_detail(shipment_id).expect("detail");
        for card in &detail.cards {
            let fields = card.request.card.expected_report_data_fields.clone();
            wf.produce("operator", &card.card_id, &readouts_for(index, &fields), "test").expect("produce");
            index += 1;
        }
        if *shipment_id == first_shipment {
            let early = wf.ship(
                "shipper",
                &ParcelRequest { shipment_id: first_shipment.clone(), cards: vec![detail.cards[0].card_id.clone()], ..Default::default() },
            );
            match early {
                Err(WorkflowError::ShipRefused(problems)) => {
                    assert!(matches!(problems[0], ShipProblem::AwaitingReportOk { .. }), "{problems:?}")
                }
                Ok(_) => panic!("a parcel went out while its shipment's cards awaited REPORT_OK"),
                Err(other) => panic!("unexpected refusal: {other}"),
            }
        }
    }
    assert_eq!(index, 100);
    wait_until("every card has REPORT_OK", || count(&store, CardStatus::ReportOk) == 100).await;

    // Half the shipments in two parcels (partial delivery), half in one.
    let mut parcels = Vec::new();
    for (n, shipment_id) in generated.shipment_ids.iter().enumerate() {
        let detail = wf.shipment_detail(shipment_id).expect("detail");
        let ids: Vec<String> = detail.cards.iter().map(|c| c.card_id.clone()).collect();
        let accessories: Vec<cardbench_protocol::Accessory> = detail
            .accessories
            .iter()
            .map(|a| cardbench_protocol::Accessory { article_id: a.article_id.clone(), accessory_id: a.accessory_id.clone(), quantity: u32::try_from(a.requested).expect("a small test shipment") })
            .collect();
        let groups: Vec<(Vec<String>, Vec<cardbench_protocol::Accessory>)> = if n % 2 == 0 {
            vec![(ids[..2].to_vec(), vec![]), (ids[2..].to_vec(), accessories)]
        } else {
            vec![(ids, accessories)]
        };
        for (cards, accessories) in groups {
            let parcel = wf
                .ship(
                    "shipper",
                    &ParcelRequest {
                        shipment_id: shipment_id.clone(),
                        cards,
                        accessories,
                        carrier: Some("PostNord".into()),
                        tracking_id: Some(format!("TRK{n}")),
                    },
                )
                .expect("ship");
            parcels.push(parcel.id);
        }
    }
    assert_eq!(parcels.len(), 30);
    wait_until("every card has SHIPPED_OK", || count(&store, CardStatus::ShippedOk) == 100).await;

    // The store agrees with what the other side saw.
    for shipment_id in &generated.shipment_ids {
        let detail = wf.shipment_detail(shipment_id).expect("detail");
        assert!(detail.parcels.iter().all(|p| p.status == ParcelStatus::ShippedOk), "every parcel answered with SHIPPED_OK");
        assert!(detail.accessories.iter().all(|a| a.shipped == a.requested), "every accessory shipped exactly once");
    }
    let inbox_rows = store.read(|c| inbox::list(c, &InboxFilter { limit: Some(10_000), ..Default::default() })).expect("inbox");
    let accepted = inbox_rows.iter().filter(|r| r.outcome == Outcome::Accepted).count();
    assert_eq!(accepted, 100 + 100 + 30, "100 requests, 100 REPORT_OK, 30 SHIPPED_OK");
    assert!(inbox_rows.iter().all(|r| r.outcome != Outcome::Rejected), "nothing rejected on a clean run");
    let unsent = store.read(|c| outbox::list(c, &OutboxFilter { sent: Some(false), ..Default::default() })).expect("outbox");
    assert!(unsent.is_empty(), "the outbox is drained");
    let sim_cards = sim.cards().await.expect("sim cards");
    assert!(sim_cards.iter().all(|c| c.report_ok && c.shipped), "NGOC saw every card reported and shipped");
    let sim_parcels = sim.parcels().await.expect("sim parcels");
    assert_eq!(sim_parcels.iter().filter(|p| p.accepted).count(), 30);

    let _ = stop_sim.send(true);
    sim_task.await.expect("sim task").expect("sim run");
    runtime.shutdown().await;
}
