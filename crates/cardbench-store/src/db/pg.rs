//! The PostgreSQL side of [`super::Connection`]: a `postgres` client with its statements
//! prepared once per text, and values written as the types the server inferred.

use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Statement};

use super::params::{PgValue, ToParam};
use super::{DbError, Result};

/// How many prepared statements a connection keeps (the store has some 150 texts; the worklist's
/// run-time queries vary, so the cache is bounded and cleared when full).
const STATEMENT_CACHE: usize = 512;

pub struct PgConnection {
    /// None until the first connection is made: a store opened while its server did not answer
    /// ([`connect_when_reachable`]) connects at its first use once it does.
    client: Option<Client>,
    statements: HashMap<String, Statement>,
    /// What a lost connection is made again with (the server restarted, failed over, or ended
    /// the session): the URL as given, and the session settings run on each connect.
    url: String,
    session: Option<&'static str>,
    /// Between BEGIN and COMMIT/ROLLBACK: a connection lost here is not made again until the
    /// transaction has ended (its work is gone with the old session; the next statement of it
    /// must fail, not run on a new session outside any transaction).
    in_transaction: bool,
}

/// Connects to `url`. The connection's I/O runs on a thread of its own (a current-thread tokio
/// runtime that ends when the client is dropped); this side waits for answers with a plain
/// `block_on`, so a store call made on a tokio worker blocks that worker as a SQLite call does,
/// instead of panicking as a nested runtime would.
pub fn connect(url: &str) -> crate::error::Result<PgConnection> {
    Ok(PgConnection::new(url, Some(open_client(url)?)))
}

/// [`connect`], or, when the server does not answer now ([`crate::StoreError::Unreachable`]), a
/// connection not made yet that is made at its first use once the server answers: a station
/// started while the floor's database is down opens, says so, and goes on when it is back. A
/// wrong URL, user or password is still an error here.
pub fn connect_when_reachable(url: &str) -> crate::error::Result<PgConnection> {
    match connect(url) {
        Err(crate::StoreError::Unreachable(reason)) => {
            tracing::warn!(%reason, "the worklist database does not answer; connecting at first use");
            Ok(PgConnection::new(url, None))
        }
        other => other,
    }
}

fn open_client(url: &str) -> crate::error::Result<Client> {
    let failed = |reason: String| crate::StoreError::Url { url: crate::postgres::redact(url), reason };
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let target = url.to_owned();
    let spawned = std::thread::Builder::new().name("cardbench-pg".into()).spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = tx.send(Err(super::pg_connect::ConnectFailed::from(format!("cannot start the connection's runtime: {e}"))));
                return;
            }
        };
        runtime.block_on(async move {
            match super::pg_connect::connect(&target).await {
                Ok((client, connection)) => {
                    let _ = tx.send(Ok(client));
                    if let Err(error) = connection.await {
                        tracing::warn!(error = %crate::postgres::describe(&error), "PostgreSQL connection ended");
                    }
                }
                Err(failed) => {
                    let _ = tx.send(Err(failed));
                }
            }
        });
    });
    spawned.map_err(|e| failed(format!("cannot start the connection's thread: {e}")))?;
    match rx.recv() {
        Ok(Ok(client)) => Ok(client),
        // The server is down or busy, not the URL wrong: a failure of the store as a whole.
        Ok(Err(super::pg_connect::ConnectFailed { reason, unreachable: true })) => {
            Err(crate::StoreError::Unreachable(format!("{} answers no connection: {reason}", crate::postgres::redact(url))))
        }
        Ok(Err(super::pg_connect::ConnectFailed { reason, .. })) => Err(failed(reason)),
        Err(_) => Err(failed("the connection's thread ended before connecting".into())),
    }
}

impl PgConnection {
    fn new(url: &str, client: Option<Client>) -> PgConnection {
        PgConnection { client, statements: HashMap::new(), url: url.to_owned(), session: None, in_transaction: false }
    }

    /// The connected client; [`DbError::Lost`] before a first connection was made.
    pub fn client(&self) -> Result<&Client> {
        self.client.as_ref().ok_or_else(|| DbError::Lost("not connected yet".into()))
    }

    /// Runs `sql` (session settings) now and again on every connection made after a lost one (on
    /// a connection not made yet: at its first).
    pub fn set_session(&mut self, sql: &'static str) -> Result<()> {
        self.session = Some(sql);
        if self.client.is_none() {
            return Ok(());
        }
        self.batch_native(sql)
    }

    /// Connects again when the server closed the connection, outside a transaction: a floor's
    /// stations ride out a database restart (IT's maintenance, a failover) without being
    /// restarted themselves. The call that found it closed failed; the next one gets here.
    fn reopen_if_lost(&mut self) -> Result<()> {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) || self.in_transaction {
            return Ok(());
        }
        let client = open_client(&self.url).map_err(|e| match e {
            crate::StoreError::Unreachable(reason) => DbError::Lost(reason),
            other => DbError::Lost(other.to_string()),
        })?;
        if let Some(sql) = self.session {
            block_on(client.batch_execute(sql))?;
        }
        let first = self.client.replace(client).is_none();
        self.statements.clear();
        if first {
            tracing::warn!("connected to PostgreSQL, which did not answer when the store was opened");
        } else {
            tracing::warn!("connected to PostgreSQL again after the connection was lost");
        }
        Ok(())
    }

    /// A batch of statements; BEGIN, COMMIT and ROLLBACK move [`PgConnection::in_transaction`].
    fn run_batch(&mut self, sql: &str) -> Result<()> {
        let words = sql.trim().trim_end_matches(';').trim_end().to_ascii_uppercase();
        let begins = words.starts_with("BEGIN");
        let ends = words.ends_with("COMMIT") || words.starts_with("ROLLBACK");
        if begins {
            self.in_transaction = false;
        }
        self.reopen_if_lost()?;
        let done = block_on(self.client()?.batch_execute(sql));
        if begins && done.is_ok() {
            self.in_transaction = true;
        }
        if ends {
            self.in_transaction = false;
        }
        Ok(done?)
    }

    /// The statement for a store SQL text (SQLite's spelling), translated and prepared once.
    pub fn prepare(&mut self, sql: &str) -> Result<Statement> {
        self.reopen_if_lost()?;
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let translated = super::translate::to_postgres(sql);
        // `$1 IS NULL OR col = $1`: PostgreSQL types a placeholder where it first meets it, and
        // `IS NULL` says nothing (it refuses the statement, and a refused statement aborts the
        // transaction it was prepared in). So such a text is first prepared without its NULL
        // tests, which gives each placeholder the type of its other uses, and then prepared
        // with those types.
        let probe = super::translate::without_null_tests(&translated);
        let client = self.client()?;
        let stmt = if probe == translated {
            block_on(client.prepare(&translated))?
        } else {
            let types = block_on(client.prepare(&probe))?.params().to_vec();
            block_on(client.prepare_typed(&translated, &types))?
        };
        tracing::trace!(statement = %translated, "prepared on PostgreSQL");
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    pub fn execute(&mut self, stmt: &Statement, params: &[&dyn ToParam]) -> Result<usize> {
        let bound = bind(stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
        Ok(usize::try_from(block_on(self.client()?.execute(stmt, &refs))?).unwrap_or(usize::MAX))
    }

    pub fn query(&mut self, stmt: &Statement, params: &[&dyn ToParam]) -> Result<Vec<tokio_postgres::Row>> {
        let bound = bind(stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
        Ok(block_on(self.client()?.query(stmt, &refs))?)
    }

    pub fn query_opt(&mut self, stmt: &Statement, params: &[&dyn ToParam]) -> Result<Option<tokio_postgres::Row>> {
        // query_opt fails on a second row; SQLite's query_row takes the first: so do we.
        Ok(self.query(stmt, params)?.into_iter().next())
    }

    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.run_batch(&super::translate::to_postgres(sql))
    }

    /// Statements run as they are (no translation): the PostgreSQL schema and its own SQL.
    pub fn batch_native(&mut self, sql: &str) -> Result<()> {
        self.run_batch(sql)
    }

    /// `lastval()`: the id the last INSERT of this session drew from its table's sequence.
    pub fn last_insert_id(&mut self) -> i64 {
        let Ok(client) = self.client() else { return 0 };
        block_on(client.query_one("SELECT lastval()", &[])).and_then(|r| r.try_get::<_, i64>(0)).unwrap_or(0)
    }
}

/// Waits for a client call. The client's futures only wait on channels to the connection's
/// thread, so any executor may drive them.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

/// Each value paired with the type the server wants at its placeholder.
fn bind(stmt: &Statement, params: &[&dyn ToParam]) -> Result<Vec<Bound>> {
    let types = stmt.params();
    // SQLite numbers its placeholders and a statement may use fewer than it is given (`?3`
    // only in a branch): PostgreSQL sees only the ones used, so extra values are an error
    // there as here.
    if params.len() != types.len() {
        return Err(DbError::conversion(
            "parameters",
            format!("the statement takes {} values, {} given", types.len(), params.len()),
        ));
    }
    Ok(params.iter().map(|p| Bound { value: p.pg_value() }).collect())
}

#[derive(Debug)]
struct Bound {
    value: PgValue,
}

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Bound {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        let wrong = || -> BoxError { format!("cannot write {:?} as {ty}", self.value).into() };
        match (&self.value, ty) {
            (PgValue::Null, _) => Ok(IsNull::Yes),
            (PgValue::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (PgValue::Int(i), &Type::INT4) => i32::try_from(*i).map_err(|_| wrong())?.to_sql(ty, out),
            (PgValue::Int(i), &Type::INT2) => i16::try_from(*i).map_err(|_| wrong())?.to_sql(ty, out),
            (PgValue::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (PgValue::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (PgValue::Int(i), &Type::TEXT | &Type::VARCHAR | &Type::UNKNOWN) => i.to_string().to_sql(&Type::TEXT, out),
            (PgValue::Int(i), &Type::NUMERIC) => numeric(*i, out),
            (PgValue::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (PgValue::Bool(b), &Type::INT8) => i64::from(*b).to_sql(ty, out),
            (PgValue::Bool(b), &Type::INT4) => i32::from(*b).to_sql(ty, out),
            (PgValue::Bool(b), &Type::INT2) => i16::from(*b).to_sql(ty, out),
            (PgValue::Float(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (PgValue::Float(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (PgValue::Text(t), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME | &Type::UNKNOWN) => {
                t.as_str().to_sql(&Type::TEXT, out)
            }
            (PgValue::Text(t), &Type::INT8) => t.parse::<i64>().map_err(|_| wrong())?.to_sql(ty, out),
            (PgValue::Bytes(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            _ => Err(wrong()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A whole number in NUMERIC's binary form (base-10000 digits, weight, sign, scale 0).
fn numeric(value: i64, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
    use bytes::BufMut;
    let negative = value < 0;
    let mut n = value.unsigned_abs();
    let mut digits = Vec::new();
    while n > 0 {
        digits.push((n % 10_000) as i16);
        n /= 10_000;
    }
    digits.reverse();
    let ndigits = i16::try_from(digits.len())?;
    out.put_i16(ndigits);
    out.put_i16(ndigits.saturating_sub(1));
    out.put_u16(if negative { 0x4000 } else { 0 });
    out.put_i16(0);
    for d in digits {
        out.put_i16(d);
    }
    Ok(IsNull::No)
}
