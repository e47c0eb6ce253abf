//! Readouts from real devices, so operators never retype a chip number:
//! - [`reader`]: PC/SC readers — attach/detach and card events, UID + ATR, applied to the card in hand.
//! - [`scan`]: what a barcode scan means (a card, a shipment, a readout of the card in hand).
//! - [`hotfolder`]: encoder result files (CSV, JSON Lines) taken once, validated per row, applied.
//! - [`export`]: job files for the personalization machine, written atomically.
//!
//! Free of Tauri: the CLI drives it and the desktop app can (events arrive over channels).
//! Never logs readout values or card elements.

pub mod config;
mod error;
pub mod export;
pub mod hotfolder;
pub mod reader;
pub mod scan;

pub use config::DevicesConfig;
pub use error::{DevicesError, Result};
pub use hotfolder::{FileReport, HotFolder, HotFolderEvent};
pub use reader::{ChipRead, ReaderEvent, ReaderWatch};
pub use scan::{ScanMeaning, interpret_scan, interpret_scan_with};
