//! NGOC requests for seeding a store through the real workflow: used by `cardbench-seed` and by
//! `--bench` for its baseline store, so both hold cards of the same shape.

use cardbench_protocol::Subject;
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{Workflow, WorkflowError};
use serde_json::{Value, json};

const FIRST: [&str; 10] = ["Åsa", "Jonas", "Maria", "Ahmed", "Linnea", "Erik", "Sofia", "Oskar", "Elin", "Nils"];
const LAST: [&str; 10] = ["Öberg", "Lind", "Nyström", "Karimi", "Berg", "Holm", "Ek", "Sandberg", "Wik", "Falk"];
const ORGS: [&str; 3] = ["ORG-NORDBANK", "ORG-CITYTRANSIT", "ORG-UNIVERSITY"];
const ARTICLES: [&str; 3] = ["ART-STAFF-ID", "ART-TRANSIT", "ART-STUDENT"];

/// The `ordered` time of seeded received cards.
pub const ORDERED: &str = "2026-11-20T08:30:00+01:00";

/// The REQUEST_SENT body of card `n`.
pub fn request(n: u64, card_id: &str, shipment_no: u64, name: &str, ordered: &str) -> Value {
    let i = n as usize;
    let shipment_id = format!("S-{shipment_no:05}");
    json!({
        "organisationId": ORGS[(shipment_no % 3) as usize],
        "shipmentId": shipment_id,
        "ordered": ordered,
        "address": {"addressOne": format!("Storgatan {}", 1 + i % 90), "postalCode": "111 22", "city": "Stockholm",
                    "countryCode": "SE", "recipient": name},
        "card": {"articleId": ARTICLES[i % 3], "cardId": card_id,
                 "cardElements": {"NAME": name, "EMPLOYEE_NO": format!("{}", 4000 + i % 5000), "VALID_TO": "2029-12"},
                 "expectedReportDataFields": ["MIFARE_UID"]},
        "accessories": [{"articleId": ARTICLES[i % 3], "accessoryId": "LANYARD", "quantity": 1}]
    })
}

/// A made-up holder name for card `n`.
pub fn name(n: u64) -> String {
    format!("{} {}", FIRST[(n % 10) as usize], LAST[((n / 10) % 10) as usize])
}

/// Ingests one batch of `(message id, subject, body)`.
pub fn ingest(wf: &Workflow, batch: &[(String, &'static str, Vec<u8>)]) -> Result<(), WorkflowError> {
    let envelopes: Vec<Envelope<'_>> = batch
        .iter()
        .map(|(id, subject, body)| Envelope { message_id: Some(id), subject: Some(subject), body, ..Default::default() })
        .collect();
    wf.ingest(&envelopes)?;
    Ok(())
}

/// Ingests `count` requests for cards `C-{from}`… in shipments of `per_shipment`, 2,000 per
/// transaction; `progress` is told the number reached after each batch.
pub fn requests(
    wf: &Workflow,
    from: u64,
    count: u64,
    ordered: &str,
    per_shipment: u64,
    mut progress: impl FnMut(u64),
) -> Result<(), WorkflowError> {
    let mut n = from;
    while n < from + count {
        let end = (n + 2000).min(from + count);
        let batch: Vec<_> = (n..end)
            .map(|k| {
                let body = request(k, &format!("C-{k:07}"), k / per_shipment, &name(k), ordered);
                (uuid::Uuid::new_v4().to_string(), Subject::RequestSent.as_str(), body.to_string().into_bytes())
            })
            .collect();
        ingest(wf, &batch)?;
        n = end;
        progress(n);
    }
    Ok(())
}
