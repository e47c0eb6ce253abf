//! Reading the queues without locking anything, for the CLI, status screens and tests; and
//! putting a message exactly as given, for tests of malformed envelopes.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::EmbeddedQueues;
use super::db::{ensure_queue, now_ms, queue_id, sql_error, with_conn};
use crate::TransportError;

/// A queue and how many messages it holds (locked ones included: locks live in receivers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueCount {
    pub queue: String,
    pub messages: u64,
}

/// A message as stored, for inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMessage {
    /// Position in the file; increases with every message sent to any queue.
    pub seq: i64,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub enqueued_at: DateTime<Utc>,
    pub delivery_count: u32,
}

/// A message with every envelope field optional, as a broken sender might produce it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawMessage {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl EmbeddedQueues {
    /// How many messages `queue` holds (0 for a queue never used).
    pub async fn depth(&self, queue: &str) -> Result<u64, TransportError> {
        let name = queue.to_owned();
        with_conn(&self.inspect_conn, move |conn| {
            let Some(id) = queue_id(conn, &name)? else { return Ok(0) };
            let n: i64 = conn
                .query_row("SELECT count(*) FROM message WHERE queue_id = ?1", [id], |r| r.get(0))
                .map_err(|e| sql_error("count", e))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    /// Every queue of the file with its message count, by name.
    pub async fn counts(&self) -> Result<Vec<QueueCount>, TransportError> {
        with_conn(&self.inspect_conn, |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT q.name, (SELECT count(*) FROM message m WHERE m.queue_id = q.id)
                     FROM queue q ORDER BY q.name",
                )
                .map_err(|e| sql_error("count", e))?;
            let rows = stmt
                .query_map([], |r| Ok(QueueCount { queue: r.get(0)?, messages: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0) }))
                .map_err(|e| sql_error("count", e))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(|e| sql_error("count", e))
        })
        .await
    }

    /// Up to `limit` messages of `queue` with seq greater than `after` (None: from the start),
    /// oldest first, without locking them.
    pub async fn peek(&self, queue: &str, after: Option<i64>, limit: usize) -> Result<Vec<StoredMessage>, TransportError> {
        let name = queue.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        with_conn(&self.inspect_conn, move |conn| {
            let Some(id) = queue_id(conn, &name)? else { return Ok(Vec::new()) };
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seq, message_id, subject, correlation_id, content_type, body, enqueued_ms, delivery_count
                     FROM message WHERE queue_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(|e| sql_error("peek", e))?;
            let rows = stmt
                .query_map(params![id, after.unwrap_or(i64::MIN), limit], |r| {
                    Ok(StoredMessage {
                        seq: r.get(0)?,
                        message_id: r.get(1)?,
                        subject: r.get(2)?,
                        correlation_id: r.get(3)?,
                        content_type: r.get(4)?,
                        body: r.get(5)?,
                        enqueued_at: DateTime::from_timestamp_millis(r.get(6)?).unwrap_or_default(),
                        delivery_count: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(u32::MAX),
                    })
                })
                .map_err(|e| sql_error("peek", e))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(|e| sql_error("peek", e))
        })
        .await
    }

    /// Puts one message on `queue` exactly as given, bypassing duplicate detection: for tests of
    /// what a receiver does with a missing messageId or subject, which a real sender can produce
    /// but [`crate::OutboundMessage`] cannot express.
    pub async fn put_raw(&self, queue: &str, message: RawMessage) -> Result<(), TransportError> {
        super::db::check_queue_name(queue)?;
        let name = queue.to_owned();
        with_conn(&self.inspect_conn, move |conn| {
            let id = ensure_queue(conn, &name)?;
            conn.execute(
                "INSERT INTO message (queue_id, message_id, subject, correlation_id, content_type, body, enqueued_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, message.message_id, message.subject, message.correlation_id, message.content_type, message.body, now_ms()],
            )
            .map_err(|e| sql_error("put", e))?;
            Ok(())
        })
        .await?;
        self.shared.waker(queue).notify_waiters();
        Ok(())
    }
}
