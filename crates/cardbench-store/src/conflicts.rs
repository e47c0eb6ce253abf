//! `conflicts`: requests that reused a cardId with different content, for a person to resolve.

use crate::db::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRow {
    pub id: i64,
    pub card_id: String,
    pub inbox_id: i64,
    pub received_at: String,
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
}

pub fn insert(conn: &Connection, card_id: &str, inbox_id: i64, at: &str) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO conflicts (card_id, inbox_id, received_at, status) VALUES (?1, ?2, ?3, 'open')",
    )?
    .execute(params![card_id, inbox_id, at])?;
    Ok(conn.last_insert_rowid())
}

pub fn list(conn: &Connection, open_only: bool) -> Result<Vec<ConflictRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, card_id, inbox_id, received_at, status, resolution, resolved_by, resolved_at
         FROM conflicts WHERE NOT ?1 OR status = 'open' ORDER BY id",
    )?;
    let rows = stmt.query_map([open_only], |r| {
        Ok(ConflictRow {
            id: r.get(0)?,
            card_id: r.get(1)?,
            inbox_id: r.get(2)?,
            received_at: r.get(3)?,
            status: r.get(4)?,
            resolution: r.get(5)?,
            resolved_by: r.get(6)?,
            resolved_at: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// Returns false when the conflict does not exist or is already resolved.
pub fn resolve(conn: &Connection, id: i64, resolution: &str, operator: &str, at: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE conflicts SET status = 'resolved', resolution = ?2, resolved_by = ?3, resolved_at = ?4
         WHERE id = ?1 AND status = 'open'",
        params![id, resolution, operator, at],
    )?;
    Ok(n == 1)
}
