//! Moving a station's SQLite worklist into a floor's empty PostgreSQL store
//! (`cardbench store migrate --to postgres://…`): every table copied in one PostgreSQL
//! transaction, then verified by row counts and a checksum of every row read back from both.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use sha2::{Digest, Sha256};

use crate::db::{Connection, Engine};
use crate::error::{Result, StoreError};
use crate::Store;

/// Tables in an order that satisfies their references (a table after those it points at);
/// any table not named here (added by a later migration) follows in name order.
const ORDER: &[&str] = &[
    "shipments",
    "inbox",
    "outbox",
    "parcels",
    "cards",
    "card_accessories",
    "parcel_accessories",
    "parcel_cards",
    "readouts",
    "conflicts",
    "audit",
    "hotfolder_files",
    "invoice_counter",
    "invoices",
    "link_status",
    "events",
    "subscribers",
    "delivery_attempts",
];

/// SQLite's implicit row id, kept by PostgreSQL as an identity column of these tables (their
/// insertion order): not copied, but the rows are copied in its order.
const ROWID_TABLES: &[&str] = &["card_accessories", "parcel_accessories"];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableMoved {
    pub table: String,
    pub rows: u64,
    /// SHA-256 of every row as read back, in key order; the same on both sides.
    pub checksum: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("the source must be a SQLite store and the target a PostgreSQL one")]
    Engines,
    #[error("the target store is not empty ({table} has {rows} rows): moving in is for a new floor store only")]
    TargetNotEmpty { table: String, rows: u64 },
    #[error("table {table}: {source_rows} rows here, {target_rows} there after the copy")]
    CountDiffers { table: String, source_rows: u64, target_rows: u64 },
    #[error("table {table}: the rows read back differ (checksum {here} here, {there} there)")]
    ChecksumDiffers { table: String, here: String, there: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::db::DbError> for MoveError {
    fn from(e: crate::db::DbError) -> Self {
        MoveError::Store(e.into())
    }
}

/// Copies every row of `source` (SQLite) into `target` (PostgreSQL, empty) and verifies it.
pub fn sqlite_to_postgres(source: &Store, target: &Store) -> std::result::Result<Vec<TableMoved>, MoveError> {
    if source.engine() != Engine::Sqlite || target.engine() != Engine::Postgres {
        return Err(MoveError::Engines);
    }
    let tables = source.read(tables_of)?;
    target.read(|pg| -> std::result::Result<(), MoveError> {
        for (table, _) in &tables {
            let rows: i64 = pg.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            if rows > 0 {
                return Err(MoveError::TargetNotEmpty { table: table.clone(), rows: rows.unsigned_abs() });
            }
        }
        Ok(())
    })?;
    target.write(|pg| -> std::result::Result<(), MoveError> {
        for (table, columns) in &tables {
            let rows = source.read(|c| read_all(c, table, columns, copy_order(table)))?;
            let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            let sql = format!("INSERT INTO {table} ({}) VALUES ({})", columns.join(", "), marks.join(", "));
            let mut insert = pg.prepare_cached(&sql)?;
            for row in rows {
                insert.execute(crate::db::params_from_iter(row.iter()))?;
            }
            // Ids were copied as they are: the identity goes on after the highest.
            if columns.iter().any(|c| c == "id") {
                pg.execute_batch(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table} HAVING MAX(id) IS NOT NULL"
                ))?;
            }
        }
        Ok(())
    })?;
    let mut moved = Vec::new();
    for (table, columns) in &tables {
        let (source_rows, source_sum) = source.read(|c| checksum(c, table, columns))?;
        let (target_rows, target_sum) = target.read(|c| checksum(c, table, columns))?;
        if source_rows != target_rows {
            return Err(MoveError::CountDiffers { table: table.clone(), source_rows, target_rows });
        }
        if source_sum != target_sum {
            return Err(MoveError::ChecksumDiffers { table: table.clone(), here: source_sum, there: target_sum });
        }
        moved.push(TableMoved { table: table.clone(), rows: source_rows, checksum: source_sum });
    }
    Ok(moved)
}

/// The store's tables (schema_migrations aside) with their columns, in copy order.
fn tables_of(conn: &Connection) -> Result<Vec<(String, Vec<String>)>> {
    let mut names: Vec<String> =
        conn.table_names()?.into_iter().filter(|t| !t.starts_with("sqlite_") && t != "schema_migrations").collect();
    let rank = |t: &str| ORDER.iter().position(|o| *o == t).unwrap_or(ORDER.len());
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    let mut tables = Vec::new();
    for table in names {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"))?
            .query_map([], |r| r.get(0))?
            .collect::<crate::db::Result<_>>()?;
        tables.push((table, columns));
    }
    Ok(tables)
}

/// The order rows are copied in where it matters: SQLite's row id (insertion order) of the tables
/// whose PostgreSQL twin numbers its rows as they come.
fn copy_order(table: &str) -> Option<&'static str> {
    ROWID_TABLES.contains(&table).then_some("rowid")
}

fn read_all(conn: &Connection, table: &str, columns: &[String], order: Option<&str>) -> Result<Vec<Vec<Value>>> {
    let mut sql = format!("SELECT {} FROM {table}", columns.join(", "));
    if let Some(order) = order {
        sql.push_str(&format!(" ORDER BY {order}"));
    }
    let n = columns.len();
    let rows = conn
        .prepare(&sql)?
        .query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<crate::db::Result<Vec<_>>>())?
        .collect::<crate::db::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Row count and SHA-256 of `table`'s rows read back, each value written with its kind. The
/// rows' own digests are sorted first, so the sum does not depend on the order either engine
/// lists them in (collations differ).
fn checksum(conn: &Connection, table: &str, columns: &[String]) -> Result<(u64, String)> {
    let rows = read_all(conn, table, columns, None)?;
    let mut digests: Vec<[u8; 32]> = rows
        .iter()
        .map(|row| {
            let mut hash = Sha256::new();
            for value in row {
                match value {
                    Value::Null => hash.update(b"N;"),
                    Value::Integer(i) => hash.update(format!("I{i};")),
                    Value::Real(f) => hash.update(format!("R{f};")),
                    Value::Text(t) => hash.update(format!("T{}:{t};", t.len())),
                    Value::Blob(b) => {
                        hash.update(format!("B{}:", b.len()));
                        hash.update(b);
                    }
                }
            }
            hash.finalize().into()
        })
        .collect();
    digests.sort_unstable();
    let mut all = Sha256::new();
    for d in &digests {
        all.update(d);
    }
    let sum: String = all.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((rows.len() as u64, sum))
}

/// Row counts of every table, for a report.
pub fn counts(store: &Store) -> Result<BTreeMap<String, u64>> {
    store.read(|c| {
        let mut out = BTreeMap::new();
        for name in c.table_names()?.into_iter().filter(|t| !t.starts_with("sqlite_")) {
            let n: i64 = c.query_row(&format!("SELECT COUNT(*) FROM {name}"), [], |r| r.get(0))?;
            out.insert(name, n.unsigned_abs());
        }
        Ok(out)
    })
}
