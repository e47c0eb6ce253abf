//! CSV cells that are safe to open in a spreadsheet. The billing, manifest, shift and job files
//! carry text NGOC sent (holder names, card ids, card elements, organisation and article ids); a
//! cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice
//! and Google Sheets as a formula (`=HYPERLINK(...)` to leak the sheet, `=cmd|...` through DDE).
//! OWASP's rule: such a cell gets a leading single quote, which spreadsheets show as text and
//! never evaluate. The full-width forms of the four signs are treated alike (some spreadsheets
//! fold them). One function, here because every crate that writes CSV depends on the store.

use std::borrow::Cow;

/// `value`, with a `'` in front when a spreadsheet would take it for a formula.
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// Every cell of a record through [`safe_cell`], for `csv::Writer::write_record`.
pub fn safe_record<I, S>(cells: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    cells.into_iter().map(|c| safe_cell(c.as_ref()).into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_a_quote_and_plain_text_stays_as_it_is() {
        for risky in ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "＝1+1"] {
            assert_eq!(safe_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for plain in ["Åsa Öberg", "C-0001", "2026-11-20", "5", "", " =1", "a=b", "'quoted"] {
            assert_eq!(safe_cell(plain), plain, "{plain:?}");
        }
        assert_eq!(safe_record(["=1", "ok"]), ["'=1", "ok"]);
    }
}
