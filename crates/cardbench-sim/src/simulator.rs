//! The simulator: state, generation, answering, and the run loop. Talks to the queues only through
//! the `Connector` trait, so it runs against the embedded queues or a real broker alike.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cardbench_protocol::{ExternalProductionData, Subject};
use cardbench_transport::{Connector, DeliveryTag, OutboundMessage, QueueReceiver, QueueSender, TransportErrorKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, params};
use serde::Serialize;
use tokio::sync::watch;

use crate::config::{SimConfig, rate};
use crate::error::SimError;
use crate::faults::Violation;
use crate::generate::{self, Ids};
use crate::judge::{self, Handled, Incoming};
use crate::state::{self, ParcelRecord, ReceivedRecord, SentRecord, SimCard};

/// Messages handed to the queue per send.
const SEND_BATCH: usize = 200;

/// What one `generate` call put on the requests queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateReport {
    /// Requests generated (valid and invalid; a duplicate send counts once).
    pub requests: u32,
    /// The valid cards requested, in order.
    pub card_ids: Vec<String>,
    /// The shipments they belong to.
    pub shipment_ids: Vec<String>,
    /// messageIds of every request message, in order (a duplicate send appears twice).
    pub message_ids: Vec<String>,
    pub invalid_requests: u32,
    pub duplicate_sends: u32,
    pub card_conflicts: u32,
}

/// What one `answer_pending` call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerReport {
    pub answered: u32,
    /// ERRORs from Cardbench, recorded and not answered.
    pub recorded: u32,
    /// Seen before (redelivered): settled with no new effect.
    pub duplicates: u32,
}

pub struct Simulator {
    config: SimConfig,
    connector: Arc<dyn Connector>,
    conn: Arc<Mutex<Connection>>,
    rng: Arc<Mutex<StdRng>>,
    /// Opened on first use and dropped after a failure, so the next call re-opens it.
    sender: tokio::sync::Mutex<Option<Box<dyn QueueSender>>>,
    receiver: tokio::sync::Mutex<Option<Box<dyn QueueReceiver>>>,
}

impl Simulator {
    /// Opens (creating if needed) `<data_dir>/sim.sqlite`. Blocking: call it at start-up.
    pub fn open(data_dir: &Path, config: SimConfig, connector: Arc<dyn Connector>) -> Result<Simulator, SimError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| SimError::DataDir { path: data_dir.display().to_string(), source })?;
        let conn = state::open(&data_dir.join(state::FILE_NAME))?;
        let mut rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        // A prefix for this simulator's ids, fixed at first open: two simulators (two data
        // directories) talking to one Cardbench do not reuse each other's card ids.
        if state::meta_get(&conn, "id_prefix")?.is_none() {
            let prefix: String = (0..4).map(|_| char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[rng.random_range(0..32)])).collect();
            state::meta_set(&conn, "id_prefix", &prefix)?;
        }
        Ok(Simulator {
            config,
            connector,
            conn: Arc::new(Mutex::new(conn)),
            rng: Arc::new(Mutex::new(rng)),
            sender: tokio::sync::Mutex::new(None),
            receiver: tokio::sync::Mutex::new(None),
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Generates `n_requests` requests in shipments of 1 to `max_cards_per_shipment` cards,
    /// commits them to the simulator's state, then sends them. If sending fails, they stay queued
    /// in the state and go with the next send (`generate`, `answer_pending` or `run`).
    pub async fn generate(&self, n_requests: u32) -> Result<GenerateReport, SimError> {
        let config = self.config.clone();
        let rng = self.rng.clone();
        let report = state::with_conn(&self.conn, move |conn| {
            let mut rng = rng.lock().unwrap_or_else(|p| p.into_inner());
            generate_in(conn, &config, &mut rng, n_requests)
        })
        .await?;
        self.flush().await?;
        Ok(report)
    }

    /// Receives what Cardbench sent (waiting up to `wait` for a first message), answers it, and
    /// sends the answers. Each batch is committed to the state before it is settled. Cancelling
    /// this future after the commit leaves the batch locked in the kept receiver until `run`
    /// ends (then it comes back and is recognised as seen): let it finish where possible.
    pub async fn answer_pending(&self, wait: Duration) -> Result<AnswerReport, SimError> {
        // Answers left over from an earlier failed send go first, in order.
        self.flush().await?;
        let mut guard = self.receiver.lock().await;
        let receiver = match guard.as_mut() {
            Some(r) => r,
            None => guard.insert(self.connector.receiver(&self.config.notifications_queue).await?),
        };
        let deliveries = match receiver.receive(self.config.receive_batch.max(1), wait).await {
            Ok(d) => d,
            Err(e) => {
                *guard = None;
                return Err(e.into());
            }
        };
        if deliveries.is_empty() {
            return Ok(AnswerReport::default());
        }
        let spurious_rate = rate(self.config.faults.spurious_error);
        let lost_rate = rate(self.config.faults.lost_answer);
        let wire = self.config.wire.clone();
        let (tags, incoming): (Vec<DeliveryTag>, Vec<(Incoming, bool)>) = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            deliveries
                .into_iter()
                .map(|d| {
                    let spurious = d.subject.as_deref() == Some(Subject::CardProduced.as_str()) && rng.random_bool(spurious_rate);
                    let lose_answer = rng.random_bool(lost_rate);
                    let incoming = Incoming { message_id: d.message_id, subject: d.subject, correlation_id: d.correlation_id, body: d.body, lose_answer };
                    (d.tag, (incoming, spurious))
                })
                .unzip()
        };
        let handled = state::with_conn(&self.conn, move |conn| {
            let tx = conn.transaction()?;
            let mut out = Vec::with_capacity(incoming.len());
            for (message, spurious) in &incoming {
                out.push(judge::handle(&tx, message, *spurious, &wire)?);
            }
            tx.commit()?;
            Ok(out)
        })
        .await;
        let handled = match handled {
            Ok(h) => h,
            Err(e) => {
                // Nothing was recorded: give the messages back for a later try.
                if receiver.release(&tags).await.is_err() {
                    *guard = None;
                }
                return Err(e);
            }
        };
        // Committed: now, and only now, settle.
        if let Err(e) = receiver.accept(&tags).await {
            // They come back and are recognised as seen; the answers are already queued.
            *guard = None;
            return Err(e.into());
        }
        drop(guard);
        let mut report = AnswerReport::default();
        for h in handled {
            match h {
                Handled::Answered => report.answered += 1,
                Handled::Recorded => report.recorded += 1,
                Handled::Duplicate => report.duplicates += 1,
            }
        }
        self.flush().await?;
        Ok(report)
    }

    /// Answers notifications (and, with `requests_per_minute` > 0, generates requests) until
    /// `shutdown` turns true or its sender is dropped. Queue failures are logged and retried;
    /// only a failure of the simulator's own state ends the loop.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), SimError> {
        let wait = Duration::from_millis(self.config.receive_wait_ms.max(1));
        let per_request = (self.config.requests_per_minute > 0)
            .then(|| Duration::from_secs_f64(60.0 / f64::from(self.config.requests_per_minute)));
        let mut next_shipment = per_request.map(|d| tokio::time::Instant::now() + d);
        tracing::info!(transport = %self.connector.describe(), "simulator running");
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Generation and answering take turns rather than race: an answer_pending cut short
            // after its commit would leave its messages locked in the receiver we keep.
            let now = tokio::time::Instant::now();
            let outcome = if let (Some(at), Some(d)) = (next_shipment, per_request)
                && now >= at
            {
                let cards = self.shipment_size();
                next_shipment = Some(now + d * cards);
                self.generate(cards).await.map(|r| tracing::info!(requests = r.requests, "generated a shipment"))
            } else {
                let wait = next_shipment.map_or(wait, |at| wait.min(at.saturating_duration_since(now)));
                tokio::select! {
                    r = self.answer_pending(wait) => r.map(|_| ()),
                    changed = shutdown.changed() => {
                        if changed.is_err() { break }
                        continue;
                    }
                }
            };
            match outcome {
                Ok(()) => {}
                Err(SimError::Transport(e)) => {
                    tracing::warn!(error = %e, "simulator: queue failure; retrying");
                    let backoff = if e.kind == TransportErrorKind::Rejected { Duration::from_millis(100) } else { Duration::from_secs(1) };
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    self.close_receiver().await;
                    return Err(e);
                }
            }
        }
        // A receive cut short by shutdown may hold locks: dropping the receiver gives the
        // messages back (to this simulator's next start, or another consumer).
        self.close_receiver().await;
        tracing::info!("simulator stopped");
        Ok(())
    }

    async fn close_receiver(&self) {
        *self.receiver.lock().await = None;
    }

    fn shipment_size(&self) -> u32 {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let max = self.config.max_cards_per_shipment.max(1);
        let min = self.config.min_cards_per_shipment.clamp(1, max);
        rng.random_range(min..=max)
    }

    /// Sends everything queued in the state, oldest first; marks what the queue took.
    async fn flush(&self) -> Result<(), SimError> {
        let mut guard = self.sender.lock().await;
        loop {
            let batch = state::with_conn(&self.conn, |conn| state::pending(conn, SEND_BATCH)).await?;
            if batch.is_empty() {
                return Ok(());
            }
            let sender = match guard.as_mut() {
                Some(s) => s,
                None => guard.insert(self.connector.sender(&self.config.requests_queue).await?),
            };
            let messages: Vec<OutboundMessage> = batch.iter().map(|(_, m)| m.clone()).collect();
            let results = sender.send(&messages).await;
            let mut done = Vec::new();
            let mut failure = None;
            for ((seq, _), result) in batch.iter().zip(results) {
                match result {
                    Ok(()) => done.push((*seq, None)),
                    // Refused for good (too large): resending the same bytes will not help.
                    Err(e) if e.kind == TransportErrorKind::Rejected => done.push((*seq, Some(e.message))),
                    Err(e) => {
                        // Keep the order: stop at the first message not taken.
                        failure = Some(e);
                        break;
                    }
                }
            }
            state::with_conn(&self.conn, move |conn| state::mark_sent(conn, &done)).await?;
            if let Some(e) = failure {
                *guard = None;
                return Err(e.into());
            }
        }
    }

    /// Every card requested (valid requests only), in order.
    pub async fn cards(&self) -> Result<Vec<SimCard>, SimError> {
        state::with_conn(&self.conn, |conn| state::cards(conn, None)).await
    }

    pub async fn card(&self, card_id: &str) -> Result<Option<SimCard>, SimError> {
        let id = card_id.to_owned();
        state::with_conn(&self.conn, move |conn| Ok(state::cards(conn, Some(&id))?.into_iter().next())).await
    }

    /// Cards that got REPORT_OK, in request order.
    pub async fn reported_cards(&self) -> Result<Vec<String>, SimError> {
        Ok(self.cards().await?.into_iter().filter(|c| c.report_ok).map(|c| c.card_id).collect())
    }

    /// Every message the simulator sent or queued to send, requests and answers.
    pub async fn sent(&self) -> Result<Vec<SentRecord>, SimError> {
        state::with_conn(&self.conn, |conn| state::sent(conn)).await
    }

    /// Every message the simulator received, with what it did.
    pub async fn received(&self) -> Result<Vec<ReceivedRecord>, SimError> {
        state::with_conn(&self.conn, |conn| state::received(conn)).await
    }

    /// Every SHIPPED received, accepted or not.
    pub async fn parcels(&self) -> Result<Vec<ParcelRecord>, SimError> {
        state::with_conn(&self.conn, |conn| state::parcels(conn)).await
    }
}

/// Durable id counters, read and advanced inside the generating transaction.
struct Counters {
    prefix: String,
    next_card: u64,
    next_shipment: u64,
}

impl Ids for Counters {
    fn next_card_id(&mut self) -> String {
        self.next_card += 1;
        format!("{}-{:07}", self.prefix, self.next_card)
    }

    fn next_shipment_id(&mut self) -> String {
        self.next_shipment += 1;
        format!("SHP-{}-{:06}", self.prefix, self.next_shipment)
    }
}

fn counter(conn: &Connection, key: &str) -> Result<u64, SimError> {
    state::meta_get(conn, key)?
        .map(|v| v.parse::<u64>().map_err(|e| SimError::Corrupt(format!("{key}: {e}"))))
        .transpose()
        .map(|v| v.unwrap_or(0))
}

/// Builds the requests, records them and queues them for sending, in one transaction.
fn generate_in(conn: &mut Connection, config: &SimConfig, rng: &mut StdRng, n_requests: u32) -> Result<GenerateReport, SimError> {
    let tx = conn.transaction()?;
    let mut ids = Counters {
        prefix: state::meta_get(&tx, "id_prefix")?.unwrap_or_else(|| "SIM".into()),
        next_card: counter(&tx, "next_card")?,
        next_shipment: counter(&tx, "next_shipment")?,
    };
    let mut report = GenerateReport::default();
    let now = chrono::Utc::now();
    let faults = &config.faults;
    let mut left = n_requests;
    while left > 0 {
        let max = config.max_cards_per_shipment.max(1);
        let size = rng.random_range(config.min_cards_per_shipment.clamp(1, max)..=max).min(left);
        left -= size;
        let requests = generate::shipment(rng, &mut ids, size as usize, rate(config.accessory_rate), &config.wire, now);
        for request in requests {
            report.requests += 1;
            let mut body = serde_json::to_value(&request)?;
            let violation = rng.random_bool(rate(faults.invalid_request)).then(|| Violation::pick(rng));
            if let Some(v) = violation {
                v.apply(&mut body);
                report.invalid_requests += 1;
            } else {
                record_request(&tx, &request, &mut report)?;
            }
            let message = request_message(serde_json::to_vec(&body)?);
            if violation.is_none() {
                tx.execute("UPDATE card SET request_message_id = ?2 WHERE card_id = ?1", params![request.card.card_id, message.message_id])?;
            }
            state::push_outbox(&tx, &message, violation.map(Violation::name))?;
            report.message_ids.push(message.message_id.clone());
            if rng.random_bool(rate(faults.duplicate_send)) {
                state::push_outbox(&tx, &message, Some("duplicate send"))?;
                report.message_ids.push(message.message_id.clone());
                report.duplicate_sends += 1;
            }
            if violation.is_none() && rng.random_bool(rate(faults.card_conflict)) {
                let changed = generate::conflicting_version(rng, &request);
                let conflict = request_message(serde_json::to_vec(&changed)?);
                state::push_outbox(&tx, &conflict, Some("card conflict"))?;
                report.message_ids.push(conflict.message_id.clone());
                report.card_conflicts += 1;
            }
        }
    }
    state::meta_set(&tx, "next_card", &ids.next_card.to_string())?;
    state::meta_set(&tx, "next_shipment", &ids.next_shipment.to_string())?;
    tx.commit()?;
    tracing::info!(requests = report.requests, invalid = report.invalid_requests, "requests generated");
    Ok(report)
}

/// Adds a valid request to the state: the card, its shipment, the shipment's accessories.
fn record_request(tx: &rusqlite::Transaction<'_>, request: &ExternalProductionData, report: &mut GenerateReport) -> Result<(), SimError> {
    let now = state::now_text();
    let new_shipment = tx.execute(
        "INSERT OR IGNORE INTO shipment (shipment_id, organisation_id, created_at) VALUES (?1, ?2, ?3)",
        params![request.shipment_id, request.organisation_id, now],
    )?;
    if new_shipment > 0 {
        report.shipment_ids.push(request.shipment_id.clone());
    }
    tx.execute(
        "INSERT INTO card (card_id, shipment_id, organisation_id, request_message_id, request) VALUES (?1, ?2, ?3, '', ?4)",
        params![request.card.card_id, request.shipment_id, request.organisation_id, serde_json::to_string(request)?],
    )?;
    for a in &request.accessories {
        tx.execute(
            "INSERT INTO shipment_accessory (shipment_id, article_id, accessory_id, requested) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (shipment_id, article_id, accessory_id) DO UPDATE SET requested = requested + excluded.requested",
            params![request.shipment_id, a.article_id, a.accessory_id, a.quantity],
        )?;
    }
    report.card_ids.push(request.card.card_id.clone());
    Ok(())
}

fn request_message(body: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        subject: Subject::RequestSent.as_str().to_owned(),
        correlation_id: None,
        content_type: "application/json".into(),
        body,
    }
}
