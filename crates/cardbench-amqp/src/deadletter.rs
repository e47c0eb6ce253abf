//! Browsing a queue's dead-letter queue: list, show raw, import one message into the normal
//! flow. Browsing locks messages and releases them again (it does not use Service Bus's
//! `$management` peek), so each listing raises their delivery count; dead-lettered messages are
//! not dead-lettered again for that.

use std::time::Duration;

use cardbench_transport::{Delivery, OutboundMessage, QueueReceiver, QueueSender, TransportError, TransportErrorKind};

use crate::connector::AmqpConnector;
use crate::receiver::AmqpReceiver;

/// One dead-lettered message as found, with the broker's extra fields (Service Bus:
/// DeadLetterReason, DeadLetterErrorDescription; RabbitMQ: x-death annotations).
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub delivery: Delivery,
    pub fields: Vec<(String, String)>,
}

/// After the first message, keep taking while the next comes within this: a receive returns only
/// what has arrived, and dead letters released by an earlier listing come back one by one.
const GATHER_GAP: Duration = Duration::from_millis(200);

pub struct DeadLetterBrowser {
    connector: AmqpConnector,
    queue: String,
    receiver: AmqpReceiver,
}

impl DeadLetterBrowser {
    pub(crate) async fn open(connector: AmqpConnector, queue: &str) -> Result<Self, TransportError> {
        let cfg = connector.config();
        // One grant locked at most: browsing takes what it lists and releases it again, so a
        // deeper buffer would only lock more dead letters for nothing.
        let receiver = AmqpReceiver::open(cfg, cfg.dead_letter_address(queue), cfg.credit, cfg.credit).await?;
        Ok(DeadLetterBrowser { connector, queue: queue.to_owned(), receiver })
    }

    /// Up to `max` dead letters (waiting up to `wait` for the first, then until none comes within
    /// [`GATHER_GAP`]). At most one credit grant's worth is locked at once, so that bounds `max`.
    async fn gather(&mut self, max: usize, wait: Duration) -> Result<Vec<(Delivery, Vec<(String, String)>)>, TransportError> {
        let mut got = self.receiver.receive_raw(max, wait).await?;
        while !got.is_empty() && got.len() < max {
            let more = self.receiver.receive_raw(max - got.len(), GATHER_GAP).await?;
            if more.is_empty() {
                break;
            }
            got.extend(more);
        }
        Ok(got)
    }

    /// Up to `max` dead letters (waiting up to `wait` for the first), all released again.
    pub async fn list(&mut self, max: usize, wait: Duration) -> Result<Vec<DeadLetter>, TransportError> {
        let got = self.gather(max, wait).await?;
        let tags: Vec<_> = got.iter().map(|(d, _)| d.tag).collect();
        self.receiver.release(&tags).await?;
        Ok(got.into_iter().map(|(delivery, fields)| DeadLetter { delivery, fields }).collect())
    }

    /// The dead letter with this message-id among the first `scan` ones.
    pub async fn show(&mut self, message_id: &str, scan: usize, wait: Duration) -> Result<Option<DeadLetter>, TransportError> {
        Ok(self.list(scan, wait).await?.into_iter().find(|d| d.delivery.message_id.as_deref() == Some(message_id)))
    }

    /// Sends the dead letter with this message-id (among the first `scan`) to the queue it died
    /// on, same id, subject, correlation-id and body, then removes it from the dead-letter queue.
    /// Send first, accept after: a crash in between leaves a copy in both, and the inbound
    /// queue's duplicate detection (same message-id) or the workflow's dedupe absorbs it.
    pub async fn import(&mut self, message_id: &str, scan: usize, wait: Duration) -> Result<bool, TransportError> {
        let got = self.gather(scan, wait).await?;
        let mut others = Vec::new();
        let mut found = None;
        for (d, _) in got {
            if found.is_none() && d.message_id.as_deref() == Some(message_id) {
                found = Some(d);
            } else {
                others.push(d.tag);
            }
        }
        self.receiver.release(&others).await?;
        let Some(d) = found else { return Ok(false) };
        let out = OutboundMessage {
            message_id: message_id.to_owned(),
            subject: d.subject.clone().unwrap_or_default(),
            correlation_id: d.correlation_id.clone(),
            content_type: d.content_type.clone().unwrap_or_else(|| "application/json".to_owned()),
            body: d.body.clone(),
        };
        let mut sender = self.connector.open_sender(&self.queue).await?;
        let result = sender.send(std::slice::from_ref(&out)).await.into_iter().next().unwrap_or_else(|| {
            Err(TransportError::new(TransportErrorKind::Other, "no send outcome"))
        });
        sender.close().await;
        match result {
            Ok(()) => {
                self.receiver.accept(&[d.tag]).await?;
                tracing::info!(queue = %self.queue, message_id, "dead letter imported");
                Ok(true)
            }
            Err(e) => {
                let _ = self.receiver.release(&[d.tag]).await;
                Err(e)
            }
        }
    }

    pub async fn close(self) {
        self.receiver.close().await;
    }
}
