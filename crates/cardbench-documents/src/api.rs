//! The entry points for `cardbench slip|manifest|billing|shift-report` and the app: each reads the
//! store, renders, and writes files, returning what it wrote.

use std::path::{Path, PathBuf};

use cardbench_store::{Store, parcels, private_files};

use crate::config::{BillingConfig, DocumentsConfig, ShiftConfig, SlipConfig};
use crate::error::{DocumentError, Result};
use crate::slip::{PackingSlipData, render_packing_slip};
use crate::billing::BillingFile;
use crate::manifest as manifest_doc;
use crate::shift as shift_doc;

/// What `cardbench slip` was given: a parcel id (a number) or a shipmentId (all its parcels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlipTarget {
    Parcel(i64),
    Shipment(String),
}

impl SlipTarget {
    /// A number that names a parcel is a parcel; anything else is a shipmentId.
    pub fn parse(store: &Store, text: &str) -> Result<SlipTarget> {
        let text = text.trim();
        if let Ok(id) = text.parse::<i64>()
            && store.read(|c| parcels::get(c, id))?.is_some()
        {
            return Ok(SlipTarget::Parcel(id));
        }
        Ok(SlipTarget::Shipment(text.to_owned()))
    }
}

/// Packing slip(s) as PDF. `out` is a file for one parcel; for a shipment with several parcels
/// it is a directory receiving `slip_<shipment>_<parcel>.pdf` (a file path gets `_<parcel>`
/// added before `.pdf`). Returns the files written.
pub fn slip(store: &Store, target: &SlipTarget, config: &SlipConfig, out: &Path) -> Result<Vec<PathBuf>> {
    let slips = match target {
        SlipTarget::Parcel(id) => vec![store.read(|c| PackingSlipData::load(c, *id))?],
        SlipTarget::Shipment(id) => store.read(|c| PackingSlipData::load_shipment(c, id))?,
    };
    if slips.is_empty() {
        return Err(DocumentError::NotFound { what: "parcels of shipment", id: format!("{target:?}") });
    }
    let mut written = Vec::new();
    let single = slips.len() == 1;
    for data in &slips {
        let pdf = render_packing_slip(data, config)?;
        let path = if out.is_dir() {
            out.join(format!("slip_{}_{}.pdf", safe(&data.shipment_id), data.parcel_id))
        } else if single {
            out.to_owned()
        } else {
            let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "slip".into());
            out.with_file_name(format!("{stem}_{}.pdf", data.parcel_id))
        };
        write(&path, &pdf)?;
        written.push(path);
    }
    Ok(written)
}

/// The manifest of parcels created in [from, to) as `manifest_<from>_<to>.pdf` and `.csv` in
/// `out_dir`.
pub fn manifest(store: &Store, from: &str, to: &str, sender_name: &str, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let rows = store.read(|c| manifest_doc::load(c, from, to))?;
    private_files::create_dir_all(out_dir).map_err(DocumentError::io(out_dir))?;
    let base = format!("manifest_{}_{}", safe(day(from)), safe(day(to)));
    let pdf_path = out_dir.join(format!("{base}.pdf"));
    write(&pdf_path, &manifest_doc::render_pdf(&rows, from, to, sender_name)?)?;
    let csv_path = out_dir.join(format!("{base}.csv"));
    let mut csv = Vec::new();
    manifest_doc::write_csv(&rows, &mut csv)?;
    write(&csv_path, &csv)?;
    Ok(vec![pdf_path, csv_path])
}

/// Billing for [from, to): one CSV per organisation in `out_dir` (see [`crate::billing`]).
pub fn billing(store: &Store, from: &str, to: &str, config: &BillingConfig, out_dir: &Path) -> Result<Vec<BillingFile>> {
    crate::billing::run(store, from, to, config, out_dir)
}

/// The period's documents together, as the dashboard writes them.
#[derive(Debug, Clone, Default)]
pub struct PeriodDocuments {
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
    pub billing: Vec<BillingFile>,
}

impl PeriodDocuments {
    /// Organisations billed under [`crate::billing::NO_COST_CENTRE`].
    pub fn without_cost_centre(&self) -> Vec<&str> {
        self.billing.iter().filter(|b| b.cost_centre_missing).map(|b| b.organisation_id.as_str()).collect()
    }
}

/// The parts of [`period_documents`], in the order they are written.
pub const PERIOD_STEPS: [&str; 3] = ["manifest", "billing", "shift report"];

/// Manifest (PDF + CSV), billing CSVs and the shift report for [from, to) into `out_dir`, each
/// step told to `step(n, of, name)` as it starts. A step that fails stops the run and its error
/// names the files already written ([`DocumentError::Partial`]), so nobody looks for the rest.
pub fn period_documents(
    store: &Store,
    from: &str,
    to: &str,
    config: &DocumentsConfig,
    out_dir: &Path,
    step: &dyn Fn(u32, u32, &str),
) -> Result<PeriodDocuments> {
    let mut done = PeriodDocuments::default();
    let steps = PERIOD_STEPS.len() as u32;
    for (n, name) in (1..).zip(PERIOD_STEPS) {
        step(n, steps, name);
        let result = match n {
            1 => manifest(store, from, to, &config.slip.sender_name, out_dir),
            2 => billing(store, from, to, &config.billing, out_dir).map(|files| {
                let paths = files.iter().map(|f| f.path.clone()).collect();
                done.billing = files;
                paths
            }),
            _ => shift_report(store, from, to, &config.shift, &config.slip.sender_name, &shift_report_path(out_dir, from, to)),
        };
        match result {
            Ok(files) => done.files.extend(files),
            Err(e) => return Err(DocumentError::Partial { failed: name, written: done.files, source: Box::new(e) }),
        }
    }
    Ok(done)
}

/// Where the shift report for [from, to) goes in `out_dir` (named like the manifest).
pub fn shift_report_path(out_dir: &Path, from: &str, to: &str) -> PathBuf {
    out_dir.join(format!("shift-report_{}_{}.pdf", safe(day(from)), safe(day(to))))
}

/// The shift report for [from, to): `out` is the PDF; the CSV goes beside it (`.csv`).
pub fn shift_report(store: &Store, from: &str, to: &str, config: &ShiftConfig, sender_name: &str, out: &Path) -> Result<Vec<PathBuf>> {
    let report = store.read(|c| shift_doc::load(c, from, to, config))?;
    write(out, &shift_doc::render_pdf(&report, sender_name)?)?;
    let csv_path = out.with_extension("csv");
    let mut csv = Vec::new();
    shift_doc::write_csv(&report, &mut csv)?;
    write(&csv_path, &csv)?;
    Ok(vec![out.to_owned(), csv_path])
}

fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

fn safe(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Documents hold names and addresses: 0600, in directories made 0700.
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    private_files::write(path, bytes).map_err(DocumentError::io(path))
}
