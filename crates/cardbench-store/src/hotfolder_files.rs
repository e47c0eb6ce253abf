//! `hotfolder_files`: encoder result files already taken, by content hash.

use crate::db::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotfolderFileRow {
    pub sha256: String,
    pub file_name: String,
    pub taken_at: String,
    pub rows_total: i64,
    pub rows_applied: i64,
    pub rows_refused: i64,
}

pub fn get(conn: &Connection, sha256: &str) -> Result<Option<HotfolderFileRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT sha256, file_name, taken_at, rows_total, rows_applied, rows_refused FROM hotfolder_files WHERE sha256 = ?1",
        )?
        .query_row([sha256], |r| {
            Ok(HotfolderFileRow {
                sha256: r.get(0)?,
                file_name: r.get(1)?,
                taken_at: r.get(2)?,
                rows_total: r.get(3)?,
                rows_applied: r.get(4)?,
                rows_refused: r.get(5)?,
            })
        })
        .optional()?)
}

pub fn insert(conn: &Connection, row: &HotfolderFileRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO hotfolder_files (sha256, file_name, taken_at, rows_total, rows_applied, rows_refused)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![row.sha256, row.file_name, row.taken_at, row.rows_total, row.rows_applied, row.rows_refused])?;
    Ok(())
}
