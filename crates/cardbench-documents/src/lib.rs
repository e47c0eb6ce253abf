//! Documents and reports: packing slips, shipment manifests, billing CSV, shift reports.
//!
//! Reads the store, never writes it except for the invoice-number counter of a billing run.
//! PDFs are drawn with printpdf (no HTML engine) using the embedded DejaVu Sans font, so they look
//! the same on every workstation; CSVs are written with the `csv` crate.
//!
//! - [`slip`]: one packing slip per parcel, window-envelope layout, Code128 shipmentId.
//! - [`manifest`]: all parcels of a period, PDF and CSV.
//! - [`billing`]: one CSV per organisation in NGOC's invoice report shape.
//! - [`shift`]: per operator and shift figures, PDF with a cards-per-hour chart, and CSV.
//! - [`print`]: to a CUPS queue with `lp`, else to a file.
//! - [`api`]: the entry points the CLI and the app call.

pub mod api;
pub mod barcode;
pub mod bench;
pub mod billing;
pub mod config;
mod error;
mod font;
pub mod layout;
pub mod manifest;
pub mod print;
pub mod shift;
pub mod slip;

pub use api::{PeriodDocuments, SlipTarget, billing, manifest, period_documents, shift_report, slip};
pub use bench::bench_packing_slip_1000;

pub use config::{BillingConfig, DocumentsConfig, HolderDisplay, PrintConfig, ShiftConfig, ShiftDef, SlipConfig};
pub use error::{DocumentError, Result};
pub use slip::{PackingSlipData, SlipCard, render_packing_slip};
