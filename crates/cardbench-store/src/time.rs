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

/// How a time is shown to people, in the app's screens (ui/src/lib/format.ts writes the same),
/// the CLI's lines and tables (`--json` keeps the stored RFC 3339) and the documents: ISO 8601
/// with a space, to the second, in the workstation's local time zone: `2026-12-07 14:03:27`.
pub const DISPLAY: &str = "%Y-%m-%d %H:%M:%S";
/// How a day is shown to people: `2026-12-07`.
pub const DISPLAY_DATE: &str = "%Y-%m-%d";

/// A stored (or any RFC 3339) time as people read it, in local time; other text as it is.
pub fn display(text: &str) -> String {
    display_in(text, &chrono::Local, DISPLAY)
}

/// The local day of a stored (or any RFC 3339) time, `2026-12-07`; other text as it is.
pub fn display_date(text: &str) -> String {
    display_in(text, &chrono::Local, DISPLAY_DATE)
}

/// [`display`] and [`display_date`] in a given zone and format.
pub fn display_in<Tz: chrono::TimeZone>(text: &str, zone: &Tz, format: &str) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.with_timezone(zone).format(format).to_string(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn shows_a_stored_time_in_the_local_zone_to_the_second() {
        let cet = FixedOffset::east_opt(3600).expect("a valid offset");
        assert_eq!(display_in("2026-12-07T13:03:27.431Z", &cet, DISPLAY), "2026-12-07 14:03:27");
        assert_eq!(display_in("2026-12-07T23:30:00.000Z", &cet, DISPLAY_DATE), "2026-12-08");
        assert_eq!(display_in("2026-12-07T23:30:00+00:00", &Utc, DISPLAY), "2026-12-07 23:30:00");
    }

    #[test]
    fn leaves_other_text_as_it_is() {
        assert_eq!(display_in("waiting", &Utc, DISPLAY), "waiting");
        assert_eq!(display("<purged after retention 2026-12-07>"), "<purged after retention 2026-12-07>");
    }
}
