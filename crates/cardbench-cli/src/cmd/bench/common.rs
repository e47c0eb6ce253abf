//! What the benchmarks share: realistic request bodies, loading them onto a queue, waiting for
//! the daemon to settle them, and the arithmetic of the figures.

use std::time::{Duration, Instant};

use cardbench_protocol::Subject;
use cardbench_runtime::Runtime;
use cardbench_store::Store;
use cardbench_store::inbox::{self, Outcome};
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_transport::{Connector, OutboundMessage};

/// Request envelopes as the daemon's receiver hands them on: each body with its messageId.
pub(crate) fn request_envelopes<'a>(bodies: &'a [Vec<u8>], ids: &'a [String]) -> Vec<cardbench_store::inbox::Envelope<'a>> {
    bodies
        .iter()
        .zip(ids)
        .map(|(body, id)| cardbench_store::inbox::Envelope {
            message_id: Some(id),
            subject: Some(Subject::RequestSent.as_str()),
            content_type: Some("application/json"),
            body,
            ..Default::default()
        })
        .collect()
}

/// Realistic request bodies, as the simulator would send them.
pub(crate) fn request_bodies(n: u32) -> Vec<Vec<u8>> {
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

pub(crate) async fn load_queue(queues: &EmbeddedQueues, queue: &str, bodies: &[Vec<u8>]) -> anyhow::Result<()> {
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

/// Waits until the daemon has committed and then accepted `total` messages, going by its running
/// total (no events to miss, and no polling of the store or the queue to compete with what is
/// measured). The clock stops once the last accept is done, never at a commit.
pub(crate) async fn wait_settled(runtime: &Runtime, total: usize, start: Instant) -> anyhow::Result<()> {
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
pub(crate) fn ensure_all_accepted(store: &Store) -> anyhow::Result<()> {
    let counts = store.read(inbox::count_by_outcome)?;
    let other: i64 = counts.iter().filter(|(o, _)| *o != Outcome::Accepted).map(|(_, n)| *n).sum();
    // Which outcomes, and the commonest reason: a redelivery (duplicate) and a bad body
    // (rejected) have different causes.
    let why = || -> anyhow::Result<String> {
        let outcomes: Vec<String> = counts.iter().map(|(o, n)| format!("{o:?} {n}")).collect();
        let reason = store.read(inbox::commonest_reason_not_accepted)?;
        Ok(format!("{}; commonest reason: {}", outcomes.join(", "), reason.as_deref().unwrap_or("none given")))
    };
    anyhow::ensure!(
        other == 0,
        "{other} benchmark messages were not recorded as accepted requests ({}): the figures would not compare like with like",
        why().unwrap_or_else(|e| format!("could not tell why: {e}"))
    );
    Ok(())
}

/// Runs of each side of a throughput ratio, alternately; the ratio is that of their medians.
pub(crate) const ROUNDS: usize = 5;
/// The daemon's batch: the raw inserts of (a) commit as many rows at a time as it does at most.
pub(super) const DAEMON_BATCH: usize = cardbench_runtime::DEFAULT_RECEIVE_BATCH;

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
