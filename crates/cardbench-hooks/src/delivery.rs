//! The HTTP senders: one per subscriber, over its outbox destination (`webhook:<name>`,
//! `forward:<name>`), modelled on the NGOC sender (`cardbench-runtime/src/sender.rs`).
//!
//! A sender claims its destination's due rows in order and POSTs them one at a time. Every
//! attempt is recorded (`delivery_attempts`: status, latency, outcome, error, the response's
//! head) in the same transaction that settles the row, as soon as the answer is in (while the
//! next row is on its way; see `deliver_rows`), so a crash re-sends at most the answers of the
//! commit in progress:
//! - delivered: the row is marked sent;
//! - permanent: the row is closed with its reason (not retried; a resend puts it back);
//! - retry: the row waits for a growing delay and the sender waits with it, so the rows behind
//!   it keep their order; after `pause_after_failures` failures in a row that lasted at least
//!   `pause_after_seconds`, the subscriber is paused with the reason;
//! - stopped (credentials refused): the subscriber is paused at once.
//!
//! A paused subscriber's rows wait (nothing is dropped) until `resume`. The [`Hooks`] service
//! looks at the subscriber list every second and starts a sender for a subscriber added while
//! it runs; a removed subscriber's sender ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_store::outbox::{self, OutboxRow};
use cardbench_transport::backoff::Backoff;
use cardbench_workflow::Workflow;
use cardbench_workflow::reporting::subscribers::{self as subs, SignatureEncoding};
use cardbench_workflow::reporting::{Subscriber, SubscriberKind};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::forward::{self, ForwardSettings, Source, Unsendable};
use crate::signature::{self, Encoding};
use crate::{HooksError, Outcome, webhook};

/// `[hooks]` in the config: how the HTTP senders retry and when they give up on a subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HooksConfig {
    /// The first retry's delay; each next one doubles (with jitter) up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    /// A subscriber is paused after this many failed attempts in a row ...
    pub pause_after_failures: u32,
    /// ... that went on for at least this long (so a short outage never needs a person).
    pub pause_after_seconds: u64,
    /// One request's time limit, connecting included.
    pub timeout_seconds: u64,
    /// Rows read per round. A round ends by waiting until its answers are recorded, so small
    /// rounds make the disk's flush pace the deliveries again (100: a quarter of the rate of
    /// 1,000 in `cardbench bench --only hooks`).
    pub batch: u32,
}

impl Default for HooksConfig {
    fn default() -> Self {
        HooksConfig {
            retry_initial_ms: 1_000,
            retry_max_ms: 60_000,
            pause_after_failures: 10,
            pause_after_seconds: 600,
            timeout_seconds: 10,
            batch: 1_000,
        }
    }
}

impl HooksConfig {
    pub fn backoff(&self) -> Backoff {
        Backoff { initial: Duration::from_millis(self.retry_initial_ms), max: Duration::from_millis(self.retry_max_ms.max(1)) }
    }
}

/// The first bytes of a response body kept with its attempt.
pub use cardbench_store::deliveries::RESPONSE_HEAD;

/// How often an idle sender re-reads its due rows (another process may have queued some) and
/// how often the service looks for added subscribers.
const IDLE_POLL: Duration = Duration::from_millis(500);
const SUBSCRIBER_POLL: Duration = Duration::from_secs(1);

/// The HTTP client every sender uses: rustls, no redirects (a signed request is not re-sent
/// elsewhere), the configured time limit.
pub fn client(config: &HooksConfig) -> Result<reqwest::Client, HooksError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_seconds.max(1)))
        .connect_timeout(Duration::from_secs(config.timeout_seconds.clamp(1, 10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cardbench/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HooksError::Client(e.to_string()))
}

/// Where and how one subscriber's requests go, with its secret from the keyring.
#[derive(Clone)]
pub enum Target {
    Webhook { url: String, secret: cardbench_secrets::Secret, encoding: Encoding },
    Forward { url: String, user: String, password: cardbench_secrets::Secret, settings: Box<ForwardSettings> },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Webhook { url, encoding, .. } => write!(f, "webhook {url} ({})", encoding.as_str()),
            Target::Forward { url, user, .. } => write!(f, "forward {url} as {user}"),
        }
    }
}

impl From<SignatureEncoding> for Encoding {
    fn from(e: SignatureEncoding) -> Encoding {
        match e {
            SignatureEncoding::Hex => Encoding::Hex,
            SignatureEncoding::Base64 => Encoding::Base64,
        }
    }
}

impl Target {
    /// The subscriber's target, its secret read from the keyring. An error says why it cannot
    /// send (shown as the reason it is paused).
    pub fn of(sub: &Subscriber) -> Result<Target, String> {
        let secret = sub.secret().map_err(|e| format!("the keyring: {e}"))?;
        match sub.kind {
            SubscriberKind::Webhook => {
                let secret = secret.ok_or_else(|| "no secret in the keyring".to_owned())?;
                Ok(Target::Webhook { url: sub.url.clone(), secret, encoding: sub.encoding().into() })
            }
            SubscriberKind::Forward => {
                let password = secret.ok_or_else(|| "no password in the keyring".to_owned())?;
                let settings: ForwardSettings = serde_json::from_value(sub.settings.clone())
                    .map_err(|e| format!("the sink's settings cannot be read: {e}"))?;
                Ok(Target::Forward { url: sub.url.clone(), user: settings.user.clone(), password, settings: Box::new(settings) })
            }
        }
    }
}

/// One attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub response: Option<String>,
}

impl Attempt {
    fn unsendable(reason: String) -> Attempt {
        Attempt { status: None, latency_ms: 0, outcome: Outcome::Permanent, error: Some(reason), response: None }
    }
}

/// What a forwarding attempt sends: the Event's JSON, or why there is none.
pub fn forward_body(workflow: &Workflow, settings: &ForwardSettings, envelope: &str) -> Result<String, Unsendable> {
    let env: serde_json::Value = serde_json::from_str(envelope).map_err(|_| Unsendable::NoCard)?;
    let topic = env.get("topic").and_then(|t| t.as_str()).unwrap_or_default();
    let created_ms = env
        .get("created")
        .and_then(|c| c.as_str())
        .and_then(cardbench_store::time::parse)
        .map(|t| t.timestamp_millis())
        .unwrap_or_default();
    let data = env.get("data").cloned().unwrap_or(serde_json::Value::Null);
    let text = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_owned).filter(|s| !s.is_empty());
    let parcel = data.get("parcelId").and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    let (card, shipment) = (text("cardId"), text("shipmentId"));
    let sources = workflow
        .store()
        .read(|c| -> Result<Result<Vec<Source>, Unsendable>, cardbench_store::StoreError> {
            let ids: Vec<String> = match (card, parcel, shipment) {
                (Some(card), _, _) => vec![card],
                (None, Some(parcel), _) => cardbench_store::retention::parcel_card_ids(c, parcel)?.unwrap_or_default(),
                (None, None, Some(shipment)) => {
                    cardbench_store::cards::in_shipment(c, &shipment)?.into_iter().map(|r| r.card_id).collect()
                }
                (None, None, None) => return Ok(Err(Unsendable::NoCard)),
            };
            let mut sources = Vec::new();
            for id in ids {
                match cardbench_store::retention::card_kept(c, &id)? {
                    None => return Ok(Err(Unsendable::UnknownCard(id))),
                    Some(false) => return Ok(Err(Unsendable::Purged(id))),
                    Some(true) => {}
                }
                let Some(row) = cardbench_store::cards::get(c, &id)? else { return Ok(Err(Unsendable::UnknownCard(id))) };
                let received_ms = cardbench_store::time::parse(&row.received_at).map(|t| t.timestamp_millis()).unwrap_or_default();
                sources.push(Source { request: row.request, received_ms });
            }
            Ok(Ok(sources))
        })
        .map_err(|e| Unsendable::Store(e.to_string()))??;
    if sources.is_empty() {
        return Err(Unsendable::NoCard);
    }
    let event = forward::build(topic, created_ms, settings, &sources)?;
    serde_json::to_string(&event).map_err(|e| Unsendable::Store(e.to_string()))
}

/// Sends one outbox row to `target` now and says what came of it. Never fails: a transport
/// error is an attempt without status. A forwarding sink's Event is built here, from the store.
pub async fn attempt(workflow: &Workflow, client: &reqwest::Client, target: &Target, row: &OutboxRow) -> Attempt {
    let body = match target {
        Target::Webhook { .. } => row.body.clone(),
        Target::Forward { settings, .. } => {
            let (wf, settings, envelope) = (workflow.clone(), settings.as_ref().clone(), row.body.clone());
            match tokio::task::spawn_blocking(move || forward_body(&wf, &settings, &envelope)).await {
                Ok(Ok(body)) => body,
                Ok(Err(reason)) => return Attempt::unsendable(reason.to_string()),
                Err(e) => {
                    return Attempt { status: None, latency_ms: 0, outcome: Outcome::Retry, error: Some(e.to_string()), response: None };
                }
            }
        }
    };
    post(client, target, body, &row.subject, row.correlation_id.as_deref(), &row.message_id).await
}

/// POSTs `body` (the exact bytes) to `target`: a webhook's signed, a sink's with BASIC
/// credentials; classifies the answer by the target's rules.
pub async fn post(client: &reqwest::Client, target: &Target, body: String, topic: &str, event_id: Option<&str>, delivery: &str) -> Attempt {
    let mut request = match target {
        Target::Webhook { url, secret, encoding } => {
            let sig = signature::sign(secret.expose().as_bytes(), body.as_bytes(), *encoding);
            client.post(url).header(signature::HEADER, sig)
        }
        Target::Forward { url, user, password, .. } => client.post(url).basic_auth(user, Some(password.expose())),
    };
    request = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(webhook::TOPIC_HEADER, topic)
        .header(webhook::DELIVERY_HEADER, delivery);
    if let Some(id) = event_id {
        request = request.header(webhook::EVENT_ID_HEADER, id);
    }
    let started = Instant::now();
    let sent = request.body(body.into_bytes()).send().await;
    let (status, response, error) = match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            (Some(status), Some(head(&text)).filter(|t| !t.is_empty()), None)
        }
        Err(e) => (None, None, Some(describe(&e))),
    };
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let outcome = match (target, status) {
        (_, None) => Outcome::Retry,
        (Target::Webhook { .. }, Some(s)) => webhook::outcome(s),
        (Target::Forward { .. }, Some(s)) => forward::outcome(s, response.as_deref().unwrap_or_default()),
    };
    let error = error.or_else(|| match (outcome, status) {
        (Outcome::Delivered, _) | (_, None) => None,
        (Outcome::Stopped, Some(s)) => Some(format!("credentials refused (HTTP {s})")),
        (_, Some(s)) => Some(format!("HTTP {s}")),
    });
    Attempt { status, latency_ms, outcome, error, response }
}

/// The topic of the test event `webhook test` / `forward test` sends.
pub const TEST_TOPIC: &str = "TEST";

/// Sends a test request to subscriber `name` now, outside the outbox (nothing is recorded): a
/// webhook gets a signed envelope of topic [`TEST_TOPIC`], a sink a valid sample Event.
pub async fn send_test(workflow: &Workflow, config: &HooksConfig, name: &str) -> Result<Attempt, HooksError> {
    let (wf, key) = (workflow.clone(), name.to_owned());
    let sub = tokio::task::spawn_blocking(move || subs::get(wf.store(), &key))
        .await
        .map_err(|e| HooksError::Task(e.to_string()))?
        .map_err(|e| HooksError::Workflow(e.to_string()))?
        .ok_or_else(|| HooksError::UnknownSubscriber(name.to_owned()))?;
    let target = Target::of(&sub).map_err(HooksError::Workflow)?;
    let event_id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now();
    let body = match &target {
        Target::Webhook { .. } => serde_json::json!({
            "eventId": event_id,
            "created": cardbench_store::time::format(now),
            "apiVersion": "1",
            "topic": TEST_TOPIC,
            "data": {},
        })
        .to_string(),
        Target::Forward { settings, .. } => serde_json::to_string(&forward::sample(settings, now.timestamp_millis()))
            .map_err(|e| HooksError::Workflow(e.to_string()))?,
    };
    let client = client(config)?;
    Ok(post(&client, &target, body, TEST_TOPIC, Some(&event_id), &event_id).await)
}

/// The first [`RESPONSE_HEAD`] bytes of a response, cut at a character boundary.
fn head(text: &str) -> String {
    let mut end = text.len().min(RESPONSE_HEAD);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A transport error in one line, without the URL's query (which may carry a token).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_redirect() {
        "redirected"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { what.to_owned() } else { format!("{what}: {detail}") }
}

/// Runs the HTTP senders until [`Hooks::stop`].
pub struct Hooks {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Hooks {
    /// Starts the service on the current tokio runtime: a sender for every subscriber now and
    /// for each one added later.
    pub fn start(workflow: Workflow, config: HooksConfig) -> Result<Hooks, HooksError> {
        let client = client(&config)?;
        let (stop, stop_rx) = watch::channel(false);
        let ctx = Arc::new(Ctx { workflow, client, config });
        let task = tokio::spawn(manage(ctx, stop_rx));
        Ok(Hooks { stop, task })
    }

    /// Stops every sender after its current request and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the HTTP senders ended abnormally");
        }
    }
}

struct Ctx {
    workflow: Workflow,
    client: reqwest::Client,
    config: HooksConfig,
}

async fn manage(ctx: Arc<Ctx>, mut stop: watch::Receiver<bool>) {
    let mut running: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut outage = cardbench_store::health::OutageLog::default();
    loop {
        running.retain(|_, task| !task.is_finished());
        let wf = ctx.workflow.clone();
        match tokio::task::spawn_blocking(move || subs::list(wf.store())).await {
            Ok(Ok(live)) => {
                if outage.recovered() {
                    tracing::info!("the subscribers can be read again");
                }
                for sub in live {
                    if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(sub.name.clone()) {
                        slot.insert(tokio::spawn(send_loop(ctx.clone(), sub.name, stop.clone())));
                    }
                }
            }
            Ok(Err(e)) => {
                if outage.should_log(e.store_failure()) {
                    tracing::error!(error = %e, "cannot read the subscribers (said once while the store fails)");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the subscribers"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SUBSCRIBER_POLL) => {}
            _ = stopped(&mut stop) => break,
        }
    }
    for (_, task) in running {
        let _ = task.await;
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Failed attempts in a row, and since when.
#[derive(Default)]
struct Failures {
    count: u32,
    since: Option<Instant>,
}

async fn blocking<T: Send + 'static>(ctx: &Arc<Ctx>, work: impl FnOnce(&Workflow) -> T + Send + 'static) -> Option<T> {
    let wf = ctx.workflow.clone();
    match tokio::task::spawn_blocking(move || work(&wf)).await {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::error!(error = %e, "a store task failed");
            None
        }
    }
}

/// One subscriber's sender.
async fn send_loop(ctx: Arc<Ctx>, name: String, mut stop: watch::Receiver<bool>) {
    let mut commits = ctx.workflow.outbox_changes();
    let mut failures = Failures::default();
    // The target is read from the keyring once, again when the subscriber changes or resumes.
    let mut cached: Option<(Subscriber, Target)> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let key = name.clone();
        let sub = match blocking(&ctx, move |wf| subs::get(wf.store(), &key)).await {
            Some(Ok(Some(sub))) => sub,
            // Removed: this sender ends (the service starts a new one if it is added again).
            Some(Ok(None)) => return,
            Some(Err(e)) => {
                tracing::error!(error = %e, subscriber = %name, "cannot read the subscriber");
                if idle(&mut stop, &mut commits, IDLE_POLL).await {
                    return;
                }
                continue;
            }
            None => return,
        };
        if sub.paused_at.is_some() {
            failures = Failures::default();
            cached = None;
            if idle(&mut stop, &mut commits, IDLE_POLL).await {
                return;
            }
            continue;
        }
        let target = match &cached {
            // The same subscriber (not removed and added again with a new secret) unchanged.
            Some((seen, target)) if seen.created_at == sub.created_at && seen.url == sub.url && seen.settings == sub.settings => {
                target.clone()
            }
            _ => match Target::of(&sub) {
                Ok(target) => {
                    cached = Some((sub.clone(), target.clone()));
                    target
                }
                Err(reason) => {
                    tracing::warn!(subscriber = %name, %reason, "paused: cannot send");
                    pause(&ctx, &name, reason).await;
                    continue;
                }
            },
        };
        let destination = sub.destination();
        let rows = due(&ctx, &destination).await;
        if rows.is_empty() {
            if idle(&mut stop, &mut commits, IDLE_POLL).await {
                return;
            }
            continue;
        }
        match deliver_rows(&ctx, &name, &target, &destination, rows, &mut failures, &stop).await {
            Round::Done | Round::Paused => {}
            Round::Stopping => return,
            // The rows behind the failed one wait too, so they keep their order.
            Round::Wait(delay) => {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stopped(&mut stop) => return,
                }
            }
        }
    }
}

/// `destination`'s due rows, oldest first (none when the store cannot be read: logged).
async fn due(ctx: &Arc<Ctx>, destination: &str) -> Vec<OutboxRow> {
    let limit = ctx.config.batch.max(1);
    let dest = destination.to_owned();
    // One station of a floor sends a subscriber's rows at a time (cardbench_workflow::floor);
    // the others find nothing due here and look again at their idle poll.
    match blocking(ctx, move |wf| wf.sending_turn(&dest)).await {
        Some(Ok(true)) => {}
        Some(Ok(false)) | None => return Vec::new(),
        Some(Err(e)) => {
            tracing::error!(error = %e, %destination, "cannot take the sending lease");
            return Vec::new();
        }
    }
    let dest = destination.to_owned();
    match blocking(ctx, move |wf| wf.store().read(|c| outbox::due(c, &dest, &cardbench_store::time::now(), limit))).await {
        Some(Ok(rows)) => rows,
        Some(Err(e)) => {
            tracing::error!(error = %e, %destination, "cannot read the outbox");
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// How a round of rows ended.
enum Round {
    /// Every row got its answer recorded.
    Done,
    /// The subscriber was paused (the rest wait).
    Paused,
    /// A row is to be retried after this delay; the rest wait behind it.
    Wait(Duration),
    /// Shutdown was asked for.
    Stopping,
}

/// One answer to record: the attempt, the row's new state, a pause when one is due.
struct Settle {
    id: i64,
    at: String,
    retry_at: String,
    attempt: Attempt,
    pause: Option<String>,
}

/// Sends `rows` one at a time, in order. Each answer goes at once to a committer that records
/// it (the attempt, the row's new state, a pause) while the next row is on its way, several
/// answers per transaction when they come faster than a commit: the disk's flush no longer
/// paces the deliveries. The round ends only once everything answered is recorded, so the next
/// read of the due rows never sees an answered row again. A crash loses only the answers of the
/// commit in progress (those events go again: at least once; receivers dedupe on the eventId).
async fn deliver_rows(
    ctx: &Arc<Ctx>,
    name: &str,
    target: &Target,
    destination: &str,
    rows: Vec<OutboxRow>,
    failures: &mut Failures,
    stop: &watch::Receiver<bool>,
) -> Round {
    let backoff = ctx.config.backoff();
    let (settle, mut settled) = tokio::sync::mpsc::unbounded_channel::<Settle>();
    let committer = {
        let (ctx, name, destination) = (ctx.clone(), name.to_owned(), destination.to_owned());
        tokio::spawn(async move {
            while let Some(first) = settled.recv().await {
                let mut group = vec![first];
                while let Ok(more) = settled.try_recv() {
                    group.push(more);
                }
                let sub_name = name.clone();
                let written = blocking(&ctx, move |wf| {
                    wf.store().write(|tx| -> Result<(), cardbench_store::StoreError> {
                        for s in &group {
                            settle_row(tx, &sub_name, s)?;
                        }
                        Ok(())
                    })
                })
                .await;
                // Answered but not recorded: those rows go again (the receiver dedupes on the eventId).
                if let Some(Err(e)) = written {
                    tracing::error!(error = %e, %destination, "cannot record delivery attempts");
                }
            }
        })
    };
    let mut round = Round::Done;
    for row in rows {
        if *stop.borrow() {
            round = Round::Stopping;
            break;
        }
        let attempt = attempt(&ctx.workflow, &ctx.client, target, &row).await;
        let now = chrono::Utc::now();
        let failed = matches!(attempt.outcome, Outcome::Retry);
        if failed {
            failures.count = failures.count.saturating_add(1);
            failures.since.get_or_insert_with(Instant::now);
        } else if !matches!(attempt.outcome, Outcome::Stopped) {
            *failures = Failures::default();
        }
        let delay = backoff.delay(failures.count.saturating_sub(1));
        let pause = match attempt.outcome {
            Outcome::Stopped => Some(attempt.error.clone().unwrap_or_else(|| "credentials refused".into())),
            Outcome::Retry
                if failures.count >= ctx.config.pause_after_failures.max(1)
                    && failures.since.is_some_and(|s| s.elapsed() >= Duration::from_secs(ctx.config.pause_after_seconds)) =>
            {
                Some(format!("{} failed attempts in a row; last: {}", failures.count, attempt.error.as_deref().unwrap_or("no answer")))
            }
            _ => None,
        };
        tracing::debug!(%destination, outbox_id = row.id, outcome = attempt.outcome.as_str(), status = ?attempt.status, "delivery attempt");
        let paused = pause.is_some();
        let _ = settle.send(Settle {
            id: row.id,
            at: cardbench_store::time::format(now),
            retry_at: cardbench_store::time::format(now + chrono::Duration::from_std(delay).unwrap_or_default()),
            attempt,
            pause,
        });
        if paused {
            tracing::warn!(%destination, "paused after failed deliveries");
            round = Round::Paused;
            break;
        }
        if failed {
            round = Round::Wait(delay);
            break;
        }
    }
    drop(settle);
    if let Err(e) = committer.await {
        tracing::error!(error = %e, %destination, "the delivery recorder failed");
    }
    round
}

/// Records one answer and the row's new state.
fn settle_row(tx: &cardbench_store::Connection, name: &str, s: &Settle) -> Result<(), cardbench_store::StoreError> {
    record(tx, s.id, &s.at, &s.attempt)?;
    let error = s.attempt.error.as_deref().unwrap_or_default();
    match s.attempt.outcome {
        Outcome::Delivered => outbox::mark_sent(tx, s.id, &s.at)?,
        Outcome::Permanent => outbox::close(tx, s.id, error, &s.at)?,
        Outcome::Retry => outbox::mark_failed(tx, s.id, error, &s.retry_at)?,
        // Due again as soon as the subscriber is resumed.
        Outcome::Stopped => outbox::mark_failed(tx, s.id, error, &s.at)?,
    }
    if let Some(reason) = &s.pause {
        cardbench_store::subscribers::pause(tx, name, &s.at, reason)?;
    }
    Ok(())
}

/// Delivers `destination`'s due rows to `target` the way subscriber `name`'s sender does, until
/// none is due or one must wait; returns how many rows were attempted. For `cardbench bench`,
/// which measures exactly this path.
pub async fn drain(workflow: &Workflow, config: &HooksConfig, name: &str, destination: &str, target: &Target) -> Result<usize, HooksError> {
    let ctx = Arc::new(Ctx { workflow: workflow.clone(), client: client(config)?, config: config.clone() });
    let (_keep, stop) = watch::channel(false);
    let mut failures = Failures::default();
    let mut total = 0;
    loop {
        let rows = due(&ctx, destination).await;
        if rows.is_empty() {
            return Ok(total);
        }
        total += rows.len();
        if !matches!(deliver_rows(&ctx, name, target, destination, rows, &mut failures, &stop).await, Round::Done) {
            return Ok(total);
        }
    }
}

/// Waits for a commit that queued rows, the idle poll or the stop; true when stopped.
async fn idle(stop: &mut watch::Receiver<bool>, commits: &mut watch::Receiver<u64>, poll: Duration) -> bool {
    tokio::select! {
        _ = commits.changed() => false,
        _ = tokio::time::sleep(poll) => false,
        _ = stopped(stop) => true,
    }
}

async fn pause(ctx: &Arc<Ctx>, name: &str, reason: String) {
    let name = name.to_owned();
    let at = cardbench_store::time::now();
    match blocking(ctx, move |wf| wf.store().write(|tx| cardbench_store::subscribers::pause(tx, &name, &at, &reason))).await {
        Some(Ok(_)) => {}
        Some(Err(e)) => tracing::error!(error = %e, "cannot pause a subscriber"),
        None => {}
    }
}

/// Records one attempt of outbox row `outbox_id`.
fn record(conn: &cardbench_store::Connection, outbox_id: i64, at: &str, a: &Attempt) -> Result<(), cardbench_store::StoreError> {
    cardbench_store::deliveries::record(
        conn,
        &cardbench_store::deliveries::NewAttempt {
            outbox_id,
            at,
            status: a.status,
            latency_ms: a.latency_ms,
            outcome: a.outcome.as_str(),
            error: a.error.as_deref(),
            response: a.response.as_deref(),
        },
    )?;
    Ok(())
}
