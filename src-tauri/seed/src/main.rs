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
use cardbench_app::seed::{self, request};
use cardbench_protocol::Subject;
use cardbench_workflow::{ReadoutInput, Workflow};
use clap::Parser;
use serde_json::json;

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
    /// A shipment with ids in the embedded simulator's shape (SHP-4TGT-000017, 4TGT-0000101…),
    /// the longest an operator sees on the simulator: for the layout tests.
    #[arg(long)]
    sim_ids: bool,
    /// A paused webhook (`seeded-erp`) with one event queued for it and two failed delivery
    /// attempts recorded: for the queue inspector's attempts (added to a running app's data).
    #[arg(long)]
    webhook_attempts: bool,
}

struct Seeder {
    wf: Workflow,
}

impl Seeder {
    fn ingest(&self, batch: &[(String, &'static str, Vec<u8>)]) -> anyhow::Result<()> {
        seed::ingest(&self.wf, batch).context("ingest")
    }

    fn requests(&self, from: u64, count: u64, ordered: &str, per_shipment: u64) -> anyhow::Result<()> {
        seed::requests(&self.wf, from, count, ordered, per_shipment, |n| {
            if n % 100_000 == 0 {
                eprintln!("seed: {n} cards");
            }
        })
        .context("ingest")
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
    if !args.demo && !args.sim_ids && args.cards == 0 && !args.webhook_attempts {
        bail!("say --cards N, --demo, --sim-ids or --webhook-attempts");
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
    if args.sim_ids {
        // Six cards: three REPORT_OK, two awaiting it, one just received.
        let batch: Vec<_> = (0..6u64)
            .map(|k| {
                let mut body = request(101 + k, &format!("4TGT-{:07}", 101 + k), 17, &seed::name(101 + k), "2026-11-23T09:10:00+01:00");
                body["shipmentId"] = json!("SHP-4TGT-000017");
                (uuid::Uuid::new_v4().to_string(), Subject::RequestSent.as_str(), body.to_string().into_bytes())
            })
            .collect();
        s.ingest(&batch)?;
        for k in 0..5u64 {
            let card = format!("4TGT-{:07}", 101 + k);
            let msg = s.produce(&card, &format!("04:C1:4D:{:02X}", 0x10 + k))?;
            if k < 3 {
                s.report_ok(&card, &msg)?;
            }
        }
    }
    if args.cards > 0 {
        let existing: u64 = s
            .wf
            .store()
            .read(|c| c.query_row("SELECT COUNT(*) FROM cards WHERE card_id LIKE 'C-0%'", [], |r| r.get::<_, i64>(0)).map_err(cardbench_store::StoreError::from))?
            .max(0) as u64;
        s.requests(existing.max(100), args.cards, seed::ORDERED, 20)?;
    }
    if args.webhook_attempts {
        webhook_attempts(&s.wf)?;
    }
    eprintln!("seed: done in {}", args.data_dir.display());
    Ok(())
}

/// The webhook `seeded-erp` (paused, so no sender delivers it while a test looks), an event
/// queued for it through the workflow's `emit` as a real change queues it, and two failed attempts
/// at it as the delivery loop records them. No secret is filed: nothing signs or sends here.
fn webhook_attempts(wf: &Workflow) -> anyhow::Result<()> {
    use cardbench_store::{deliveries, outbox, subscribers};
    use cardbench_workflow::reporting::{self, EventData, Topic};
    const NAME: &str = "seeded-erp";
    let now = cardbench_store::time::now();
    let destination = wf.store().write(|tx| {
        subscribers::insert(
            tx,
            &subscribers::NewSubscriber {
                name: NAME,
                kind: "webhook",
                url: "http://127.0.0.1:9/hooks/cards",
                topics: r#"["CARD_PRODUCED"]"#,
                settings: r#"{"encoding":"hex"}"#,
                created_at: &now,
            },
        )?;
        subscribers::pause(tx, NAME, &now, "seeded: 10 failed attempts in a row (HTTP 503)")?;
        let data = EventData { card_id: Some("C-SEED-HOOK".into()), shipment_id: Some("S-SEED-HOOK".into()), ..EventData::default() };
        reporting::emit(tx, Topic::CardProduced, data, &now)?;
        Ok::<_, anyhow::Error>(reporting::destination(reporting::SubscriberKind::Webhook, NAME))
    })?;
    let filter = outbox::OutboxFilter { destination: Some(destination), limit: Some(1), ..Default::default() };
    let row = wf.store().read(|c| outbox::list(c, &filter))?.into_iter().next().context("the queued event")?;
    wf.store().write(|tx| {
        deliveries::record(
            tx,
            &deliveries::NewAttempt {
                outbox_id: row.id,
                at: &now,
                status: Some(503),
                latency_ms: 41,
                outcome: "retry",
                error: Some("HTTP 503 Service Unavailable"),
                response: Some("upstream ERP is restarting"),
            },
        )?;
        deliveries::record(
            tx,
            &deliveries::NewAttempt {
                outbox_id: row.id,
                at: &now,
                status: None,
                latency_ms: 3,
                outcome: "retry",
                error: Some("connection refused"),
                response: None,
            },
        )
    })?;
    Ok(())
}
