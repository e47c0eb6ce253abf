//! A readout typed, scanned or read from a file, under every catalogue name and one unknown name.
#![no_main]

use cardbench_protocol::normalise_readout;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "MIFARE_UID",
    "TRANSLATION_MIFARE_HEX_MSB",
    "TRANSLATION_MIFARE_HEX_LSB",
    "TRANSLATION_MIFARE_DEC_MSB",
    "TRANSLATION_MIFARE_DEC_LSB",
    "DESFIRE_UID",
    "ATR",
    "SOMETHING_ELSE",
];

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    for name in NAMES {
        let _ = normalise_readout(name, raw);
    }
});
