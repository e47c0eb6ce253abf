//! Values bound to a statement's placeholders, on either engine.
//!
//! A bindable type is one rusqlite binds (so SQLite gets the value as rusqlite would, without a
//! copy) that can also say what it is for PostgreSQL ([`PgValue`]); the PostgreSQL side then
//! writes it as the type the server inferred for the placeholder (see `pg.rs`).

/// A value as PostgreSQL is given it, before it is written as the placeholder's type.
#[derive(Debug, Clone, PartialEq)]
pub enum PgValue {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// What a bindable value must be for PostgreSQL.
pub trait PgParam {
    fn pg_value(&self) -> PgValue;
}

/// A value the store binds: rusqlite's `ToSql` for SQLite, [`PgParam`] for PostgreSQL.
pub trait ToParam: rusqlite::ToSql + PgParam {}

impl<T: rusqlite::ToSql + PgParam + ?Sized> ToParam for T {}

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl PgParam for $t {
            fn pg_value(&self) -> PgValue {
                PgValue::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
ints!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl PgParam for bool {
    fn pg_value(&self) -> PgValue {
        PgValue::Bool(*self)
    }
}

impl PgParam for f64 {
    fn pg_value(&self) -> PgValue {
        PgValue::Float(*self)
    }
}

impl PgParam for str {
    fn pg_value(&self) -> PgValue {
        PgValue::Text(self.to_owned())
    }
}

impl PgParam for String {
    fn pg_value(&self) -> PgValue {
        PgValue::Text(self.clone())
    }
}

impl PgParam for [u8] {
    fn pg_value(&self) -> PgValue {
        PgValue::Bytes(self.to_vec())
    }
}

impl PgParam for Vec<u8> {
    fn pg_value(&self) -> PgValue {
        PgValue::Bytes(self.clone())
    }
}

impl<const N: usize> PgParam for [u8; N] {
    fn pg_value(&self) -> PgValue {
        PgValue::Bytes(self.to_vec())
    }
}

impl<T: PgParam + ?Sized> PgParam for &T {
    fn pg_value(&self) -> PgValue {
        (**self).pg_value()
    }
}

impl<T: PgParam> PgParam for Option<T> {
    fn pg_value(&self) -> PgValue {
        self.as_ref().map_or(PgValue::Null, PgParam::pg_value)
    }
}

impl<T: PgParam + ?Sized> PgParam for Box<T> {
    fn pg_value(&self) -> PgValue {
        (**self).pg_value()
    }
}

impl PgParam for rusqlite::types::Value {
    fn pg_value(&self) -> PgValue {
        use rusqlite::types::Value;
        match self {
            Value::Null => PgValue::Null,
            Value::Integer(i) => PgValue::Int(*i),
            Value::Real(f) => PgValue::Float(*f),
            Value::Text(t) => PgValue::Text(t.clone()),
            Value::Blob(b) => PgValue::Bytes(b.clone()),
        }
    }
}

impl PgParam for rusqlite::types::Null {
    fn pg_value(&self) -> PgValue {
        PgValue::Null
    }
}

/// Anything a statement can be called with: `params![…]`, `[a, b]`, `[]`, or
/// [`params_from_iter`].
pub trait Params {
    fn with_params<R>(self, f: impl FnOnce(&[&dyn ToParam]) -> R) -> R;
}

impl Params for &[&dyn ToParam] {
    fn with_params<R>(self, f: impl FnOnce(&[&dyn ToParam]) -> R) -> R {
        f(self)
    }
}

impl Params for [&dyn ToParam; 0] {
    fn with_params<R>(self, f: impl FnOnce(&[&dyn ToParam]) -> R) -> R {
        f(&[])
    }
}

macro_rules! arrays {
    ($($n:literal),*) => {$(
        impl<T: ToParam> Params for [T; $n] {
            fn with_params<R>(self, f: impl FnOnce(&[&dyn ToParam]) -> R) -> R {
                let refs: [&dyn ToParam; $n] = self.each_ref().map(|p| p as &dyn ToParam);
                f(&refs)
            }
        }
        impl<T: ToParam> Params for &[T; $n] {
            fn with_params<R>(self, f: impl FnOnce(&[&dyn ToParam]) -> R) -> R {
                let refs: [&dyn ToParam; $n] = self.each_ref().map(|p| p as &dyn ToParam);
                f(&refs)
            }
        }
    )*};
}
arrays!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Values from an iterator (a query built at run time).
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I> {
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToParam,
{
    fn with_params<R>(self, f: impl FnOnce(&[&dyn ToParam]) -> R) -> R {
        let values: Vec<I::Item> = self.0.into_iter().collect();
        let refs: Vec<&dyn ToParam> = values.iter().map(|p| p as &dyn ToParam).collect();
        f(&refs)
    }
}

/// The list as rusqlite binds it.
pub(super) fn sqlite<'a>(params: &'a [&'a dyn ToParam]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(params.iter().map(|p| *p as &dyn rusqlite::ToSql))
}
