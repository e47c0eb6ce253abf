//! Stores for tests, on the engine the test run asks for: SQLite in the test's directory (the
//! default), or, with `CARDBENCH_TEST_ENGINE=postgres`, a fresh schema of its own on the server
//! `CARDBENCH_TEST_PG_URL` names (`tests/postgres/start-postgres.sh` starts one), so the same
//! tests run on both engines and in parallel.

use std::path::Path;

use crate::error::{Result, StoreError};
use crate::Store;

/// The environment variable that picks the engine of [`store_in`]: `sqlite` (default) or `postgres`.
pub const ENGINE_ENV: &str = "CARDBENCH_TEST_ENGINE";
/// The environment variable naming the PostgreSQL server tests use.
pub const PG_URL_ENV: &str = "CARDBENCH_TEST_PG_URL";

/// Whether this run's tests use PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(ENGINE_ENV).is_ok_and(|e| e.eq_ignore_ascii_case("postgres"))
}

/// The test server's URL ([`PG_URL_ENV`]), or `None`, saying the test is skipped, when none is
/// set: for the tests that only mean something on PostgreSQL.
pub fn test_server() -> Option<String> {
    let url = std::env::var(PG_URL_ENV).ok();
    if url.is_none() {
        eprintln!("no PostgreSQL for the tests: skipped");
    }
    url
}

/// A new, empty store for one test: in `dir` on SQLite, a schema of its own on PostgreSQL.
pub fn store_in(dir: &Path) -> Result<Store> {
    if on_postgres() { Store::open_url(&fresh_postgres_url()?) } else { Store::open_in(dir) }
}

/// The URL of a new, empty schema on the test server (named `t_<uuid>`), as `store.url`.
pub fn fresh_postgres_url() -> Result<String> {
    let base = std::env::var(PG_URL_ENV).map_err(|_| StoreError::Url {
        url: String::new(),
        reason: format!("{ENGINE_ENV}=postgres needs {PG_URL_ENV} (eval \"$(tests/postgres/start-postgres.sh)\")"),
    })?;
    Ok(crate::postgres::create_schema(&base, "t")?.1)
}

/// Every row of every table of the store, as text: for tests that prove a value is nowhere.
pub fn dump_all_tables(conn: &crate::db::Connection) -> Result<String> {
    let sqlite = conn.engine() == crate::db::Engine::Sqlite;
    let mut all = String::new();
    for table in conn.table_names()? {
        let sql = if sqlite {
            let columns: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
                .query_map([], |r| r.get(0))?
                .collect::<crate::db::Result<_>>()?;
            let quoted: Vec<String> = columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
            format!("SELECT {} FROM \"{table}\"", quoted.join(" || '|' || "))
        } else {
            format!("SELECT t::TEXT FROM \"{table}\" t")
        };
        for row in conn.prepare(&sql)?.query_map([], |r| r.get::<_, Option<String>>(0))? {
            all.push_str(&row?.unwrap_or_default());
            all.push('\n');
        }
    }
    Ok(all)
}

/// Two stores on one database, as two stations of a floor have: two connections to one new
/// schema on PostgreSQL, two stores on one file in `dir` on SQLite.
pub fn two_stores_in(dir: &Path) -> Result<(Store, Store)> {
    if on_postgres() {
        let url = fresh_postgres_url()?;
        Ok((Store::open_url(&url)?, Store::open_url(&url)?))
    } else {
        Ok((Store::open_in(dir)?, Store::open_in(dir)?))
    }
}
