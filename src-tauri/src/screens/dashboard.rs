//! The dashboard: counts, recent errors, the production chart, and the period documents.

use std::path::PathBuf;

use cardbench_workflow::Period;

use crate::dto::*;
use crate::error::AppError;
use crate::station::{Result, Station};

impl Station {
    pub fn dashboard(&self) -> Result<Dashboard> {
        let d = self.workflow.dashboard()?;
        Ok(Dashboard {
            total_cards: d.total_cards,
            by_status: d.by_status.into_iter().map(|(status, count)| StatusCount { status: status.into(), count }).collect(),
            recent_errors: d
                .recent_errors
                .into_iter()
                .map(|e| ErrorLine { at: e.at, what: e.what, card_id: e.card_id, detail: e.detail })
                .collect(),
            rejected_messages: d.rejected_messages,
            outbox_depth: d.outbox_depth,
        })
    }

    /// Cards produced, REPORT_OK and errors per hour of the shift or the week under way, its
    /// bounds from the configured shifts (`[documents.shift]`, as the shift report splits time).
    pub fn production_chart(&self, period: ChartPeriod) -> Result<ProductionChart> {
        use cardbench_documents::shift;
        let config = self.config().documents.shift;
        let period = match period {
            ChartPeriod::Shift => shift::Period::Shift,
            ChartPeriod::Week => shift::Period::Week,
        };
        let bounds = shift::period_bounds(&config, period, chrono::Utc::now())?;
        let (from, to) = (cardbench_store::time::format(bounds.from), cardbench_store::time::format(bounds.to));
        let (hours, report) = self.store().read(|conn| {
            Ok::<_, cardbench_documents::DocumentError>((shift::hourly(conn, bounds.from, bounds.to, &config)?, shift::load(conn, &from, &to, &config)?))
        })?;
        let stations = shift::by_station(&report)
            .into_iter()
            .map(|(station, c)| StationFigures {
                station,
                produced: c.produced,
                spoiled: c.spoiled,
                report_ok: c.report_ok,
                errors: c.errors,
                shipped: c.shipped,
            })
            .collect();
        Ok(ProductionChart {
            name: bounds.name,
            from,
            to,
            utc_offset_minutes: config.utc_offset_minutes,
            hours: hours
                .into_iter()
                .map(|h| HourFigures {
                    hour: cardbench_store::time::format(h.hour),
                    produced: h.produced,
                    report_ok: h.report_ok,
                    errors: h.errors,
                })
                .collect(),
            stations,
            this_station: self.workflow.station().to_owned(),
        })
    }

    // ---- documents ---------------------------------------------------------------------------

    /// Where the app writes documents: `<data dir>/documents/`. Kept after printing, for reprints.
    pub fn documents_dir(&self) -> PathBuf {
        self.data_dir.join("documents")
    }

    /// The packing slip of one parcel as PDF, and — with `print` — sent to the configured CUPS
    /// queue. The file is kept either way.
    pub fn parcel_slip(&self, parcel_id: i64, print: bool) -> Result<DocumentsWritten> {
        let config = self.config().documents;
        let out = self.documents_dir().join("slips");
        cardbench_store::private_files::create_dir_all(&out).map_err(|e| AppError::Io(format!("cannot create {}: {e}", out.display())))?;
        let files = cardbench_documents::slip(self.store(), &cardbench_documents::SlipTarget::Parcel(parcel_id), &config.slip, &out)?;
        let printed_to = if print {
            let printer = config
                .print
                .printer
                .ok_or_else(|| AppError::Invalid("no printer is configured: set one in Settings (the slip was saved)".into()))?;
            for file in &files {
                cardbench_documents::print::send_to_printer(&printer, file)?;
            }
            Some(printer)
        } else {
            None
        };
        tracing::info!(parcel_id, printed = printed_to.is_some(), "packing slip written");
        Ok(DocumentsWritten { files: files.iter().map(|f| f.display().to_string()).collect(), printed_to, notes: Vec::new() })
    }

    /// Manifest (PDF + CSV), billing CSVs and the shift report for the days `from_day` to
    /// `to_day` (inclusive), each step reported to `progress` as it starts.
    pub fn period_documents(&self, from_day: &str, to_day: &str, progress: &dyn Fn(Progress)) -> Result<DocumentsWritten> {
        let period = Period::days(from_day, to_day).map_err(|e| AppError::Invalid(e.to_string()))?;
        let (from, to) = (period.start(), period.end());
        let config = self.config().documents;
        let out = self.documents_dir().join(period.name());
        let step = |n: u32, steps: u32, what: &str| progress(Progress { task: "period documents".into(), step: n, steps, what: what.into() });
        let done = cardbench_documents::period_documents(self.store(), &from, &to, &config, &out, &step)?;
        let without = done.without_cost_centre();
        let notes = if without.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "Billed under {} (no cost centre set in Settings): {}",
                cardbench_documents::billing::NO_COST_CENTRE,
                without.join(", ")
            )]
        };
        Ok(DocumentsWritten { files: done.files.iter().map(|f| f.display().to_string()).collect(), printed_to: None, notes })
    }
}
