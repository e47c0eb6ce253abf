//! The PostgreSQL engine: opening a connection from a `store.url`, and its schema.
//!
//! A floor's stations share one PostgreSQL store. Its schema starts at version 14 (the whole
//! schema the SQLite migrations 0001-0014 add up to, `migrations/postgres/0014_schema.sql`); every
//! later migration comes in both dialects. Two stations starting at once do not both create it:
//! the migration holds a transaction-level advisory lock.

use crate::db::Connection;
use crate::db::pg::PgConnection;
use crate::error::{Result, StoreError};
use crate::migrate::SCHEMA_VERSION;

/// How a write transaction begins. READ COMMITTED, PostgreSQL's default: the rules that must not
/// race across stations (a card taken at two stations, a parcel against a card still in
/// production) take row locks in their own statements rather than asking every write to be
/// retried on a serialization failure.
pub const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

/// The advisory lock key under which the schema is created or upgraded ("cardbench" in ASCII).
const MIGRATION_LOCK: i64 = 0x6361_7264_6265_6e63;

struct PgMigration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[PgMigration] = &[
    PgMigration { version: 14, name: "schema", sql: include_str!("../migrations/postgres/0014_schema.sql") },
    PgMigration { version: 15, name: "floor", sql: include_str!("../migrations/postgres/0015_floor.sql") },
    PgMigration { version: 16, name: "card_claims", sql: include_str!("../migrations/postgres/0016_card_claims.sql") },
    PgMigration {
        version: 17,
        name: "worklist_order_postgres",
        sql: include_str!("../migrations/postgres/0017_worklist_order_postgres.sql"),
    },
];

pub fn is_postgres_url(url: &str) -> bool {
    let url = url.trim_start();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without its password, for logs and screens.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_owned(),
    };
    match tail {
        Some(tail) => format!("{scheme}://{authority}/{tail}"),
        None => format!("{scheme}://{authority}"),
    }
}

/// A PostgreSQL error as people read it: the server's message and SQLSTATE when it sent one
/// (the client's own text for those is only "db error").
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({}; {detail})", db.message(), db.code().code()),
            None => format!("{} ({})", db.message(), db.code().code()),
        },
        // The client's own errors say what failed ("error performing TLS handshake"); their
        // sources say why ("invalid peer certificate: UnknownIssuer").
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}

/// Whether `e` says the connection to the server is gone (the server ended the session, shut
/// down, refuses connections for now, or the socket failed) rather than that a statement was
/// wrong: the store as a whole is unreachable until a new connection is made.
pub fn is_connection_lost(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.as_db_error() {
        // Class 08: connection exception; 57P01-03: admin or crash shutdown, cannot connect now;
        // 53300: too many connections.
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        }
        // The socket's own failures only: a TLS handshake refused (an unknown CA, a wrong name)
        // also comes as an I/O error, and is a setting to fix, not an outage to wait out.
        None => {
            use std::io::ErrorKind::*;
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                    return matches!(
                        io.kind(),
                        ConnectionRefused
                            | ConnectionReset
                            | ConnectionAborted
                            | NotConnected
                            | BrokenPipe
                            | TimedOut
                            | UnexpectedEof
                            | HostUnreachable
                            | NetworkUnreachable
                            | NetworkDown
                            | AddrNotAvailable
                    );
                }
                source = cause.source();
            }
            false
        }
    }
}

/// A connection to the store at `url`.
pub fn connect(url: &str) -> Result<Connection> {
    with_session(crate::db::pg::connect(url)?)
}

/// [`connect`], or a connection made at its first use when the server does not answer now
/// ([`crate::db::pg::connect_when_reachable`]).
pub fn connect_when_reachable(url: &str) -> Result<Connection> {
    with_session(crate::db::pg::connect_when_reachable(url)?)
}

fn with_session(mut conn: PgConnection) -> Result<Connection> {
    // Every commit is on disk (and on the synchronous standbys IT configured) before we settle a
    // message on the broker: the server's default, asserted in case the database's default was
    // lowered for other tenants.
    // random_page_cost: the planner's default (4) prices a page read out of order as on a
    // spinning disk, so a worklist page filtered by status read the time-ordered index of all
    // cards and skipped thousands of rows, not the status's own (organisation + status at a
    // million cards: 1.4–13 ms instead of 0.6 ms; cardbench bench --only pg-worklist). 1.1 is
    // the usual setting for SSD storage; for this session only.
    conn.set_session("SET synchronous_commit = on; SET application_name = 'cardbench'; SET random_page_cost = 1.1")?;
    Ok(Connection::postgres(conn))
}

/// Creates a new, empty schema `<prefix>_<uuid>` on the server `base_url` names. Returns its name
/// and the URL of a store in it (`base_url` with the schema as its `search_path`). For the tests'
/// and the benchmarks' throwaway stores; a floor's store is the database's own schema.
pub fn create_schema(base_url: &str, prefix: &str) -> Result<(String, String)> {
    let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = crate::db::pg::connect(base_url)?;
    conn.batch_native(&format!("CREATE SCHEMA {schema}"))?;
    let sep = if base_url.contains('?') { '&' } else { '?' };
    Ok((schema.clone(), format!("{base_url}{sep}options=-c%20search_path%3D{schema}")))
}

/// Drops a schema [`create_schema`] made, with everything in it.
pub fn drop_schema(base_url: &str, schema: &str) -> Result<()> {
    let mut conn = crate::db::pg::connect(base_url)?;
    conn.batch_native(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
    Ok(())
}

/// Creates the schema in an empty database or upgrades an older one; refuses a newer one.
pub fn migrate(conn: &mut Connection, url: &str) -> Result<()> {
    let pg = conn.as_postgres().ok_or_else(|| StoreError::Url { url: redact(url), reason: "not PostgreSQL".into() })?;
    let mut pg = pg.borrow_mut();
    pg.batch_native("BEGIN")?;
    let outcome = migrate_in(&mut pg, url);
    match outcome {
        Ok(()) => pg.batch_native("COMMIT")?,
        Err(_) => pg.batch_native("ROLLBACK")?,
    }
    outcome
}

fn migrate_in(pg: &mut PgConnection, url: &str) -> Result<()> {
    use crate::db::pg::block_on;
    let client = pg.client()?;
    block_on(client.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]))?;
    block_on(client.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    ))?;
    let current: i64 = block_on(client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]))?.get(0);
    let current = u32::try_from(current).unwrap_or(u32::MAX);
    if current > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { path: redact(url), found: current, known: SCHEMA_VERSION });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        block_on(client.batch_execute(m.sql)).map_err(|e| StoreError::Url {
            url: redact(url),
            reason: format!("migration {} ({}) failed: {}", m.version, m.name, describe(&e)),
        })?;
        block_on(client.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&i64::from(m.version), &m.name, &crate::time::now()],
        ))?;
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    #[test]
    fn the_password_never_shows() {
        assert_eq!(super::redact("postgres://floor:s3cret@db.bureau.lan:5432/cardbench"), "postgres://floor:***@db.bureau.lan:5432/cardbench");
        assert_eq!(super::redact("postgres://floor@db/cardbench"), "postgres://floor@db/cardbench");
        assert_eq!(super::redact("postgresql://db"), "postgresql://db");
        assert!(super::is_postgres_url("postgresql://db/x") && !super::is_postgres_url("/var/lib/cardbench"));
    }
}
