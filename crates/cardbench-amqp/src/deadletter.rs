//! A queue's dead-letter queue: list and show without taking (a real peek where the broker has
//! one), and take one message locked so that the caller can record it and then complete it —
//! or release it when recording failed. Nothing is ever sent anywhere from here: with NGOC's
//! read-only inbound rights Cardbench may not send into the inbound queue, and the caller
//! records the message itself (see `cardbench_runtime::deadletters`).
//!
//! Listing: Service Bus's `com.microsoft:peek-message` ([`crate::peek`]): no lock, no delivery
//! count raised. A broker without a `$management` node (RabbitMQ 3.10, the rehearsal broker)
//! refuses it; then, and only then, listing takes the messages locked and releases them again
//! ([`BrowseMethod::LockAndRelease`]). RabbitMQ 3.10 also ignores `distribution-mode = copy` on
//! the source (it echoes it and still locks: seen on the test broker), so that is no way out.

use std::time::Duration;

use cardbench_transport::{Delivery, DeliveryTag, QueueReceiver, TransportError};

use crate::connector::AmqpConnector;
use crate::mapping;
use crate::peek::{PeekError, Peeker};
use crate::receiver::AmqpReceiver;

/// One dead-lettered message as found, with the broker's extra fields (Service Bus:
/// DeadLetterReason, DeadLetterErrorDescription, x-opt-enqueued-time; RabbitMQ 3.10 over AMQP
/// 1.0 gives none).
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub delivery: Delivery,
    pub fields: Vec<(String, String)>,
}

impl DeadLetter {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// Why it was dead-lettered, as the broker says (Service Bus: reason and description;
    /// RabbitMQ over AMQP 0-9-1: x-first-death-reason).
    pub fn reason(&self) -> Option<String> {
        match (self.field("DeadLetterReason"), self.field("DeadLetterErrorDescription")) {
            (Some(r), Some(d)) => Some(format!("{r}: {d}")),
            (Some(r), None) => Some(r.to_owned()),
            (None, Some(d)) => Some(d.to_owned()),
            (None, None) => self.field("x-first-death-reason").map(str::to_owned),
        }
    }

    /// When the broker enqueued it (Service Bus's `x-opt-enqueued-time`), RFC 3339.
    pub fn enqueued_at(&self) -> Option<&str> {
        self.field(mapping::ENQUEUED_TIME_FIELD)
    }
}

/// How a listing was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowseMethod {
    /// Peeked on the management node: nothing locked, no delivery count raised.
    Peek,
    /// The broker has no peek: taken locked and released again. On Service Bus this would
    /// raise the delivery count; RabbitMQ 3.10 only marks them redelivered.
    LockAndRelease,
}

#[derive(Debug, Clone)]
pub struct Listing {
    pub letters: Vec<DeadLetter>,
    pub method: BrowseMethod,
}

/// After the first message, keep taking while the next comes within this: a receive returns only
/// what has arrived, and dead letters released by an earlier listing come back one by one.
const GATHER_GAP: Duration = Duration::from_millis(200);

enum PeekState {
    NotTried,
    Open(Box<Peeker>),
    /// The broker refused the management node (the reason is logged once).
    Unsupported,
}

pub struct DeadLetterBrowser {
    connector: AmqpConnector,
    address: String,
    peek: PeekState,
    /// Opened only when a message must be taken: attaching grants credit, and whatever the
    /// broker then sends is locked.
    receiver: Option<AmqpReceiver>,
}

impl DeadLetterBrowser {
    /// Connects nothing yet: the first call does.
    pub(crate) fn new(connector: AmqpConnector, queue: &str) -> Self {
        let address = connector.config().dead_letter_address(queue);
        DeadLetterBrowser { connector, address, peek: PeekState::NotTried, receiver: None }
    }

    /// The dead-letter queue's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    async fn receiver(&mut self) -> Result<&mut AmqpReceiver, TransportError> {
        if self.receiver.is_none() {
            let cfg = self.connector.config();
            // One grant locked at most: taking means looking through them for one id, and a
            // deeper buffer would only lock more dead letters for nothing.
            self.receiver = Some(AmqpReceiver::open(cfg, self.address.clone(), cfg.credit, cfg.credit).await?);
        }
        match self.receiver.as_mut() {
            Some(r) => Ok(r),
            None => Err(crate::link::conn_err("the dead-letter receiver is not open")),
        }
    }

    /// Up to `max` dead letters (waiting up to `wait` for the first, then until none comes within
    /// [`GATHER_GAP`]), locked. At most one credit grant's worth is locked at once, so that
    /// bounds `max`.
    async fn gather(&mut self, max: usize, wait: Duration) -> Result<Vec<(Delivery, Vec<(String, String)>)>, TransportError> {
        let receiver = self.receiver().await?;
        let mut got = receiver.receive_raw(max, wait).await?;
        while !got.is_empty() && got.len() < max {
            let more = receiver.receive_raw(max - got.len(), GATHER_GAP).await?;
            if more.is_empty() {
                break;
            }
            got.extend(more);
        }
        Ok(got)
    }

    /// Peeks when the broker can; None when it has no peek (then the caller browses).
    async fn try_peek(&mut self, max: usize) -> Result<Option<Vec<DeadLetter>>, TransportError> {
        if let PeekState::NotTried = self.peek {
            self.peek = match Peeker::open(self.connector.config(), &self.address).await {
                Ok(p) => PeekState::Open(Box::new(p)),
                Err(PeekError::Unsupported(why)) => {
                    tracing::info!(address = %self.address, %why, "the broker has no peek; dead letters are listed by taking and releasing them");
                    PeekState::Unsupported
                }
                Err(PeekError::Failed(e)) => return Err(e),
            };
        }
        let PeekState::Open(peeker) = &mut self.peek else { return Ok(None) };
        let count_first_acquirer = self.connector.config().count_first_acquirer;
        let messages = peeker.peek(max).await?;
        Ok(Some(
            messages
                .iter()
                .map(|m| DeadLetter {
                    // A peeked message has no delivery to settle: tag 0 is held by no receiver.
                    delivery: mapping::amqp_to_delivery(DeliveryTag(0), m, count_first_acquirer),
                    fields: mapping::extra_fields(m),
                })
                .collect(),
        ))
    }

    /// Up to `max` dead letters, oldest first, left where they are. `wait` bounds the wait for
    /// the first one when browsing by lock and release (a peek answers at once).
    pub async fn list(&mut self, max: usize, wait: Duration) -> Result<Listing, TransportError> {
        if let Some(letters) = self.try_peek(max).await? {
            return Ok(Listing { letters, method: BrowseMethod::Peek });
        }
        let got = self.gather(max, wait).await?;
        let tags: Vec<_> = got.iter().map(|(d, _)| d.tag).collect();
        self.receiver().await?.release(&tags).await?;
        let letters = got.into_iter().map(|(delivery, fields)| DeadLetter { delivery, fields }).collect();
        Ok(Listing { letters, method: BrowseMethod::LockAndRelease })
    }

    /// The dead letter with this message-id among the first `scan` ones, left where it is.
    pub async fn show(&mut self, message_id: &str, scan: usize, wait: Duration) -> Result<Option<DeadLetter>, TransportError> {
        Ok(self.list(scan, wait).await?.letters.into_iter().find(|d| d.delivery.message_id.as_deref() == Some(message_id)))
    }

    /// Takes the dead letter with this message-id (among the first `scan`) locked, releasing
    /// the others it had to look through; settle it with [`Self::complete`] once it is recorded,
    /// or [`Self::release`] it. None: not among them.
    pub async fn take(&mut self, message_id: &str, scan: usize, wait: Duration) -> Result<Option<DeadLetter>, TransportError> {
        let got = self.gather(scan, wait).await?;
        let mut others = Vec::new();
        let mut found = None;
        for (delivery, fields) in got {
            if found.is_none() && delivery.message_id.as_deref() == Some(message_id) {
                found = Some(DeadLetter { delivery, fields });
            } else {
                others.push(delivery.tag);
            }
        }
        self.receiver().await?.release(&others).await?;
        Ok(found)
    }

    /// Removes a taken dead letter from the dead-letter queue.
    pub async fn complete(&mut self, taken: &DeadLetter) -> Result<(), TransportError> {
        self.receiver().await?.accept(&[taken.delivery.tag]).await
    }

    /// Puts a taken dead letter back, unchanged.
    pub async fn release(&mut self, taken: &DeadLetter) -> Result<(), TransportError> {
        self.receiver().await?.release(&[taken.delivery.tag]).await
    }

    pub async fn close(self) {
        if let PeekState::Open(p) = self.peek {
            p.close().await;
        }
        if let Some(r) = self.receiver {
            r.close().await;
        }
    }
}
