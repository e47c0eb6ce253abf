//! Read models of the shift report and the dashboard's production chart: the rows each figure is
//! counted from, typed. What counts as what (which audit action is "produced", who an answer is
//! credited to, which shift an instant falls in) is `cardbench-documents`' rule; this module only
//! answers the queries it asks.

use cardbench_protocol::Subject;
use crate::db::{Connection, params};

use crate::error::Result;

/// One audit row of an action the report counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionAt {
    pub at: String,
    pub operator: String,
    pub action: String,
    /// The station it was done at (`None` before stations had names).
    pub station: Option<String>,
}

/// Audit rows in [from, to) whose action is one of `actions`, in no particular order.
pub fn actions_between(conn: &Connection, from: &str, to: &str, actions: &[&str]) -> Result<Vec<ActionAt>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT at, operator, action, station FROM audit WHERE at >= ?1 AND at < ?2 AND action = ?3")?;
    for action in actions {
        let rows = stmt.query_map(params![from, to, action], |r| {
            Ok(ActionAt { at: r.get(0)?, operator: r.get(1)?, action: r.get(2)?, station: r.get(3)? })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// A parcel as the shift report counts it: when, by whom, how many cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelShipped {
    pub created_at: String,
    pub operator: String,
    pub cards: u64,
    /// The station of the parcel's `shipped_action` audit row (written with the parcel, at the
    /// same instant).
    pub station: Option<String>,
}

/// Parcels created in [from, to) with their card counts and stations.
pub fn parcels_between(conn: &Connection, from: &str, to: &str, shipped_action: &str) -> Result<Vec<ParcelShipped>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.created_at, p.operator, (SELECT COUNT(*) FROM parcel_cards pc WHERE pc.parcel_id = p.id),
                (SELECT a.station FROM audit a WHERE a.action = ?3 AND a.shipment_id = p.shipment_id AND a.at = p.created_at
                 ORDER BY a.id LIMIT 1)
         FROM parcels p WHERE p.created_at >= ?1 AND p.created_at < ?2",
    )?;
    let rows = stmt.query_map(params![from, to, shipped_action], |r| {
        Ok(ParcelShipped { created_at: r.get(0)?, operator: r.get(1)?, cards: r.get::<_, i64>(2)?.max(0) as u64, station: r.get(3)? })
    })?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// An accepted answer from NGOC with the people it may be credited to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub received_at: String,
    pub subject: Subject,
    /// The operator of the card's latest `produced_action` audit row at or before the answer.
    pub producer: Option<String>,
    /// The operator of the shipment's latest parcel created at or before the answer.
    pub shipper: Option<String>,
    /// The station of the producer's audit row.
    pub producer_station: Option<String>,
    /// The station of the shipper's parcel (its `shipped_action` audit row).
    pub shipper_station: Option<String>,
}

/// Accepted inbox messages in [from, to) of one of `subjects`, each with its producer and shipper
/// and their stations.
pub fn answers_between(
    conn: &Connection,
    from: &str,
    to: &str,
    subjects: &[Subject],
    produced_action: &str,
    shipped_action: &str,
) -> Result<Vec<Answer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.received_at,
                (SELECT a.operator FROM audit a WHERE a.card_id = i.card_id AND a.action = ?3 AND a.at <= i.received_at
                 ORDER BY a.at DESC, a.id DESC LIMIT 1),
                (SELECT p.operator FROM parcels p WHERE p.shipment_id = i.shipment_id AND p.created_at <= i.received_at
                 ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
                (SELECT a.station FROM audit a WHERE a.card_id = i.card_id AND a.action = ?3 AND a.at <= i.received_at
                 ORDER BY a.at DESC, a.id DESC LIMIT 1),
                (SELECT a.station FROM parcels p
                 JOIN audit a ON a.action = ?5 AND a.shipment_id = p.shipment_id AND a.at = p.created_at
                 WHERE p.shipment_id = i.shipment_id AND p.created_at <= i.received_at
                 ORDER BY p.created_at DESC, p.id DESC, a.id LIMIT 1)
         FROM inbox i
         WHERE i.received_at >= ?1 AND i.received_at < ?2 AND i.outcome = 'accepted' AND i.subject = ?4",
    )?;
    let mut out = Vec::new();
    for subject in subjects {
        let rows = stmt.query_map(params![from, to, produced_action, subject.as_str(), shipped_action], |r| {
            Ok(Answer {
                received_at: r.get(0)?,
                subject: *subject,
                producer: r.get(1)?,
                shipper: r.get(2)?,
                producer_station: r.get(3)?,
                shipper_station: r.get(4)?,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// When each card request in [from, to) was received.
pub fn cards_received_between(conn: &Connection, from: &str, to: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT received_at FROM cards WHERE received_at >= ?1 AND received_at < ?2")?;
    let rows = stmt.query_map(params![from, to], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// What an hourly count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted<'a> {
    /// Audit rows of this action, by their time.
    Action(&'a str),
    /// Accepted inbox messages of this subject, by their receipt.
    Accepted(Subject),
}

/// One local hour's count: the hour as `YYYY-MM-DDTHH` in local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourCount {
    pub local_hour: String,
    pub count: u64,
}

/// `what` in [from, to) counted per local hour (`offset_secs` east of UTC), grouped in SQL over
/// the time indexes, so a week costs one grouped scan. Hours with nothing are absent.
pub fn hourly(conn: &Connection, from: &str, to: &str, offset_secs: i32, what: Counted<'_>) -> Result<Vec<HourCount>> {
    // The local hour of a stored time (RFC 3339 text in UTC), in each engine's own words.
    let sqlite = conn.engine() == crate::db::Engine::Sqlite;
    // ?3: the offset as both read it ("+3600 seconds").
    let shift = format!("{offset_secs:+} seconds");
    let local_hour = if sqlite {
        "strftime('%Y-%m-%dT%H', {t}, ?3)"
    } else {
        "to_char((CAST({t} AS TIMESTAMPTZ) AT TIME ZONE 'UTC') + CAST(CAST(?3 AS TEXT) AS INTERVAL), 'YYYY-MM-DD\"T\"HH24')"
    };
    let (sql, key) = match what {
        Counted::Action(action) => (
            format!(
                "SELECT {}, COUNT(*) FROM audit WHERE at >= ?1 AND at < ?2 AND action = ?4 GROUP BY 1",
                local_hour.replace("{t}", "at")
            ),
            action,
        ),
        Counted::Accepted(subject) => (
            format!(
                "SELECT {}, COUNT(*) FROM inbox
                 WHERE received_at >= ?1 AND received_at < ?2 AND outcome = 'accepted' AND subject = ?4 GROUP BY 1",
                local_hour.replace("{t}", "received_at")
            ),
            subject.as_str(),
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![from, to, shift, key], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        if let (Some(local_hour), count) = row? {
            out.push(HourCount { local_hour, count: count.max(0) as u64 });
        }
    }
    Ok(out)
}
