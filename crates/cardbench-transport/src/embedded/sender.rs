//! Sending: a whole batch in one transaction (one fsync), with duplicate detection.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::Notify;

use super::Shared;
use super::db::{now_ms, sql_error, with_conn};
use crate::{OutboundMessage, QueueSender, TransportError, TransportErrorKind};

/// The duplicate-detection table is pruned at most this often (per process).
const PRUNE_EVERY_MS: i64 = 10 * 60 * 1000;

pub struct EmbeddedSender {
    conn: Arc<Mutex<Connection>>,
    queue_id: i64,
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

impl EmbeddedSender {
    pub(crate) fn new(conn: Arc<Mutex<Connection>>, queue_id: i64, shared: Arc<Shared>, wake: Arc<Notify>) -> Self {
        EmbeddedSender { conn, queue_id, shared, wake }
    }
}

#[async_trait]
impl QueueSender for EmbeddedSender {
    async fn send(&mut self, messages: &[OutboundMessage]) -> Vec<Result<(), TransportError>> {
        if messages.is_empty() {
            return Vec::new();
        }
        let max = self.shared.options.max_message_bytes;
        // Too large: refused one by one, as Service Bus does; the rest of the batch still goes.
        let verdicts: Vec<Option<TransportError>> = messages
            .iter()
            .map(|m| {
                (m.body.len() > max).then(|| {
                    TransportError::new(
                        TransportErrorKind::Rejected,
                        format!("message {} is {} bytes; the queue takes at most {max}", m.message_id, m.body.len()),
                    )
                })
            })
            .collect();
        let to_write: Vec<OutboundMessage> =
            messages.iter().zip(&verdicts).filter(|(_, v)| v.is_none()).map(|(m, _)| m.clone()).collect();
        let now = now_ms();
        let window_ms = i64::try_from(self.shared.options.duplicate_window.as_millis()).unwrap_or(i64::MAX);
        let prune = now - self.shared.last_prune_ms.load(Ordering::Relaxed) > PRUNE_EVERY_MS;
        let queue_id = self.queue_id;
        let written = with_conn(&self.conn, move |conn| write_batch(conn, queue_id, &to_write, now, window_ms, prune)).await;
        match written {
            Ok(inserted) => {
                if prune {
                    self.shared.last_prune_ms.store(now, Ordering::Relaxed);
                }
                if inserted > 0 {
                    self.wake.notify_waiters();
                }
                verdicts.into_iter().map(|v| v.map_or(Ok(()), Err)).collect()
            }
            // The transaction rolled back: none of the batch was taken.
            Err(e) => verdicts.into_iter().map(|v| Err(v.unwrap_or_else(|| e.clone()))).collect(),
        }
    }
}

/// Writes the batch in one transaction; returns how many messages were new (not duplicates).
fn write_batch(
    conn: &mut Connection,
    queue_id: i64,
    messages: &[OutboundMessage],
    now: i64,
    window_ms: i64,
    prune: bool,
) -> Result<usize, TransportError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql_error("send", e))?;
    let mut inserted = 0;
    {
        // Inserted, or refreshed when the earlier sighting is older than the window; a sighting
        // within the window leaves the row alone and changes nothing: a duplicate.
        let mut seen = tx
            .prepare_cached(
                "INSERT INTO seen_id (queue_id, message_id, seen_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (queue_id, message_id) DO UPDATE SET seen_ms = excluded.seen_ms
                 WHERE seen_id.seen_ms <= ?4",
            )
            .map_err(|e| sql_error("send", e))?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO message (queue_id, message_id, subject, correlation_id, content_type, body, enqueued_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(|e| sql_error("send", e))?;
        for m in messages {
            if window_ms > 0 {
                let fresh = seen
                    .execute(params![queue_id, m.message_id, now, now.saturating_sub(window_ms)])
                    .map_err(|e| sql_error("send", e))?;
                if fresh == 0 {
                    tracing::debug!(message_id = %m.message_id, "duplicate messageId within the window; dropped");
                    continue;
                }
            }
            insert
                .execute(params![queue_id, m.message_id, m.subject, m.correlation_id, m.content_type, m.body, now])
                .map_err(|e| sql_error("send", e))?;
            inserted += 1;
        }
    }
    if prune && window_ms > 0 {
        let pruned = tx
            .execute("DELETE FROM seen_id WHERE seen_ms <= ?1", [now.saturating_sub(window_ms)])
            .map_err(|e| sql_error("prune duplicate detection", e))?;
        if pruned > 0 {
            tracing::debug!(pruned, "pruned messageIds older than the duplicate-detection window");
        }
    }
    tx.commit().map_err(|e| sql_error("send", e))?;
    Ok(inserted)
}
