//! A real store on disk with cards in it, as NGOC would have sent them.
#![allow(dead_code)]

use std::sync::Arc;

use cardbench_protocol::Subject;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::cards::{self, CardRow};
use cardbench_store::inbox::Envelope;
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_workflow::Workflow;
use serde_json::json;

pub struct Bench {
    pub dir: tempfile::TempDir,
    pub wf: Workflow,
}

pub const OPERATOR: &str = "Åsa Öberg";

pub fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_in(&dir.path().join("data")).expect("open store");
    Bench { dir, wf: Workflow::new(Arc::new(store)) }
}

/// The simulator's request (`cardbench_sim::fixtures`) expecting `expected`, with the elements
/// the export tests read set here: exactly `NAME` Åsa Öberg and `EMPLOYEE_NO` 4711.
pub fn request(card_id: &str, shipment_id: &str, expected: &[&str]) -> serde_json::Value {
    let mut body = fixtures::request_json(card_id, shipment_id);
    body["card"]["cardElements"] = json!({"NAME": "Åsa Öberg", "EMPLOYEE_NO": "4711"});
    body["card"]["expectedReportDataFields"] = json!(expected);
    body
}

impl Bench {
    /// Ingests requests for `card_ids` (four per shipment), each expecting `expected`.
    pub fn cards(&self, card_ids: &[String], expected: &[&str]) {
        let bodies: Vec<Vec<u8>> = card_ids
            .iter()
            .enumerate()
            .map(|(i, id)| serde_json::to_vec(&request(id, &format!("S-{:05}", i / 4), expected)).expect("json"))
            .collect();
        let ids: Vec<String> = (0..bodies.len()).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        for (chunk_bodies, chunk_ids) in bodies.chunks(500).zip(ids.chunks(500)) {
            let envelopes: Vec<Envelope<'_>> = chunk_bodies
                .iter()
                .zip(chunk_ids)
                .map(|(b, id)| Envelope { message_id: Some(id), subject: Some(Subject::RequestSent.as_str()), body: b, ..Default::default() })
                .collect();
            self.wf.ingest(&envelopes).expect("ingest");
        }
    }

    pub fn card(&self, card_id: &str) -> CardRow {
        self.wf.store().read(|c| cards::get(c, card_id)).expect("read").expect("card exists")
    }

    pub fn produced_messages(&self) -> usize {
        self.wf
            .store()
            .read(|c| outbox::list(c, &OutboxFilter { subject: Some(Subject::CardProduced.as_str().into()), limit: Some(100_000), ..Default::default() }))
            .expect("read")
            .len()
    }
}

pub fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:05}")).collect()
}
