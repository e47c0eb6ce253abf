//! The receiver and sender: each owns its own connection (a failure of one does not take the
//! other down, and recovery is simply: drop it, open a new one).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use cardbench_transport::{Delivery, DeliveryTag, OutboundMessage, QueueReceiver, QueueSender, TransportError, TransportErrorKind};
use fe2o3_amqp::link::delivery::DeliveryInfo;
use fe2o3_amqp::link::{CreditMode, Receiver, RecvError, SendError, Sender};
use fe2o3_amqp::types::definitions::{ReceiverSettleMode, SenderSettleMode};
use fe2o3_amqp::types::messaging::{Body, Message, Outcome};
use fe2o3_amqp::types::primitives::Value;

use crate::config::ServiceBusConfig;
use crate::connect::{self, Link, StepError, classify_link_error};
use crate::mapping;

fn conn_err(msg: impl Into<String>) -> TransportError {
    TransportError::new(TransportErrorKind::Connection, msg)
}

/// How long one exchange with the broker (a credit grant, a disposition, a send outcome) may
/// take. A broker that stops answering without closing the socket must turn into a link failure
/// (and a reconnect), never a receive or send loop that waits forever.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Closing is best effort: a peer that does not answer a detach or close is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// `fut`, or a Connection error naming `what` once [`EXCHANGE_TIMEOUT`] has passed.
async fn bounded<T>(what: impl FnOnce() -> String, fut: impl std::future::Future<Output = Result<T, TransportError>>) -> Result<T, TransportError> {
    match tokio::time::timeout(EXCHANGE_TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(conn_err(format!("{}: no answer from the broker in {} s", what(), EXCHANGE_TIMEOUT.as_secs()))),
    }
}

/// Detach, end the session and close the connection, each given [`CLOSE_TIMEOUT`].
async fn close_quietly(detach: impl std::future::Future<Output = ()>, conn: Option<Link>) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, detach).await;
    if let Some(c) = conn {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT * 2, c.close()).await;
    }
}

/// Peek-lock receiver on one address.
pub struct AmqpReceiver {
    // Field order matters for drop: the link before the connection it runs on.
    link: Receiver,
    conn: Option<Link>,
    address: String,
    held: HashMap<u64, DeliveryInfo>,
    next_tag: u64,
    count_first_acquirer: bool,
    credit: u32,
}

impl AmqpReceiver {
    pub(crate) async fn open(config: &ServiceBusConfig, address: String, credit: u32) -> Result<Self, StepError> {
        let mut conn = connect::open(config).await?;
        conn.authorize(config, &address).await?;
        let link = Receiver::builder()
            .name(format!("cardbench-rx-{}", uuid::Uuid::new_v4()))
            .source(address.clone())
            // Peek-lock: the broker keeps each message locked until our disposition.
            .sender_settle_mode(SenderSettleMode::Unsettled)
            .receiver_settle_mode(ReceiverSettleMode::First)
            // Small credit: locks start at delivery, so do not let many wait in our buffer.
            // Manual, topped up only once used up (see `refill`): fe2o3's auto mode re-grants
            // while transfers are in flight, and RabbitMQ 3.10 then over-sends
            // ("transfer limit exceeded", link lost) — seen in the 1,000-message test.
            .credit_mode(CreditMode::Manual)
            .auto_accept(false)
            .attach(&mut conn.session)
            .await
            .map_err(|e| {
                let inner = match &e {
                    fe2o3_amqp::link::ReceiverAttachError::RemoteClosedWithError(err) => Some(err),
                    fe2o3_amqp::link::ReceiverAttachError::SessionStopped(r) => connect::session_stop_error(r),
                    _ => None,
                };
                classify_link_error(&format!("cannot listen on `{address}`"), format!("{e:?}"), inner)
            })?;
        tracing::debug!(address = %address, credit, "receiver attached");
        Ok(AmqpReceiver { link, conn: Some(conn), address, held: HashMap::new(), next_tag: 1, count_first_acquirer: config.count_first_acquirer, credit })
    }

    /// Grants `credit` again once the previous grant is used up: then nothing is in flight, so no
    /// broker can count it differently. Costs one flow frame per `credit` messages.
    async fn refill(&mut self) -> Result<(), TransportError> {
        if self.credit > 0 && self.link.credit() == 0 {
            let address = &self.address;
            let grant = async { self.link.set_credit(self.credit).await.map_err(|e| conn_err(format!("granting credit on `{address}`: {e}"))) };
            bounded(|| format!("granting credit on `{address}`"), grant).await?;
        }
        Ok(())
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    fn hold(&mut self, info: DeliveryInfo) -> DeliveryTag {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.held.insert(tag, info);
        DeliveryTag(tag)
    }

    /// One received message, mapped. A message that does not decode as AMQP is still handed on
    /// (empty fields, empty body) so the workflow records and answers it instead of it sitting
    /// locked forever.
    fn take(&mut self, r: Result<fe2o3_amqp::link::delivery::Delivery<Body<Value>>, RecvError>) -> Result<(Delivery, Vec<(String, String)>), TransportError> {
        match r {
            Ok(d) => {
                let (info, message) = d.into_parts();
                let tag = self.hold(info);
                Ok((mapping::amqp_to_delivery(tag, &message, self.count_first_acquirer), mapping::extra_fields(&message)))
            }
            Err(RecvError::MessageDecode(e)) => {
                tracing::warn!(address = %self.address, error = %e.source, "received a message that is not valid AMQP; passing it on empty");
                let tag = self.hold(e.info);
                let empty = Message::builder().body(Body::<Value>::Empty).build();
                Ok((mapping::amqp_to_delivery(tag, &empty, false), vec![("decode-error".into(), e.source.to_string())]))
            }
            Err(RecvError::LinkStateError(e)) => {
                Err(classify_link_error(&format!("receiving from `{}`", self.address), format!("{e:?}"), connect::link_state_error(&e)).into_link_failure())
            }
            Err(e) => Err(conn_err(format!("receiving from `{}`: {e}", self.address))),
        }
    }

    /// Like [`QueueReceiver::receive`], plus each message's application properties and
    /// annotations (for dead-letter inspection).
    pub async fn receive_raw(&mut self, max: usize, wait: Duration) -> Result<Vec<(Delivery, Vec<(String, String)>)>, TransportError> {
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        self.refill().await?;
        let first = match tokio::time::timeout(wait, self.link.recv::<Body<Value>>()).await {
            Err(_) => return Ok(out),
            Ok(r) => r,
        };
        out.push(self.take(first)?);
        // What is already buffered comes at once; recv is cancel-safe, so a zero timeout that
        // fires loses nothing.
        while out.len() < max {
            match tokio::time::timeout(Duration::ZERO, self.link.recv::<Body<Value>>()).await {
                Err(_) => break,
                Ok(r) => out.push(self.take(r)?),
            }
        }
        Ok(out)
    }

    async fn settle(&mut self, tags: &[DeliveryTag], accept: bool) -> Result<(), TransportError> {
        let mut infos = Vec::with_capacity(tags.len());
        let mut unknown = Vec::new();
        for t in tags {
            match self.held.remove(&t.0) {
                Some(i) => infos.push(i),
                None => unknown.push(t.0),
            }
        }
        if !infos.is_empty() {
            let address = &self.address;
            let link = &mut self.link;
            let disposition = async move {
                let r = if accept { link.accept_all(infos).await } else { link.release_all(infos).await };
                r.map_err(|e| conn_err(format!("settling on `{address}`: {e}")))
            };
            bounded(|| format!("settling on `{address}`"), disposition).await?;
        }
        if !unknown.is_empty() {
            return Err(TransportError::new(TransportErrorKind::LockLost, format!("delivery tags {unknown:?} are not held by this receiver")));
        }
        Ok(())
    }

    /// Detaches and closes. (RabbitMQ answers a link *close* with an error: detach instead.)
    pub async fn close(mut self) {
        let conn = self.conn.take();
        close_quietly(async { let _ = self.link.detach().await; }, conn).await;
    }
}

trait IntoLinkFailure {
    fn into_link_failure(self) -> TransportError;
}
impl IntoLinkFailure for StepError {
    /// Once attached, a missing queue or lost permission still means the link is gone:
    /// keep NotFound/Forbidden (the operator must act), everything else is Connection.
    fn into_link_failure(self) -> TransportError {
        let e: TransportError = self.into();
        match e.kind {
            TransportErrorKind::NotFound | TransportErrorKind::Forbidden | TransportErrorKind::Auth => e,
            _ => TransportError::new(TransportErrorKind::Connection, e.message),
        }
    }
}

#[async_trait]
impl QueueReceiver for AmqpReceiver {
    async fn receive(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, TransportError> {
        Ok(self.receive_raw(max, wait).await?.into_iter().map(|(d, _)| d).collect())
    }
    async fn accept(&mut self, tags: &[DeliveryTag]) -> Result<(), TransportError> {
        self.settle(tags, true).await
    }
    async fn release(&mut self, tags: &[DeliveryTag]) -> Result<(), TransportError> {
        // `released`, not `modified`: RabbitMQ 3.10 ends the session on `modified`, and Service
        // Bus treats both as abandon.
        self.settle(tags, false).await
    }
}

/// Sender on one address.
pub struct AmqpSender {
    link: Sender,
    conn: Option<Link>,
    address: String,
}

impl AmqpSender {
    pub(crate) async fn open(config: &ServiceBusConfig, address: String) -> Result<Self, StepError> {
        let mut conn = connect::open(config).await?;
        conn.authorize(config, &address).await?;
        let link = Sender::builder()
            .name(format!("cardbench-tx-{}", uuid::Uuid::new_v4()))
            .target(address.clone())
            // We want an outcome per message (Accepted/Rejected) before marking a row sent.
            .sender_settle_mode(SenderSettleMode::Unsettled)
            .attach(&mut conn.session)
            .await
            .map_err(|e| {
                let inner = match &e {
                    fe2o3_amqp::link::SenderAttachError::RemoteClosedWithError(err) => Some(err),
                    fe2o3_amqp::link::SenderAttachError::SessionStopped(r) => connect::session_stop_error(r),
                    _ => None,
                };
                classify_link_error(&format!("cannot send to `{address}`"), format!("{e:?}"), inner)
            })?;
        tracing::debug!(address = %address, "sender attached");
        Ok(AmqpSender { link, conn: Some(conn), address })
    }

    pub async fn close(mut self) {
        let conn = self.conn.take();
        close_quietly(async { let _ = self.link.detach().await; }, conn).await;
    }

    fn send_error(&self, e: SendError) -> TransportError {
        if matches!(e, SendError::MessageSizeExceeded(_) | SendError::MessageEncodeError) {
            return TransportError::new(TransportErrorKind::Rejected, format!("sending to `{}`: {e}", self.address));
        }
        let inner = match &e {
            SendError::LinkStateError(l) => connect::link_state_error(l),
            SendError::Detached(d) => connect::detach_error(d),
            _ => None,
        };
        classify_link_error(&format!("sending to `{}`", self.address), format!("{e:?}"), inner).into_link_failure()
    }
}

#[async_trait]
impl QueueSender for AmqpSender {
    async fn send(&mut self, messages: &[OutboundMessage]) -> Vec<Result<(), TransportError>> {
        // Pipelined: all transfers go out first (bounded by link credit), then the outcomes are
        // collected in order. Awaiting each outcome before the next send costs a round trip per
        // message (durable: ~2.2k msg/s instead of ~5k on RabbitMQ here).
        let mut pending = Vec::with_capacity(messages.len());
        let mut failed: Option<TransportError> = None;
        for m in messages {
            if let Some(e) = &failed {
                pending.push(Err(e.clone()));
                continue;
            }
            // Waits for link credit: a broker that grants none (flow control) must not hold the
            // outbox forever.
            let transfer = tokio::time::timeout(EXCHANGE_TIMEOUT, self.link.send_batchable(mapping::outbound_to_amqp(m))).await;
            let Ok(transfer) = transfer else {
                let e = conn_err(format!("`{}` granted no credit for {} s", self.address, EXCHANGE_TIMEOUT.as_secs()));
                failed = Some(e.clone());
                pending.push(Err(e));
                continue;
            };
            match transfer {
                Ok(fut) => pending.push(Ok(fut)),
                Err(e) => {
                    let e = self.send_error(e);
                    failed = Some(e.clone());
                    pending.push(Err(e));
                }
            }
        }
        let mut results = Vec::with_capacity(pending.len());
        for (p, m) in pending.into_iter().zip(messages) {
            let r = match p {
                Err(e) => Err(e),
                Ok(fut) => match tokio::time::timeout(EXCHANGE_TIMEOUT, fut).await {
                    Err(_) => Err(conn_err(format!(
                        "`{}` gave no outcome for message {} in {} s",
                        self.address,
                        m.message_id,
                        EXCHANGE_TIMEOUT.as_secs()
                    ))),
                    Ok(outcome) => match outcome {
                    Ok(Outcome::Accepted(_)) => Ok(()),
                    Ok(Outcome::Rejected(r)) => Err(TransportError::new(
                        TransportErrorKind::Rejected,
                        format!(
                            "`{}` rejected message {}: {}",
                            self.address,
                            m.message_id,
                            r.error.as_ref().map(connect::describe_amqp_error).unwrap_or_else(|| "no reason given".into())
                        ),
                    )),
                    // Released/modified: the queue did not take it this time; try again later.
                    Ok(other) => Err(TransportError::new(TransportErrorKind::Other, format!("`{}` did not take message {}: {other:?}", self.address, m.message_id))),
                    Err(e) => Err(self.send_error(e)),
                    },
                },
            };
            results.push(r);
        }
        results
    }
}
