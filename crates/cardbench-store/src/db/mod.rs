//! The connection the store's modules speak to: one type over both engines, SQLite (the
//! one-machine default, through rusqlite) and PostgreSQL (a floor of stations, through the
//! `postgres` client).
//!
//! Its surface is the part of rusqlite's the store uses (`prepare_cached`, `execute`,
//! `query_row`, `query_map`, `optional`, `params!`), so a module's queries read the same on both
//! engines and each module keeps its SQL. On SQLite every call goes straight to rusqlite (the
//! statement cache and the bindings are rusqlite's own: nothing is copied). On PostgreSQL the SQL
//! is rewritten once per statement text ([`translate`]: `?N` placeholders become `$N`,
//! SQLite-only spellings their PostgreSQL ones), prepared once per connection, and each value
//! is bound as the type PostgreSQL inferred for its placeholder ([`pg`]).
//!
//! Why not two sets of queries: the store has some 150 statements; writing each twice would
//! double what must be kept in step, when all but a handful are the same SQL. The handful that
//! differ ask [`Connection::engine`] (see `docs/decisions/store-engines.md`).

mod params;
pub(crate) mod pg;
pub(crate) mod pg_connect;
mod row;
pub mod translate;

use std::cell::RefCell;

pub use params::{Params, ParamsFromIter, PgValue, ToParam, params_from_iter};
pub use row::{ColumnIndex, FromColumn, Row};

/// Which database a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", crate::postgres::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("query returned no rows")]
    NoRows,
    #[error("column {column}: {message}")]
    Conversion { column: String, message: String },
}

impl DbError {
    /// A value read back that the column does not hold in a form this type reads.
    pub fn conversion(column: impl ToString, message: impl ToString) -> DbError {
        DbError::Conversion { column: column.to_string(), message: message.to_string() }
    }

    fn is_no_rows(&self) -> bool {
        matches!(self, DbError::NoRows | DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// rusqlite's `OptionalExtension`, for both engines: "no rows" becomes `None`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_no_rows() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connection of either engine. Not shared between threads (the store keeps each behind a
/// mutex), so the PostgreSQL client, whose calls take `&mut`, sits in a `RefCell`.
pub struct Connection {
    inner: Inner,
    /// The station whose writes this connection makes (a floor's `[store] station`), written
    /// into the audit rows; `None` until the store is told ([`crate::Store::set_station`]).
    station: Option<std::sync::Arc<str>>,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(RefCell<pg::PgConnection>),
}

impl Connection {
    pub fn sqlite(conn: rusqlite::Connection) -> Connection {
        Connection { inner: Inner::Sqlite(conn), station: None }
    }

    pub(crate) fn postgres(conn: pg::PgConnection) -> Connection {
        Connection { inner: Inner::Postgres(RefCell::new(conn)), station: None }
    }

    /// The station this connection writes for, if named.
    pub fn station(&self) -> Option<&str> {
        self.station.as_deref()
    }

    pub(crate) fn set_station(&mut self, station: &str) {
        self.station = Some(std::sync::Arc::from(station));
    }

    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Sqlite(_) => Engine::Sqlite,
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, checkpoints, the data version).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    pub(crate) fn as_postgres(&self) -> Option<&RefCell<pg::PgConnection>> {
        match &self.inner {
            Inner::Postgres(c) => Some(c),
            Inner::Sqlite(_) => None,
        }
    }

    /// A statement kept prepared for the next call with the same text.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(Statement { inner: StatementInner::SqliteCached(c.prepare_cached(sql)?) }),
            Inner::Postgres(c) => Ok(Statement { inner: StatementInner::Postgres(c, c.borrow_mut().prepare(sql)?) }),
        }
    }

    /// A statement prepared for this use only (SQLite); PostgreSQL keeps it like any other.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(Statement { inner: StatementInner::Sqlite(c.prepare(sql)?) }),
            Inner::Postgres(c) => Ok(Statement { inner: StatementInner::Postgres(c, c.borrow_mut().prepare(sql)?) }),
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        match &self.inner {
            Inner::Sqlite(c) => params.with_params(|p| c.execute(sql, params::sqlite(p)).map_err(DbError::from)),
            Inner::Postgres(_) => self.prepare_cached(sql)?.execute(params),
        }
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&self, sql: &str, params: P, f: F) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Statements separated by `;`, without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(c) => c.borrow_mut().batch(sql),
        }
    }

    /// The names of the tables of the store (SQLite's own `sqlite_*` tables included), from the
    /// engine's catalogue.
    pub fn table_names(&self) -> Result<Vec<String>> {
        let sql = match self.engine() {
            Engine::Sqlite => "SELECT name FROM sqlite_schema WHERE type = 'table'",
            Engine::Postgres => "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema()",
        };
        self.prepare(sql)?.query_map([], |r| r.get(0))?.collect()
    }

    /// The id the last INSERT on this connection gave its row (SQLite's rowid; PostgreSQL's
    /// `lastval()`, the last value any sequence gave this session: every table we insert into
    /// and ask this of has exactly one, its id).
    pub fn last_insert_rowid(&self) -> i64 {
        match &self.inner {
            Inner::Sqlite(c) => c.last_insert_rowid(),
            Inner::Postgres(c) => c.borrow_mut().last_insert_id(),
        }
    }
}

/// A prepared statement of either engine.
pub struct Statement<'c> {
    inner: StatementInner<'c>,
}

enum StatementInner<'c> {
    SqliteCached(rusqlite::CachedStatement<'c>),
    Sqlite(rusqlite::Statement<'c>),
    Postgres(&'c RefCell<pg::PgConnection>, tokio_postgres::Statement),
}

impl<'c> Statement<'c> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match &mut self.inner {
            StatementInner::SqliteCached(s) => Some(s),
            StatementInner::Sqlite(s) => Some(s),
            StatementInner::Postgres(..) => None,
        }
    }

    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        if let StatementInner::Postgres(c, s) = &self.inner {
            return params.with_params(|p| c.borrow_mut().execute(s, p));
        }
        let stmt = self.sqlite().ok_or(DbError::NoRows)?;
        params.with_params(|p| stmt.execute(params::sqlite(p)).map_err(DbError::from))
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<T> {
        if let StatementInner::Postgres(c, s) = &self.inner {
            let row = params.with_params(|p| c.borrow_mut().query_opt(s, p))?.ok_or(DbError::NoRows)?;
            return f(&Row::postgres(&row));
        }
        let stmt = self.sqlite().ok_or(DbError::NoRows)?;
        params.with_params(|p| {
            let mut rows = stmt.query(params::sqlite(p))?;
            let row = rows.next()?.ok_or(DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows))?;
            f(&Row::sqlite(row))
        })
    }

    /// Every row mapped by `f`, in order. On PostgreSQL the rows are fetched whole first.
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>> {
        if let StatementInner::Postgres(c, s) = &self.inner {
            let rows = params.with_params(|p| c.borrow_mut().query(s, p))?;
            return Ok(MappedRows { inner: MappedInner::Postgres(rows.into_iter()), f });
        }
        let stmt = self.sqlite().ok_or(DbError::NoRows)?;
        let rows = params.with_params(|p| stmt.query(params::sqlite(p)).map_err(DbError::from))?;
        Ok(MappedRows { inner: MappedInner::Sqlite(rows), f })
    }

    /// The rows, to step through with [`Rows::next`].
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        if let StatementInner::Postgres(c, s) = &self.inner {
            let rows = params.with_params(|p| c.borrow_mut().query(s, p))?;
            return Ok(Rows { inner: RowsInner::Postgres(rows.into_iter(), None) });
        }
        let stmt = self.sqlite().ok_or(DbError::NoRows)?;
        let rows = params.with_params(|p| stmt.query(params::sqlite(p)).map_err(DbError::from))?;
        Ok(Rows { inner: RowsInner::Sqlite(rows) })
    }

    /// Whether the query returns at least one row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut rows = self.query(params)?;
        Ok(rows.next()?.is_some())
    }
}

/// Rows mapped by a closure, as an iterator of results (rusqlite's `MappedRows`).
pub struct MappedRows<'s, F> {
    inner: MappedInner<'s>,
    f: F,
}

enum MappedInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres(std::vec::IntoIter<tokio_postgres::Row>),
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match &mut self.inner {
            MappedInner::Sqlite(rows) => match rows.next() {
                Ok(Some(row)) => Some((self.f)(&Row::sqlite(row))),
                Ok(None) => None,
                Err(e) => Some(Err(e.into())),
            },
            MappedInner::Postgres(rows) => rows.next().map(|row| (self.f)(&Row::postgres(&row))),
        }
    }
}

/// Rows stepped through one at a time (rusqlite's `Rows`).
pub struct Rows<'s> {
    inner: RowsInner<'s>,
}

enum RowsInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres(std::vec::IntoIter<tokio_postgres::Row>, Option<tokio_postgres::Row>),
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.inner {
            RowsInner::Sqlite(rows) => Ok(rows.next()?.map(Row::sqlite)),
            RowsInner::Postgres(rows, current) => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::postgres))
            }
        }
    }
}

/// rusqlite's `params!`: a list of values of any type the store binds.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToParam]
    };
    ($($param:expr),+ $(,)?) => {
        &[$(&$param as &dyn $crate::db::ToParam),+] as &[&dyn $crate::db::ToParam]
    };
}

pub use crate::params;
