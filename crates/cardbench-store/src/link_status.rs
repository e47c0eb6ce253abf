//! `link_status`: the daemon's view of its links, readable by the CLI and the app from another
//! process.

use crate::db::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatusRow {
    pub link: String,
    pub state: String,
    pub detail: Option<String>,
    pub since: String,
    pub next_retry_at: Option<String>,
}

pub fn set(conn: &Connection, row: &LinkStatusRow) -> Result<()> {
    conn.execute(
        "INSERT INTO link_status (link, state, detail, since, next_retry_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (link) DO UPDATE SET state = excluded.state, detail = excluded.detail,
                                          since = excluded.since, next_retry_at = excluded.next_retry_at",
        params![row.link, row.state, row.detail, row.since, row.next_retry_at],
    )?;
    Ok(())
}

pub fn all(conn: &Connection) -> Result<Vec<LinkStatusRow>> {
    let mut stmt = conn.prepare("SELECT link, state, detail, since, next_retry_at FROM link_status ORDER BY link")?;
    let rows = stmt.query_map([], |r| {
        Ok(LinkStatusRow { link: r.get(0)?, state: r.get(1)?, detail: r.get(2)?, since: r.get(3)?, next_retry_at: r.get(4)? })
    })?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}
