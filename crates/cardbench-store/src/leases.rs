//! `sender_leases`: which station sends a destination's outbox rows, until when. One station
//! sends a destination at a time (so its rows keep their order and none goes twice); a station
//! that stops renewing (stopped, killed, cut off) loses the lease when it runs out, and the next
//! station to ask takes it and sends what is left, with the same messageIds.

use crate::db::{Connection, params};
use crate::error::Result;

/// Takes or renews `destination`'s lease for `station` until `until`, unless another station
/// holds one that has not run out at `now`. Returns whether `station` holds it now.
pub fn acquire(conn: &Connection, destination: &str, station: &str, now: &str, until: &str) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO sender_leases (destination, station, until) VALUES (?1, ?2, ?4)
             ON CONFLICT (destination) DO UPDATE SET station = excluded.station, until = excluded.until
             WHERE sender_leases.station = excluded.station OR sender_leases.until <= ?3",
        )?
        .execute(params![destination, station, now, until])?;
    Ok(n == 1)
}

/// Gives the lease up (a station stopping cleanly), so another takes over at once.
pub fn release(conn: &Connection, destination: &str, station: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM sender_leases WHERE destination = ?1 AND station = ?2")?
        .execute(params![destination, station])?;
    Ok(())
}

/// Who holds `destination`'s lease, until when.
pub fn holder(conn: &Connection, destination: &str) -> Result<Option<(String, String)>> {
    use crate::db::OptionalExtension as _;
    Ok(conn
        .prepare_cached("SELECT station, until FROM sender_leases WHERE destination = ?1")?
        .query_row([destination], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
