//! Code128 for the shipmentId on the packing slip. `barcoders` gives the bar/space modules; we draw
//! each run of bars as one filled rectangle, so the barcode is vector (sharp at any printer
//! resolution) and needs no image support in printpdf.

use barcoders::sym::code128::Code128;

use crate::error::{DocumentError, Result};

/// Bars as (x offset, width) in modules, and the total width in modules.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub runs: Vec<(usize, usize)>,
    pub modules: usize,
}

/// Encodes `data` as Code128: set C for long even-length digit strings (half the width), set B
/// for printable ASCII. Anything else cannot be scanned back reliably, so it is refused.
pub fn code128(data: &str) -> Result<Bars> {
    if data.is_empty() {
        return Err(DocumentError::InvalidInput("an empty value cannot be a barcode".into()));
    }
    let prefixed = if data.len() >= 4 && data.len().is_multiple_of(2) && data.bytes().all(|b| b.is_ascii_digit()) {
        format!("\u{0106}{data}")
    } else if data.bytes().all(|b| (32..=126).contains(&b)) {
        format!("\u{0181}{data}")
    } else {
        return Err(DocumentError::InvalidInput(format!(
            "{data:?} has characters Code128 set B cannot carry (only printable ASCII)"
        )));
    };
    let code = Code128::new(prefixed)
        .map_err(|e| DocumentError::InvalidInput(format!("cannot encode {data:?} as Code128: {e}")))?;
    let modules = code.encode();
    let mut runs = Vec::new();
    let mut start = None;
    for (i, m) in modules.iter().enumerate() {
        match (*m == 1, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i - s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, modules.len() - s));
    }
    Ok(Bars { runs, modules: modules.len() })
}

/// Draws `bars` with its left edge at `x` (the quiet zone is left of it, caller's space), fitting
/// `max_w` mm but with modules no wider than 0.4 mm (wider is no easier to scan) and no thinner
/// than 0.19 mm (about the limit of a 300 dpi office laser).
pub fn draw(page: &mut crate::layout::Page<'_>, bars: &Bars, x: f32, y: f32, max_w: f32, h: f32) -> f32 {
    let module = (max_w / bars.modules as f32).clamp(0.19, 0.4);
    page.black_rects(bars.runs.iter().map(|&(s, w)| (x + s as f32 * module, y, w as f32 * module, h)));
    module * bars.modules as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_and_ends_with_a_bar_and_refuses_non_ascii() {
        let bars = code128("SHP-2026-0001").expect("ascii encodes");
        assert_eq!(bars.runs.first().map(|r| r.0), Some(0));
        assert_eq!(bars.runs.last().map(|r| r.0 + r.1), Some(bars.modules));
        // start + 13 chars + checksum = 15 symbols of 11 modules, stop 13.
        assert_eq!(bars.modules, 15 * 11 + 13);
        assert!(code128("Sändung").is_err());
        assert!(code128("").is_err());
        let digits = code128("12345678").expect("digits");
        assert_eq!(digits.modules, (1 + 4 + 1) * 11 + 13, "set C packs two digits per symbol");
    }
}
