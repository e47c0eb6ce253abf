//! `outbox`: every message to send, written in the same transaction as the state change that
//! causes it, drained in order by the sender.
//!
//! Every row names its destination: the outbound consumer that sends it ([`NGOC`] for the
//! protocol's notifications). A second consumer (signed webhooks, an HTTP event forwarder) queues
//! rows for a destination of its own with [`insert_for`] and runs a sender that claims only those
//! ([`due`]); the NGOC sender never sees them.

use crate::db::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The destination of NGOC's notifications (the outbound queue): every row written before
/// destinations existed.
pub const NGOC: &str = "ngoc";

#[derive(Debug, Clone)]
pub struct NewOutboxRow<'a> {
    pub subject: &'a str,
    pub correlation_id: Option<&'a str>,
    pub body: &'a str,
    pub card_id: Option<&'a str>,
    pub shipment_id: Option<&'a str>,
    pub created_at: &'a str,
}

/// What was queued: the row and its (fresh) messageId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: String,
    pub subject: String,
    pub correlation_id: Option<String>,
    pub body: String,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
    pub created_at: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    /// The latest send (None while waiting, a resend included).
    pub sent_at: Option<String>,
    /// The first time it was sent; a resend keeps it.
    pub first_sent_at: Option<String>,
    /// How many times it was put back in line (`resend`).
    pub resent_count: u32,
    pub last_resent_at: Option<String>,
    /// Which outbound consumer sends it ([`NGOC`], ...).
    pub destination: String,
}

/// Queues a message for NGOC with a fresh UUID messageId.
pub fn insert(conn: &Connection, row: &NewOutboxRow<'_>) -> Result<Queued> {
    insert_for(conn, NGOC, row)
}

/// Queues a message for `destination` with a fresh UUID messageId.
pub fn insert_for(conn: &Connection, destination: &str, row: &NewOutboxRow<'_>) -> Result<Queued> {
    let message_id = uuid::Uuid::new_v4().to_string();
    conn.prepare_cached(
        "INSERT INTO outbox (message_id, subject, correlation_id, body, card_id, shipment_id, created_at, destination)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        message_id,
        row.subject,
        row.correlation_id,
        row.body,
        row.card_id,
        row.shipment_id,
        row.created_at,
        destination
    ])?;
    Ok(Queued { id: conn.last_insert_rowid(), message_id })
}

const COLUMNS: &str = "id, message_id, subject, correlation_id, body, card_id, shipment_id, created_at, \
                       attempts, last_error, next_attempt_at, sent_at, first_sent_at, resent_count, last_resent_at, destination";

fn from_row(r: &Row<'_>) -> crate::db::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        message_id: r.get(1)?,
        subject: r.get(2)?,
        correlation_id: r.get(3)?,
        body: r.get(4)?,
        card_id: r.get(5)?,
        shipment_id: r.get(6)?,
        created_at: r.get(7)?,
        attempts: r.get(8)?,
        last_error: r.get(9)?,
        next_attempt_at: r.get(10)?,
        sent_at: r.get(11)?,
        first_sent_at: r.get(12)?,
        resent_count: r.get(13)?,
        last_resent_at: r.get(14)?,
        destination: r.get(15)?,
    })
}

/// `destination`'s unsent rows whose retry time has come, oldest first: what its sender claims.
/// Read afresh on every wake, so a lost wake delays a row, never loses it.
pub fn due(conn: &Connection, destination: &str, now: &str, limit: u32) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox
         WHERE destination = ?3 AND sent_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
         ORDER BY id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now, limit, destination], from_row)?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// The earliest retry time among `destination`'s unsent rows that are waiting, so its sender can
/// sleep until then.
pub fn next_retry_at(conn: &Connection, destination: &str) -> Result<Option<String>> {
    Ok(conn.query_row(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE destination = ?1 AND sent_at IS NULL AND next_attempt_at IS NOT NULL",
        [destination],
        |r| r.get(0),
    )?)
}

pub fn mark_sent(conn: &Connection, id: i64, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET sent_at = ?2, first_sent_at = COALESCE(first_sent_at, ?2), attempts = attempts + 1,
                last_error = NULL, next_attempt_at = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, at])?;
    Ok(())
}

pub fn mark_failed(conn: &Connection, id: i64, error: &str, next_attempt_at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, error, next_attempt_at])?;
    Ok(())
}

/// Puts a row back in line now, keeping its messageId (the broker drops a copy it already has)
/// and the time it was first sent; counts the resend at `at`. Returns false when there is no such
/// row.
pub fn resend(conn: &Connection, id: i64, at: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE outbox SET first_sent_at = COALESCE(first_sent_at, sent_at), sent_at = NULL, next_attempt_at = NULL,
                resent_count = resent_count + 1, last_resent_at = ?2
         WHERE id = ?1",
        params![id, at],
    )?;
    Ok(n == 1)
}

/// Unsent rows of every destination.
pub fn pending_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", [], |r| r.get(0))?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<OutboxRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

pub fn by_message_id(conn: &Connection, message_id: &str) -> Result<Option<OutboxRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE message_id = ?1"))?
        .query_row([message_id], from_row)
        .optional()?)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutboxFilter {
    pub subject: Option<String>,
    /// Some(true): only sent; Some(false): only waiting.
    pub sent: Option<bool>,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
    /// Only rows for this destination ([`NGOC`], ...).
    pub destination: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub before_id: Option<i64>,
    pub limit: Option<u32>,
}

pub fn list(conn: &Connection, f: &OutboxFilter) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox
         WHERE (?1 IS NULL OR subject = ?1)
           AND (?2 IS NULL OR (?2 = 1 AND sent_at IS NOT NULL) OR (?2 = 0 AND sent_at IS NULL))
           AND (?3 IS NULL OR card_id = ?3) AND (?4 IS NULL OR shipment_id = ?4)
           AND (?5 IS NULL OR created_at >= ?5) AND (?6 IS NULL OR created_at < ?6)
           AND (?7 IS NULL OR id < ?7) AND (?9 IS NULL OR destination = ?9)
         ORDER BY id DESC LIMIT ?8"
    ))?;
    let rows = stmt.query_map(
        params![f.subject, f.sent, f.card_id, f.shipment_id, f.since, f.until, f.before_id, f.limit.unwrap_or(100), f.destination],
        from_row,
    )?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// Rewrites a row's body in place (e.g. secrets replaced by a tombstone once answered); the row,
/// its messageId and its history stay. Returns false when there is no such row.
pub fn replace_body(conn: &Connection, id: i64, body: &str) -> Result<bool> {
    let n = conn.prepare_cached("UPDATE outbox SET body = ?2 WHERE id = ?1")?.execute(params![id, body])?;
    Ok(n == 1)
}

/// Takes a row out of line for good without it having been delivered (an HTTP receiver refused
/// it as such): `sent_at` is when it left the line, `last_error` why; its delivery attempts say
/// it was not delivered. A [`resend`] puts it back.
pub fn close(conn: &Connection, id: i64, error: &str, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET sent_at = ?3, first_sent_at = COALESCE(first_sent_at, ?3), attempts = attempts + 1,
                last_error = ?2, next_attempt_at = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, error, at])?;
    Ok(())
}

/// Makes `destination`'s waiting rows due at `at` (a resumed subscriber sends at once). Returns
/// how many.
pub fn due_now(conn: &Connection, destination: &str, at: &str) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET next_attempt_at = ?2
             WHERE destination = ?1 AND sent_at IS NULL AND next_attempt_at > ?2",
        )?
        .execute(params![destination, at])?)
}
