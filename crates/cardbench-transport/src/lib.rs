//! How Cardbench exchanges messages with NGOC, independent of the carrier.
//!
//! Owns the [`Connector`] / [`QueueReceiver`] / [`QueueSender`] traits and the embedded transport
//! ([`embedded::EmbeddedQueues`]): durable local queues in a SQLite file of the data directory,
//! the default when no Service Bus is configured. The Service Bus (AMQP 1.0) transport lives in
//! its own crate and implements the same traits.
//!
//! The semantics follow Service Bus peek-lock: a received message stays locked until it is
//! accepted (completed) or released (abandoned, so it comes back). The caller accepts only after
//! its own commit is durable. Senders give each message a messageId; the queue drops a second
//! message with an id it has seen within the duplicate-detection window.

pub mod backoff;
pub mod embedded;
mod error;
mod message;

pub use error::{TransportError, TransportErrorKind};
pub use message::{Delivery, DeliveryTag, OutboundMessage};

use std::time::Duration;

use async_trait::async_trait;

/// Opens the two ends a party needs. Cardbench receives from the inbound queue and sends to the
/// outbound one; the simulator does the opposite with the same connector.
#[async_trait]
pub trait Connector: Send + Sync {
    async fn receiver(&self, queue: &str) -> Result<Box<dyn QueueReceiver>, TransportError>;
    async fn sender(&self, queue: &str) -> Result<Box<dyn QueueSender>, TransportError>;
    /// For logs and the status screen: where this connects (never a secret).
    fn describe(&self) -> String;
}

/// Peek-lock receiving.
#[async_trait]
pub trait QueueReceiver: Send {
    /// Waits up to `wait` for a first message, then returns it with whatever else is already
    /// there, up to `max`. An empty result means nothing arrived in time.
    async fn receive(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, TransportError>;
    /// Completes: the messages are gone from the queue.
    async fn accept(&mut self, tags: &[DeliveryTag]) -> Result<(), TransportError>;
    /// Abandons: the messages come back for another delivery (delivery count + 1).
    async fn release(&mut self, tags: &[DeliveryTag]) -> Result<(), TransportError>;
}

/// Sending with an outcome per message.
#[async_trait]
pub trait QueueSender: Send {
    /// Sends `messages` in order (pipelined where the carrier allows) and reports, for each, whether
    /// the queue took it. A message whose id the queue has seen within its duplicate-detection window
    /// counts as taken (it was, earlier).
    async fn send(&mut self, messages: &[OutboundMessage]) -> Vec<Result<(), TransportError>>;
}
