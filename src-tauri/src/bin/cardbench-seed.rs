//! Fills a data directory with NGOC requests through the real workflow (ingest, produce,
//! REPORT_OK), for the end-to-end tests, screenshots and `--bench`:
//!
//!   cardbench-seed --data-dir DIR --cards 1000000          # many received cards
//!   cardbench-seed --data-dir DIR --demo                   # a small bench with every state
//!
//! The demo set holds a request whose card elements carry HTML (it must show as text) and a
//! rejected request (the queue inspector must show its reason).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use cardbench_protocol::Subject;
use cardbench_store::inbox::Envelope;
use cardbench_workflow::{ReadoutInput, Workflow};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[arg(long, env = "CARDBENCH_DATA_DIR")]
    data_dir: PathBuf,
    /// Received cards to add, in shipments of 20.
    #[arg(long, default_value_t = 0)]
    cards: u64,
    /// A small, varied set for screens and tests.
    #[arg(long)]
    demo: bool,
}

const FIRST: [&str; 10] = ["Åsa", "Jonas", "Maria", "Ahmed", "Linnea", "Erik", "Sofia", "Oskar", "Elin", "Nils"];
const LAST: [&str; 10] = ["Öberg", "Lind", "Nyström", "Karimi", "Berg", "Holm", "Ek", "Sandberg", "Wik", "Falk"];
const ORGS: [&str; 3] = ["ORG-NORDBANK", "ORG-CITYTRANSIT", "ORG-UNIVERSITY"];
const ARTICLES: [&str; 3] = ["ART-STAFF-ID", "ART-TRANSIT", "ART-STUDENT"];

fn request(n: u64, card_id: &str, shipment_no: u64, name: &str, ordered: &str) -> Value {
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

fn name(n: u64) -> String {
    format!("{} {}", FIRST[(n % 10) as usize], LAST[((n / 10) % 10) as usize])
}

struct Seeder {
    wf: Workflow,
}

impl Seeder {
    fn ingest(&self, batch: &[(String, &'static str, Vec<u8>)]) -> anyhow::Result<()> {
        let envelopes: Vec<Envelope<'_>> = batch
            .iter()
            .map(|(id, subject, body)| Envelope { message_id: Some(id), subject: Some(subject), body, ..Default::default() })
            .collect();
        self.wf.ingest(&envelopes).context("ingest")?;
        Ok(())
    }

    fn requests(&self, from: u64, count: u64, ordered: &str, per_shipment: u64) -> anyhow::Result<()> {
        let mut n = from;
        while n < from + count {
            let end = (n + 2000).min(from + count);
            let batch: Vec<_> = (n..end)
                .map(|k| {
                    let body = request(k, &format!("C-{k:07}"), k / per_shipment, &name(k), ordered);
                    (uuid::Uuid::new_v4().to_string(), Subject::RequestSent.as_str(), body.to_string().into_bytes())
                })
                .collect();
            self.ingest(&batch)?;
            n = end;
            if n % 100_000 == 0 {
                eprintln!("seed: {n} cards");
            }
        }
        Ok(())
    }

    fn produce(&self, card_id: &str, uid: &str) -> anyhow::Result<String> {
        let r = self.wf.produce("Seeder", card_id, &[ReadoutInput { field: "MIFARE_UID".into(), value: uid.into() }], "seed")?;
        Ok(r.message_id)
    }

    fn report_ok(&self, card_id: &str, correlation: &str) -> anyhow::Result<()> {
        let body = json!({"cardId": card_id, "correlationId": correlation}).to_string().into_bytes();
        self.ingest(&[(uuid::Uuid::new_v4().to_string(), Subject::ReportOk.as_str(), body)])
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let store = Arc::new(cardbench_store::Store::open_in(&args.data_dir).context("open the store")?);
    let s = Seeder { wf: Workflow::new(store) };
    if !args.demo && args.cards == 0 {
        bail!("say --cards N or --demo");
    }
    if args.demo {
        // Three shipments of 6: S-00000 all REPORT_OK (ready), S-00001 with two awaiting REPORT_OK
        // (blocked), S-00002 just received.
        s.requests(0, 18, "2026-11-23T07:30:00+01:00", 6)?;
        for k in 0..6u64 {
            let card = format!("C-{k:07}");
            let msg = s.produce(&card, &format!("04:A2:2B:{:02X}", 0x10 + k))?;
            s.report_ok(&card, &msg)?;
        }
        for k in 6..10u64 {
            let card = format!("C-{k:07}");
            let msg = s.produce(&card, &format!("04:B7:3C:{:02X}", 0x10 + k))?;
            if k < 8 {
                s.report_ok(&card, &msg)?;
            }
        }
        // A request whose card elements carry markup: shown as text, never run.
        let mut xss = request(90, "C-XSS-0001", 9, "Mallory <b>Bold</b>", "2026-11-23T08:00:00+01:00");
        xss["card"]["cardElements"]["NAME"] = json!("<img src=x onerror=alert(1)>");
        xss["card"]["cardElements"]["TITLE"] = json!("<script>alert('x')</script>");
        // A request that breaks the contract: rejected, answered with ERROR, reason kept.
        let mut bad = request(91, "C-BAD-0001", 9, "Nils Falk", "2026-11-23T08:05:00+01:00");
        if let Some(card) = bad["card"].as_object_mut() {
            card.remove("expectedReportDataFields");
        }
        bad["address"]["countryCode"] = json!("SWEDEN");
        s.ingest(&[
            (uuid::Uuid::new_v4().to_string(), Subject::RequestSent.as_str(), xss.to_string().into_bytes()),
            (uuid::Uuid::new_v4().to_string(), Subject::RequestSent.as_str(), bad.to_string().into_bytes()),
            (uuid::Uuid::new_v4().to_string(), Subject::RequestSent.as_str(), b"{not json".to_vec()),
        ])?;
    }
    if args.cards > 0 {
        let existing: u64 = s
            .wf
            .store()
            .read(|c| c.query_row("SELECT COUNT(*) FROM cards WHERE card_id LIKE 'C-0%'", [], |r| r.get::<_, i64>(0)).map_err(cardbench_store::StoreError::from))?
            .max(0) as u64;
        s.requests(existing.max(100), args.cards, "2026-11-20T08:30:00+01:00", 20)?;
    }
    eprintln!("seed: done in {}", args.data_dir.display());
    Ok(())
}
