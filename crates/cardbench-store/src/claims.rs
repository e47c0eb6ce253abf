//! `card_claims`: the cards in hand at the stations of a floor. A station that loads a card to
//! produce it takes it until a time it keeps pushing forward while the card is shown; another
//! station may take it only once that time has passed (the holder died, or walked away without
//! releasing it). The workflow decides when to take, renew and release
//! (`cardbench_workflow::claims`); this module only records.
//!
//! Times are [`crate::time`]'s text (RFC 3339 UTC, milliseconds), so comparing the text compares
//! the times. A claim is active while `expires_at > now`.

use serde::{Deserialize, Serialize};

use crate::db::{Connection, OptionalExtension, Row, params};
use crate::error::Result;

/// Who holds a card, since and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub card_id: String,
    pub station: String,
    pub operator: String,
    /// When this station took the card (a renewal keeps it).
    pub taken_at: String,
    pub expires_at: String,
}

/// What [`take`] found: the claim now on the card, and whether it is the asking station's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub ours: bool,
    /// The claim on the card after the attempt: ours when `ours`, else the other station's
    /// (`None` only if that one was released between the attempt and the look).
    pub claim: Option<Claim>,
}

const COLUMNS: &str = "card_id, station, operator, taken_at, expires_at";

fn from_row(r: &Row<'_>) -> crate::db::Result<Claim> {
    Ok(Claim { card_id: r.get(0)?, station: r.get(1)?, operator: r.get(2)?, taken_at: r.get(3)?, expires_at: r.get(4)? })
}

/// Takes `card_id` for `station` and `operator` until `until`, or renews the station's own
/// claim (whichever of its processes or operators took it), unless another station holds it
/// past `now`. One statement: on PostgreSQL the row is locked by whichever station writes it
/// first and the other's condition is checked against the committed row, so two stations never
/// both win; on SQLite the write lock does the same.
pub fn take(conn: &Connection, card_id: &str, station: &str, operator: &str, now: &str, until: &str) -> Result<Taken> {
    let n = conn
        .prepare_cached(
            "INSERT INTO card_claims (card_id, station, operator, taken_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (card_id) DO UPDATE SET
                 taken_at = CASE WHEN card_claims.station = excluded.station AND card_claims.expires_at > ?4
                                 THEN card_claims.taken_at ELSE excluded.taken_at END,
                 station = excluded.station, operator = excluded.operator, expires_at = excluded.expires_at
             WHERE card_claims.station = excluded.station OR card_claims.expires_at <= ?4",
        )?
        .execute(params![card_id, station, operator, now, until])?;
    let claim = holder_any(conn, card_id)?;
    Ok(Taken { ours: n == 1, claim })
}

/// The claim on `card_id` that is still active at `now`, whoever holds it.
pub fn holder(conn: &Connection, card_id: &str, now: &str) -> Result<Option<Claim>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM card_claims WHERE card_id = ?1 AND expires_at > ?2"))?
        .query_row(params![card_id, now], from_row)
        .optional()?)
}

fn holder_any(conn: &Connection, card_id: &str) -> Result<Option<Claim>> {
    Ok(conn.prepare_cached(&format!("SELECT {COLUMNS} FROM card_claims WHERE card_id = ?1"))?.query_row([card_id], from_row).optional()?)
}

/// Gives `station`'s claim on `card_id` up (produced, or the operator moved on). Another
/// station's claim is left alone. Returns whether there was one.
pub fn release(conn: &Connection, card_id: &str, station: &str) -> Result<bool> {
    let n = conn.prepare_cached("DELETE FROM card_claims WHERE card_id = ?1 AND station = ?2")?.execute(params![card_id, station])?;
    Ok(n > 0)
}

/// Forgets claims that ran out before `before` (dead stations' cards nobody took since), so the
/// table stays as small as the floor's hands. Returns how many.
pub fn forget_expired(conn: &Connection, before: &str) -> Result<usize> {
    Ok(conn.prepare_cached("DELETE FROM card_claims WHERE expires_at <= ?1")?.execute([before])?)
}
