//! Times in what we receive, read the way NGOC really writes them.
//!
//! NGOC's own samples write `"created": "2022-02-04T09:36:45.650982100"`: no offset and nine
//! fractional digits, which strict RFC 3339 refuses. A received time is therefore accepted as
//! `YYYY-MM-DD`, `T` (or `t`, or one space) and `hh:mm:ss`, then 0–9 fractional digits, then an
//! optional offset (`Z`, `z` or `±hh:mm`). A time without offset is read in the configured zone
//! ([`ReceivedZone`], UTC unless configured). The text as received is kept: it is what a stored
//! request serialises back to, and what the screens show.
//!
//! What we send stays strict RFC 3339 UTC with `Z` (those fields are `DateTime<Utc>`, not this).

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The schema `format` of received times; the validator checks it with [`is_received_time`].
pub const RECEIVED_TIME_FORMAT: &str = "received-date-time";

/// A received time: the text as sent and the instant it names.
#[derive(Debug, Clone)]
pub struct ReceivedTime {
    text: String,
    /// The wall-clock reading of the text (before any offset or zone is applied).
    local: NaiveDateTime,
    /// The offset written in the text, if any.
    written_offset: Option<FixedOffset>,
    /// The instant, with the written offset or the configured zone's offset at that time.
    instant: DateTime<FixedOffset>,
}

/// Why a text is not a received time. Never quotes the text: it arrives in a message body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a date-time like 2026-11-23T09:30:00Z, 2026-11-23T09:30:00.123+01:00 or 2022-02-04T09:36:45.650982100 (no offset: read in the configured zone)")]
pub struct NotAReceivedTime;

/// The zone an offset-less received time is read in (`[protocol] received_time_zone`).
#[derive(Debug, Clone)]
pub struct ReceivedZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {name:?}: use an IANA name such as UTC or Europe/Stockholm")]
pub struct UnknownZone {
    pub name: String,
}

impl ReceivedZone {
    pub fn utc() -> Self {
        ReceivedZone { name: "UTC".to_owned(), zone: jiff::tz::TimeZone::UTC }
    }

    /// An IANA zone name (`Europe/Stockholm`), or `UTC`.
    pub fn named(name: &str) -> Result<Self, UnknownZone> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("UTC") {
            return Ok(ReceivedZone::utc());
        }
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| UnknownZone { name: name.to_owned() })?;
        Ok(ReceivedZone { name: name.to_owned(), zone })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The offset of this zone at the wall-clock time `local`. A time that a clock change skips
    /// or repeats is read as jiff's "compatible" strategy does (the offset before the change),
    /// as most software does, rather than refusing a request for one hour a year.
    fn offset_at(&self, local: NaiveDateTime) -> Option<FixedOffset> {
        use chrono::{Datelike, Timelike};
        let civil = jiff::civil::DateTime::new(
            i16::try_from(local.year()).ok()?,
            i8::try_from(local.month()).ok()?,
            i8::try_from(local.day()).ok()?,
            i8::try_from(local.hour()).ok()?,
            i8::try_from(local.minute()).ok()?,
            i8::try_from(local.second()).ok()?,
            i32::try_from(local.nanosecond()).ok()?,
        )
        .ok()?;
        let zoned = self.zone.to_zoned(civil).ok()?;
        FixedOffset::east_opt(zoned.offset().seconds())
    }
}

impl Default for ReceivedZone {
    fn default() -> Self {
        ReceivedZone::utc()
    }
}

impl ReceivedTime {
    /// Reads `text`; without an offset, in `zone`.
    pub fn parse(text: &str, zone: &ReceivedZone) -> Result<ReceivedTime, NotAReceivedTime> {
        let (local, written_offset) = parse_parts(text).ok_or(NotAReceivedTime)?;
        let offset = match written_offset {
            Some(offset) => offset,
            None => zone.offset_at(local).ok_or(NotAReceivedTime)?,
        };
        let instant = offset.from_local_datetime(&local).single().ok_or(NotAReceivedTime)?;
        Ok(ReceivedTime { text: text.to_owned(), local, written_offset, instant })
    }

    /// The same time, an offset-less one read in `zone` instead (a written offset is kept).
    pub fn in_zone(self, zone: &ReceivedZone) -> ReceivedTime {
        if self.written_offset.is_some() {
            return self;
        }
        match zone.offset_at(self.local).and_then(|o| o.from_local_datetime(&self.local).single()) {
            Some(instant) => ReceivedTime { instant, ..self },
            None => self,
        }
    }

    /// The text exactly as received.
    pub fn as_received(&self) -> &str {
        &self.text
    }

    /// Whether the text carried its own offset.
    pub fn has_offset(&self) -> bool {
        self.written_offset.is_some()
    }

    pub fn instant(&self) -> DateTime<FixedOffset> {
        self.instant
    }

    pub fn to_utc(&self) -> DateTime<Utc> {
        self.instant.to_utc()
    }
}

/// Same time: two offset-less texts with the same wall-clock reading (whatever zone they are
/// read in), else the same instant. So a request sent again with its time written another way
/// (`Z` vs `+00:00`, more fraction digits) is still the same request.
impl PartialEq for ReceivedTime {
    fn eq(&self, other: &Self) -> bool {
        match (self.written_offset, other.written_offset) {
            (None, None) => self.local == other.local,
            _ => self.instant == other.instant,
        }
    }
}

impl fmt::Display for ReceivedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A time we make ourselves (tests, the simulator) is written as RFC 3339.
impl From<DateTime<FixedOffset>> for ReceivedTime {
    fn from(instant: DateTime<FixedOffset>) -> Self {
        ReceivedTime {
            text: instant.to_rfc3339(),
            local: instant.naive_local(),
            written_offset: Some(*instant.offset()),
            instant,
        }
    }
}

impl Serialize for ReceivedTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Deserialising alone reads an offset-less time as UTC; [`crate::decode_inbound_with`] reads it
/// in the configured zone.
impl<'de> Deserialize<'de> for ReceivedTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        ReceivedTime::parse(&text, &ReceivedZone::utc()).map_err(serde::de::Error::custom)
    }
}

/// Whether `text` has the form of a received time (the schema's `received-date-time` format).
pub fn is_received_time(text: &str) -> bool {
    parse_parts(text).is_some()
}

/// `YYYY-MM-DD(T|t| )hh:mm:ss(.f{1,9})?(Z|z|±hh:mm)?` → wall clock and written offset.
fn parse_parts(text: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from + n)?;
        part.iter().try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && matches!(b.get(10), Some(b'T' | b't' | b' ')) && at(13, b':') && at(16, b':')) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(digits(0, 4)?).ok()?, digits(5, 2)?, digits(8, 2)?)?;
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if at(i, b'.') {
        let count = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if !(1..=9).contains(&count) {
            return None;
        }
        nanos = digits(i + 1, count)? * 10u32.pow(9 - u32::try_from(count).ok()?);
        i += 1 + count;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = match b.get(i) {
        None => None,
        Some(b'Z' | b'z') if i + 1 == b.len() => Some(FixedOffset::east_opt(0)?),
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b':') => {
            let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let seconds = i32::try_from(h * 3600 + m * 60).ok()?;
            Some(FixedOffset::east_opt(if *sign == b'-' { -seconds } else { seconds })?)
        }
        Some(_) => return None,
    };
    Some((NaiveDateTime::new(date, time), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Option<String> {
        ReceivedTime::parse(text, &ReceivedZone::utc()).ok().map(|t| t.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
    }

    #[test]
    fn every_unambiguous_form_is_read_and_others_are_refused() {
        assert_eq!(utc("2022-02-04T09:36:45.650982100").as_deref(), Some("2022-02-04T09:36:45.650982100Z"));
        assert_eq!(utc("2022-02-04T09:36:45").as_deref(), Some("2022-02-04T09:36:45.000000000Z"));
        assert_eq!(utc("2022-02-04 09:36:45.6").as_deref(), Some("2022-02-04T09:36:45.600000000Z"));
        assert_eq!(utc("2022-02-04t09:36:45z").as_deref(), Some("2022-02-04T09:36:45.000000000Z"));
        assert_eq!(utc("2026-11-20T08:30:00+01:00").as_deref(), Some("2026-11-20T07:30:00.000000000Z"));
        assert_eq!(utc("2026-11-20T08:30:00.123456789-05:30").as_deref(), Some("2026-11-20T14:00:00.123456789Z"));
        for bad in [
            "2022-02-04T09:36:45.6509821001",
            "2022-02-04T09:36:45.",
            "2022-02-04T09:36",
            "2022-02-30T09:36:45",
            "2022-02-04T24:00:00",
            "2022-02-04T09:36:45+0100",
            "2022-02-04T09:36:45+01:00x",
            "2022-02-04  09:36:45",
            "23.11.2026 08:30",
            "",
        ] {
            assert_eq!(utc(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn an_offset_less_time_is_read_in_the_configured_zone_and_keeps_its_text() {
        let stockholm = ReceivedZone::named("Europe/Stockholm").expect("zone");
        let winter = ReceivedTime::parse("2022-02-04T09:36:45.650982100", &stockholm).expect("winter");
        assert_eq!(winter.to_utc().to_rfc3339(), "2022-02-04T08:36:45.650982100+00:00");
        let summer = ReceivedTime::parse("2022-07-04T09:36:45", &stockholm).expect("summer");
        assert_eq!(summer.to_utc().to_rfc3339(), "2022-07-04T07:36:45+00:00");
        assert_eq!(winter.as_received(), "2022-02-04T09:36:45.650982100");
        assert_eq!(serde_json::to_string(&winter).expect("json"), "\"2022-02-04T09:36:45.650982100\"");
        let offset_given = ReceivedTime::parse("2022-02-04T09:36:45Z", &stockholm).expect("Z");
        assert_eq!(offset_given.to_utc().to_rfc3339(), "2022-02-04T09:36:45+00:00", "a written offset wins over the zone");
        assert!(ReceivedZone::named("Mars/Olympus").is_err());
    }

    #[test]
    fn the_same_time_written_another_way_is_equal() {
        let zone = ReceivedZone::utc();
        let p = |t: &str| ReceivedTime::parse(t, &zone).expect(t);
        assert_eq!(p("2026-11-20T08:30:00+01:00"), p("2026-11-20T07:30:00.000Z"));
        assert_eq!(p("2026-11-20T07:30:00"), p("2026-11-20 07:30:00.000000000"));
        assert_ne!(p("2026-11-20T07:30:00"), p("2026-11-20T07:30:01"));
    }
}
