//! Peek-lock receiving with locks held in the receiver's memory (see the module docs: one consumer
//! per queue).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::EmbeddedOptions;
use super::db::{sql_error, with_conn};
use crate::{Delivery, DeliveryTag, QueueReceiver, TransportError, TransportErrorKind};

/// Tags are fresh per delivery and unique in the process, so neither a tag from before a release
/// nor one of another receiver can settle a message this receiver holds.
static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

pub struct EmbeddedReceiver {
    conn: Arc<Mutex<Connection>>,
    queue_id: i64,
    queue: String,
    wake: Arc<Notify>,
    poll_interval: Duration,
    /// tag → seq of the message it locks.
    held: HashMap<DeliveryTag, i64>,
    /// seqs locked by this receiver: skipped by `receive`.
    locked: HashSet<i64>,
}

impl EmbeddedReceiver {
    pub(crate) fn new(conn: Arc<Mutex<Connection>>, queue_id: i64, queue: &str, wake: Arc<Notify>, options: &EmbeddedOptions) -> Self {
        EmbeddedReceiver {
            conn,
            queue_id,
            queue: queue.to_owned(),
            wake,
            poll_interval: options.poll_interval.max(Duration::from_millis(1)),
            held: HashMap::new(),
            locked: HashSet::new(),
        }
    }

    /// How many messages this receiver holds locked.
    pub fn locked_count(&self) -> usize {
        self.held.len()
    }

    /// The seqs named by `tags`, or LockLost naming the first unknown tag.
    fn seqs_of(&self, tags: &[DeliveryTag]) -> Result<Vec<i64>, TransportError> {
        tags.iter()
            .map(|t| {
                self.held.get(t).copied().ok_or_else(|| {
                    TransportError::new(
                        TransportErrorKind::LockLost,
                        format!("delivery {} is not locked by this receiver of {}", t.0, self.queue),
                    )
                })
            })
            .collect()
    }

    fn forget(&mut self, tags: &[DeliveryTag]) {
        for t in tags {
            if let Some(seq) = self.held.remove(t) {
                self.locked.remove(&seq);
            }
        }
    }
}

/// A row read by `receive`, before it is given a tag.
struct Row {
    seq: i64,
    message_id: Option<String>,
    subject: Option<String>,
    correlation_id: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
    delivery_count: i64,
}

/// Up to `max` messages of the queue, oldest first, skipping `locked`.
fn read_available(conn: &Connection, queue_id: i64, max: usize, locked: &HashSet<i64>) -> Result<Vec<Row>, TransportError> {
    // Locked messages are the oldest ones as a rule, so asking for `max + locked` rows is enough
    // and stays on the (queue_id, seq) index. Columns of skipped rows are never read.
    let limit = i64::try_from(max.saturating_add(locked.len())).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, message_id, subject, correlation_id, content_type, body, delivery_count
             FROM message WHERE queue_id = ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(|e| sql_error("receive", e))?;
    let mut rows = stmt.query(rusqlite::params![queue_id, limit]).map_err(|e| sql_error("receive", e))?;
    let mut out = Vec::new();
    while out.len() < max {
        let Some(row) = rows.next().map_err(|e| sql_error("receive", e))? else { break };
        let seq: i64 = row.get(0).map_err(|e| sql_error("receive", e))?;
        if locked.contains(&seq) {
            continue;
        }
        let read = || -> rusqlite::Result<Row> {
            Ok(Row {
                seq,
                message_id: row.get(1)?,
                subject: row.get(2)?,
                correlation_id: row.get(3)?,
                content_type: row.get(4)?,
                body: row.get(5)?,
                delivery_count: row.get(6)?,
            })
        };
        out.push(read().map_err(|e| sql_error("receive", e))?);
    }
    Ok(out)
}

/// Runs `statement` (`?1`..`?2` = a range of seqs) once per run of consecutive seqs, in one
/// transaction; every seq must still exist. A batch received together is one run as a rule, so
/// settling it is one statement, not one per message.
fn settle(conn: &mut Connection, statement: &str, seqs: &[i64], what: &str) -> Result<(), TransportError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql_error(what, e))?;
    {
        let mut stmt = tx.prepare_cached(statement).map_err(|e| sql_error(what, e))?;
        for (first, last) in runs(seqs) {
            // Every seq of the run is locked by this receiver, so the range holds those rows and
            // no other: fewer changed rows means some are gone.
            let expected = usize::try_from(last - first + 1).unwrap_or(usize::MAX);
            if stmt.execute([first, last]).map_err(|e| sql_error(what, e))? != expected {
                // Someone else settled one (a second consumer, against the rules): our lock is
                // void. Dropping `tx` rolls the whole call back.
                return Err(TransportError::new(
                    TransportErrorKind::LockLost,
                    format!("{what}: a message of #{first}..#{last} is gone from the queue"),
                ));
            }
        }
    }
    tx.commit().map_err(|e| sql_error(what, e))
}

/// `seqs` as runs of consecutive numbers (first, last), in ascending order.
fn runs(seqs: &[i64]) -> Vec<(i64, i64)> {
    let mut sorted = seqs.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for seq in sorted {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == seq => *last = seq,
            _ => runs.push((seq, seq)),
        }
    }
    runs
}

#[async_trait]
impl QueueReceiver for EmbeddedReceiver {
    async fn receive(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, TransportError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + wait;
        let wake = self.wake.clone();
        loop {
            // Registered before the read, so a send that commits after the read still wakes us.
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();

            // Cancel-safe: reading changes nothing, and the locks are taken below without an await.
            let locked = self.locked.clone();
            let queue_id = self.queue_id;
            let rows = with_conn(&self.conn, move |conn| read_available(conn, queue_id, max, &locked)).await?;
            if !rows.is_empty() {
                return Ok(rows.into_iter().map(|row| self.lock(row)).collect());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            // Another process's sends are only seen by looking again.
            let next_poll = (now + self.poll_interval).min(deadline);
            tokio::select! {
                _ = &mut woken => {}
                _ = tokio::time::sleep_until(next_poll) => {}
            }
        }
    }

    async fn accept(&mut self, tags: &[DeliveryTag]) -> Result<(), TransportError> {
        let seqs = self.seqs_of(tags)?;
        if seqs.is_empty() {
            return Ok(());
        }
        let result =
            with_conn(&self.conn, move |conn| settle(conn, "DELETE FROM message WHERE seq BETWEEN ?1 AND ?2", &seqs, "accept")).await;
        if result.is_ok() {
            self.forget(tags);
        }
        result
    }

    async fn release(&mut self, tags: &[DeliveryTag]) -> Result<(), TransportError> {
        let seqs = self.seqs_of(tags)?;
        if seqs.is_empty() {
            return Ok(());
        }
        let result = with_conn(&self.conn, move |conn| {
            settle(conn, "UPDATE message SET delivery_count = delivery_count + 1 WHERE seq BETWEEN ?1 AND ?2", &seqs, "release")
        })
        .await;
        if result.is_ok() {
            self.forget(tags);
        }
        result
    }
}

impl EmbeddedReceiver {
    fn lock(&mut self, row: Row) -> Delivery {
        let tag = DeliveryTag(NEXT_TAG.fetch_add(1, Ordering::Relaxed));
        self.held.insert(tag, row.seq);
        self.locked.insert(row.seq);
        Delivery {
            tag,
            message_id: row.message_id,
            subject: row.subject,
            correlation_id: row.correlation_id,
            content_type: row.content_type,
            body: row.body,
            delivery_count: u32::try_from(row.delivery_count).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn seqs_are_grouped_in_runs_of_consecutive_numbers() {
        assert_eq!(runs(&[]), vec![]);
        assert_eq!(runs(&[7]), vec![(7, 7)]);
        assert_eq!(runs(&[3, 1, 2, 2, 5, 9, 8]), vec![(1, 3), (5, 5), (8, 9)]);
    }
}
