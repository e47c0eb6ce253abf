//! The shift report: per shift, station and operator, how many cards were received, produced,
//! spoiled (to be redone), accepted by NGOC (REPORT_OK), answered with an error, and shipped,
//! with a chart of cards produced per hour.
//!
//! Where the figures come from:
//! - produced, spoiled: the audit log (actions [`actions::PRODUCED`], [`actions::SPOILED`], as
//!   the workflow writes them), by the operator who did it;
//! - shipped: the parcels (their operator and card count) — the same event as the
//!   [`actions::SHIPPED`] audit row, but counted from the parcel contents rather than JSON;
//! - REPORT_OK and errors: accepted inbox messages, credited to the operator who last produced
//!   the card (or, for an error on a parcel, who shipped the shipment's latest parcel before it);
//! - received: card requests by `cards.received_at`; nobody's action, so only in the shift total.
//!
//! The station is the one the audit row names (a floor's `[store] station`); a change made before
//! stations had names has none, shown blank.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc};
use cardbench_protocol::Subject;
use cardbench_store::Connection;
use cardbench_store::reports::{self, Counted};
use serde::{Deserialize, Serialize};

use crate::config::ShiftConfig;
use crate::error::{DocumentError, Result};
use crate::layout::{Column, Flow, MARGIN_L, MARGIN_R, PAGE_W, Page, Table};

/// Audit action names this report reads; the workflow writes the same strings
/// (`cardbench_workflow::production::actions`).
pub mod actions {
    pub const READOUTS_SAVED: &str = "readouts_saved";
    pub const PRODUCED: &str = "produced";
    pub const SPOILED: &str = "spoiled";
    pub const SHIPPED: &str = "shipped";
}

/// The operator name of a shift's total row.
pub const ALL: &str = "(all)";
/// Errors that no operator's action can be traced to.
pub const UNATTRIBUTED: &str = "(unattributed)";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Only in the (all) row: requests arrive, nobody does them.
    pub received: Option<u64>,
    pub produced: u64,
    pub spoiled: u64,
    pub report_ok: u64,
    pub errors: u64,
    pub shipped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftRow {
    /// Local date the shift started.
    pub shift_date: NaiveDate,
    pub shift: String,
    /// Where the operator worked ("" when the change named no station; also in the total row).
    pub station: String,
    pub operator: String,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftReport {
    pub from: String,
    pub to: String,
    pub rows: Vec<ShiftRow>,
    /// Cards produced per local hour: (label, count).
    pub per_hour: Vec<(String, u64)>,
}

struct Shifts {
    /// (minute of day, name), sorted.
    starts: Vec<(u32, String)>,
    offset: FixedOffset,
}

impl Shifts {
    fn new(config: &ShiftConfig) -> Result<Shifts> {
        let offset = FixedOffset::east_opt(config.utc_offset_minutes.saturating_mul(60))
            .ok_or_else(|| DocumentError::Config(format!("utc_offset_minutes {} is out of range", config.utc_offset_minutes)))?;
        let mut starts = Vec::new();
        for s in &config.shifts {
            let t = NaiveTime::parse_from_str(s.start.trim(), "%H:%M")
                .map_err(|_| DocumentError::Config(format!("shift {:?} start {:?} is not HH:MM", s.name, s.start)))?;
            starts.push((t.hour() * 60 + t.minute(), s.name.clone()));
        }
        if starts.is_empty() {
            return Err(DocumentError::Config("no shifts configured".into()));
        }
        starts.sort();
        Ok(Shifts { starts, offset })
    }

    /// The shift an instant falls in: (local start date, index). Before the first start of a day
    /// it is still the previous day's last shift (the night shift runs past midnight).
    fn of(&self, at: DateTime<Utc>) -> (NaiveDate, usize) {
        let local = at.with_timezone(&self.offset);
        let minute = local.hour() * 60 + local.minute();
        match self.starts.iter().rposition(|(start, _)| *start <= minute) {
            Some(i) => (local.date_naive(), i),
            None => (local.date_naive() - Duration::days(1), self.starts.len() - 1),
        }
    }
}

fn parse(at: &str) -> Option<DateTime<Utc>> {
    cardbench_store::time::parse(at)
}

/// A period the dashboard charts, by the shifts configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// The shift under way.
    Shift,
    /// The week under way: seven shift days from Monday's first shift (so Sunday's night shift
    /// belongs to the week it started in, as it does to its day in the shift report).
    Week,
}

/// Where a period starts and ends, and what to call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodBounds {
    /// "early 2026-11-23", "week 2026-W48 (from 2026-11-23)".
    pub name: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Shifts {
    /// The instant a shift of `date` starting at minute `minute` (local) begins.
    fn at(&self, date: NaiveDate, minute: u32) -> DateTime<Utc> {
        let local = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute));
        (local - Duration::seconds(i64::from(self.offset.local_minus_utc()))).and_utc()
    }

    fn bounds(&self, period: Period, now: DateTime<Utc>) -> PeriodBounds {
        let (date, i) = self.of(now);
        match period {
            Period::Shift => {
                let (start, name) = &self.starts[i];
                let to = match self.starts.get(i + 1) {
                    Some((next, _)) => self.at(date, *next),
                    None => self.at(date + Duration::days(1), self.starts[0].0),
                };
                PeriodBounds { name: format!("{name} {date}"), from: self.at(date, *start), to }
            }
            Period::Week => {
                let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
                let first = self.starts[0].0;
                let week = monday.iso_week();
                PeriodBounds {
                    name: format!("week {}-W{:02} (from {monday})", week.year(), week.week()),
                    from: self.at(monday, first),
                    to: self.at(monday + Duration::days(7), first),
                }
            }
        }
    }
}

/// The bounds of the shift or week under way at `now`: the one definition of the bureau's
/// periods, used by the dashboard (the shift report takes any period and splits it the same way).
pub fn period_bounds(config: &ShiftConfig, period: Period, now: DateTime<Utc>) -> Result<PeriodBounds> {
    Ok(Shifts::new(config)?.bounds(period, now))
}

/// One hour of production: cards produced, REPORT_OK and errors NGOC answered, counted as the
/// shift report counts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourFigures {
    /// Start of the hour (local hours; the instant in UTC).
    pub hour: DateTime<Utc>,
    pub produced: u64,
    pub report_ok: u64,
    pub errors: u64,
}

/// Which figure of an hour a count goes to.
type Figure = fn(&mut HourFigures) -> &mut u64;

/// Every hour of [from, to) with its figures, oldest first (hours with nothing are there, at 0).
/// Counted in SQL by local hour over the time indexes, so a week costs one grouped scan per source.
pub fn hourly(conn: &Connection, from: DateTime<Utc>, to: DateTime<Utc>, config: &ShiftConfig) -> Result<Vec<HourFigures>> {
    let shifts = Shifts::new(config)?;
    let offset_secs = shifts.offset.local_minus_utc();
    // The first local hour that overlaps the period, in UTC.
    let local_from = from + Duration::seconds(i64::from(offset_secs));
    let first = local_from - Duration::minutes(i64::from(local_from.minute())) - Duration::seconds(i64::from(local_from.second()))
        - Duration::nanoseconds(i64::from(local_from.nanosecond()));
    let first = first - Duration::seconds(i64::from(offset_secs));
    let n = usize::try_from(((to - first).num_minutes() + 59).div_euclid(60)).unwrap_or(0).min(24 * 62);
    let mut hours: Vec<HourFigures> = (0..n)
        .map(|i| HourFigures { hour: first + Duration::hours(i as i64), produced: 0, report_ok: 0, errors: 0 })
        .collect();
    let (from_s, to_s) = (cardbench_store::time::format(from), cardbench_store::time::format(to));
    let sources: [(Counted<'_>, Figure); 3] = [
        (Counted::Action(actions::PRODUCED), |h| &mut h.produced),
        (Counted::Accepted(Subject::ReportOk), |h| &mut h.report_ok),
        (Counted::Accepted(Subject::Error), |h| &mut h.errors),
    ];
    for (counted, what) in sources {
        for row in reports::hourly(conn, &from_s, &to_s, offset_secs, counted)? {
            // The local hour "YYYY-MM-DDTHH" back to its place in the list.
            let Ok(at) = chrono::NaiveDateTime::parse_from_str(&format!("{}:00", row.local_hour), "%Y-%m-%dT%H:%M") else {
                continue;
            };
            let utc = (at - Duration::seconds(i64::from(offset_secs))).and_utc();
            let i = (utc - first).num_minutes().div_euclid(60);
            if let Some(h) = usize::try_from(i).ok().and_then(|i| hours.get_mut(i)) {
                *what(h) += row.count;
            }
        }
    }
    Ok(hours)
}

/// Gathers the report for [from, to) (RFC 3339 UTC).
pub fn load(conn: &Connection, from: &str, to: &str, config: &ShiftConfig) -> Result<ShiftReport> {
    let shifts = Shifts::new(config)?;
    let (Some(from_t), Some(to_t)) = (parse(from), parse(to)) else {
        return Err(DocumentError::InvalidInput(format!("period {from} – {to} is not two RFC 3339 times")));
    };
    if from_t >= to_t {
        return Err(DocumentError::InvalidInput(format!("period {from} – {to} is empty")));
    }
    // (shift, station, operator) → counts.
    let mut table: BTreeMap<((NaiveDate, usize), String, String), Counts> = BTreeMap::new();
    let mut bump = |at: &str, station: Option<&str>, operator: &str, f: &dyn Fn(&mut Counts)| {
        if let Some(t) = parse(at) {
            f(table.entry((shifts.of(t), station.unwrap_or_default().to_owned(), operator.to_owned())).or_default());
        }
    };
    let mut produced_at: Vec<DateTime<Utc>> = Vec::new();

    for row in reports::actions_between(conn, from, to, &[actions::PRODUCED, actions::SPOILED])? {
        if row.action == actions::PRODUCED {
            bump(&row.at, row.station.as_deref(), &row.operator, &|c| c.produced += 1);
            if let Some(t) = parse(&row.at) {
                produced_at.push(t);
            }
        } else {
            bump(&row.at, row.station.as_deref(), &row.operator, &|c| c.spoiled += 1);
        }
    }

    for p in reports::parcels_between(conn, from, to, actions::SHIPPED)? {
        bump(&p.created_at, p.station.as_deref(), &p.operator, &|c| c.shipped += p.cards);
    }

    // Answers from NGOC, credited to whoever made what they answer.
    for answer in reports::answers_between(conn, from, to, &[Subject::ReportOk, Subject::Error], actions::PRODUCED, actions::SHIPPED)? {
        let at = &answer.received_at;
        match answer.subject {
            Subject::ReportOk => bump(
                at,
                answer.producer_station.as_deref(),
                answer.producer.as_deref().unwrap_or(UNATTRIBUTED),
                &|c| c.report_ok += 1,
            ),
            Subject::Error => {
                let (who, station) = match answer.producer {
                    Some(producer) => (Some(producer), answer.producer_station),
                    None => (answer.shipper, answer.shipper_station),
                };
                bump(at, station.as_deref(), who.as_deref().unwrap_or(UNATTRIBUTED), &|c| c.errors += 1);
            }
            // Not asked for: no other answer is counted in a shift.
            Subject::RequestSent | Subject::CardProduced | Subject::Shipped | Subject::ShippedOk => {}
        }
    }

    let mut received: BTreeMap<(NaiveDate, usize), u64> = BTreeMap::new();
    for at in reports::cards_received_between(conn, from, to)? {
        if let Some(t) = parse(&at) {
            *received.entry(shifts.of(t)).or_default() += 1;
        }
    }

    // Per shift: the operators, then the total.
    let mut keys: Vec<(NaiveDate, usize)> = table.keys().map(|(k, _, _)| *k).chain(received.keys().copied()).collect();
    keys.sort();
    keys.dedup();
    let mut rows = Vec::new();
    for key in keys {
        let name = shifts.starts[key.1].1.clone();
        let mut total = Counts { received: Some(received.get(&key).copied().unwrap_or(0)), ..Counts::default() };
        for ((_, station, operator), c) in table.range((key, String::new(), String::new())..).take_while(|((k, _, _), _)| *k == key) {
            total.produced += c.produced;
            total.spoiled += c.spoiled;
            total.report_ok += c.report_ok;
            total.errors += c.errors;
            total.shipped += c.shipped;
            rows.push(ShiftRow {
                shift_date: key.0,
                shift: name.clone(),
                station: station.clone(),
                operator: operator.clone(),
                counts: c.clone(),
            });
        }
        rows.push(ShiftRow { shift_date: key.0, shift: name, station: String::new(), operator: ALL.into(), counts: total });
    }

    Ok(ShiftReport { from: from.to_owned(), to: to.to_owned(), rows, per_hour: per_hour(&produced_at, from_t, to_t, shifts.offset) })
}

/// What each station did in `report`'s period: its operators' rows summed (the total rows left
/// out), stations by name; "" for changes that named none. The dashboard's "by station" table,
/// counted as the shift report counts.
pub fn by_station(report: &ShiftReport) -> Vec<(String, Counts)> {
    let mut stations: BTreeMap<String, Counts> = BTreeMap::new();
    for row in report.rows.iter().filter(|r| r.operator != ALL) {
        let c = stations.entry(row.station.clone()).or_default();
        c.produced += row.counts.produced;
        c.spoiled += row.counts.spoiled;
        c.report_ok += row.counts.report_ok;
        c.errors += row.counts.errors;
        c.shipped += row.counts.shipped;
    }
    stations.into_iter().collect()
}

/// Cards produced per hour: one bar per hour for up to two days, else per hour of the day summed
/// over the period (a week of hourly bars is unreadable on A4).
fn per_hour(times: &[DateTime<Utc>], from: DateTime<Utc>, to: DateTime<Utc>, offset: FixedOffset) -> Vec<(String, u64)> {
    let hours = (to - from).num_hours().max(1);
    if hours <= 48 {
        let start = from.with_timezone(&offset);
        let start = start - Duration::minutes(i64::from(start.minute())) - Duration::seconds(i64::from(start.second()));
        // Hours that overlap the period: a period ending on the hour gets no empty extra bar.
        let n = usize::try_from(((to.with_timezone(&offset) - start).num_minutes() + 59).div_euclid(60)).unwrap_or(1).clamp(1, 49);
        let mut bars: Vec<(String, u64)> = (0..n)
            .map(|i| ((start + Duration::hours(i as i64)).format("%H").to_string(), 0))
            .collect();
        for t in times {
            let i = (t.with_timezone(&offset) - start).num_minutes().div_euclid(60);
            if let Some(bar) = usize::try_from(i).ok().and_then(|i| bars.get_mut(i)) {
                bar.1 += 1;
            }
        }
        bars
    } else {
        let mut bars: Vec<(String, u64)> = (0..24).map(|h| (format!("{h:02}"), 0)).collect();
        for t in times {
            bars[t.with_timezone(&offset).hour() as usize].1 += 1;
        }
        bars
    }
}

pub const CSV_HEADER: [&str; 10] =
    ["SHIFTDATE", "SHIFT", "STATION", "OPERATOR", "RECEIVED", "PRODUCED", "SPOILED", "REPORT_OK", "ERRORS", "SHIPPED"];

fn cells(r: &ShiftRow) -> Vec<String> {
    let c = &r.counts;
    vec![
        r.shift_date.to_string(),
        r.shift.clone(),
        r.station.clone(),
        r.operator.clone(),
        c.received.map(|n| n.to_string()).unwrap_or_default(),
        c.produced.to_string(),
        c.spoiled.to_string(),
        c.report_ok.to_string(),
        c.errors.to_string(),
        c.shipped.to_string(),
    ]
}

pub fn write_csv(report: &ShiftReport, out: impl Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for r in &report.rows {
        w.write_record(cardbench_store::spreadsheet::safe_record(cells(r)))?;
    }
    w.flush().map_err(|e| DocumentError::Csv(e.into()))?;
    Ok(())
}

const CHART_TOP: f32 = 42.0;
const CHART_H: f32 = 55.0;

pub fn render_pdf(report: &ShiftReport, sender_name: &str) -> Result<Vec<u8>> {
    let table = Table {
        title: "Per shift, station and operator".into(),
        columns: vec![
            Column::left("Date", 21.0),
            Column::left("Shift", 15.0),
            Column::left("Station", 22.0),
            Column::left("Operator", 25.0),
            Column::right("Received", 15.0),
            Column::right("Produced", 15.0),
            Column::right("Spoiled", 14.0),
            Column::right("REPORT_OK", 20.0),
            Column::right("Errors", 13.0),
            Column::right("Shipped", 15.0),
        ],
        rows: report.rows.iter().map(cells).collect(),
        total: None,
    };
    let (from, to) = (report.from.as_str(), report.to.as_str());
    Flow { first_top: CHART_TOP + CHART_H + 22.0, next_top: 30.0 }.render(
        "Shift report",
        &format!("Shift report {from} – {to}"),
        &[table],
        |page, n, _| {
            if n == 1 {
                page.text(MARGIN_L, 22.0, 18.0, "Shift report");
                page.text_right(PAGE_W - MARGIN_R, 22.0, 11.0, sender_name);
                page.text(MARGIN_L, 29.0, 9.0, &format!("{from} – {to}"));
                page.hline(31.0, 0.5);
                chart(page, &report.per_hour);
            } else {
                page.text(MARGIN_L, 15.0, 10.0, &format!("Shift report {from} – {to}"));
                page.hline(18.0, 0.5);
            }
        },
    )
}

/// Bar chart of cards produced per hour, drawn with rectangles and lines.
fn chart(page: &mut Page<'_>, bars: &[(String, u64)]) {
    page.text(MARGIN_L, CHART_TOP - 3.0, 11.0, "Cards produced per hour (local time)");
    let x0 = MARGIN_L + 10.0;
    let width = PAGE_W - MARGIN_R - x0;
    let base = CHART_TOP + CHART_H;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    page.line(x0, CHART_TOP + 2.0, x0, base, 0.5);
    page.line(x0, base, x0 + width, base, 0.5);
    page.text_right(x0 - 1.5, CHART_TOP + 4.0, 7.0, &max.to_string());
    page.text_right(x0 - 1.5, base, 7.0, "0");
    if bars.is_empty() {
        return;
    }
    let slot = width / bars.len() as f32;
    let label_every = (bars.len() as f32 / 24.0).ceil().max(1.0) as usize;
    for (i, (label, n)) in bars.iter().enumerate() {
        let h = (CHART_H - 4.0) * (*n as f32) / (max as f32);
        let x = x0 + i as f32 * slot + slot * 0.15;
        if *n > 0 {
            page.fill_rect(x, base - h, slot * 0.7, h, 0.45);
            if slot > 5.0 {
                let w = page.width(&n.to_string(), 6.5);
                page.text(x + (slot * 0.7 - w) / 2.0, base - h - 1.0, 6.5, &n.to_string());
            }
        }
        if i % label_every == 0 {
            let w = page.width(label, 6.5);
            page.text(x + (slot * 0.7 - w) / 2.0, base + 4.0, 6.5, label);
        }
    }
}
