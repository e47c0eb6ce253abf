//! `check_connection`: tries each step in order and says which one failed, for
//! `cardbench check-connection` and the settings screen.

use serde::Serialize;

use crate::config::{Auth, ServiceBusConfig};
use crate::connect::{self, Step, StepError};
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
        self.steps.push(StepResult { what: what.into(), ok: false, detail: e.message.clone() });
        self.failed = Some((e.step, e.message));
        self
    }
}

/// Connects (DNS, TCP, TLS, AMQP + SASL), then for each queue: CBS token (SAS), attach a
/// receiver on the inbound queue with zero credit (Listen right; nothing gets locked) and a
/// sender on the outbound queue (Send right). Sends and receives nothing.
///
/// On RabbitMQ a sender to a missing `/amq/queue/X` attaches fine (messages are dropped), so a
/// missing *outbound* queue is only caught on Service Bus.
pub async fn check_connection(config: &ServiceBusConfig) -> CheckReport {
    let mut report = CheckReport { target: config.describe(), steps: Vec::new(), failed: None };
    let link = match connect::open(config).await {
        Ok(l) => l,
        Err(e) => {
            // Steps before the failing one passed; say so, so the report reads as a checklist.
            let order = [Step::Dns, Step::Tcp, Step::Tls, Step::WebSocket, Step::Amqp, Step::Auth];
            for s in order.iter().take_while(|s| **s != e.step) {
                if (*s == Step::Tls && !config.tls) || (*s == Step::WebSocket && config.websocket.is_none()) {
                    continue;
                }
                report.pass(step_name(*s), "ok");
            }
            let what = step_name(e.step);
            return report.fail(what, e);
        }
    };
    let how = match (config.tls, config.websocket.is_some()) {
        (true, false) => "ok (TLS)",
        (true, true) => "ok (TLS, AMQP over WebSocket)",
        (false, false) => "ok (plain AMQP, loopback)",
        (false, true) => "ok (plain AMQP over WebSocket, loopback)",
    };
    report.pass("resolve, connect, TLS and log in", how);
    // Bounded like every other close: a broker that never answers the end/close must not hang
    // the check.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), link.close()).await;

    let inbound = config.address(&config.inbound_queue);
    match AmqpReceiver::open(config, inbound.clone(), 0, 0).await {
        Ok(r) => {
            report.pass(format!("listen on inbound queue `{inbound}`"), "ok");
            r.close().await;
        }
        Err(e) => return report.fail(format!("listen on inbound queue `{inbound}`"), e),
    }
    let outbound = config.address(&config.outbound_queue);
    match AmqpSender::open(config, outbound.clone()).await {
        Ok(s) => {
            report.pass(format!("send to outbound queue `{outbound}`"), "ok");
            s.close().await;
        }
        Err(e) => return report.fail(format!("send to outbound queue `{outbound}`"), e),
    }
    if matches!(config.auth, Auth::SasCbs { .. }) {
        report.pass("SAS token (CBS put-token)", "accepted for both queues");
    }
    report
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
