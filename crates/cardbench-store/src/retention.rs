//! Retention: the rows that still hold cardholder data, and rewriting them once it is purged.
//!
//! This module records; the rule (which cards, from when, what a body keeps) is the workflow's
//! (`cardbench_workflow::retention`). A purged row stays — ids, statuses, times, counts — with
//! `purged_at` set, so a purge run never reads it again and a screen can say "purged".

use crate::db::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Cards answered by SHIPPED_OK before `cutoff` and not yet purged, oldest first.
pub fn cards_shipped_ok_before(conn: &Connection, cutoff: &str, limit: u32) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT card_id FROM cards
         WHERE status = 'shipped_ok' AND purged_at IS NULL AND shipped_ok_at < ?1
         ORDER BY shipped_ok_at, card_id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![cutoff, limit], |r| r.get(0))?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// The not yet purged received bodies naming `card_id` (its request, duplicates, conflicts,
/// answers): `(inbox id, body)`.
pub fn inbox_of_card(conn: &Connection, card_id: &str) -> Result<Vec<(i64, Vec<u8>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, body FROM inbox WHERE card_id = ?1 AND purged_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([card_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// Received messages before `cutoff` that name no card we hold (rejected before a card was made,
/// ignored, SHIPPED_OK of a shipment): `(inbox id, body)`, oldest first. A message naming a card
/// we hold is purged with that card, never by age alone.
pub fn inbox_without_card_before(
    conn: &Connection,
    cutoff: &str,
    limit: u32,
) -> Result<Vec<(i64, Vec<u8>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, body FROM inbox
         WHERE purged_at IS NULL AND received_at < ?1
           AND (card_id IS NULL OR NOT EXISTS (SELECT 1 FROM cards WHERE cards.card_id = inbox.card_id))
         ORDER BY received_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![cutoff, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// The not yet purged bodies we queued for `card_id`: `(outbox id, body)`.
pub fn outbox_of_card(conn: &Connection, card_id: &str) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, body FROM outbox WHERE card_id = ?1 AND purged_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([card_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// Marks a received message purged at `at`, its body replaced by `body` when given (None: it held
/// nothing to purge). The hash of the body as received is kept (computed now for a row older than
/// the hash column), so a redelivery of the same message is still told apart from a new one.
pub fn purge_inbox(conn: &Connection, id: i64, body: Option<&[u8]>, at: &str) -> Result<()> {
    let Some(body) = body else {
        conn.prepare_cached("UPDATE inbox SET purged_at = ?2 WHERE id = ?1")?
            .execute(params![id, at])?;
        return Ok(());
    };
    let old: Option<(Vec<u8>, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT body, body_hash FROM inbox WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((old_body, old_hash)) = old else {
        return Ok(());
    };
    let hash = old_hash.unwrap_or_else(|| crate::inbox::body_hash(&old_body));
    conn.prepare_cached(
        "UPDATE inbox SET body = ?2, body_hash = ?3, purged_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, body, hash, at])?;
    Ok(())
}

/// Marks a queued message purged at `at`, its body replaced by `body` when given.
pub fn purge_outbox(conn: &Connection, id: i64, body: Option<&str>, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET body = COALESCE(?2, body), purged_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, body, at])?;
    Ok(())
}

/// Marks a card purged at `at`: no holder name any more, `request_json` in place of its request.
pub fn purge_card(conn: &Connection, card_id: &str, request_json: &str, at: &str) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE cards SET holder = NULL, request_json = ?2, purged_at = ?3 WHERE card_id = ?1",
        )?
        .execute(params![card_id, request_json, at])?;
    Ok(n == 1)
}

/// Replaces every readout value of a card by `value`; the fields (which readouts there were) stay.
pub fn purge_readouts(conn: &Connection, card_id: &str, value: &str) -> Result<usize> {
    Ok(conn
        .prepare_cached("UPDATE readouts SET value = ?2 WHERE card_id = ?1 AND value <> ?2")?
        .execute(params![card_id, value])?)
}

/// Whether a card's data is kept: `Some(true)` held, `Some(false)` purged, `None` no such card.
pub fn card_kept(conn: &Connection, card_id: &str) -> Result<Option<bool>> {
    Ok(conn
        .prepare_cached("SELECT purged_at IS NULL FROM cards WHERE card_id = ?1")?
        .query_row([card_id], |r| r.get(0))
        .optional()?)
}

/// The cards of a parcel; `None` when there is no such parcel.
pub fn parcel_card_ids(conn: &Connection, parcel_id: i64) -> Result<Option<Vec<String>>> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM parcels WHERE id = ?1)")?
        .query_row([parcel_id], |r| r.get(0))?;
    if !exists {
        return Ok(None);
    }
    let mut stmt = conn
        .prepare_cached("SELECT card_id FROM parcel_cards WHERE parcel_id = ?1 ORDER BY card_id")?;
    let rows = stmt.query_map([parcel_id], |r| r.get(0))?;
    Ok(Some(rows.collect::<crate::db::Result<Vec<_>>>()?))
}

/// How much was purged so far, for `status` and the purge report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgedCounts {
    pub cards: i64,
    pub inbox: i64,
    pub outbox: i64,
}

pub fn purged_counts(conn: &Connection) -> Result<PurgedCounts> {
    let count =
        |sql: &str| -> Result<i64> { Ok(conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?) };
    Ok(PurgedCounts {
        cards: count("SELECT COUNT(*) FROM cards WHERE purged_at IS NOT NULL")?,
        inbox: count("SELECT COUNT(*) FROM inbox WHERE purged_at IS NOT NULL")?,
        outbox: count("SELECT COUNT(*) FROM outbox WHERE purged_at IS NOT NULL")?,
    })
}

/// Whether an outbox row's body was purged (it must never be sent again: NGOC would get tombstones).
pub fn outbox_purged(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT purged_at IS NOT NULL FROM outbox WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}
