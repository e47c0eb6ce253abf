//! `cardbench bench --only ingest`: requests from the embedded queue to the durable worklist,
//! settled, beside a raw batched insert of the same rows and a naive consumer.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_protocol::{ExternalProductionData, Subject};
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_store::cards;
use cardbench_store::inbox::{self, Envelope, NewInboxRow, Outcome};
use cardbench_store::{Store, shipments};
use cardbench_transport::Connector;
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::Workflow;

use super::common::{DAEMON_BATCH, ROUNDS, ensure_all_accepted, load_queue, median, request_bodies, wait_settled};

pub(super) async fn ingest(dir: &Path, n: u32) -> anyhow::Result<()> {
    crate::say!("\n== ingest: {n} requests from the embedded queue to the durable worklist, settled");
    let bodies = request_bodies(n);

    // (a) The physical limit: the rows the daemon writes — inbox row (messageId, subject, content
    // type, received time, raw body, the card and shipment it names), shipment, card — inserted
    // in batches of the daemon's size with the same durability; no queue, no parsing, no validation.
    let parsed: Vec<ExternalProductionData> =
        bodies.iter().map(|b| serde_json::from_slice(b)).collect::<Result<_, _>>()?;
    // Ours: the daemon's receive loop through the embedded queue.
    // (a) and ours alternately, ROUNDS times, each on fresh files: one run of either varies by a
    // fifth from one minute to the next on a shared machine, so the ratio is that of the medians.
    let (mut raw_rates, mut ours_rates) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for round in 0..ROUNDS {
        let raw = raw_insert_rate(&Store::open_in(&dir.join(format!("raw-{round}")))?, &bodies, &parsed, RawRows::Daemons)?;
        let ours = daemon_rate(&dir.join(format!("ours-{round}")), &bodies, RuntimeConfig::default()).await?;
        crate::say!("     round {}: (a) {raw:>7.0} msg/s, daemon {ours:>7.0} msg/s, ratio {:.2}", round + 1, ours / raw);
        raw_rates.push(raw);
        ours_rates.push(ours);
    }
    let (raw_rate, ours_rate) = (median(&raw_rates), median(&ours_rates));

    // For comparison only: lighter rows than the daemon's (one constant messageId, no card or
    // shipment named, so two of the inbox's indexes are never written and the third only appends).
    let light_rows_rate = raw_insert_rate(&Store::open_in(&dir.join("raw-light"))?, &bodies, &parsed, RawRows::Light)?;

    // Where the time goes, same batches, no queue: the daemon decodes a batch (no store) while
    // the previous one commits, so the store's writer alone bounds it.
    let (decode_rate, commit_rate) = {
        let workflow = Workflow::new(Arc::new(Store::open_in(&dir.join("workflow"))?));
        let ids: Vec<String> = (0..bodies.len()).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let (mut decoding, mut committing) = (Duration::ZERO, Duration::ZERO);
        for (chunk, chunk_ids) in bodies.chunks(DAEMON_BATCH).zip(ids.chunks(DAEMON_BATCH)) {
            let envelopes = super::common::request_envelopes(chunk, chunk_ids);
            let start = Instant::now();
            let decoded = workflow.decode(&envelopes);
            decoding += start.elapsed();
            let start = Instant::now();
            workflow.ingest_decoded(&envelopes, decoded)?;
            committing += start.elapsed();
        }
        (f64::from(n) / decoding.as_secs_f64(), f64::from(n) / committing.as_secs_f64())
    };

    // (b) A naive consumer: one message, one commit, one settle.
    let naive_n = (n / 10).clamp(200, 2_000) as usize;
    let naive_rate = naive_rate(&dir.join("naive"), &bodies[..naive_n]).await?;

    crate::say!("  (a) raw batched insert, same rows  {raw_rate:>10.0} msg/s  (median of {ROUNDS})");
    crate::say!("  (b) naive commit-then-settle each  {naive_rate:>10.0} msg/s  ({naive_n} messages)");
    crate::say!("      raw insert of lighter rows     {light_rows_rate:>10.0} msg/s  (one messageId for all, no card or shipment named; not the same rows)");
    crate::say!("      decoding alone, no store       {decode_rate:>10.0} msg/s  (runs beside the commits)");
    crate::say!("      store commit alone, no queue   {commit_rate:>10.0} msg/s  (bounds the daemon)");
    crate::say!("      cardbench daemon               {ours_rate:>10.0} msg/s  (median of {ROUNDS})");
    crate::say!("  ratio to (a): {:.2}  (goal ≥ 0.80)", ours_rate / raw_rate);
    crate::say!("  ratio to (b): {:.1}×  (goal ≥ 10×)", ours_rate / naive_rate);
    Ok(())
}

/// Which rows the raw insert writes.
#[derive(Clone, Copy)]
pub(super) enum RawRows {
    /// What the daemon writes for a valid request.
    Daemons,
    /// One constant messageId (recorded as duplicates), subject and time; the inbox row names no
    /// card or shipment.
    Light,
}

/// Requests per second of a raw batched insert ([`DAEMON_BATCH`] a transaction) into `store`,
/// fresh, through its own write connection (on PostgreSQL: synchronous_commit on).
pub(super) fn raw_insert_rate(store: &Store, bodies: &[Vec<u8>], parsed: &[ExternalProductionData], rows: RawRows) -> anyhow::Result<f64> {
    // Made before the clock starts, like the daemon's, which come with the messages.
    let ids: Vec<String> = match rows {
        RawRows::Daemons => (0..bodies.len()).map(|_| uuid::Uuid::new_v4().to_string()).collect(),
        RawRows::Light => vec!["m".to_owned(); bodies.len()],
    };
    let start = Instant::now();
    for ((chunk_bodies, chunk), chunk_ids) in bodies.chunks(DAEMON_BATCH).zip(parsed.chunks(DAEMON_BATCH)).zip(ids.chunks(DAEMON_BATCH)) {
        store.write(|tx| {
            for ((body, request), id) in chunk_bodies.iter().zip(chunk).zip(chunk_ids) {
                let (now, subject, content_type, card_id, shipment_id) = match rows {
                    RawRows::Daemons => (
                        cardbench_store::time::now(),
                        Subject::RequestSent.as_str(),
                        Some("application/json"),
                        Some(request.card.card_id.as_str()),
                        Some(request.shipment_id.as_str()),
                    ),
                    RawRows::Light => ("t".to_owned(), "s", None, None, None),
                };
                let envelope = Envelope { message_id: Some(id), subject: Some(subject), content_type, body, ..Default::default() };
                // The light rows share one messageId: recorded as duplicates, since the accepted
                // messageIds have a unique key (a floor's stations take a message once).
                let outcome = match rows {
                    RawRows::Daemons => Outcome::Accepted,
                    RawRows::Light => Outcome::Duplicate,
                };
                let row = NewInboxRow { envelope: &envelope, received_at: &now, outcome, reason: None, card_id, shipment_id };
                let inbox_id = inbox::insert(tx, &row)?;
                shipments::ensure(tx, &request.shipment_id, &request.organisation_id, &now)?;
                cards::insert(tx, request, inbox_id, &now)?;
                // The daemon also logs each request as an event (REQUEST_RECEIVED): the same row here.
                if let RawRows::Daemons = rows {
                    let event_id = uuid::Uuid::new_v4().to_string();
                    let body = format!(
                        r#"{{"eventId":"{event_id}","created":"{now}","apiVersion":"1","topic":"REQUEST_RECEIVED","data":{{"cardId":"{}","shipmentId":"{}"}}}}"#,
                        request.card.card_id, request.shipment_id
                    );
                    let event = cardbench_store::events::NewEvent {
                        event_id: &event_id,
                        created: &now,
                        topic: "REQUEST_RECEIVED",
                        card_id: Some(&request.card.card_id),
                        shipment_id: Some(&request.shipment_id),
                        body: &body,
                    };
                    cardbench_store::events::record(tx, &event)?;
                }
            }
            Ok::<_, cardbench_store::StoreError>(())
        })?;
    }
    Ok(bodies.len() as f64 / start.elapsed().as_secs_f64())
}

async fn daemon_rate(dir: &Path, bodies: &[Vec<u8>], config: RuntimeConfig) -> anyhow::Result<f64> {
    std::fs::create_dir_all(dir)?;
    let queues = Arc::new(EmbeddedQueues::open(dir)?);
    load_queue(&queues, &config.inbound_queue, bodies).await?;
    let store = Arc::new(Store::open_in(dir)?);
    let workflow = Workflow::new(store.clone());
    let mut runtime_config = config;
    runtime_config.receive_wait = Duration::from_millis(50);
    let start = Instant::now();
    let runtime = Runtime::start(workflow, queues.clone(), runtime_config.clone());
    let total = bodies.len();
    let settled = wait_settled(&runtime, total, start).await;
    let elapsed = start.elapsed();
    runtime.shutdown().await;
    settled?;
    ensure_all_accepted(&store)?;
    Ok(total as f64 / elapsed.as_secs_f64())
}

async fn naive_rate(dir: &Path, bodies: &[Vec<u8>]) -> anyhow::Result<f64> {
    std::fs::create_dir_all(dir)?;
    let queues = EmbeddedQueues::open(dir)?;
    load_queue(&queues, "naive", bodies).await?;
    let workflow = Workflow::new(Arc::new(Store::open_in(dir)?));
    let mut receiver = queues.receiver("naive").await?;
    let start = Instant::now();
    let mut done = 0;
    while done < bodies.len() {
        for d in receiver.receive(1, Duration::from_millis(100)).await? {
            let wf = workflow.clone();
            let d2 = d.clone();
            tokio::task::spawn_blocking(move || wf.ingest(&[cardbench_runtime::envelope(&d2)]))
            .await??;
            receiver.accept(&[d.tag]).await?;
            done += 1;
        }
    }
    Ok(bodies.len() as f64 / start.elapsed().as_secs_f64())
}
