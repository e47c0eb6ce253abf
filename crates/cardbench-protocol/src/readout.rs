//! Readout formats: what a value reported in `reportData` must look like, and its normal form.
//!
//! Known fields are checked by format and normalised (hex upper case, separators removed), so the
//! same UID typed as `04:a2:2b:1c` or scanned as `04A22B1C` is one value. Unknown fields only need
//! to be non-empty: NGOC may ask for fields before we learn their format.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::report_fields::ReportFieldCatalogue;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadoutError {
    #[error("empty")]
    Empty,
    #[error("not hexadecimal: {0:?}")]
    NotHex(char),
    #[error("odd number of hex digits ({0})")]
    OddLength(usize),
    #[error("{got} bytes; {field} must be {allowed} bytes")]
    WrongLength { field: String, got: usize, allowed: &'static str },
    #[error("not a decimal number: {0:?}")]
    NotDecimal(char),
    #[error("too large: {field} must be {allowed} bytes")]
    TooLarge { field: String, allowed: &'static str },
}

/// A readout in the form we report, plus both byte orders for display: readers and encoders
/// disagree on which end of a UID comes first, and operators compare against either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NormalisedReadout {
    /// The value as reported in CARD_PRODUCED.
    pub value: String,
    /// For byte strings: the bytes in the order given (most significant first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msb_first: Option<String>,
    /// For byte strings: the bytes reversed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsb_first: Option<String>,
}

/// Whether Cardbench knows the format of this field without configuration (see
/// [`crate::report_fields`] for the catalogue and fields added in the config file).
pub fn is_known_field(field: &str) -> bool {
    ReportFieldCatalogue::built_in().is_known(field)
}

/// Checks and normalises one readout value for `field`, by the built-in catalogue.
pub fn normalise_readout(field: &str, raw: &str) -> Result<NormalisedReadout, ReadoutError> {
    ReportFieldCatalogue::built_in().normalise(field, raw)
}

/// Accepts `04A22B1C`, `04 a2 2b 1c`, `04:A2:2B:1C`, `04-a2-2b-1c` and a `0x` prefix.
pub(crate) fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, ReadoutError> {
    let body = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    let mut digits = Vec::with_capacity(body.len());
    for c in body.chars() {
        match c {
            ' ' | ':' | '-' | '.' => continue,
            c if c.is_ascii_hexdigit() => digits.push(c.to_ascii_uppercase() as u8),
            other => return Err(ReadoutError::NotHex(other)),
        }
    }
    if digits.len() % 2 != 0 {
        return Err(ReadoutError::OddLength(digits.len()));
    }
    Ok(digits
        .chunks(2)
        .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1]))
        .collect())
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        _ => digit - b'A' + 10,
    }
}

pub(crate) fn hex_upper<'a>(bytes: impl Iterator<Item = &'a u8>) -> String {
    bytes.map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mifare_uid_accepts_separators_and_case_and_reports_both_orders() {
        let r = normalise_readout("MIFARE_UID", " 04:a2-2b 1c ").expect("valid 4-byte uid");
        assert_eq!(r.value, "04A22B1C");
        assert_eq!(r.msb_first.as_deref(), Some("04A22B1C"));
        assert_eq!(r.lsb_first.as_deref(), Some("1C2BA204"));
        assert_eq!(normalise_readout("MIFARE_UID", "0x04A22B1C5D6E7F").expect("7 bytes").value, "04A22B1C5D6E7F");
        assert!(normalise_readout("MIFARE_UID", "04A22B1C5D6E7F8091A2").is_ok(), "10 bytes is a triple-size uid");
    }

    #[test]
    fn mifare_uid_rejects_wrong_lengths_and_non_hex() {
        assert_eq!(
            normalise_readout("MIFARE_UID", "04A22B"),
            Err(ReadoutError::WrongLength { field: "MIFARE_UID".into(), got: 3, allowed: "4, 7 or 10" })
        );
        assert_eq!(normalise_readout("MIFARE_UID", "04A22B1G"), Err(ReadoutError::NotHex('G')));
        assert_eq!(normalise_readout("MIFARE_UID", "04A22B1"), Err(ReadoutError::OddLength(7)));
        assert_eq!(normalise_readout("MIFARE_UID", "   "), Err(ReadoutError::Empty));
    }

    #[test]
    fn unknown_fields_only_need_a_value() {
        assert_eq!(normalise_readout("PRINT_SERIAL", " A-17 ").expect("non-empty").value, "A-17");
        assert_eq!(normalise_readout("PRINT_SERIAL", ""), Err(ReadoutError::Empty));
        assert!(!is_known_field("PRINT_SERIAL"));
    }
}
