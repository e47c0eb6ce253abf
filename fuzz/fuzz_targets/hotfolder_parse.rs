//! An encoder result file (CSV or JSON Lines), parsed with the default column settings.
#![no_main]

use cardbench_devices::config::HotfolderConfig;
use cardbench_devices::hotfolder::{FileKind, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let kind = if which % 2 == 0 { FileKind::Csv } else { FileKind::JsonLines };
    let _ = parse(bytes, kind, &HotfolderConfig::default());
});
