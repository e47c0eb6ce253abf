//! `delivery_attempts`: every HTTP attempt at delivering an outbox row to a webhook or a
//! forwarding sink, kept beside the row (status, latency, outcome, error, head of the response).

use crate::db::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// How much of a response body is kept: enough to read a receiver's reason, not its whole page.
pub const RESPONSE_HEAD: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub id: i64,
    pub outbox_id: i64,
    pub at: String,
    /// The HTTP status; None when no response came (refused, timed out).
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// `delivered`, `retry`, `permanent` or `stopped`.
    pub outcome: String,
    pub error: Option<String>,
    pub response: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    pub outbox_id: i64,
    pub at: &'a str,
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub response: Option<&'a str>,
}

const COLUMNS: &str = "id, outbox_id, at, status, latency_ms, outcome, error, response";

fn from_row(r: &Row<'_>) -> crate::db::Result<AttemptRow> {
    Ok(AttemptRow {
        id: r.get(0)?,
        outbox_id: r.get(1)?,
        at: r.get(2)?,
        status: r.get(3)?,
        latency_ms: r.get(4)?,
        outcome: r.get(5)?,
        error: r.get(6)?,
        response: r.get(7)?,
    })
}

/// Records one attempt; the response is cut to [`RESPONSE_HEAD`] bytes (at a character boundary).
pub fn record(conn: &Connection, a: &NewAttempt<'_>) -> Result<i64> {
    let response = a.response.map(|r| head(r, RESPONSE_HEAD));
    conn.prepare_cached(
        "INSERT INTO delivery_attempts (outbox_id, at, status, latency_ms, outcome, error, response)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![a.outbox_id, a.at, a.status, a.latency_ms, a.outcome, a.error, response])?;
    Ok(conn.last_insert_rowid())
}

/// A row's attempts, oldest first.
pub fn for_outbox(conn: &Connection, outbox_id: i64) -> Result<Vec<AttemptRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM delivery_attempts WHERE outbox_id = ?1 ORDER BY id"))?;
    let rows = stmt.query_map([outbox_id], from_row)?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// The latest attempt at any row of `destination`.
pub fn last_for_destination(conn: &Connection, destination: &str) -> Result<Option<AttemptRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT a.id, a.outbox_id, a.at, a.status, a.latency_ms, a.outcome, a.error, a.response
             FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id
             WHERE o.destination = ?1 ORDER BY a.id DESC LIMIT 1",
        )?
        .query_row([destination], from_row)
        .optional()?)
}

/// Unsent rows waiting for `destination`.
pub fn pending_for_destination(conn: &Connection, destination: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE destination = ?1 AND sent_at IS NULL",
        [destination],
        |r| r.get(0),
    )?)
}

/// The first `max` bytes of `s`, cut back to a character boundary.
fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_response_head_is_cut_at_a_character_boundary() {
        let s = "é".repeat(3000);
        let h = super::head(&s, super::RESPONSE_HEAD);
        assert!(h.len() <= super::RESPONSE_HEAD && h.len() >= super::RESPONSE_HEAD - 1);
        assert_eq!(super::head("short", 10), "short");
    }
}
