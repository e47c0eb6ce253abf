//! The one rule for a period of days, used by the dashboard's period documents, the CLI's
//! `manifest`/`billing`/`shift-report --from --to`, and the worklist and queue date filters:
//! whole days written `YYYY-MM-DD`, the first and the last **both included**, each day from
//! 00:00 UTC (the zone every stored time is written in; `docs/decisions/period-days.md`).

use chrono::NaiveDate;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeriodError {
    #[error("{0}: a date is written YYYY-MM-DD")]
    NotADay(String),
    #[error("{from} is after {to}")]
    Reversed { from: NaiveDate, to: NaiveDate },
}

/// Whole days from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A day written `YYYY-MM-DD` (blanks around it ignored).
pub fn day(text: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| PeriodError::NotADay(text.trim().to_owned()))
}

fn start_of(day: NaiveDate) -> String {
    cardbench_store::time::format(day.and_time(chrono::NaiveTime::MIN).and_utc())
}

impl Period {
    /// The days `from` to `to`, both included; one day when they are the same.
    pub fn days(from: &str, to: &str) -> Result<Period, PeriodError> {
        Period::new(day(from)?, day(to)?)
    }

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if from > to {
            return Err(PeriodError::Reversed { from, to });
        }
        Ok(Period { from, to })
    }

    /// The first instant in the period, as the store writes times.
    pub fn start(&self) -> String {
        start_of(self.from)
    }

    /// The first instant after the period (the start of the day after `to`), as the store writes
    /// times: a stored time is in the period when `start() <= t < end()`.
    pub fn end(&self) -> String {
        start_of(self.to.succ_opt().unwrap_or(NaiveDate::MAX))
    }

    /// `2026-11-01_2026-11-30`: how files and folders of the period are named.
    pub fn name(&self) -> String {
        format!("{}_{}", self.from, self.to)
    }
}

/// A date filter's bounds by the same rule, either end optional: `(start of from, start of the
/// day after to)`, each `None` when not given (blank counts as not given).
pub fn filter_bounds(from: Option<&str>, to: Option<&str>) -> Result<(Option<String>, Option<String>), PeriodError> {
    let given = |d: Option<&str>| d.map(str::trim).filter(|d| !d.is_empty()).map(day).transpose();
    let (from, to) = (given(from)?, given(to)?);
    if let (Some(from), Some(to)) = (from, to) {
        Period::new(from, to)?;
    }
    let from = from.map(start_of);
    let to = to.map(|to| Period { from: to, to }.end());
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_days_are_included() {
        let p = Period::days("2026-11-01", "2026-11-30").expect("period");
        assert_eq!(p.start(), "2026-11-01T00:00:00.000Z");
        assert_eq!(p.end(), "2026-12-01T00:00:00.000Z");
        let one = Period::days("2026-11-05", " 2026-11-05 ").expect("one day");
        assert_eq!((one.start().as_str(), one.end().as_str()), ("2026-11-05T00:00:00.000Z", "2026-11-06T00:00:00.000Z"));
        assert_eq!(one.name(), "2026-11-05_2026-11-05");
    }

    #[test]
    fn a_reversed_period_or_a_non_day_is_refused_with_the_reason() {
        assert_eq!(Period::days("2026-11-02", "2026-11-01").expect_err("reversed").to_string(), "2026-11-02 is after 2026-11-01");
        assert_eq!(Period::days("2026-11-01T00:00:00Z", "2026-11-02").expect_err("not a day").to_string(), "2026-11-01T00:00:00Z: a date is written YYYY-MM-DD");
        assert!(filter_bounds(Some("2026-11-02"), Some("2026-11-01")).is_err());
    }

    #[test]
    fn filters_take_the_same_rule_either_end_optional() {
        assert_eq!(filter_bounds(None, Some("")).expect("none"), (None, None));
        assert_eq!(
            filter_bounds(Some("2026-11-01"), Some("2026-11-01")).expect("one day"),
            (Some("2026-11-01T00:00:00.000Z".into()), Some("2026-11-02T00:00:00.000Z".into()))
        );
        assert_eq!(filter_bounds(None, Some("2026-11-30")).expect("to").1.as_deref(), Some("2026-12-01T00:00:00.000Z"));
    }
}
