//! Migration 9: the card status check also allows `refused` (a request the partner refused with
//! EXTERNAL_PRODUCTION_ERROR).
//!
//! Same technique as migration 6 (`check_rewrite`), for the same reason: a CHECK lives only in the
//! table's stored `CREATE TABLE` text, so allowing one more value is an edit of that text, not a
//! copy of every card. The check is found by its first allowed value rather than by its whole text,
//! so a migration that allowed another status before this one (7 or 8) is kept.

use rusqlite::{Transaction, ffi};

/// Where the card status check begins, as migration 6 wrote it.
const CHECK_START: &str = "CHECK (status = 'received'";
const ADDED: &str = "status = 'refused'";

fn unexpected(what: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_ERROR), Some(what.to_owned()))
}

/// The `cards` CREATE text with `refused` allowed by its status check; `None` when it already is.
fn with_refused(sql: &str) -> rusqlite::Result<Option<String>> {
    let start = sql.find(CHECK_START).ok_or_else(|| unexpected("table cards: no status check of schema 6 found"))?;
    // The check's closing parenthesis: the first one that returns to the depth the check opened at.
    let open = start + "CHECK ".len();
    let mut depth = 0usize;
    let mut close = None;
    for (i, c) in sql[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.ok_or_else(|| unexpected("table cards: the status check does not close"))?;
    if sql[open..close].contains(ADDED) {
        return Ok(None);
    }
    Ok(Some(format!("{} OR {ADDED}{}", &sql[..close], &sql[close..])))
}

pub(crate) fn allow_refused(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let sql: String = tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'cards'", [], |r| r.get(0))?;
    let Some(new_sql) = with_refused(&sql)? else {
        return Ok(());
    };
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.execute_batch("PRAGMA writable_schema = ON")?;
    tx.execute("UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'cards'", [&new_sql])?;
    // A new schema version makes every connection parse the new text before its next statement.
    tx.execute_batch(&format!("PRAGMA schema_version = {}; PRAGMA writable_schema = OFF;", version + 1))?;
    tx.query_row("SELECT count(*) FROM (SELECT 1 FROM cards LIMIT 1)", [], |r| r.get::<_, i64>(0))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_is_added_to_the_status_check_once() {
        let sql = "CREATE TABLE cards (\n    status TEXT NOT NULL CHECK (status = 'received' OR status = 'shipped'),\n    x TEXT CHECK (x > (1))\n)";
        let out = with_refused(sql).expect("rewritten").expect("changed");
        assert_eq!(
            out,
            "CREATE TABLE cards (\n    status TEXT NOT NULL CHECK (status = 'received' OR status = 'shipped' OR status = 'refused'),\n    x TEXT CHECK (x > (1))\n)"
        );
        assert_eq!(with_refused(&out).expect("again"), None, "a second run changes nothing");
    }

    #[test]
    fn a_schema_without_the_known_check_is_refused() {
        let err = with_refused("CREATE TABLE cards (status TEXT)").expect_err("no check");
        assert!(err.to_string().contains("no status check"), "{err}");
    }

    #[test]
    fn a_schema_6_database_takes_refused_cards_after_the_upgrade_and_keeps_its_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cardbench.sqlite");
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        crate::migrate::run(&mut conn, "t", &crate::migrate::MIGRATIONS[..6]).expect("schema 6");
        conn.execute_batch(
            "INSERT INTO inbox (id, body, received_at, outcome) VALUES (1, x'7b7d', 't', 'accepted');
             INSERT INTO shipments VALUES ('S-1', 'ORG-1', 't');
             INSERT INTO cards (card_id, organisation_id, shipment_id, article_id, ordered_at, received_at,
                                request_inbox_id, request_json, status, updated_at)
             VALUES ('C-1', 'ORG-1', 'S-1', 'A', 't', 't', 1, '{}', 'produced', 't');",
        )
        .expect("rows of schema 6");
        let refused = "UPDATE cards SET status = 'refused' WHERE card_id = 'C-1'";
        assert!(conn.execute(refused, []).is_err(), "schema 6 does not know refused");
        drop(conn);
        drop(crate::Store::open(&path).expect("upgrade on open"));
        let conn = rusqlite::Connection::open(&path).expect("reopen");
        assert_eq!(crate::migrate::current_version(&conn).expect("version"), crate::SCHEMA_VERSION);
        conn.execute(refused, []).expect("refused is an allowed status after the upgrade");
        let err = conn.execute("UPDATE cards SET status = 'lost'", []).expect_err("other values stay refused");
        assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
        assert_eq!(integrity, "ok");
    }
}
