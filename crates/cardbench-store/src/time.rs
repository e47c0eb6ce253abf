//! Times as stored: RFC 3339 UTC with milliseconds, so text order is time order.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn now() -> String {
    format(Utc::now())
}

/// Reads a stored time back; `None` for text this crate did not write.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// The start (UTC) of a day written `YYYY-MM-DD`; `None` when it is no such day.
pub fn day_start(day: &str) -> Option<String> {
    let date = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    Some(format(date.and_hms_opt(0, 0, 0)?.and_utc()))
}

/// The start (UTC) of the day after `day`: the end of a period that includes `day`.
pub fn day_after(day: &str) -> Option<String> {
    let date = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    Some(format(date.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc()))
}
