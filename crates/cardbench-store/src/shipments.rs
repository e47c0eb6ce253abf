//! `shipments`: one row per shipmentId seen; cards and parcels hang off it.

use crate::db::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentRow {
    pub shipment_id: String,
    pub organisation_id: String,
    pub first_received_at: String,
}

/// Records the shipment on its first request; later requests of the same shipment change nothing.
pub fn ensure(conn: &Connection, shipment_id: &str, organisation_id: &str, at: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO shipments (shipment_id, organisation_id, first_received_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (shipment_id) DO NOTHING",
    )?
    .execute(params![shipment_id, organisation_id, at])?;
    Ok(())
}

/// Every organisation the store has a shipment of, with how many, by organisationId.
pub fn organisations(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT organisation_id, COUNT(*) FROM shipments GROUP BY organisation_id ORDER BY organisation_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<crate::db::Result<_>>()?)
}

/// Holds `shipment_id` for the rest of the write transaction, so the writes that decide its
/// REPORT_OK gate (a parcel written, a card of it produced) happen one after the other even at
/// two stations. PostgreSQL: the shipment's row, locked (`FOR UPDATE`); returns true. SQLite:
/// nothing to do, a write transaction already holds the whole database (`BEGIN IMMEDIATE`);
/// returns false.
pub fn lock(conn: &Connection, shipment_id: &str) -> Result<bool> {
    if conn.engine() == crate::db::Engine::Sqlite {
        return Ok(false);
    }
    conn.prepare_cached("SELECT shipment_id FROM shipments WHERE shipment_id = ?1 FOR UPDATE")?.query([shipment_id])?.next()?;
    Ok(true)
}

pub fn get(conn: &Connection, shipment_id: &str) -> Result<Option<ShipmentRow>> {
    Ok(conn
        .prepare_cached("SELECT shipment_id, organisation_id, first_received_at FROM shipments WHERE shipment_id = ?1")?
        .query_row([shipment_id], |r| {
            Ok(ShipmentRow { shipment_id: r.get(0)?, organisation_id: r.get(1)?, first_received_at: r.get(2)? })
        })
        .optional()?)
}

/// An accessory line of a shipment: how many were requested and how many already went out in
/// parcels that NGOC has not rejected.
///
/// Sums are 64-bit: each line's quantity is a u32 (the contract's bound), and two large lines of
/// one shipment add up beyond u32 (reading such a sum into a u32 failed the balance, and with it
/// every parcel of the shipment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessoryBalance {
    pub article_id: String,
    pub accessory_id: String,
    pub requested: u64,
    pub shipped: u64,
}

impl AccessoryBalance {
    /// How many are left to ship (never negative: parcels of refused cards may have shipped more
    /// than the requests still counted).
    pub fn remaining(&self) -> u64 {
        self.requested.saturating_sub(self.shipped)
    }
}

pub fn accessory_balance(conn: &Connection, shipment_id: &str) -> Result<Vec<AccessoryBalance>> {
    let mut stmt = conn.prepare_cached(
        "WITH requested AS (
             SELECT ca.article_id, ca.accessory_id, SUM(ca.quantity) AS n
             FROM card_accessories ca JOIN cards c ON c.card_id = ca.card_id
             -- A refused request's accessories are refused with it.
             WHERE c.shipment_id = ?1 AND c.status <> 'refused' GROUP BY ca.article_id, ca.accessory_id),
         shipped AS (
             SELECT pa.article_id, pa.accessory_id, SUM(pa.quantity) AS n
             FROM parcel_accessories pa JOIN parcels p ON p.id = pa.parcel_id
             WHERE p.shipment_id = ?1 AND p.status <> 'error' GROUP BY pa.article_id, pa.accessory_id)
         SELECT r.article_id, r.accessory_id, r.n, COALESCE(s.n, 0)
         FROM requested r LEFT JOIN shipped s ON s.article_id = r.article_id AND s.accessory_id = r.accessory_id
         ORDER BY r.accessory_id",
    )?;
    let rows = stmt.query_map([shipment_id], |r| {
        Ok(AccessoryBalance { article_id: r.get(0)?, accessory_id: r.get(1)?, requested: r.get(2)?, shipped: r.get(3)? })
    })?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// A shipment with its card counts, for the batching screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentSummary {
    pub shipment_id: String,
    pub organisation_id: String,
    pub first_received_at: String,
    /// Refused cards are not counted: they are no longer part of the shipment.
    pub cards: u32,
    /// REPORT_OK and not yet in a parcel: ready to ship.
    pub ready: u32,
    /// Produced without REPORT_OK (awaiting it, or answered with ERROR): these block a SHIPPED.
    pub awaiting_report: u32,
    pub shipped: u32,
    pub parcels: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShipmentFilter {
    pub organisation_id: Option<String>,
    /// Only shipments with cards not yet shipped.
    pub open_only: bool,
    pub limit: Option<u32>,
}

pub fn list(conn: &Connection, f: &ShipmentFilter) -> Result<Vec<ShipmentSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.shipment_id, s.organisation_id, s.first_received_at,
                SUM(CASE WHEN c.status <> 'refused' THEN 1 ELSE 0 END),
                SUM(CASE WHEN c.status = 'report_ok' THEN 1 ELSE 0 END),
                SUM(CASE WHEN c.status IN ('produced', 'report_error') THEN 1 ELSE 0 END),
                SUM(CASE WHEN c.status IN ('shipped', 'shipped_ok') THEN 1 ELSE 0 END),
                (SELECT COUNT(*) FROM parcels p WHERE p.shipment_id = s.shipment_id)
         FROM shipments s JOIN cards c ON c.shipment_id = s.shipment_id
         WHERE (?1 IS NULL OR s.organisation_id = ?1)
         GROUP BY s.shipment_id
         HAVING NOT ?2 OR SUM(CASE WHEN c.status NOT IN ('shipped', 'shipped_ok', 'refused') THEN 1 ELSE 0 END) > 0
         ORDER BY s.first_received_at, s.shipment_id
         LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![f.organisation_id, f.open_only, f.limit.unwrap_or(500)], |r| {
        Ok(ShipmentSummary {
            shipment_id: r.get(0)?,
            organisation_id: r.get(1)?,
            first_received_at: r.get(2)?,
            cards: r.get(3)?,
            ready: r.get(4)?,
            awaiting_report: r.get(5)?,
            shipped: r.get(6)?,
            parcels: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}
