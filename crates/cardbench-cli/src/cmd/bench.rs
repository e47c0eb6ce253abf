//! `cardbench bench`: throughput and latency, each printed beside a baseline measured in the same
//! run on the same machine, as a ratio. Goals are stated beside the figures; nothing here fails a
//! build: speed is watched, not asserted in tests.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cardbench_protocol::{ExternalProductionData, Subject};
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_store::cards::{self, CardStatus, SortColumn, WorklistCursor, WorklistFilter};
use cardbench_store::inbox::{self, Envelope, NewInboxRow, Outcome};
use cardbench_store::{Store, shipments};
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_transport::{Connector, OutboundMessage};
use cardbench_workflow::Workflow;

use crate::cli::BenchArgs;
use crate::context::Context;

pub fn bench(ctx: &Context, args: &BenchArgs) -> anyhow::Result<()> {
    let wants = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let scratch = tempfile::Builder::new().prefix("cardbench-bench-").tempdir_in(bench_dir(ctx)?)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    crate::say!("cardbench bench (scratch data in {})", scratch.path().display());
    if wants("ingest") {
        runtime.block_on(ingest(scratch.path(), args.messages))?;
    }
    if wants("worklist") {
        worklist(scratch.path(), args.cards)?;
    }
    if wants("hotfolder") {
        super::bench_hotfolder::hotfolder(scratch.path(), 10_000)?;
    }
    if wants("slip") {
        slip()?;
    }
    if wants("outage") {
        runtime.block_on(super::bench_outage::outage(scratch.path(), args.messages))?;
    }
    if wants("broker") {
        runtime.block_on(super::bench_broker::broker(scratch.path(), ctx.config.amqp_url.as_deref(), args.messages))?;
    }
    Ok(())
}

/// A 1,000-card packing slip (goal ≤ 250 ms), beside a one-card slip rendered in the same run:
/// the ratio shows what the cards cost over the fixed cost of a document.
fn slip() -> anyhow::Result<()> {
    use cardbench_documents::bench::{render_time, sample_parcel};
    crate::say!("\n== packing slip: 1,000 cards, rendered to PDF bytes (median of 5)");
    let median = |cards: usize| -> anyhow::Result<Duration> {
        let parcel = sample_parcel(cards);
        let mut times = (0..5).map(|_| render_time(&parcel)).collect::<Result<Vec<_>, _>>()?;
        times.sort();
        Ok(times[2])
    };
    let one = median(1)?;
    let thousand = median(1000)?;
    crate::say!("  (a) 1-card slip                 {:>8.1} ms", ms(one));
    crate::say!("      1,000-card slip             {:>8.1} ms  (goal ≤ 250 ms)", ms(thousand));
    crate::say!("  ratio to (a): {:.1}×  (1,000 times the cards)", thousand.as_secs_f64() / one.as_secs_f64());
    Ok(())
}

/// Benchmarks write to the data directory's disk (same fsync cost as production), in a scratch
/// folder removed afterwards. A bench never creates the platform's data directory: where that
/// is the one in effect and it does not exist yet, the scratch folder goes to the temp dir.
fn bench_dir(ctx: &Context) -> anyhow::Result<std::path::PathBuf> {
    let is_platform_default = cardbench_runtime::config::platform_data_dir().is_ok_and(|d| d == ctx.data_dir);
    if is_platform_default && !ctx.data_dir.exists() {
        return Ok(std::env::temp_dir());
    }
    std::fs::create_dir_all(&ctx.data_dir).with_context(|| format!("cannot create {}", ctx.data_dir.display()))?;
    Ok(ctx.data_dir.clone())
}

/// Realistic request bodies, as the simulator would send them.
pub(super) fn request_bodies(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let body = serde_json::json!({
                // Four cards per shipment, one organisation per shipment.
                "organisationId": format!("ORG-{}", (i / 4) % 7),
                "shipmentId": format!("S-{:07}", i / 4),
                "ordered": "2026-11-20T08:30:00+01:00",
                "address": {"addressOne": "Storgatan 1", "postalCode": "111 22", "city": "Stockholm",
                            "countryCode": "SE", "recipient": "Åsa Öberg", "recipientPhone": "+46 8 123 456"},
                "card": {"articleId": "ART-STAFF", "cardId": format!("C-{i:08}"),
                         "cardElements": {"NAME": format!("Åsa Öberg {i}"), "EMPLOYEE_NO": i.to_string(), "VALID_TO": "2029-12"},
                         "expectedReportDataFields": ["MIFARE_UID"]},
                "accessories": [{"articleId": "ART-LANYARD", "accessoryId": "LANYARD", "quantity": 1}]
            });
            serde_json::to_vec(&body).unwrap_or_default()
        })
        .collect()
}

async fn ingest(dir: &Path, n: u32) -> anyhow::Result<()> {
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
        let raw = raw_insert_rate(&dir.join(format!("raw-{round}")), &bodies, &parsed, RawRows::Daemons)?;
        let ours = daemon_rate(&dir.join(format!("ours-{round}")), &bodies, RuntimeConfig::default()).await?;
        crate::say!("     round {}: (a) {raw:>7.0} msg/s, daemon {ours:>7.0} msg/s, ratio {:.2}", round + 1, ours / raw);
        raw_rates.push(raw);
        ours_rates.push(ours);
    }
    let (raw_rate, ours_rate) = (median(&raw_rates), median(&ours_rates));

    // For comparison only: lighter rows than the daemon's (one constant messageId, no card or
    // shipment named, so two of the inbox's indexes are never written and the third only appends).
    let light_rows_rate = raw_insert_rate(&dir.join("raw-light"), &bodies, &parsed, RawRows::Light)?;

    // Where the time goes, same batches, no queue: the daemon decodes a batch (no store) while
    // the previous one commits, so the store's writer alone bounds it.
    let (decode_rate, commit_rate) = {
        let workflow = Workflow::new(Arc::new(Store::open_in(&dir.join("workflow"))?));
        let ids: Vec<String> = (0..bodies.len()).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let (mut decoding, mut committing) = (Duration::ZERO, Duration::ZERO);
        for (chunk, chunk_ids) in bodies.chunks(DAEMON_BATCH).zip(ids.chunks(DAEMON_BATCH)) {
            let envelopes: Vec<Envelope<'_>> = chunk
                .iter()
                .zip(chunk_ids)
                .map(|(body, id)| Envelope {
                    message_id: Some(id),
                    subject: Some(Subject::RequestSent.as_str()),
                    content_type: Some("application/json"),
                    body,
                    ..Default::default()
                })
                .collect();
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
enum RawRows {
    /// What the daemon writes for a valid request.
    Daemons,
    /// One constant messageId, subject and time; the inbox row names no card or shipment.
    Light,
}

/// Requests per second of a raw batched insert ([`DAEMON_BATCH`] a transaction) into a
/// fresh store in `dir`.
fn raw_insert_rate(dir: &Path, bodies: &[Vec<u8>], parsed: &[ExternalProductionData], rows: RawRows) -> anyhow::Result<f64> {
    let store = Store::open_in(dir)?;
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
                let row = NewInboxRow { envelope: &envelope, received_at: &now, outcome: Outcome::Accepted, reason: None, card_id, shipment_id };
                let inbox_id = inbox::insert(tx, &row)?;
                shipments::ensure(tx, &request.shipment_id, &request.organisation_id, &now)?;
                cards::insert(tx, request, inbox_id, &now)?;
            }
            Ok::<_, cardbench_store::StoreError>(())
        })?;
    }
    Ok(bodies.len() as f64 / start.elapsed().as_secs_f64())
}

pub(super) async fn load_queue(queues: &EmbeddedQueues, queue: &str, bodies: &[Vec<u8>]) -> anyhow::Result<()> {
    let mut sender = queues.sender(queue).await?;
    for chunk in bodies.chunks(1000) {
        let batch: Vec<OutboundMessage> = chunk.iter().map(|body| request_message(body)).collect();
        for result in sender.send(&batch).await {
            result?;
        }
    }
    Ok(())
}

/// A request as NGOC puts it on the queue: fresh messageId, the subject, JSON.
pub(crate) fn request_message(body: &[u8]) -> OutboundMessage {
    OutboundMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        subject: Subject::RequestSent.as_str().into(),
        correlation_id: None,
        content_type: "application/json".into(),
        body: body.to_vec(),
    }
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

/// Waits until the daemon has committed and then accepted `total` messages, going by its running
/// total (no events to miss, and no polling of the store or the queue to compete with what is
/// measured). The clock stops once the last accept is done, never at a commit.
pub(super) async fn wait_settled(runtime: &Runtime, total: usize, start: Instant) -> anyhow::Result<()> {
    const PHASE_LIMIT: Duration = Duration::from_secs(600);
    let mut settled = runtime.settled();
    let waited = tokio::time::timeout(PHASE_LIMIT.saturating_sub(start.elapsed()), settled.wait_for(|n| *n >= total as u64))
        .await
        .map(|r| r.is_ok());
    match waited {
        Ok(true) => Ok(()),
        Ok(false) => anyhow::bail!("the daemon stopped after settling {} of {total}", *settled.borrow()),
        Err(_) => anyhow::bail!("ingest did not finish in {} s: {} of {total} settled", PHASE_LIMIT.as_secs(), *settled.borrow()),
    }
}

/// Fails unless every message in `store`'s inbox was recorded as an accepted request: a
/// duplicate or a rejection would make the figures compare unlike work.
pub(super) fn ensure_all_accepted(store: &Store) -> anyhow::Result<()> {
    let counts = store.read(inbox::count_by_outcome)?;
    let other: i64 = counts.iter().filter(|(o, _)| *o != Outcome::Accepted).map(|(_, n)| *n).sum();
    // Which outcomes, and the commonest reason: a redelivery (duplicate) and a bad body
    // (rejected) have different causes.
    let why = || -> anyhow::Result<String> {
        let outcomes: Vec<String> = counts.iter().map(|(o, n)| format!("{o:?} {n}")).collect();
        let reason: Option<String> = store.read(|c| {
            let mut stmt = c.prepare(
                "SELECT reason FROM inbox WHERE outcome <> 'accepted' GROUP BY reason ORDER BY COUNT(*) DESC LIMIT 1",
            )?;
            let mut rows = stmt.query_map([], |r| r.get::<_, Option<String>>(0))?;
            Ok::<_, cardbench_store::StoreError>(rows.next().transpose()?.flatten())
        })?;
        Ok(format!("{}; commonest reason: {}", outcomes.join(", "), reason.as_deref().unwrap_or("none given")))
    };
    anyhow::ensure!(
        other == 0,
        "{other} benchmark messages were not recorded as accepted requests ({}): the figures would not compare like with like",
        why().unwrap_or_else(|e| format!("could not tell why: {e}"))
    );
    Ok(())
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
            tokio::task::spawn_blocking(move || {
                let envelope = Envelope {
                    message_id: d2.message_id.as_deref(),
                    subject: d2.subject.as_deref(),
                    body: &d2.body,
                    ..Default::default()
                };
                wf.ingest(&[envelope])
            })
            .await??;
            receiver.accept(&[d.tag]).await?;
            done += 1;
        }
    }
    Ok(bodies.len() as f64 / start.elapsed().as_secs_f64())
}

/// Worklist queries on a large store: p95 of filtered pages, searches and deep pages.
fn worklist(dir: &Path, n: u32) -> anyhow::Result<()> {
    crate::say!("\n== worklist: {n} cards");
    let store = Store::open_in(&dir.join("worklist"))?;
    let bodies = request_bodies(n.min(50_000));
    let parsed: Vec<ExternalProductionData> = bodies.iter().map(|b| serde_json::from_slice(b)).collect::<Result<_, _>>()?;
    let start = Instant::now();
    let statuses = CardStatus::ALL;
    // Every card points at the request that created it; one stand-in request row serves them all.
    let inbox_id = store.write(|tx| {
        let envelope = Envelope { body: b"{}", ..Default::default() };
        inbox::insert(
            tx,
            &NewInboxRow { envelope: &envelope, received_at: "t", outcome: Outcome::Accepted, reason: None, card_id: None, shipment_id: None },
        )
    })?;
    let mut i: u32 = 0;
    while i < n {
        store.write(|tx| {
            for _ in 0..10_000 {
                if i >= n {
                    break;
                }
                let mut request = parsed[(i as usize) % parsed.len()].clone();
                request.card.card_id = format!("C-{i:08}");
                request.shipment_id = format!("S-{:07}", i / 4);
                request.organisation_id = format!("ORG-{}", (i / 4) % 7);
                shipments::ensure(tx, &request.shipment_id, &request.organisation_id, "2026-11-01T00:00:00.000Z")?;
                let received = cardbench_store::time::format(
                    chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_790_000_000 + i64::from(i)),
                );
                cards::insert(tx, &request, inbox_id, &received)?;
                let status = statuses[(i as usize * 7919) % statuses.len()];
                if status != CardStatus::Received {
                    cards::set_status(tx, &request.card.card_id, status, &Default::default(), &received)?;
                }
                i += 1;
            }
            Ok::<_, cardbench_store::StoreError>(())
        })?;
    }
    // Fill-in time is set-up, not a figure.
    crate::say!("  (store filled in {:.1} s)", start.elapsed().as_secs_f64());
    store.write(|tx| tx.execute_batch("ANALYZE").map_err(cardbench_store::StoreError::from))?;

    let report = |name: &str, make: &dyn Fn(u32) -> WorklistFilter| -> anyhow::Result<()> {
        let mut times = Vec::with_capacity(200);
        for k in 0..200u32 {
            let filter = make(k);
            let t = Instant::now();
            let page = store.read(|c| cards::worklist(c, &filter))?;
            times.push(t.elapsed());
            std::hint::black_box(page);
        }
        times.sort();
        let p50 = times[times.len() / 2];
        let p95 = times[times.len() * 95 / 100];
        crate::say!("  {name:<34} p50 {:>7.2} ms   p95 {:>7.2} ms  (goal p95 ≤ 20 ms)", ms(p50), ms(p95));
        Ok(())
    };
    report("first page, no filter", &|_| WorklistFilter { limit: Some(100), ..Default::default() })?;
    report("deep page (keyset)", &|k| WorklistFilter {
        after: Some(WorklistCursor {
            received_at: cardbench_store::time::format(
                chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_790_000_000 + i64::from(k * 4_999 % n.max(1))),
            ),
            card_id: String::new(),
            key: None,
        }),
        limit: Some(100),
        ..Default::default()
    })?;
    // Sorted by another column, first and deep pages (the cursor of a page k rows in).
    for sort in [SortColumn::Organisation, SortColumn::Status, SortColumn::Holder, SortColumn::Card] {
        report(&format!("sorted by {}, descending", sort.as_str()), &|_| WorklistFilter {
            sort,
            descending: true,
            limit: Some(100),
            ..Default::default()
        })?;
        let deep = store.read(|c| {
            let mut f = WorklistFilter { sort, limit: Some(1000), ..Default::default() };
            for _ in 0..20 {
                match cards::worklist(c, &f)?.next {
                    Some(next) => f.after = Some(next),
                    None => break,
                }
            }
            Ok::<_, cardbench_store::StoreError>(f.after)
        })?;
        report(&format!("sorted by {}, deep page", sort.as_str()), &|_| WorklistFilter {
            sort,
            after: deep.clone(),
            limit: Some(100),
            ..Default::default()
        })?;
    }
    report("two statuses, oldest first", &|_| WorklistFilter {
        statuses: vec![CardStatus::Received, CardStatus::ReportError],
        limit: Some(100),
        ..Default::default()
    })?;
    report("rare status + organisation, by holder", &|k| WorklistFilter {
        statuses: vec![CardStatus::ShipError],
        organisation_id: Some(format!("ORG-{}", k % 7)),
        sort: SortColumn::Holder,
        limit: Some(100),
        ..Default::default()
    })?;
    report("two statuses + article, by shipment", &|k| WorklistFilter {
        statuses: vec![CardStatus::Received, CardStatus::ReportError],
        article_id: Some(parsed[k as usize % parsed.len()].card.article_id.clone()),
        sort: SortColumn::Shipment,
        limit: Some(100),
        ..Default::default()
    })?;
    report("status filter", &|k| WorklistFilter {
        statuses: vec![statuses[k as usize % statuses.len()]],
        limit: Some(100),
        ..Default::default()
    })?;
    report("organisation + status", &|k| WorklistFilter {
        statuses: vec![CardStatus::ReportOk],
        organisation_id: Some(format!("ORG-{}", k % 7)),
        limit: Some(100),
        ..Default::default()
    })?;
    report("shipment", &|k| WorklistFilter { shipment_id: Some(format!("S-{:07}", (k * 977) % (n / 4).max(1))), ..Default::default() })?;
    report("search cardId prefix", &|k| WorklistFilter {
        search: Some(format!("C-{:06}", (k * 3_331) % (n / 100).max(1))),
        limit: Some(100),
        ..Default::default()
    })?;
    report("search holder prefix", &|k| WorklistFilter {
        search: Some(format!("Åsa Öberg {}", k * 37)),
        search_holder: true,
        limit: Some(100),
        ..Default::default()
    })?;
    Ok(())
}

/// Runs of each side of a throughput ratio, alternately; the ratio is that of their medians.
pub(super) const ROUNDS: usize = 5;
/// The daemon's batch: the raw inserts of (a) commit as many rows at a time as it does at most.
const DAEMON_BATCH: usize = cardbench_runtime::DEFAULT_RECEIVE_BATCH;

pub(super) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
