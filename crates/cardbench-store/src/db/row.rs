//! A result row of either engine, read by column index (or name) into the store's types.

use tokio_postgres::types::Type;

use super::{DbError, Result};

pub struct Row<'r> {
    inner: RowInner<'r>,
}

enum RowInner<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl<'r> Row<'r> {
    pub(super) fn sqlite(row: &'r rusqlite::Row<'r>) -> Row<'r> {
        Row { inner: RowInner::Sqlite(row) }
    }

    pub(super) fn postgres(row: &'r tokio_postgres::Row) -> Row<'r> {
        Row { inner: RowInner::Postgres(row) }
    }

    /// The column `index` as `T` (rusqlite's `Row::get`, with the same two type parameters so
    /// `get::<_, String>(0)` reads as before).
    pub fn get<I: ColumnIndex, T: FromColumn>(&self, index: I) -> Result<T> {
        match &self.inner {
            RowInner::Sqlite(row) => T::from_sqlite(row, index.sqlite(row)?),
            RowInner::Postgres(row) => {
                let i = index.postgres(row)?;
                T::from_postgres(row, i)
            }
        }
    }
}

/// A column by position or by name.
pub trait ColumnIndex {
    fn sqlite(&self, row: &rusqlite::Row<'_>) -> Result<usize>;
    fn postgres(&self, row: &tokio_postgres::Row) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn sqlite(&self, _: &rusqlite::Row<'_>) -> Result<usize> {
        Ok(*self)
    }
    fn postgres(&self, row: &tokio_postgres::Row) -> Result<usize> {
        if *self < row.len() { Ok(*self) } else { Err(DbError::conversion(self, "no such column")) }
    }
}

impl ColumnIndex for &str {
    fn sqlite(&self, row: &rusqlite::Row<'_>) -> Result<usize> {
        Ok(row.as_ref().column_index(self)?)
    }
    fn postgres(&self, row: &tokio_postgres::Row) -> Result<usize> {
        row.columns().iter().position(|c| c.name() == *self).ok_or_else(|| DbError::conversion(self, "no such column"))
    }
}

/// A type a column is read into.
pub trait FromColumn: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self>;
    fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self>;
}

fn pg_type(row: &tokio_postgres::Row, index: usize) -> &Type {
    row.columns()[index].type_()
}

/// A PostgreSQL integer of any width (SQLite has one; the store's schema uses BIGINT, but
/// `COUNT(*)` and friends may come back narrower or as NUMERIC).
fn pg_int(row: &tokio_postgres::Row, index: usize) -> Result<Option<i64>> {
    let ty = pg_type(row, index);
    Ok(match *ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?,
        Type::INT4 => row.try_get::<_, Option<i32>>(index)?.map(i64::from),
        Type::INT2 => row.try_get::<_, Option<i16>>(index)?.map(i64::from),
        Type::BOOL => row.try_get::<_, Option<bool>>(index)?.map(i64::from),
        Type::NUMERIC => row.try_get::<_, Option<Numeric>>(index)?.map(|Numeric(n)| n),
        Type::TEXT | Type::VARCHAR => match row.try_get::<_, Option<String>>(index)? {
            Some(t) => Some(t.parse().map_err(|_| DbError::conversion(index, format!("{t:?} is not an integer")))?),
            None => None,
        },
        _ => return Err(DbError::conversion(index, format!("{ty} is not an integer column"))),
    })
}

macro_rules! int_columns {
    ($($t:ty),*) => {$(
        impl FromColumn for $t {
            fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self> {
                Ok(row.get(index)?)
            }
            fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self> {
                let n = pg_int(row, index)?.ok_or_else(|| DbError::conversion(index, "NULL where a number is required"))?;
                <$t>::try_from(n).map_err(|_| DbError::conversion(index, format!("{n} is out of range")))
            }
        }
    )*};
}
int_columns!(i64, i32, i16, u8, u16, u32, u64, usize);

impl FromColumn for bool {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self> {
        Ok(row.get(index)?)
    }
    fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self> {
        Ok(pg_int(row, index)?.ok_or_else(|| DbError::conversion(index, "NULL where a boolean is required"))? != 0)
    }
}

impl FromColumn for f64 {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self> {
        Ok(row.get(index)?)
    }
    fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self> {
        let ty = pg_type(row, index);
        match *ty {
            Type::FLOAT8 => Ok(row.try_get(index)?),
            Type::FLOAT4 => Ok(f64::from(row.try_get::<_, f32>(index)?)),
            _ => Ok(pg_int(row, index)?.ok_or_else(|| DbError::conversion(index, "NULL where a number is required"))? as f64),
        }
    }
}

impl FromColumn for String {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self> {
        Ok(row.get(index)?)
    }
    fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self> {
        let ty = pg_type(row, index);
        match *ty {
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => Ok(row.try_get(index)?),
            _ => Err(DbError::conversion(index, format!("{ty} is not a text column"))),
        }
    }
}

impl FromColumn for Vec<u8> {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self> {
        Ok(row.get(index)?)
    }
    fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self> {
        Ok(row.try_get(index)?)
    }
}

/// Any value, as SQLite would hold it (for copying a row whatever its columns).
impl FromColumn for rusqlite::types::Value {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self> {
        Ok(row.get(index)?)
    }
    fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self> {
        use rusqlite::types::Value;
        if row.try_get::<_, Option<Null>>(index)?.is_none() {
            return Ok(Value::Null);
        }
        let ty = pg_type(row, index).clone();
        Ok(match ty {
            Type::BYTEA => Value::Blob(row.try_get(index)?),
            Type::FLOAT8 | Type::FLOAT4 => Value::Real(f64::from_postgres(row, index)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Value::Text(row.try_get(index)?),
            _ => Value::Integer(pg_int(row, index)?.unwrap_or_default()),
        })
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> Result<Self> {
        match row.get_ref(index)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            _ => T::from_sqlite(row, index).map(Some),
        }
    }
    fn from_postgres(row: &tokio_postgres::Row, index: usize) -> Result<Self> {
        if row.try_get::<_, Option<Null>>(index)?.is_none() {
            return Ok(None);
        }
        T::from_postgres(row, index).map(Some)
    }
}

/// Reads nothing but whether a column is NULL, whatever its type.
struct Null;

impl<'a> tokio_postgres::types::FromSql<'a> for Null {
    fn from_sql(_: &Type, _: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Null)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A NUMERIC holding a whole number (what `SUM` of BIGINTs returns), read from its binary form:
/// base-10000 digits with a weight and a sign.
struct Numeric(i64);

impl<'a> tokio_postgres::types::FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let word = |i: usize| -> std::result::Result<i16, Box<dyn std::error::Error + Sync + Send>> {
            let b = raw.get(i * 2..i * 2 + 2).ok_or("short NUMERIC")?;
            Ok(i16::from_be_bytes([b[0], b[1]]))
        };
        let ndigits = usize::try_from(word(0)?).map_err(|_| "bad NUMERIC")?;
        let weight = i32::from(word(1)?);
        let sign = word(2)? as u16;
        if sign == 0xC000 {
            return Err("NUMERIC NaN".into());
        }
        let mut value: i64 = 0;
        for d in 0..ndigits {
            let digit = i64::from(word(4 + d)?);
            // Digits after the decimal point (position > weight) must be zero: a whole number.
            if i32::try_from(d).map_err(|_| "bad NUMERIC")? > weight {
                if digit != 0 {
                    return Err("NUMERIC with a fraction".into());
                }
                continue;
            }
            value = value.checked_mul(10_000).and_then(|v| v.checked_add(digit)).ok_or("NUMERIC out of range")?;
        }
        let shift = weight + 1 - i32::try_from(ndigits).map_err(|_| "bad NUMERIC")?;
        for _ in 0..shift.max(0) {
            value = value.checked_mul(10_000).ok_or("NUMERIC out of range")?;
        }
        Ok(Numeric(if sign == 0x4000 { -value } else { value }))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}
