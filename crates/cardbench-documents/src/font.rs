//! The one font every document uses, embedded in the binary so a slip looks the same on every
//! workstation and never depends on what fonts the OS has. DejaVu Sans: free licence (Bitstream
//! Vera + public domain changes, see `assets/fonts/DejaVu-LICENSE.txt`) and Latin, Greek and
//! Cyrillic coverage, so names like "Åsa Ölund", "Łukasz", "Straße" print as written.

use std::sync::OnceLock;

use printpdf::ParsedFont;

use crate::error::{DocumentError, Result};

pub(crate) const DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Parsed once per process: the cmap and width tables are read on every document otherwise.
static PARSED: OnceLock<Option<ParsedFont>> = OnceLock::new();

pub(crate) fn parsed() -> Result<&'static ParsedFont> {
    PARSED
        .get_or_init(|| ParsedFont::from_bytes(DEJAVU_SANS, 0, &mut Vec::new()))
        .as_ref()
        .ok_or(DocumentError::Font)
}

/// Width of `text` at `size_pt`, in mm, from the font's advance widths (no kerning: it is only
/// used to right-align numbers and to shorten text that would run into the next column).
pub(crate) fn width_mm(font: &ParsedFont, text: &str, size_pt: f32) -> f32 {
    let upm = f32::from(font.units_per_em.max(1));
    let units: u32 = text
        .chars()
        .map(|c| {
            let gid = font.lookup_glyph_index(u32::from(c)).unwrap_or(0);
            u32::from(font.get_glyph_width(gid).unwrap_or(0))
        })
        .sum();
    units as f32 / upm * size_pt * 25.4 / 72.0
}

/// Replaces characters the font has no glyph for, so a missing glyph shows as `?` instead of an
/// invisible box (and `pdftotext` still shows something was there).
pub(crate) fn printable(font: &ParsedFont, text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                ' '
            } else if font.lookup_glyph_index(u32::from(c)).is_some() {
                c
            } else {
                '?'
            }
        })
        .collect()
}
