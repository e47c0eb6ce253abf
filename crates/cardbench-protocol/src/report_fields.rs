//! The catalogue of report fields: what a name in `expectedReportDataFields` holds, and in which
//! byte order and format it is reported.
//!
//! NGOC asks for one chip UID under several names (its card report shows
//! `TRANSLATION_MIFARE_HEX_MSB` and `TRANSLATION_MIFARE_HEX_LSB`): the same bytes, each name in its
//! own byte order and format. The catalogue says which names are the same thing (their
//! [`FieldKind`]) and how each is written ([`ByteOrder`], [`ValueFormat`]), so one read of a chip
//! can fill every name a request expects, and the same chip reported under two names is known to be
//! one chip. Names a bureau meets before Cardbench knows them are added in the config file
//! (`[report_fields.NAME]`); a name in neither place is free text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::readout::{NormalisedReadout, ReadoutError, hex_upper, parse_hex_bytes};

/// What a field holds. Fields of one kind are the same value written in different ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// ISO 14443-3 UID of a MIFARE chip: 4, 7 or 10 bytes.
    MifareUid,
    /// UID of a DESFire chip: 7 bytes.
    DesfireUid,
    /// ISO 7816-3 answer to reset: 2 to 33 bytes.
    Atr,
}

impl FieldKind {
    /// The byte counts a value may have, smallest first, and the same in words.
    fn lengths(self) -> (&'static [usize], &'static str) {
        match self {
            // ISO 14443-3: single, double and triple size UIDs.
            FieldKind::MifareUid => (&[4, 7, 10], "4, 7 or 10"),
            FieldKind::DesfireUid => (&[7], "7"),
            // ISO 7816-3: TS + T0 at least, 33 bytes at most.
            FieldKind::Atr => (
                &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33],
                "2 to 33",
            ),
        }
    }

    /// The name a reader's value of this kind is given before it is translated (readers return
    /// a UID most significant byte first, in hex).
    pub fn reader_field(self) -> &'static str {
        match self {
            FieldKind::MifareUid => "MIFARE_UID",
            FieldKind::DesfireUid => "DESFIRE_UID",
            FieldKind::Atr => "ATR",
        }
    }

    /// Whether a chip's UID (as a reader's GET DATA returns it) is a value of this kind.
    pub fn is_chip_uid(self) -> bool {
        matches!(self, FieldKind::MifareUid | FieldKind::DesfireUid)
    }
}

/// Which end of the bytes comes first. Readers and encoders disagree; NGOC asks for both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByteOrder {
    /// As the chip/reader gives it (most significant byte first).
    #[default]
    Msb,
    /// Reversed.
    Lsb,
}

/// How the bytes are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueFormat {
    /// Upper-case hex digits, two per byte, no separators.
    #[default]
    Hex,
    /// The bytes (in the field's order) as one unsigned big-endian number, in decimal, without
    /// leading zeros.
    Dec,
}

/// One field's rules: `[report_fields.NAME] kind = "mifare_uid", order = "lsb", format = "dec"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub kind: FieldKind,
    #[serde(default)]
    pub order: ByteOrder,
    #[serde(default)]
    pub format: ValueFormat,
}

impl FieldSpec {
    const fn new(kind: FieldKind, order: ByteOrder, format: ValueFormat) -> FieldSpec {
        FieldSpec { kind, order, format }
    }

    /// Reads a value written in this field's order and format; returns the bytes as the chip gives
    /// them (most significant first). `field` names the field in errors.
    pub fn parse(&self, field: &str, raw: &str) -> Result<Vec<u8>, ReadoutError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ReadoutError::Empty);
        }
        let (lengths, allowed) = self.kind.lengths();
        let mut bytes = match self.format {
            ValueFormat::Hex => parse_hex_bytes(trimmed)?,
            ValueFormat::Dec => decimal_bytes(field, trimmed, lengths, allowed)?,
        };
        if !lengths.contains(&bytes.len()) {
            return Err(ReadoutError::WrongLength { field: field.to_owned(), got: bytes.len(), allowed });
        }
        if self.order == ByteOrder::Lsb {
            bytes.reverse();
        }
        Ok(bytes)
    }

    /// Writes the chip's bytes (most significant first) in this field's order and format.
    pub fn render(&self, chip: &[u8]) -> String {
        let ordered: Vec<u8> = match self.order {
            ByteOrder::Msb => chip.to_vec(),
            ByteOrder::Lsb => chip.iter().rev().copied().collect(),
        };
        match self.format {
            ValueFormat::Hex => hex_upper(ordered.iter()),
            // At most 16 bytes fit; longer kinds cannot be configured as decimal (see
            // `ReportFieldCatalogue::with_extra`), so the fold never overflows.
            ValueFormat::Dec => ordered.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b)).to_string(),
        }
    }
}

/// Digits → the fewest bytes of an allowed length that hold the number. A decimal value does not
/// say how many leading zero bytes it had; the smallest allowed length is the only unambiguous
/// reading (a 7-byte UID whose value fits in 4 bytes would need three leading zero bytes, which
/// no manufacturer code is).
fn decimal_bytes(field: &str, text: &str, lengths: &[usize], allowed: &'static str) -> Result<Vec<u8>, ReadoutError> {
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_digit()) {
        return Err(ReadoutError::NotDecimal(bad));
    }
    let too_large = || ReadoutError::TooLarge { field: field.to_owned(), allowed };
    let number: u128 = text.parse().map_err(|_| too_large())?;
    let needed = (16 - number.leading_zeros() as usize / 8).max(1);
    let length = lengths.iter().copied().find(|l| *l >= needed && *l <= 16).ok_or_else(too_large)?;
    Ok(number.to_be_bytes()[16 - length..].to_vec())
}

const MIFARE: FieldKind = FieldKind::MifareUid;
const HEX: ValueFormat = ValueFormat::Hex;
const DEC: ValueFormat = ValueFormat::Dec;
const MSB: ByteOrder = ByteOrder::Msb;
const LSB: ByteOrder = ByteOrder::Lsb;

/// The fields Cardbench knows without configuration. The two `TRANSLATION_MIFARE_HEX_*` names are
/// from NGOC's published card report; the `_DEC_*` names are our guess at how NGOC names the
/// decimal translations (docs/protocol/README.md, "Report fields").
pub const BUILT_IN: &[(&str, FieldSpec)] = &[
    ("MIFARE_UID", FieldSpec::new(MIFARE, MSB, HEX)),
    ("TRANSLATION_MIFARE_HEX_MSB", FieldSpec::new(MIFARE, MSB, HEX)),
    ("TRANSLATION_MIFARE_HEX_LSB", FieldSpec::new(MIFARE, LSB, HEX)),
    ("TRANSLATION_MIFARE_DEC_MSB", FieldSpec::new(MIFARE, MSB, DEC)),
    ("TRANSLATION_MIFARE_DEC_LSB", FieldSpec::new(MIFARE, LSB, DEC)),
    ("DESFIRE_UID", FieldSpec::new(FieldKind::DesfireUid, MSB, HEX)),
    ("ATR", FieldSpec::new(FieldKind::Atr, MSB, HEX)),
];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogueError {
    #[error("{name} is a field Cardbench knows already; it cannot be redefined")]
    BuiltIn { name: String },
    #[error("{name}: a field name must be non-empty, without spaces")]
    BadName { name: String },
    #[error("{name}: {kind:?} values are too long to be written in decimal; use format = \"hex\"")]
    NoDecimal { name: String, kind: FieldKind },
}

/// The built-in fields plus those of the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFieldCatalogue {
    extra: BTreeMap<String, FieldSpec>,
}

impl ReportFieldCatalogue {
    /// Only the fields Cardbench knows by itself.
    pub fn built_in() -> ReportFieldCatalogue {
        ReportFieldCatalogue::default()
    }

    /// The built-in fields and `extra` (the config file's `[report_fields]`), checked.
    pub fn with_extra<'a>(extra: impl IntoIterator<Item = (&'a String, &'a FieldSpec)>) -> Result<ReportFieldCatalogue, CatalogueError> {
        let mut catalogue = ReportFieldCatalogue::default();
        for (name, spec) in extra {
            if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
                return Err(CatalogueError::BadName { name: name.clone() });
            }
            if BUILT_IN.iter().any(|(known, _)| known == name) {
                return Err(CatalogueError::BuiltIn { name: name.clone() });
            }
            if spec.format == ValueFormat::Dec && spec.kind.lengths().0.iter().any(|l| *l > 16) {
                return Err(CatalogueError::NoDecimal { name: name.clone(), kind: spec.kind });
            }
            catalogue.extra.insert(name.clone(), *spec);
        }
        Ok(catalogue)
    }

    /// The rules of `field`, or None for a free-text field.
    pub fn spec(&self, field: &str) -> Option<FieldSpec> {
        BUILT_IN.iter().find(|(name, _)| *name == field).map(|(_, spec)| *spec).or_else(|| self.extra.get(field).copied())
    }

    /// Whether Cardbench knows this field's format.
    pub fn is_known(&self, field: &str) -> bool {
        self.spec(field).is_some()
    }

    /// Every known field of `kind`: the names one chip may have been reported under.
    pub fn fields_of_kind(&self, kind: FieldKind) -> impl Iterator<Item = (&str, FieldSpec)> {
        BUILT_IN
            .iter()
            .map(|(name, spec)| (*name, *spec))
            .chain(self.extra.iter().map(|(name, spec)| (name.as_str(), *spec)))
            .filter(move |(_, spec)| spec.kind == kind)
    }

    /// Checks and normalises one value of `field`: a known field in its own order and format
    /// (with the chip's bytes in both orders, in hex, for display); a free-text field trimmed.
    pub fn normalise(&self, field: &str, raw: &str) -> Result<NormalisedReadout, ReadoutError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ReadoutError::Empty);
        }
        let Some(spec) = self.spec(field) else {
            return Ok(NormalisedReadout { value: trimmed.to_owned(), msb_first: None, lsb_first: None });
        };
        let chip = spec.parse(field, trimmed)?;
        Ok(NormalisedReadout {
            value: spec.render(&chip),
            msb_first: Some(hex_upper(chip.iter())),
            lsb_first: Some(hex_upper(chip.iter().rev())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in(field: &str, raw: &str) -> Result<NormalisedReadout, ReadoutError> {
        ReportFieldCatalogue::built_in().normalise(field, raw)
    }

    #[test]
    fn ngoc_translations_write_one_uid_in_each_order_and_format() {
        let spec = |name: &str| ReportFieldCatalogue::built_in().spec(name).expect("built in");
        let chip = [0x04, 0xA2, 0x2B, 0x1C];
        assert_eq!(spec("TRANSLATION_MIFARE_HEX_MSB").render(&chip), "04A22B1C");
        assert_eq!(spec("TRANSLATION_MIFARE_HEX_LSB").render(&chip), "1C2BA204");
        assert_eq!(spec("TRANSLATION_MIFARE_DEC_MSB").render(&chip), "77736732");
        assert_eq!(spec("TRANSLATION_MIFARE_DEC_LSB").render(&chip), "472621572");
        for name in ["MIFARE_UID", "TRANSLATION_MIFARE_HEX_MSB", "TRANSLATION_MIFARE_HEX_LSB", "TRANSLATION_MIFARE_DEC_MSB", "TRANSLATION_MIFARE_DEC_LSB"] {
            let written = spec(name).render(&chip);
            assert_eq!(spec(name).parse(name, &written).expect("reads back"), chip, "{name}");
        }
    }

    #[test]
    fn a_translation_is_validated_like_mifare_uid() {
        let lsb = built_in("TRANSLATION_MIFARE_HEX_LSB", "1c:2b:a2:04").expect("valid");
        assert_eq!((lsb.value.as_str(), lsb.msb_first.as_deref()), ("1C2BA204", Some("04A22B1C")));
        assert_eq!(
            built_in("TRANSLATION_MIFARE_HEX_LSB", "1C2BA2"),
            Err(ReadoutError::WrongLength { field: "TRANSLATION_MIFARE_HEX_LSB".into(), got: 3, allowed: "4, 7 or 10" })
        );
        assert_eq!(built_in("TRANSLATION_MIFARE_DEC_MSB", "0x12"), Err(ReadoutError::NotDecimal('x')));
        assert!(matches!(built_in("TRANSLATION_MIFARE_DEC_MSB", &u128::MAX.to_string()), Err(ReadoutError::TooLarge { .. })));
        // A decimal 7-byte UID reads back as 7 bytes; leading zeros are not a length.
        let seven = [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
        let spec = ReportFieldCatalogue::built_in().spec("TRANSLATION_MIFARE_DEC_MSB").expect("built in");
        assert_eq!(spec.parse("F", &format!("000{}", spec.render(&seven))).expect("7 bytes"), seven);
    }

    #[test]
    fn the_config_adds_fields_but_never_redefines_a_known_one() {
        let extra: BTreeMap<String, FieldSpec> = [
            ("CHIP_SERIAL_DEC".to_owned(), FieldSpec { kind: FieldKind::MifareUid, order: ByteOrder::Lsb, format: ValueFormat::Dec }),
        ]
        .into();
        let catalogue = ReportFieldCatalogue::with_extra(&extra).expect("valid");
        assert_eq!(catalogue.normalise("CHIP_SERIAL_DEC", "04A22B1C").map(|n| n.value), Err(ReadoutError::NotDecimal('A')));
        assert_eq!(catalogue.normalise("CHIP_SERIAL_DEC", "472621572").expect("valid").msb_first.as_deref(), Some("04A22B1C"));
        assert_eq!(catalogue.fields_of_kind(FieldKind::MifareUid).count(), 6);
        assert!(!ReportFieldCatalogue::built_in().is_known("CHIP_SERIAL_DEC"), "unknown without the config: free text");
        let clash: BTreeMap<String, FieldSpec> = [("MIFARE_UID".to_owned(), FieldSpec { kind: FieldKind::Atr, order: ByteOrder::Msb, format: ValueFormat::Hex })].into();
        assert!(matches!(ReportFieldCatalogue::with_extra(&clash), Err(CatalogueError::BuiltIn { .. })));
        let long: BTreeMap<String, FieldSpec> = [("ATR_DEC".to_owned(), FieldSpec { kind: FieldKind::Atr, order: ByteOrder::Msb, format: ValueFormat::Dec })].into();
        assert!(matches!(ReportFieldCatalogue::with_extra(&long), Err(CatalogueError::NoDecimal { .. })));
    }
}
