//! `inbox`: every message received, valid or not, with its raw bytes and what became of it.

use crate::db::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Valid and applied.
    Accepted,
    /// A messageId already received: settled, no new effect.
    Duplicate,
    /// Invalid or not applicable: answered with ERROR.
    Rejected,
    /// Valid but no longer relevant (e.g. a REPORT_OK for a CARD_PRODUCED since superseded).
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Rejected => "rejected",
            Outcome::Ignored => "ignored",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [Outcome::Accepted, Outcome::Duplicate, Outcome::Rejected, Outcome::Ignored]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// A message as the transport handed it over.
#[derive(Debug, Clone, Default)]
pub struct Envelope<'a> {
    pub message_id: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub correlation_id: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub delivery_count: u32,
}

#[derive(Debug, Clone)]
pub struct NewInboxRow<'a> {
    pub envelope: &'a Envelope<'a>,
    pub received_at: &'a str,
    pub outcome: Outcome,
    pub reason: Option<&'a str>,
    pub card_id: Option<&'a str>,
    pub shipment_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxRow {
    pub id: i64,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub delivery_count: u32,
    pub received_at: String,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
}

/// SHA-256 of a received body, as `inbox.body_hash` keeps it.
pub fn body_hash(body: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(body).to_vec()
}

/// The first row received with a messageId: what a later message with that id is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstReceived {
    pub id: i64,
    /// SHA-256 of its body; None for rows received before schema version 7.
    pub body_hash: Option<Vec<u8>>,
}

impl FirstReceived {
    /// Whether `body` is the body this row was received with (byte for byte, by hash; a row
    /// without hash is read and compared).
    pub fn same_body(&self, conn: &Connection, body: &[u8]) -> Result<bool> {
        match &self.body_hash {
            Some(hash) => Ok(*hash == body_hash(body)),
            None => Ok(conn
                .prepare_cached("SELECT body FROM inbox WHERE id = ?1")?
                .query_row([self.id], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
                .is_some_and(|first| first == body)),
        }
    }
}

pub fn insert(conn: &Connection, row: &NewInboxRow<'_>) -> Result<i64> {
    let e = row.envelope;
    conn.prepare_cached(
        "INSERT INTO inbox (message_id, subject, correlation_id, content_type, body, delivery_count,
                            received_at, outcome, reason, card_id, shipment_id, body_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        e.message_id,
        e.subject,
        e.correlation_id,
        e.content_type,
        e.body,
        e.delivery_count,
        row.received_at,
        row.outcome.as_str(),
        row.reason,
        row.card_id,
        row.shipment_id,
        body_hash(e.body),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The first row received with this messageId, if any: the one a redelivery duplicates.
pub fn first_with_message_id(conn: &Connection, message_id: &str) -> Result<Option<FirstReceived>> {
    Ok(conn
        .prepare_cached("SELECT id, body_hash FROM inbox WHERE message_id = ?1 ORDER BY id LIMIT 1")?
        .query_row([message_id], |r| Ok(FirstReceived { id: r.get(0)?, body_hash: r.get(1)? }))
        .optional()?)
}

/// A row with this messageId and exactly this body, if any. Asked only when the first row with the
/// id has another body (rare), so it needs no index of its own.
pub fn with_message_id_and_body(conn: &Connection, message_id: &str, body: &[u8]) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM inbox WHERE message_id = ?1 AND (body_hash = ?2 OR (body_hash IS NULL AND body = ?3))
             ORDER BY id LIMIT 1",
        )?
        .query_row(params![message_id, body_hash(body), body], |r| r.get(0))
        .optional()?)
}

const COLUMNS: &str = "id, message_id, subject, correlation_id, content_type, body, delivery_count, \
                       received_at, outcome, reason, card_id, shipment_id";

fn from_row(r: &Row<'_>) -> crate::db::Result<InboxRow> {
    let outcome: String = r.get(8)?;
    Ok(InboxRow {
        id: r.get(0)?,
        message_id: r.get(1)?,
        subject: r.get(2)?,
        correlation_id: r.get(3)?,
        content_type: r.get(4)?,
        body: r.get(5)?,
        delivery_count: r.get(6)?,
        received_at: r.get(7)?,
        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Rejected),
        reason: r.get(9)?,
        card_id: r.get(10)?,
        shipment_id: r.get(11)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<InboxRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM inbox WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Filters for the queue inspector; every field optional. Newest first, paged by id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboxFilter {
    pub subject: Option<String>,
    pub outcome: Option<Outcome>,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
    pub message_id: Option<String>,
    /// Inclusive lower bound on received_at (RFC 3339).
    pub since: Option<String>,
    /// Exclusive upper bound on received_at.
    pub until: Option<String>,
    /// Only rows with id below this (the previous page's last id).
    pub before_id: Option<i64>,
    pub limit: Option<u32>,
}

pub fn list(conn: &Connection, f: &InboxFilter) -> Result<Vec<InboxRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM inbox
         WHERE (?1 IS NULL OR subject = ?1) AND (?2 IS NULL OR outcome = ?2)
           AND (?3 IS NULL OR card_id = ?3) AND (?4 IS NULL OR shipment_id = ?4)
           AND (?5 IS NULL OR message_id = ?5)
           AND (?6 IS NULL OR received_at >= ?6) AND (?7 IS NULL OR received_at < ?7)
           AND (?8 IS NULL OR id < ?8)
         ORDER BY id DESC LIMIT ?9"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            f.subject,
            f.outcome.map(Outcome::as_str),
            f.card_id,
            f.shipment_id,
            f.message_id,
            f.since,
            f.until,
            f.before_id,
            f.limit.unwrap_or(100),
        ],
        from_row,
    )?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// How many rows per outcome, for the dashboard.
/// The reason given most often for messages not accepted (rejected, ignored, duplicate), if any.
pub fn commonest_reason_not_accepted(conn: &Connection) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT reason FROM inbox WHERE outcome <> 'accepted' GROUP BY reason ORDER BY COUNT(*) DESC LIMIT 1",
    )?;
    let mut rows = stmt.query_map([], |r| r.get::<_, Option<String>>(0))?;
    Ok(rows.next().transpose()?.flatten())
}

pub fn count_by_outcome(conn: &Connection) -> Result<Vec<(Outcome, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT outcome, COUNT(*) FROM inbox GROUP BY outcome")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (outcome, n) = row?;
        if let Some(o) = Outcome::parse(&outcome) {
            out.push((o, n));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_keeps_its_body_hash_and_a_row_without_one_is_compared_by_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::Store::open_in(dir.path()).expect("store");
        store
            .write(|tx| {
                let envelope = Envelope { message_id: Some("m-1"), body: b"{\"a\":1}", ..Default::default() };
                let row = NewInboxRow { envelope: &envelope, received_at: "t", outcome: Outcome::Accepted, reason: None, card_id: None, shipment_id: None };
                let id = insert(tx, &row)?;
                let first = first_with_message_id(tx, "m-1")?.expect("first row");
                assert_eq!(first, FirstReceived { id, body_hash: Some(body_hash(b"{\"a\":1}")) });
                assert_eq!(first.body_hash.as_ref().map(Vec::len), Some(32), "SHA-256");
                assert!(first.same_body(tx, b"{\"a\":1}")?);
                assert!(!first.same_body(tx, b"{\"a\":2}")?);
                // A row from before schema version 7 has no hash.
                tx.execute("UPDATE inbox SET body_hash = NULL WHERE id = ?1", [id])?;
                let old = first_with_message_id(tx, "m-1")?.expect("first row");
                assert_eq!(old.body_hash, None);
                assert!(old.same_body(tx, b"{\"a\":1}")?);
                assert!(!old.same_body(tx, b"{\"a\":2}")?);
                Ok::<_, crate::StoreError>(())
            })
            .expect("inbox");
    }
}
