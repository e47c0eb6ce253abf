//! `subscribers`: the bureau's webhooks and forwarding sinks. A removed subscriber keeps its row
//! (`removed_at`), so its outbox rows and their attempts stay explained; a paused one keeps
//! receiving rows in the outbox (nothing is dropped) that its sender holds back.

use crate::db::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberRow {
    pub name: String,
    /// `webhook` or `forward`.
    pub kind: String,
    pub url: String,
    /// The topics it wants, as stored (a JSON array of names).
    pub topics: String,
    /// Kind-specific settings (JSON object).
    pub settings: String,
    pub created_at: String,
    pub paused_at: Option<String>,
    pub paused_reason: Option<String>,
    pub removed_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewSubscriber<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    pub topics: &'a str,
    pub settings: &'a str,
    pub created_at: &'a str,
}

const COLUMNS: &str = "name, kind, url, topics, settings, created_at, paused_at, paused_reason, removed_at";

fn from_row(r: &Row<'_>) -> crate::db::Result<SubscriberRow> {
    Ok(SubscriberRow {
        name: r.get(0)?,
        kind: r.get(1)?,
        url: r.get(2)?,
        topics: r.get(3)?,
        settings: r.get(4)?,
        created_at: r.get(5)?,
        paused_at: r.get(6)?,
        paused_reason: r.get(7)?,
        removed_at: r.get(8)?,
    })
}

/// Adds a subscriber. A removed one of the same name is replaced (its outbox rows keep the
/// destination name, so a re-added subscriber picks up what was still waiting); returns false
/// when a live one of that name exists.
pub fn insert(conn: &Connection, s: &NewSubscriber<'_>) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO subscribers (name, kind, url, topics, settings, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, url = excluded.url, topics = excluded.topics,
                settings = excluded.settings, created_at = excluded.created_at,
                paused_at = NULL, paused_reason = NULL, removed_at = NULL
         WHERE subscribers.removed_at IS NOT NULL",
        params![s.name, s.kind, s.url, s.topics, s.settings, s.created_at],
    )?;
    Ok(n == 1)
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<SubscriberRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM subscribers WHERE name = ?1"))?
        .query_row([name], from_row)
        .optional()?)
}

/// Every subscriber not removed, by name.
pub fn list(conn: &Connection) -> Result<Vec<SubscriberRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM subscribers WHERE removed_at IS NULL ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// Marks a subscriber removed; false when there is no live one of that name.
pub fn remove(conn: &Connection, name: &str, at: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE subscribers SET removed_at = ?2 WHERE name = ?1 AND removed_at IS NULL",
        params![name, at],
    )?;
    Ok(n == 1)
}

/// Holds a subscriber's deliveries back with a reason a person can act on; false when there is
/// no live one of that name.
pub fn pause(conn: &Connection, name: &str, at: &str, reason: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE subscribers SET paused_at = ?2, paused_reason = ?3 WHERE name = ?1 AND removed_at IS NULL",
        params![name, at, reason],
    )?;
    Ok(n == 1)
}

/// Lets a paused subscriber's deliveries go again; false when there is no live one of that name.
pub fn resume(conn: &Connection, name: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE subscribers SET paused_at = NULL, paused_reason = NULL WHERE name = ?1 AND removed_at IS NULL",
        [name],
    )?;
    Ok(n == 1)
}
