//! `events`: the event log reported to the bureau's own systems. Each row holds the envelope
//! exactly as it is sent (the bytes a webhook signs); written in the transaction of the change it
//! reports, never changed afterwards. The id is the paging cursor of the card API.

use crate::db::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub event_id: &'a str,
    pub created: &'a str,
    pub topic: &'a str,
    pub card_id: Option<&'a str>,
    pub shipment_id: Option<&'a str>,
    pub body: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    pub event_id: String,
    pub created: String,
    pub topic: String,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
    pub body: String,
}

const COLUMNS: &str = "id, event_id, created, topic, card_id, shipment_id, body";

fn from_row(r: &Row<'_>) -> crate::db::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        event_id: r.get(1)?,
        created: r.get(2)?,
        topic: r.get(3)?,
        card_id: r.get(4)?,
        shipment_id: r.get(5)?,
        body: r.get(6)?,
    })
}

/// Appends an event; returns its id.
pub fn record(conn: &Connection, e: &NewEvent<'_>) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO events (event_id, created, topic, card_id, shipment_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![e.event_id, e.created, e.topic, e.card_id, e.shipment_id, e.body])?;
    Ok(conn.last_insert_rowid())
}

pub fn get(conn: &Connection, event_id: &str) -> Result<Option<EventRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE event_id = ?1"))?
        .query_row([event_id], from_row)
        .optional()?)
}

/// Up to `limit` events with an id above `after_id`, oldest first: one page of the log.
pub fn after(conn: &Connection, after_id: i64, limit: u32) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"))?;
    let rows = stmt.query_map(params![after_id, limit], from_row)?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// A card's events, oldest first.
pub fn for_card(conn: &Connection, card_id: &str) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE card_id = ?1 ORDER BY id"))?;
    let rows = stmt.query_map([card_id], from_row)?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// The highest event id (0 for an empty log).
pub fn last_id(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?)
}
