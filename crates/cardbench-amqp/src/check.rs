//! `check_connection`: tries each step in order and says which one failed, for
//! `cardbench check-connection` and the settings screen.

use serde::Serialize;

use crate::config::{Auth, ServiceBusConfig};
use crate::connect;
use crate::error::{Step, StepError};
use crate::link::AmqpSender;
use crate::receiver::AmqpReceiver;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    /// What was tried, e.g. "listen on inbound queue `to-bureau`".
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Where (never a secret).
    pub target: String,
    pub steps: Vec<StepResult>,
    /// The first failure: which step, and the message. `None` = all good.
    pub failed: Option<(Step, String)>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.failed.is_none()
    }
    fn pass(&mut self, what: impl Into<String>, detail: impl Into<String>) {
        self.steps.push(StepResult { what: what.into(), ok: true, detail: detail.into() });
    }
    fn fail(mut self, what: impl Into<String>, e: StepError) -> Self {
        self.record_failure(what, e);
        self
    }
    /// Records a failed step; the first one recorded stays the report's `failed`.
    fn record_failure(&mut self, what: impl Into<String>, e: StepError) {
        self.steps.push(StepResult { what: what.into(), ok: false, detail: e.message.clone() });
        if self.failed.is_none() {
            self.failed = Some((e.step, e.message));
        }
    }
}

/// Connects (DNS, TCP, TLS, AMQP + SASL) with the inbound credential and, when there is one,
/// the outbound credential; then checks each credential's right on its own queue: Listen on
/// the inbound queue (a receiver attached with zero credit: nothing gets locked) and Send on
/// the outbound queue (a sender attached). Both rights are checked even when the first is
/// missing, so a swapped pair of credentials is named in one run; `failed` is the first failure.
/// Sends nothing to, and receives nothing from, the configured queues.
///
/// On RabbitMQ (the rehearsal broker, `/amq/queue/` addressing) a sender attaches whatever the
/// user's rights, and the publish is what is refused: there the Send check also sends one probe
/// message to a queue that does not exist (see [`probe_send`]). On RabbitMQ a sender to a
/// missing `/amq/queue/X` attaches fine (messages are dropped), so a missing *outbound* queue is
/// only caught on Service Bus.
pub async fn check_connection(config: &ServiceBusConfig) -> CheckReport {
    let mut report = CheckReport { target: config.describe(), steps: Vec::new(), failed: None };
    let split = config.outbound_auth.is_some();
    let inbound_who = credential("inbound", config.inbound_auth(), split);
    let outbound_who = credential("outbound", config.outbound_auth(), split);
    report = match connect_step(report, config, split.then_some(inbound_who.as_str())).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let sending = config.sending();
    if split {
        report = match connect_step(report, &sending, Some(outbound_who.as_str())).await {
            Ok(r) => r,
            Err(r) => return r,
        };
    }

    let inbound = config.address(&config.inbound_queue);
    let what = format!("listen on inbound queue `{inbound}`");
    match AmqpReceiver::open(config, inbound.clone(), 0, 0).await {
        Ok(r) => {
            report.pass(what, "ok");
            r.close().await;
        }
        Err(e) => report.record_failure(what, name_the_right(e, &inbound_who, "Listen", &config.inbound_queue)),
    }
    let outbound = config.address(&config.outbound_queue);
    let what = format!("send to outbound queue `{outbound}`");
    match AmqpSender::open(&sending, outbound.clone()).await {
        Ok(s) => {
            s.close().await;
            if sends_through_default_exchange(config) {
                match probe_send(&sending).await {
                    Ok(probe) => report.pass(what, format!("ok (attached; a probe to `{probe}`, a queue that does not exist, was accepted)")),
                    Err(e) => report.record_failure(what, name_the_right(e, &outbound_who, "Send", &config.outbound_queue)),
                }
            } else {
                report.pass(what, "ok");
            }
        }
        Err(e) => report.record_failure(what, name_the_right(e, &outbound_who, "Send", &config.outbound_queue)),
    }
    if report.ok() && matches!(config.auth, Auth::SasCbs { .. }) {
        report.pass("SAS token (CBS put-token)", "accepted for both queues");
    }
    report
}

/// DNS … log in, with one credential. `who` names the credential when there are two.
/// `Err` carries the finished report (a failed connection ends the check).
async fn connect_step(mut report: CheckReport, config: &ServiceBusConfig, who: Option<&str>) -> Result<CheckReport, CheckReport> {
    let link = match connect::open(config).await {
        Ok(l) => l,
        Err(e) => {
            // Steps before the failing one passed; say so, so the report reads as a checklist.
            let order = [Step::Dns, Step::Tcp, Step::Tls, Step::WebSocket, Step::Amqp, Step::Auth];
            if report.steps.is_empty() {
                for s in order.iter().take_while(|s| **s != e.step) {
                    if (*s == Step::Tls && !config.tls) || (*s == Step::WebSocket && config.websocket.is_none()) {
                        continue;
                    }
                    report.pass(step_name(*s), "ok");
                }
            }
            let what = match who {
                Some(w) => format!("{} ({w})", step_name(e.step)),
                None => step_name(e.step).to_owned(),
            };
            let e = match (e.step, who) {
                (Step::Auth, Some(w)) => StepError::new(Step::Auth, format!("{w}: {}", e.message)),
                _ => e,
            };
            return Err(report.fail(what, e));
        }
    };
    let how = match (config.tls, config.websocket.is_some()) {
        (true, false) => "ok (TLS)",
        (true, true) => "ok (TLS, AMQP over WebSocket)",
        (false, false) => "ok (plain AMQP, loopback)",
        (false, true) => "ok (plain AMQP over WebSocket, loopback)",
    };
    let what = match who {
        Some(w) => format!("resolve, connect, TLS and log in ({w})"),
        None => "resolve, connect, TLS and log in".to_owned(),
    };
    report.pass(what, how);
    // Bounded like every other close: a broker that never answers the end/close must not hang
    // the check.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), link.close()).await;
    Ok(report)
}

/// "the inbound credential `partner-listen`", or "the credential `bureau`" when one serves both.
fn credential(side: &str, auth: &Auth, split: bool) -> String {
    if split { format!("the {side} credential `{}`", auth.name()) } else { format!("the credential `{}`", auth.name()) }
}

/// A refused link in words that name the credential, the right and the queue:
/// "the inbound credential `partner-send` has no Listen right on ngoc-requests (…)".
fn name_the_right(e: StepError, who: &str, right: &str, queue: &str) -> StepError {
    match e.step {
        Step::NoPermission => StepError::new(Step::NoPermission, format!("{who} has no {right} right on {queue} ({})", e.message)),
        Step::Auth => StepError::new(Step::Auth, format!("{who} was refused on {queue} ({})", e.message)),
        _ => e,
    }
}

/// RabbitMQ addressing (`/amq/queue/<name>`): its AMQP 1.0 plugin publishes through the default
/// exchange, checks the user's write right on `amq.default` only when a message is published,
/// and never at attach.
fn sends_through_default_exchange(config: &ServiceBusConfig) -> bool {
    config.address_prefix == "/amq/queue/"
}

/// How long the Send probe waits for its outcome. With the right, RabbitMQ accepts it at once.
/// Without it, RabbitMQ 3.10 refuses the publish by ending the AMQP 1.0 session inside the broker
/// (its log: "basic.publish caused a channel exception access_refused: access to exchange
/// 'amq.default' … refused") and sends the client nothing at all: silence is the refusal.
const PROBE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Sends one probe message to `/amq/queue/cardbench-send-probe-<uuid>`, a queue that does not
/// exist: with the right, RabbitMQ accepts and drops it (nothing is left anywhere); without it,
/// the publish is refused (access refused on `amq.default`; see [`PROBE_WAIT`]). The right is
/// the one sending to the outbound queue needs: RabbitMQ checks write on the exchange, not on
/// the queue, and both go through the default exchange. Returns the address.
async fn probe_send(sending: &ServiceBusConfig) -> Result<String, StepError> {
    use cardbench_transport::{OutboundMessage, QueueSender};
    let address = sending.address(&format!("cardbench-send-probe-{}", uuid::Uuid::new_v4().simple()));
    let mut sender = AmqpSender::open(sending, address.clone()).await?;
    let probe = OutboundMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        subject: "CARDBENCH_SEND_PROBE".to_owned(),
        correlation_id: None,
        content_type: "application/json".to_owned(),
        body: b"{}".to_vec(),
    };
    let outcome = tokio::time::timeout(PROBE_WAIT, sender.send(std::slice::from_ref(&probe))).await;
    let Ok(outcome) = outcome else {
        // The session is already gone inside the broker: nothing to close politely.
        drop(sender);
        return Err(StepError::new(
            Step::NoPermission,
            format!(
                "a probe message to `{address}` got no outcome within {} s: that is how RabbitMQ 3.10 refuses a publish without the write right on the default exchange `amq.default` (see the broker's log)",
                PROBE_WAIT.as_secs()
            ),
        ));
    };
    sender.close().await;
    match outcome.into_iter().next() {
        Some(Ok(())) => Ok(address),
        Some(Err(e)) => {
            let step = match e.kind {
                cardbench_transport::TransportErrorKind::Forbidden => Step::NoPermission,
                cardbench_transport::TransportErrorKind::Auth => Step::Auth,
                cardbench_transport::TransportErrorKind::NotFound => Step::QueueNotFound,
                _ => Step::Amqp,
            };
            Err(StepError::new(step, format!("a probe message to `{address}` was refused: {}", e.message)))
        }
        None => Err(StepError::new(Step::Amqp, format!("no outcome for a probe message to `{address}`"))),
    }
}

fn step_name(s: Step) -> &'static str {
    match s {
        Step::Dns => "resolve host name (DNS)",
        Step::Tcp => "TCP connect",
        Step::Tls => "TLS handshake",
        Step::WebSocket => "WebSocket upgrade (subprotocol amqp)",
        Step::Amqp => "AMQP 1.0 open",
        Step::Auth => "log in (SASL / SAS token)",
        Step::QueueNotFound => "queue exists",
        Step::NoPermission => "permission on queue",
    }
}
