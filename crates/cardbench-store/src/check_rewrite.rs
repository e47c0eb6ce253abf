//! Migration 6: every `CHECK (column IN ('a', 'b', …))` becomes `CHECK (column = 'a' OR …)`.
//!
//! Why: SQLite evaluates an IN list of more than two constants by building a temporary b-tree of
//! the list, once per statement run, and an INSERT runs once per row. The inbox's outcome and the
//! card's status checks did that for every received request — a third of the instructions of a
//! plain insert (Python's sqlite3, 200,000 inserts: 1.06 s with an 8-value IN check, 0.40 s with
//! the same check as ORs, 0.37 s with none). The OR form allows exactly the same values.
//!
//! How: SQLite cannot alter a CHECK, and rebuilding `cards` and `inbox` copies every row (minutes
//! on a worklist of a million cards, twice its size on disk meanwhile). A CHECK lives only in the
//! table's stored `CREATE TABLE` text, not in any row or index, so the text is edited in place —
//! SQLite's documented procedure for constraint changes that leave the stored content valid
//! (<https://sqlite.org/lang_altertable.html#otheralter>): writable schema, new text, schema
//! version plus one, all in the migration's transaction.

use rusqlite::{Transaction, ffi};

/// The IN-list checks of schema 1, as (table, column, allowed values).
const IN_LIST_CHECKS: &[(&str, &str, &[&str])] = &[
    ("inbox", "outcome", &["accepted", "duplicate", "rejected", "ignored"]),
    ("parcels", "status", &["awaiting_ok", "shipped_ok", "error"]),
    (
        "cards",
        "status",
        &["received", "readouts_captured", "produced", "report_ok", "report_error", "shipped", "shipped_ok", "ship_error"],
    ),
    ("conflicts", "status", &["open", "resolved"]),
];

fn unexpected(what: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_ERROR), Some(what))
}

/// `table`'s CREATE text with the IN-list check on `column` written as ORs. Refuses a text
/// whose list is not exactly `allowed`: then the schema is not the one this migration knows.
fn rewritten(table: &str, sql: &str, column: &str, allowed: &[&str]) -> rusqlite::Result<String> {
    let opening = format!("CHECK ({column} IN (");
    let start = sql.find(&opening).ok_or_else(|| unexpected(format!("table {table}: no `{opening}` in its schema")))?;
    let list_start = start + opening.len();
    let list_len = sql[list_start..]
        .find("))")
        .ok_or_else(|| unexpected(format!("table {table}: the check on {column} does not close")))?;
    let found: Vec<&str> =
        sql[list_start..list_start + list_len].split(',').map(|v| v.trim().trim_matches('\'')).collect();
    if found != allowed {
        return Err(unexpected(format!("table {table}: the check on {column} allows {found:?}, expected {allowed:?}")));
    }
    let ors: Vec<String> = allowed.iter().map(|v| format!("{column} = '{v}'")).collect();
    let end = list_start + list_len + "))".len();
    Ok(format!("{}CHECK ({}){}", &sql[..start], ors.join(" OR "), &sql[end..]))
}

pub(crate) fn rewrite(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.execute_batch("PRAGMA writable_schema = ON")?;
    for (table, column, allowed) in IN_LIST_CHECKS {
        let sql: String =
            tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))?;
        let new_sql = rewritten(table, &sql, column, allowed)?;
        tx.execute("UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2", [&new_sql, *table])?;
    }
    // A new schema version makes every connection (this one included) parse the new text before
    // its next statement; a text that did not parse fails that statement, inside this transaction.
    tx.execute_batch(&format!("PRAGMA schema_version = {}; PRAGMA writable_schema = OFF;", version + 1))?;
    for (table, ..) in IN_LIST_CHECKS {
        tx.query_row(&format!("SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)"), [], |r| r.get::<_, i64>(0))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_line_in_list_becomes_ors_and_the_rest_is_kept() {
        let sql = "CREATE TABLE t (\n    a TEXT,\n    status TEXT NOT NULL CHECK (status IN (\n        'x', 'y',\n        'z')),\n    b TEXT\n)";
        let out = rewritten("t", sql, "status", &["x", "y", "z"]).expect("rewritten");
        assert_eq!(
            out,
            "CREATE TABLE t (\n    a TEXT,\n    status TEXT NOT NULL CHECK (status = 'x' OR status = 'y' OR status = 'z'),\n    b TEXT\n)"
        );
    }

    #[test]
    fn an_unknown_list_is_refused_not_rewritten() {
        let sql = "CREATE TABLE t (status TEXT CHECK (status IN ('x', 'w')))";
        let err = rewritten("t", sql, "status", &["x", "y"]).expect_err("other values");
        assert!(err.to_string().contains("expected"), "{err}");
        let err = rewritten("t", "CREATE TABLE t (status TEXT)", "status", &["x"]).expect_err("no check");
        assert!(err.to_string().contains("no `CHECK (status IN (`"), "{err}");
    }
}
