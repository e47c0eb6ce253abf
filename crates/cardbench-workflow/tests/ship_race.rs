//! Issue 15: a parcel batched at one station while another produces a card of the same shipment.
//! The REPORT_OK gate is decided in the parcel's transaction with the shipment held, so either the
//! production commits first (and the parcel is refused: the card awaits REPORT_OK) or the parcel
//! does (and the card waits for a later one): never a SHIPPED written beside a production it did
//! not see. Two stores on one database (two stations: on PostgreSQL with
//! `CARDBENCH_TEST_ENGINE=postgres`, two connections on one SQLite file otherwise), racing.

use std::sync::{Arc, Barrier};

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow, WorkflowError};

fn two_stations(dir: &std::path::Path) -> (Workflow, Workflow) {
    let (a, b) = cardbench_store::testing::two_stores_in(dir).expect("two stations on one database");
    (Workflow::new(Arc::new(a)), Workflow::new(Arc::new(b)))
}

fn uid(n: usize) -> Vec<ReadoutInput> {
    vec![ReadoutInput { field: "MIFARE_UID".into(), value: format!("04A1B2C3{n:06X}") }]
}

fn send(wf: &Workflow, id: &str, subject: Subject, body: &serde_json::Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    wf.ingest(&[Envelope { message_id: Some(id), subject: Some(subject.as_str()), body: &bytes, ..Default::default() }]).expect("ingest");
}

#[test]
fn a_parcel_and_a_production_of_one_shipment_at_two_stations_never_interleave() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_stations(dir.path());
    let rounds = 60;
    let (mut shipped, mut refused) = (0, 0);
    for i in 0..rounds {
        let (shipment, ready, racing) = (format!("S-{i}"), format!("R-{i}"), format!("P-{i}"));
        send(&a, &format!("req-r{i}"), Subject::RequestSent, &fixtures::request_json(&ready, &shipment));
        send(&a, &format!("req-p{i}"), Subject::RequestSent, &fixtures::request_json(&racing, &shipment));
        let produced = a.produce("ana", &ready, &uid(2 * i), "typed").expect("produce").message_id;
        send(&a, &format!("ok-{i}"), Subject::ReportOk, &serde_json::json!({"cardId": ready, "correlationId": produced}));

        let barrier = Arc::new(Barrier::new(2));
        let (ship_wf, ship_go) = (a.clone(), barrier.clone());
        let parcel = ParcelRequest { shipment_id: shipment.clone(), cards: vec![ready.clone()], ..Default::default() };
        let shipping = std::thread::spawn(move || {
            ship_go.wait();
            // Staggered starts, so some rounds have the production land inside the parcel's
            // transaction and some the other way round.
            std::thread::sleep(std::time::Duration::from_micros((i % 4) as u64 * 700));
            ship_wf.ship("ana", &parcel)
        });
        let (make_wf, make_go, card) = (b.clone(), barrier, racing.clone());
        let making = std::thread::spawn(move || {
            make_go.wait();
            make_wf.produce("bo", &card, &uid(2 * i + 1), "typed")
        });
        let ship = shipping.join().expect("ship thread");
        making.join().expect("produce thread").expect("the racing card is produced either way");

        let rows = a
            .store()
            .read(|c| outbox::list(c, &OutboxFilter { shipment_id: Some(shipment.clone()), limit: Some(100), ..Default::default() }))
            .expect("outbox");
        let id_of = |subject: Subject, card: Option<&str>| {
            rows.iter().find(|r| r.subject == subject.as_str() && (card.is_none() || r.card_id.as_deref() == card)).map(|r| r.id)
        };
        let racing_produced = id_of(Subject::CardProduced, Some(&racing)).expect("CARD_PRODUCED of the racing card");
        match ship {
            Ok(p) => {
                shipped += 1;
                let shipped_id = id_of(Subject::Shipped, None).expect("SHIPPED queued");
                assert_eq!(p.outbox_id, shipped_id);
                assert!(
                    shipped_id < racing_produced,
                    "round {i}: SHIPPED (#{shipped_id}) was written after {racing} was produced (#{racing_produced}) without seeing it"
                );
            }
            Err(WorkflowError::ShipRefused(problems)) => {
                refused += 1;
                assert!(id_of(Subject::Shipped, None).is_none());
                assert!(format!("{problems:?}").contains(&racing), "refused for the racing card: {problems:?}");
            }
            Err(other) => panic!("round {i}: {other:?}"),
        }
    }
    assert_eq!(shipped + refused, rounds);
    eprintln!("{shipped} parcels went first, {refused} productions went first");
}
