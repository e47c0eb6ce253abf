//! Accessory quantities: each line is a u32 on the wire, and what a shipment or a parcel adds up
//! is summed in 64 bits with checked arithmetic (issue 13, "Quantities").

use std::sync::Arc;

use cardbench_protocol::{Accessory, Subject};
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{IngestOutcome, ParcelRequest, ShipProblem, Workflow, WorkflowError};
use cardbench_sim::fixtures;
use serde_json::{Value, json};

const BIG: u32 = 3_000_000_000;

struct Bench {
    _dir: tempfile::TempDir,
    wf: Workflow,
}

fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cardbench_store::testing::store_in(dir.path()).expect("open store");
    Bench { _dir: dir, wf: Workflow::new(Arc::new(store)) }
}

/// The simulator's request (`cardbench_sim::fixtures`), with `quantity` leaflets.
fn request(card_id: &str, quantity: u32) -> Value {
    let mut body = fixtures::request_json(card_id, "S-1");
    body["accessories"] = json!([{"articleId": "ART-LEAFLET", "accessoryId": "LEAFLET", "quantity": quantity}]);
    body
}

impl Bench {
    fn receive(&self, message_id: &str, body: &Value) {
        let bytes = serde_json::to_vec(body).expect("json");
        let envelope =
            Envelope { message_id: Some(message_id), subject: Some(Subject::RequestSent.as_str()), body: &bytes, ..Default::default() };
        let report = self.wf.ingest(&[envelope]).expect("ingest commits");
        let outcome = report.outcomes.into_iter().next().expect("one outcome");
        assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
    }
}

fn leaflets(quantity: u32) -> Accessory {
    Accessory { article_id: "ART-LEAFLET".into(), accessory_id: "LEAFLET".into(), quantity }
}

#[test]
fn two_large_accessory_quantities_in_one_shipment_keep_its_balance_readable() {
    let b = bench();
    b.receive("m-1", &request("C-1", BIG));
    b.receive("m-2", &request("C-2", BIG));
    // 6,000,000,000 does not fit a u32: reading the sum into one failed the balance, and with it
    // the shipment's screen and every parcel of the shipment.
    let detail = b.wf.shipment_detail("S-1").expect("the shipment's balance is readable");
    assert_eq!(detail.accessories[0].requested, 2 * u64::from(BIG));
    // Two lines of one accessory, together beyond u32 but within what is left: one parcel.
    let parcel = b
        .wf
        .ship("bob", &ParcelRequest { shipment_id: "S-1".into(), accessories: vec![leaflets(BIG), leaflets(BIG)], ..Default::default() })
        .expect("6e9 leaflets asked, 6e9 left");
    assert_eq!(parcel.accessories.len(), 2);
    let detail = b.wf.shipment_detail("S-1").expect("detail");
    assert_eq!(detail.accessories[0].shipped, 2 * u64::from(BIG));
    assert_eq!(detail.accessories[0].remaining(), 0);
}

#[test]
fn an_operators_lines_that_add_up_beyond_u32_are_counted_not_wrapped() {
    let b = bench();
    b.receive("m-1", &request("C-1", 5));
    // u32::MAX + 6 wraps to 5 in a u32 (a release build then shipped it: 5 left, "5" asked); a
    // debug build panicked.
    let request = ParcelRequest { shipment_id: "S-1".into(), accessories: vec![leaflets(u32::MAX), leaflets(6)], ..Default::default() };
    match b.wf.ship("bob", &request) {
        Err(WorkflowError::ShipRefused(problems)) => {
            let expected = ShipProblem::TooManyAccessories { accessory_id: "LEAFLET".into(), asked: u64::from(u32::MAX) + 6, remaining: 5 };
            assert_eq!(problems, vec![expected]);
        }
        other => panic!("4,294,967,301 leaflets asked, 5 left: {other:?}"),
    }
}
