//! The peek-lock receiver. A task of its own owns the AMQP link: it keeps taking transfers off
//! the link and re-granting credit while the caller commits, and it sends the caller's
//! dispositions. The caller sees a queue of received messages and settles by tag.
//!
//! Why a task: credit is only re-granted once the previous grant is used up (see
//! [`LinkTask::refill`]), and a grant is used up only when someone takes the transfers off the
//! link. With the caller doing that between commits, the broker sat idle during every commit,
//! and a commit never got more than one grant's worth of messages (one fsync per 32 messages
//! with the old default). Now the broker keeps delivering while a batch commits, so the next
//! batch is whatever arrived meanwhile — bounded by [`ServiceBusConfig::max_locked`].

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use cardbench_transport::{Delivery, DeliveryTag, QueueReceiver, TransportError, TransportErrorKind};
use fe2o3_amqp::link::delivery::DeliveryInfo;
use fe2o3_amqp::link::{CreditMode, Receiver, RecvError};
use fe2o3_amqp::types::definitions::{ReceiverSettleMode, SenderSettleMode};
use fe2o3_amqp::types::messaging::{Body, Message};
use fe2o3_amqp::types::primitives::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::ServiceBusConfig;
use crate::connect::{self, Link, classify_link_error};
use crate::error::StepError;
use crate::link::{CLOSE_TIMEOUT, EXCHANGE_TIMEOUT, IntoLinkFailure, bounded, close_quietly, conn_err};
use crate::mapping;

/// A received message with its application properties and annotations, or the failure that
/// ended the link.
type Received = Result<(Delivery, Vec<(String, String)>), TransportError>;

/// What the caller asks of the link task.
enum Command {
    /// Accept (complete) or release (abandon) these deliveries; the reply says whether the
    /// dispositions went out.
    Settle { tags: Vec<DeliveryTag>, accept: bool, reply: oneshot::Sender<Result<(), TransportError>> },
}

/// Peek-lock receiver on one address.
pub struct AmqpReceiver {
    address: String,
    received: mpsc::UnboundedReceiver<Received>,
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
    /// The failure that ended the link task, once seen; every later call returns it.
    failed: Option<TransportError>,
}

impl AmqpReceiver {
    /// Attaches a receiver on `address` that grants `credit` at a time and holds at most
    /// `max_locked` messages locked (received and not yet settled).
    pub(crate) async fn open(config: &ServiceBusConfig, address: String, credit: u32, max_locked: u32) -> Result<Self, StepError> {
        let mut conn = connect::open(config).await?;
        conn.authorize(config, &address).await?;
        let link = Receiver::builder()
            .name(format!("cardbench-rx-{}", uuid::Uuid::new_v4()))
            .source(address.clone())
            // Peek-lock: the broker keeps each message locked until our disposition.
            .sender_settle_mode(SenderSettleMode::Unsettled)
            // First: our disposition settles the delivery; no answer from the broker is awaited
            // (Service Bus completes on the accepted disposition itself).
            .receiver_settle_mode(ReceiverSettleMode::First)
            // Manual, topped up only once used up (see `LinkTask::refill`): fe2o3's auto mode
            // re-grants while transfers are in flight, and RabbitMQ 3.10 then over-sends
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
        // A grant larger than what may be locked could never be made. (Credit 0: never granted,
        // nothing locked — `check_connection` only attaches.)
        let max_locked = (max_locked as usize).max(credit as usize);
        tracing::debug!(address = %address, credit, max_locked, "receiver attached");
        let (received_tx, received) = mpsc::unbounded_channel();
        // Settles are awaited one at a time by the caller: a short queue is plenty.
        let (commands, commands_rx) = mpsc::channel(8);
        let task = LinkTask {
            link,
            conn: Some(conn),
            address: address.clone(),
            held: HashMap::new(),
            next_tag: 1,
            count_first_acquirer: config.count_first_acquirer,
            credit,
            max_locked,
            max_message_size: usize::try_from(config.max_message_size).unwrap_or(usize::MAX),
        };
        let task = tokio::spawn(task.run(commands_rx, received_tx));
        Ok(AmqpReceiver { address, received, commands, task, failed: None })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Messages received from the broker and not yet taken by a `receive` call.
    pub fn buffered(&self) -> usize {
        self.received.len()
    }

    fn closed(&mut self) -> TransportError {
        self.failed.clone().unwrap_or_else(|| conn_err(format!("the receiver on `{}` has stopped", self.address)))
    }

    /// One item from the link task: a message, or the failure that ended it (kept for later calls).
    fn item(&mut self, item: Option<Received>) -> Result<(Delivery, Vec<(String, String)>), TransportError> {
        match item {
            Some(Ok(d)) => Ok(d),
            Some(Err(e)) => {
                self.failed = Some(e.clone());
                Err(e)
            }
            None => Err(self.closed()),
        }
    }

    /// Like [`QueueReceiver::receive`], plus each message's application properties and
    /// annotations (for dead-letter inspection). Cancel-safe: a message is taken off the queue
    /// only when it is returned.
    pub async fn receive_raw(&mut self, max: usize, wait: Duration) -> Result<Vec<(Delivery, Vec<(String, String)>)>, TransportError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let first = match self.received.try_recv() {
            Ok(r) => Some(r),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) if wait.is_zero() => return Ok(out),
            Err(mpsc::error::TryRecvError::Empty) => match tokio::time::timeout(wait, self.received.recv()).await {
                Err(_) => return Ok(out),
                Ok(r) => r,
            },
        };
        out.push(self.item(first)?);
        // What has already arrived comes at once; waiting for a batch to fill would only delay
        // the commit (more arrives while it runs).
        while out.len() < max {
            match self.received.try_recv() {
                Ok(r) => out.push(self.item(Some(r))?),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.item(None)?;
                }
            }
        }
        Ok(out)
    }

    async fn settle(&mut self, tags: &[DeliveryTag], accept: bool) -> Result<(), TransportError> {
        if tags.is_empty() {
            return Ok(());
        }
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let (reply, answer) = oneshot::channel();
        if self.commands.send(Command::Settle { tags: tags.to_vec(), accept, reply }).await.is_err() {
            return Err(self.closed());
        }
        match tokio::time::timeout(EXCHANGE_TIMEOUT, answer).await {
            Ok(Ok(r)) => r,
            // The task ended without answering (it only does on a panic).
            Ok(Err(_)) => Err(self.closed()),
            Err(_) => Err(conn_err(format!("settling on `{}`: no answer in {} s", self.address, EXCHANGE_TIMEOUT.as_secs()))),
        }
    }

    /// Detaches and closes. (RabbitMQ answers a link *close* with an error: detach instead.)
    pub async fn close(self) {
        let AmqpReceiver { commands, task, received, .. } = self;
        // The task sees no more commands coming, detaches and closes the connection.
        drop(commands);
        drop(received);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT * 3, task).await;
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

/// The link, owned by its task.
struct LinkTask {
    // Field order matters for drop: the link before the connection it runs on.
    link: Receiver,
    conn: Option<Link>,
    address: String,
    /// Received and not yet settled: what this receiver holds locked.
    held: HashMap<u64, DeliveryInfo>,
    next_tag: u64,
    count_first_acquirer: bool,
    credit: u32,
    max_locked: usize,
    /// Bodies beyond this are cut after one byte more (see [`mapping::body_bytes_within`]).
    max_message_size: usize,
}

impl LinkTask {
    /// Takes transfers off the link and settles on command until the receiver is dropped or
    /// closed (then detaches politely) or the link fails (then the failure is the last thing
    /// the receiver gets).
    async fn run(mut self, mut commands: mpsc::Receiver<Command>, received: mpsc::UnboundedSender<Received>) {
        loop {
            if let Err(e) = self.refill().await {
                let _ = received.send(Err(e));
                break;
            }
            tokio::select! {
                // Settling first: it frees room for the next grant, and a commit waits for it.
                biased;
                command = commands.recv() => match command {
                    Some(Command::Settle { tags, accept, reply }) => {
                        let result = self.settle(&tags, accept).await;
                        let fatal = result.as_ref().err().filter(|e| e.kind == TransportErrorKind::Connection).cloned();
                        let _ = reply.send(result);
                        if let Some(e) = fatal {
                            let _ = received.send(Err(e));
                            break;
                        }
                    }
                    None => break,
                },
                // Cancel-safe (fe2o3 #22): a transfer is taken only when recv completes.
                r = self.link.recv::<Body<Value>>() => {
                    let item = self.take(r);
                    let failed = item.is_err();
                    if received.send(item).is_err() || failed {
                        break;
                    }
                }
            }
        }
        let conn = self.conn.take();
        close_quietly(async { let _ = self.link.detach().await; }, conn).await;
    }

    /// Grants `credit` again once the previous grant is used up — then nothing is in flight, so
    /// no broker can count it differently (RabbitMQ 3.10 over-sends on a grant made while
    /// transfers are under way) — and only if a whole grant still fits under `max_locked`.
    /// Costs one flow frame per `credit` messages, and one broker round trip of idle link each.
    async fn refill(&mut self) -> Result<(), TransportError> {
        if self.credit > 0 && self.link.credit() == 0 && self.held.len() + self.credit as usize <= self.max_locked {
            let address = &self.address;
            let credit = self.credit;
            let grant = async { self.link.set_credit(credit).await.map_err(|e| conn_err(format!("granting credit on `{address}`: {e}"))) };
            bounded(|| format!("granting credit on `{address}`"), grant).await?;
            tracing::trace!(address = %self.address, credit, held = self.held.len(), "credit granted");
        }
        Ok(())
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
    fn take(&mut self, r: Result<fe2o3_amqp::link::delivery::Delivery<Body<Value>>, RecvError>) -> Received {
        match r {
            Ok(d) => {
                let (info, message) = d.into_parts();
                let tag = self.hold(info);
                let delivery = mapping::amqp_to_delivery_within(tag, &message, self.count_first_acquirer, self.max_message_size);
                if delivery.body.len() > self.max_message_size {
                    tracing::warn!(address = %self.address, max = self.max_message_size, "received a message larger than the maximum message size; passing on its first bytes only");
                }
                Ok((delivery, mapping::extra_fields(&message)))
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

    /// One disposition per run of consecutive deliveries (fe2o3's `accept_all`), not one per
    /// message. In settle mode First nothing comes back to wait for.
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
}
