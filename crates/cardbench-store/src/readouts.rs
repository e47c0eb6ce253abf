//! `readouts`: the current, normalised readout values of each card.

use crate::db::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadoutRow {
    pub field: String,
    pub value: String,
    pub source: String,
    pub captured_at: String,
}

pub fn upsert(conn: &Connection, card_id: &str, field: &str, value: &str, source: &str, at: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO readouts (card_id, field, value, source, captured_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (card_id, field) DO UPDATE SET value = excluded.value, source = excluded.source,
                                                    captured_at = excluded.captured_at",
    )?
    .execute(params![card_id, field, value, source, at])?;
    Ok(())
}

pub fn for_card(conn: &Connection, card_id: &str) -> Result<Vec<ReadoutRow>> {
    let mut stmt =
        conn.prepare_cached("SELECT field, value, source, captured_at FROM readouts WHERE card_id = ?1 ORDER BY field")?;
    let rows = stmt.query_map([card_id], |r| {
        Ok(ReadoutRow { field: r.get(0)?, value: r.get(1)?, source: r.get(2)?, captured_at: r.get(3)? })
    })?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

pub fn clear(conn: &Connection, card_id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM readouts WHERE card_id = ?1")?.execute([card_id])?;
    Ok(())
}

/// Another card already holding this value for this field (a mixed-up chip), if any.
pub fn other_card_with(conn: &Connection, field: &str, value: &str, except_card: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT card_id FROM readouts WHERE field = ?1 AND value = ?2 AND card_id <> ?3 LIMIT 1")?
        .query_row(params![field, value, except_card], |r| r.get(0))
        .optional()?)
}

/// Replaces one stored value (e.g. a secret by a tombstone), keeping where and when it was
/// captured. Returns false when the card has no such field.
pub fn replace_value(conn: &Connection, card_id: &str, field: &str, value: &str) -> Result<bool> {
    let n = conn
        .prepare_cached("UPDATE readouts SET value = ?3 WHERE card_id = ?1 AND field = ?2")?
        .execute(params![card_id, field, value])?;
    Ok(n == 1)
}
