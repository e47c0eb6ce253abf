//! `audit`: who changed what, when. Written in the same transaction as the change itself.

use crate::db::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub operator: String,
    pub action: String,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
    pub details: Option<serde_json::Value>,
    /// The station the change was made at (`None`: before stations had names, or a store never
    /// told its station).
    pub station: Option<String>,
}

pub struct NewAudit<'a> {
    pub at: &'a str,
    pub operator: &'a str,
    pub action: &'a str,
    pub card_id: Option<&'a str>,
    pub shipment_id: Option<&'a str>,
    pub details: Option<&'a serde_json::Value>,
}

/// Records `a`, made at the connection's station ([`Connection::station`]).
pub fn record(conn: &Connection, a: &NewAudit<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, operator, action, card_id, shipment_id, details, station) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![a.at, a.operator, a.action, a.card_id, a.shipment_id, a.details.map(|d| d.to_string()), conn.station()])?;
    Ok(())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditFilter {
    pub operator: Option<String>,
    pub card_id: Option<String>,
    pub shipment_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<u32>,
}

/// Oldest first within the window.
pub fn list(conn: &Connection, f: &AuditFilter) -> Result<Vec<AuditRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, operator, action, card_id, shipment_id, details, station FROM audit
         WHERE (?1 IS NULL OR operator = ?1) AND (?2 IS NULL OR card_id = ?2) AND (?3 IS NULL OR shipment_id = ?3)
           AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5)
         ORDER BY id LIMIT ?6",
    )?;
    let rows = stmt.query_map(
        params![f.operator, f.card_id, f.shipment_id, f.since, f.until, f.limit.unwrap_or(1000)],
        |r| {
            let details: Option<String> = r.get(6)?;
            Ok(AuditRow {
                id: r.get(0)?,
                at: r.get(1)?,
                operator: r.get(2)?,
                action: r.get(3)?,
                card_id: r.get(4)?,
                shipment_id: r.get(5)?,
                details: details.and_then(|d| serde_json::from_str(&d).ok()),
                station: r.get(7)?,
            })
        },
    )?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}
