//! The simulator's durable state (`<data-dir>/sim.sqlite`): every request it sent (and every
//! answer), every notification it received, the cards and shipments it knows and what happened to
//! them. A restart loses nothing; messages not yet sent wait in `outbox`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use cardbench_protocol::ExternalProductionData;
use cardbench_transport::OutboundMessage;
use indexmap::IndexMap;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::SimError;

pub const FILE_NAME: &str = "sim.sqlite";

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Every message the simulator sends, requests and answers, in order; sent_at NULL: not yet taken
-- by the queue. Two rows may share a message_id (the duplicate-send fault).
CREATE TABLE IF NOT EXISTS outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id     TEXT NOT NULL,
    subject        TEXT NOT NULL,
    correlation_id TEXT,
    body           BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    sent_at        TEXT,
    send_error     TEXT,
    fault          TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(seq) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS shipment (
    shipment_id     TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
-- Accessories of a shipment: the sum over its requests, and how many have been shipped.
CREATE TABLE IF NOT EXISTS shipment_accessory (
    shipment_id  TEXT NOT NULL REFERENCES shipment(shipment_id),
    article_id   TEXT NOT NULL,
    accessory_id TEXT NOT NULL,
    requested    INTEGER NOT NULL,
    shipped      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (shipment_id, article_id, accessory_id)
);
-- Valid requests only: an invalid one was never a card NGOC knows.
CREATE TABLE IF NOT EXISTS card (
    card_id            TEXT PRIMARY KEY,
    shipment_id        TEXT NOT NULL REFERENCES shipment(shipment_id),
    organisation_id    TEXT NOT NULL,
    request_message_id TEXT NOT NULL,
    request            TEXT NOT NULL,
    report_ok_at       TEXT,
    report_message_id  TEXT,
    report_data        TEXT,
    shipped_at         TEXT,
    shipped_message_id TEXT
);
CREATE INDEX IF NOT EXISTS card_by_shipment ON card(shipment_id);
-- Chip UIDs reported, so a UID reported for a second card is caught.
CREATE TABLE IF NOT EXISTS reported_uid (
    field   TEXT NOT NULL,
    value   TEXT NOT NULL,
    card_id TEXT NOT NULL,
    PRIMARY KEY (field, value)
);
CREATE TABLE IF NOT EXISTS received (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id     TEXT,
    subject        TEXT,
    correlation_id TEXT,
    body           BLOB NOT NULL,
    received_at    TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    error_code     TEXT,
    details        TEXT,
    answer_id      TEXT,
    card_id        TEXT,
    shipment_id    TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS received_once ON received(message_id) WHERE message_id IS NOT NULL;
-- A message that arrived again with a messageId already received (a resend): recorded, not
-- handled again, as Service Bus's duplicate detection would drop it before NGOC.
CREATE TABLE IF NOT EXISTS received_again (
    message_id  TEXT NOT NULL,
    received_at TEXT NOT NULL
);
";

/// Opens the state file with the store's durability settings and creates the schema.
pub(crate) fn open(path: &Path) -> Result<Connection, SimError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a received notification is settled on the queue right after this commit; the commit
    // is then the only record of it.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(SimError::Corrupt(format!("{} was written by a newer simulator (schema {version})", path.display())));
    }
    if version < SCHEMA_VERSION {
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(conn)
}

pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>, SimError> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<(), SimError> {
    conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])?;
    Ok(())
}

pub(crate) fn push_outbox(tx: &Transaction<'_>, message: &OutboundMessage, fault: Option<&str>) -> Result<(), SimError> {
    tx.prepare_cached(
        "INSERT INTO outbox (message_id, subject, correlation_id, body, created_at, fault) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![message.message_id, message.subject, message.correlation_id, message.body, now_text(), fault])?;
    Ok(())
}

/// Up to `limit` messages not yet sent, oldest first.
pub(crate) fn pending(conn: &Connection, limit: usize) -> Result<Vec<(i64, OutboundMessage)>, SimError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, message_id, subject, correlation_id, body FROM outbox
         WHERE sent_at IS NULL AND fault IS NOT ?2 ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX), crate::judge::LOST_ANSWER], |r| {
        Ok((
            r.get(0)?,
            OutboundMessage {
                message_id: r.get(1)?,
                subject: r.get(2)?,
                correlation_id: r.get(3)?,
                content_type: "application/json".into(),
                body: r.get(4)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks outbox rows as taken by the queue (or refused for good, with the reason).
pub(crate) fn mark_sent(conn: &mut Connection, done: &[(i64, Option<String>)]) -> Result<(), SimError> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached("UPDATE outbox SET sent_at = ?2, send_error = ?3 WHERE seq = ?1")?;
        let now = now_text();
        for (seq, error) in done {
            stmt.execute(params![seq, now, error])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// A card the simulator requested.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimCard {
    pub card_id: String,
    pub shipment_id: String,
    pub organisation_id: String,
    pub request_message_id: String,
    pub request: ExternalProductionData,
    /// REPORT_OK was sent for it.
    pub report_ok: bool,
    /// The readouts accepted with REPORT_OK.
    pub report_data: Option<IndexMap<String, String>>,
    /// A SHIPPED naming it was accepted (SHIPPED_OK).
    pub shipped: bool,
}

/// A message the simulator sent (or will send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentRecord {
    pub seq: i64,
    pub message_id: String,
    pub subject: String,
    pub correlation_id: Option<String>,
    pub body: Vec<u8>,
    pub sent: bool,
    pub send_error: Option<String>,
    /// The fault this message injects, if any.
    pub fault: Option<String>,
}

/// A message the simulator received, and what it did about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedRecord {
    pub seq: i64,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    pub body: Vec<u8>,
    /// The subject of the answer sent, or `RECORDED` (an ERROR from Cardbench: never answered).
    pub outcome: String,
    pub error_code: Option<String>,
    pub details: Option<String>,
    /// messageId of the answer.
    pub answer_id: Option<String>,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
    /// How many times a message with this messageId arrived (a resend arrives again).
    pub times_received: u32,
}

/// A SHIPPED the simulator received: one parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParcelRecord {
    pub message_id: Option<String>,
    pub shipment_id: Option<String>,
    pub accepted: bool,
    pub error_code: Option<String>,
}

pub(crate) fn cards(conn: &Connection, only_card: Option<&str>) -> Result<Vec<SimCard>, SimError> {
    let mut stmt = conn.prepare_cached(
        "SELECT card_id, shipment_id, organisation_id, request_message_id, request, report_ok_at, report_data, shipped_at
         FROM card WHERE ?1 IS NULL OR card_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([only_card], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (card_id, shipment_id, organisation_id, request_message_id, request, report_ok_at, report_data, shipped_at) = row?;
        out.push(SimCard {
            card_id,
            shipment_id,
            organisation_id,
            request_message_id,
            request: serde_json::from_str(&request)?,
            report_ok: report_ok_at.is_some(),
            report_data: report_data.map(|d| serde_json::from_str(&d)).transpose()?,
            shipped: shipped_at.is_some(),
        });
    }
    Ok(out)
}

pub(crate) fn sent(conn: &Connection) -> Result<Vec<SentRecord>, SimError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, message_id, subject, correlation_id, body, sent_at IS NOT NULL, send_error, fault FROM outbox ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SentRecord {
            seq: r.get(0)?,
            message_id: r.get(1)?,
            subject: r.get(2)?,
            correlation_id: r.get(3)?,
            body: r.get(4)?,
            sent: r.get(5)?,
            send_error: r.get(6)?,
            fault: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn received(conn: &Connection) -> Result<Vec<ReceivedRecord>, SimError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, message_id, subject, correlation_id, body, outcome, error_code, details, answer_id, card_id, shipment_id,
                1 + (SELECT COUNT(*) FROM received_again a WHERE a.message_id = received.message_id)
         FROM received ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ReceivedRecord {
            seq: r.get(0)?,
            message_id: r.get(1)?,
            subject: r.get(2)?,
            correlation_id: r.get(3)?,
            body: r.get(4)?,
            outcome: r.get(5)?,
            error_code: r.get(6)?,
            details: r.get(7)?,
            answer_id: r.get(8)?,
            card_id: r.get(9)?,
            shipment_id: r.get(10)?,
            times_received: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn parcels(conn: &Connection) -> Result<Vec<ParcelRecord>, SimError> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, shipment_id, outcome = 'EXTERNAL_PRODUCTION_SHIPPED_OK', error_code
         FROM received WHERE subject = 'EXTERNAL_PRODUCTION_SHIPPED' ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ParcelRecord { message_id: r.get(0)?, shipment_id: r.get(1)?, accepted: r.get(2)?, error_code: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Runs `f` with the connection on tokio's blocking pool.
pub(crate) async fn with_conn<T, F>(conn: &Arc<Mutex<Connection>>, f: F) -> Result<T, SimError>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T, SimError> + Send + 'static,
{
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        // rusqlite rolls back an open transaction on drop, so a panic leaves the connection sound.
        let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|e| SimError::Task(e.to_string()))?
}
