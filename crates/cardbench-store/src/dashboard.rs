//! Read models of the dashboard and the queue overview that no single table's module answers.

use crate::db::Connection;

use crate::cards::CardStatus;
use crate::error::Result;

/// A card NGOC refused a report or a parcel of (its last error as NGOC gave it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardError {
    /// When the card last changed (the refusal).
    pub at: String,
    pub status: CardStatus,
    pub card_id: String,
    pub error_code: Option<String>,
    pub error_details: Option<String>,
}

/// The cards in `report_error` or `ship_error`, most recently changed first, at most `limit`.
pub fn recent_card_errors(conn: &Connection, limit: u32) -> Result<Vec<CardError>> {
    let mut stmt = conn.prepare_cached(
        "SELECT updated_at, status, card_id, last_error_code, last_error_details
         FROM cards WHERE status IN ('report_error', 'ship_error') ORDER BY updated_at DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (at, status, card_id, error_code, error_details) = row?;
        if let Some(status) = CardStatus::parse(&status) {
            out.push(CardError { at, status, card_id, error_code, error_details });
        }
    }
    Ok(out)
}

/// The error of the newest unsent outbox row that failed, if any.
pub fn last_unsent_error(conn: &Connection) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT last_error FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
    )?;
    let mut rows = stmt.query([])?;
    Ok(match rows.next()? {
        Some(r) => r.get(0)?,
        None => None,
    })
}

/// Cards on the worklist, all statuses.
pub fn card_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get(0))?)
}
