//! `parcels`, `parcel_cards`, `parcel_accessories`: each SHIPPED notification with exactly its
//! contents, and NGOC's answer to it.

use cardbench_protocol::Accessory;
use crate::db::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcelStatus {
    AwaitingOk,
    ShippedOk,
    Error,
}

impl ParcelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ParcelStatus::AwaitingOk => "awaiting_ok",
            ParcelStatus::ShippedOk => "shipped_ok",
            ParcelStatus::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<ParcelStatus> {
        [ParcelStatus::AwaitingOk, ParcelStatus::ShippedOk, ParcelStatus::Error].into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelRow {
    pub id: i64,
    pub shipment_id: String,
    pub outbox_id: i64,
    pub message_id: String,
    pub carrier: Option<String>,
    pub tracking_id: Option<String>,
    pub created_at: String,
    pub operator: String,
    pub status: ParcelStatus,
    pub answered_at: Option<String>,
    pub error_code: Option<String>,
    pub error_details: Option<String>,
    pub cards: Vec<String>,
    pub accessories: Vec<Accessory>,
}

pub struct NewParcel<'a> {
    pub shipment_id: &'a str,
    pub outbox_id: i64,
    pub message_id: &'a str,
    pub carrier: Option<&'a str>,
    pub tracking_id: Option<&'a str>,
    pub created_at: &'a str,
    pub operator: &'a str,
    pub cards: &'a [String],
    pub accessories: &'a [Accessory],
}

pub fn insert(conn: &Connection, p: &NewParcel<'_>) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO parcels (shipment_id, outbox_id, message_id, carrier, tracking_id, created_at, operator, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'awaiting_ok')",
    )?
    .execute(params![p.shipment_id, p.outbox_id, p.message_id, p.carrier, p.tracking_id, p.created_at, p.operator])?;
    let id = conn.last_insert_rowid();
    let mut card = conn.prepare_cached("INSERT INTO parcel_cards (parcel_id, card_id) VALUES (?1, ?2)")?;
    for c in p.cards {
        card.execute(params![id, c])?;
    }
    let mut acc = conn.prepare_cached(
        "INSERT INTO parcel_accessories (parcel_id, article_id, accessory_id, quantity) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for a in p.accessories {
        acc.execute(params![id, a.article_id, a.accessory_id, a.quantity])?;
    }
    Ok(id)
}

pub fn set_answer(
    conn: &Connection,
    id: i64,
    status: ParcelStatus,
    at: &str,
    error: Option<(&str, &str)>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE parcels SET status = ?2, answered_at = ?3, error_code = ?4, error_details = ?5 WHERE id = ?1",
    )?
    .execute(params![id, status.as_str(), at, error.map(|e| e.0), error.map(|e| e.1)])?;
    Ok(())
}

const COLUMNS: &str = "id, shipment_id, outbox_id, message_id, carrier, tracking_id, created_at, operator, status, \
                       answered_at, error_code, error_details";

fn header(r: &Row<'_>) -> crate::db::Result<ParcelRow> {
    let status: String = r.get(8)?;
    Ok(ParcelRow {
        id: r.get(0)?,
        shipment_id: r.get(1)?,
        outbox_id: r.get(2)?,
        message_id: r.get(3)?,
        carrier: r.get(4)?,
        tracking_id: r.get(5)?,
        created_at: r.get(6)?,
        operator: r.get(7)?,
        status: ParcelStatus::parse(&status).unwrap_or(ParcelStatus::Error),
        answered_at: r.get(9)?,
        error_code: r.get(10)?,
        error_details: r.get(11)?,
        cards: Vec::new(),
        accessories: Vec::new(),
    })
}

fn with_contents(conn: &Connection, mut p: ParcelRow) -> Result<ParcelRow> {
    let mut stmt = conn.prepare_cached("SELECT card_id FROM parcel_cards WHERE parcel_id = ?1 ORDER BY card_id")?;
    p.cards = stmt.query_map([p.id], |r| r.get(0))?.collect::<crate::db::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT article_id, accessory_id, quantity FROM parcel_accessories WHERE parcel_id = ?1 ORDER BY rowid",
    )?;
    p.accessories = stmt
        .query_map([p.id], |r| Ok(Accessory { article_id: r.get(0)?, accessory_id: r.get(1)?, quantity: r.get(2)? }))?
        .collect::<crate::db::Result<Vec<_>>>()?;
    Ok(p)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<ParcelRow>> {
    let p = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM parcels WHERE id = ?1"))?.query_row([id], header).optional()?;
    p.map(|p| with_contents(conn, p)).transpose()
}

pub fn by_message_id(conn: &Connection, message_id: &str) -> Result<Option<ParcelRow>> {
    let p = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM parcels WHERE message_id = ?1"))?
        .query_row([message_id], header)
        .optional()?;
    p.map(|p| with_contents(conn, p)).transpose()
}

pub fn for_shipment(conn: &Connection, shipment_id: &str) -> Result<Vec<ParcelRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM parcels WHERE shipment_id = ?1 ORDER BY id"))?;
    let headers = stmt.query_map([shipment_id], header)?.collect::<crate::db::Result<Vec<_>>>()?;
    headers.into_iter().map(|p| with_contents(conn, p)).collect()
}

/// Parcels created in [from, to), oldest first, for manifests.
pub fn created_between(conn: &Connection, from: &str, to: &str) -> Result<Vec<ParcelRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM parcels WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at, id"
    ))?;
    let headers = stmt.query_map(params![from, to], header)?.collect::<crate::db::Result<Vec<_>>>()?;
    headers.into_iter().map(|p| with_contents(conn, p)).collect()
}
