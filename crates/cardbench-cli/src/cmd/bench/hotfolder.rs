//! `cardbench bench --only hotfolder`: a 10,000-row encoder result file read, validated and
//! applied (readouts, card states, CARD_PRODUCED outbox rows and audit rows committed), beside
//! a plain SQLite insert of the same rows in one transaction with the same durability.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use cardbench_devices::config::HotfolderConfig;
use cardbench_devices::hotfolder::{FileOutcome, HotFolder};
use cardbench_protocol::Subject;
use cardbench_store::inbox::Envelope;
use cardbench_store::Store;
use cardbench_workflow::Workflow;

pub(super) fn hotfolder(dir: &Path, rows: usize) -> anyhow::Result<()> {
    crate::say!("\n== hotfolder: a {rows}-row result file validated and applied");
    let store = Arc::new(Store::open_in(&dir.join("hotfolder"))?);
    let workflow = Workflow::new(store);
    let card_ids: Vec<String> = (0..rows).map(|i| format!("C-{i:08}")).collect();
    let setup = Instant::now();
    for chunk in card_ids.chunks(1000) {
        let bodies: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .map(|id| {
                let body = serde_json::json!({
                    "organisationId": "ORG-1", "shipmentId": format!("S-{}", &id[2..8]), "ordered": "2026-11-20T08:30:00+01:00",
                    "address": {"addressOne": "Storgatan 1", "postalCode": "111 22", "city": "Stockholm", "countryCode": "SE", "recipient": "Åsa Öberg"},
                    "card": {"articleId": "ART-STAFF", "cardId": id, "cardElements": {"NAME": "Åsa Öberg"},
                             "expectedReportDataFields": ["MIFARE_UID"]},
                    "accessories": []
                });
                (uuid::Uuid::new_v4().to_string(), serde_json::to_vec(&body).unwrap_or_default())
            })
            .collect();
        let envelopes: Vec<Envelope<'_>> = bodies
            .iter()
            .map(|(id, body)| Envelope { message_id: Some(id), subject: Some(Subject::RequestSent.as_str()), body, ..Default::default() })
            .collect();
        let report = workflow.ingest(&envelopes)?;
        if let Some(refused) = report.outcomes.iter().find(|o| !matches!(o, cardbench_workflow::IngestOutcome::Accepted { .. })) {
            anyhow::bail!("a bench request was not accepted: {refused:?}");
        }
    }
    crate::say!("  ({rows} cards received in {:.1} s)", setup.elapsed().as_secs_f64());

    let mut text = String::from("cardId,MIFARE_UID\r\n");
    let uid = |i: usize| format!("04{:012X}", 0x11_2233_0000_u64 + i as u64);
    for (i, id) in card_ids.iter().enumerate() {
        text.push_str(&format!("{id},{}\r\n", uid(i)));
    }
    let folder = dir.join("hot");
    let hot = HotFolder::new(workflow, "bench", &folder, HotfolderConfig::default())?;
    let file = folder.join("results.csv");
    std::fs::write(&file, &text)?;

    // Ours: read, hash, parse, validate each row, apply all in one transaction, move the file.
    let start = Instant::now();
    let report = hot.take(&file)?;
    let ours = start.elapsed();
    anyhow::ensure!(
        report.outcome == FileOutcome::Processed && report.produced == rows,
        "the bench file was not applied whole: {:?}",
        report.problems.first()
    );

    // Baseline: the same rows, inserted as they are into one table, one transaction.
    let plain: Vec<(String, String, String)> =
        card_ids.iter().enumerate().map(|(i, id)| (id.clone(), "MIFARE_UID".to_owned(), uid(i))).collect();
    let baseline = cardbench_store::bench::plain_insert(&dir.join("hotfolder-raw.sqlite"), &plain)?;

    crate::say!("  (a) plain SQLite insert of the rows  {:>8.1} ms", baseline.as_secs_f64() * 1e3);
    crate::say!("      cardbench hot folder file        {:>8.1} ms  (goal ≤ 1000 ms)", ours.as_secs_f64() * 1e3);
    crate::say!("  ratio to (a): {:.1}×", ours.as_secs_f64() / baseline.as_secs_f64());
    Ok(())
}
