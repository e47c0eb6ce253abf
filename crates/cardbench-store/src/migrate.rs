//! Versioned migrations. Each is applied in its own transaction together with its tracking row,
//! so a failed migration leaves the database as it was.

use rusqlite::{Connection, params};

use crate::error::{Result, StoreError};

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
    /// A step SQL alone cannot express, run after `sql` in the same transaction.
    pub step: Option<fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>>,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../migrations/0001_initial.sql"), step: None },
    Migration { version: 2, name: "documents", sql: include_str!("../migrations/0002_documents.sql"), step: None },
    Migration {
        version: 3,
        name: "worklist_cursor_index",
        sql: include_str!("../migrations/0003_worklist_cursor_index.sql"),
        step: None,
    },
    Migration {
        version: 4,
        name: "hotfolder_files",
        sql: include_str!("../migrations/0004_hotfolder_files.sql"),
        step: None,
    },
    Migration {
        version: 5,
        name: "inbox_child_indexes",
        sql: include_str!("../migrations/0005_inbox_child_indexes.sql"),
        step: None,
    },
    Migration { version: 6, name: "checks_without_in_lists", sql: "", step: Some(crate::check_rewrite::rewrite) },
    Migration { version: 7, name: "inbox_body_hash", sql: include_str!("../migrations/0007_inbox_body_hash.sql"), step: None },
    // 8 comes with the report fields part of issue 12.
    Migration { version: 9, name: "card_status_refused", sql: "", step: Some(crate::refused_status::allow_refused) },
    Migration { version: 10, name: "retention", sql: include_str!("../migrations/0010_retention.sql"), step: None },
    Migration {
        version: 11,
        name: "outbox_first_sent",
        sql: include_str!("../migrations/0011_outbox_first_sent.sql"),
        step: None,
    },
    Migration {
        version: 12,
        name: "worklist_sort_indexes",
        sql: include_str!("../migrations/0012_worklist_sort_indexes.sql"),
        step: None,
    },
    Migration {
        version: 13,
        name: "outbox_destination",
        sql: include_str!("../migrations/0013_outbox_destination.sql"),
        step: None,
    },
    Migration { version: 14, name: "events", sql: include_str!("../migrations/0014_events.sql"), step: None },
    Migration { version: 15, name: "floor", sql: include_str!("../migrations/0015_floor.sql"), step: None },
    Migration { version: 16, name: "card_claims", sql: include_str!("../migrations/0016_card_claims.sql"), step: None },
    Migration {
        version: 17,
        name: "worklist_order_postgres",
        sql: include_str!("../migrations/0017_worklist_order_postgres.sql"),
        step: None,
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 17;

pub fn current_version(conn: &Connection) -> Result<u32> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         );",
    )?;
    Ok(conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?)
}

pub fn migrate(conn: &mut Connection, path: &str) -> Result<()> {
    run(conn, path, MIGRATIONS)
}

pub(crate) fn run(conn: &mut Connection, path: &str, migrations: &[Migration]) -> Result<()> {
    let found = current_version(conn)?;
    let known = migrations.last().map_or(0, |m| m.version);
    if found > known {
        return Err(StoreError::NewerSchema { path: path.to_owned(), found, known });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        let apply = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(m.sql)?;
            if let Some(step) = m.step {
                step(&tx)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![m.version, m.name, crate::time::now()],
            )?;
            tx.commit()
        };
        apply(conn).map_err(|source| StoreError::Migration { version: m.version, name: m.name, source })?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_migration_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = Connection::open(dir.path().join("t.sqlite")).expect("open");
        let bad = [
            Migration { version: 1, name: "ok", sql: "CREATE TABLE a (x INTEGER);", step: None },
            Migration {
                version: 2,
                name: "broken",
                sql: "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);",
                step: None,
            },
        ];
        let err = run(&mut conn, "t", &bad).expect_err("migration 2 must fail");
        assert!(matches!(err, StoreError::Migration { version: 2, .. }), "{err}");
        assert_eq!(current_version(&conn).expect("version"), 1, "migration 1 stays applied");
        let b_exists: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'", [], |r| r.get(0))
            .expect("query");
        assert_eq!(b_exists, 0, "a failed migration must not leave half its tables");
    }

    /// A database in `dir` at schema `version` (an older Cardbench's), holding `rows`.
    fn older_database(dir: &std::path::Path, version: usize, rows: &str) -> std::path::PathBuf {
        let path = dir.join("cardbench.sqlite");
        let mut conn = Connection::open(&path).expect("open");
        run(&mut conn, "t", &MIGRATIONS[..version]).unwrap_or_else(|e| panic!("version {version}: {e}"));
        conn.execute_batch(rows).unwrap_or_else(|e| panic!("rows of version {version}: {e}"));
        path
    }

    #[test]
    fn a_first_version_database_with_rows_is_upgraded_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = older_database(
            dir.path(),
            1,
            "INSERT INTO inbox (id, body, received_at, outcome) VALUES (1, x'7b7d', '2026-01-01T00:00:00.000Z', 'rejected');
             INSERT INTO outbox (message_id, subject, body, created_at) VALUES ('m-1', 'EXTERNAL_PRODUCTION_ERROR', '{}', '2026-01-01T00:00:00.000Z');",
        );
        let store = crate::Store::open(&path).expect("upgrade on open");
        let (version, inbox_rows, outbox_rows): (u32, i64, i64) = store
            .read(|c| {
                Ok::<_, StoreError>((
                    current_version(c.as_sqlite().expect("sqlite"))?,
                    c.query_row("SELECT COUNT(*) FROM inbox", [], |r| r.get(0))?,
                    c.query_row("SELECT COUNT(*) FROM outbox WHERE message_id = 'm-1'", [], |r| r.get(0))?,
                ))
            })
            .expect("read");
        assert_eq!(version, SCHEMA_VERSION, "opening upgrades to the current schema");
        assert_eq!((inbox_rows, outbox_rows), (1, 1), "an upgrade keeps every inbox and outbox row");
    }

    #[test]
    fn an_outbox_row_sent_before_0011_keeps_its_send_as_the_first_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let before = MIGRATIONS.iter().position(|m| m.version == 11).expect("0011 listed");
        let path = older_database(
            dir.path(),
            before,
            "INSERT INTO outbox (message_id, subject, body, created_at, sent_at) VALUES
                 ('m-sent', 'EXTERNAL_PRODUCTION_ERROR', '{}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:05.000Z'),
                 ('m-waiting', 'EXTERNAL_PRODUCTION_ERROR', '{}', '2026-01-01T00:00:00.000Z', NULL);",
        );
        let store = crate::Store::open(&path).expect("upgrade on open");
        let row = |id: &str| store.read(|c| crate::outbox::by_message_id(c, id)).expect("read").expect("row");
        let sent = row("m-sent");
        assert_eq!(sent.first_sent_at.as_deref(), Some("2026-01-01T00:00:05.000Z"));
        assert_eq!((sent.resent_count, sent.last_resent_at), (0, None));
        assert_eq!(row("m-waiting").first_sent_at, None, "a row never sent has no first send");
    }

    #[test]
    fn every_outbox_row_written_before_0013_goes_to_ngoc() {
        let dir = tempfile::tempdir().expect("tempdir");
        let before = MIGRATIONS.iter().position(|m| m.version == 13).expect("0013 listed");
        let path = older_database(
            dir.path(),
            before,
            "INSERT INTO outbox (message_id, subject, body, created_at, sent_at) VALUES
                 ('m-sent', 'EXTERNAL_PRODUCTION_ERROR', '{}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:05.000Z'),
                 ('m-waiting', 'EXTERNAL_PRODUCTION_ERROR', '{}', '2026-01-01T00:00:00.000Z', NULL);",
        );
        let store = crate::Store::open(&path).expect("upgrade on open");
        for id in ["m-sent", "m-waiting"] {
            let row = store.read(|c| crate::outbox::by_message_id(c, id)).expect("read").expect("row");
            assert_eq!(row.destination, crate::outbox::NGOC, "{id}");
        }
        let due = store.read(|c| crate::outbox::due(c, crate::outbox::NGOC, "2026-01-02T00:00:00.000Z", 10)).expect("due");
        assert_eq!(due.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>(), ["m-waiting"], "the waiting row is still NGOC's to send");
    }

    #[test]
    fn status_checks_are_ors_after_the_upgrade_and_still_refuse_other_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = older_database(
            dir.path(),
            5,
            "INSERT INTO inbox (id, body, received_at, outcome) VALUES (1, x'7b7d', '2026-01-01T00:00:00.000Z', 'rejected');
             INSERT INTO conflicts (card_id, inbox_id, received_at, status) VALUES ('C-1', 1, '2026-01-01T00:00:00.000Z', 'open');",
        );
        drop(crate::Store::open(&path).expect("upgrade on open"));
        // A connection opened afterwards reads the rewritten schema.
        let conn = Connection::open(&path).expect("reopen");
        assert_eq!(current_version(&conn).expect("version"), SCHEMA_VERSION);
        let in_lists: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%CHECK (% IN (%'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("schema");
        assert!(in_lists.is_empty(), "tables still checked by IN lists: {in_lists:?}");
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
        assert_eq!(integrity, "ok");
        let kept: i64 = conn.query_row("SELECT COUNT(*) FROM inbox JOIN conflicts ON inbox_id = inbox.id", [], |r| r.get(0)).expect("rows");
        assert_eq!(kept, 1, "the upgrade keeps the rows");
        for (sql, what) in [
            ("INSERT INTO inbox (body, received_at, outcome) VALUES (x'00', 't', 'accepted')", "an allowed outcome"),
            ("INSERT INTO conflicts (card_id, inbox_id, received_at, status) VALUES ('C-2', 1, 't', 'resolved')", "an allowed status"),
        ] {
            conn.execute(sql, []).unwrap_or_else(|e| panic!("{what} must be taken: {e}"));
        }
        for sql in [
            "INSERT INTO inbox (body, received_at, outcome) VALUES (x'00', 't', 'lost')",
            "INSERT INTO conflicts (card_id, inbox_id, received_at, status) VALUES ('C-3', 1, 't', 'gone')",
            "UPDATE conflicts SET status = 'Open'",
        ] {
            let err = conn.execute(sql, []).expect_err(sql);
            assert!(err.to_string().contains("CHECK constraint failed"), "{sql}: {err}");
        }
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = Connection::open(dir.path().join("t.sqlite")).expect("open");
        migrate(&mut conn, "t").expect("migrate");
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')", []).expect("insert");
        let err = migrate(&mut conn, "t").expect_err("newer schema must be refused");
        assert!(err.to_string().contains("newer Cardbench"), "{err}");
    }
}
