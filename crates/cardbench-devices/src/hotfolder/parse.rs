//! Reading a result file's bytes into rows (CSV with a header, or JSON Lines). Pure: no file
//! system, no store, so it can be fuzzed and property-tested alone.

use std::collections::HashMap;
use std::path::Path;

use cardbench_workflow::ReadoutInput;
use serde::{Deserialize, Serialize};

use crate::config::HotfolderConfig;

/// One row of a result file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    /// 1-based line of the file (the header is line 1 of a CSV).
    pub line: usize,
    pub card_id: String,
    pub values: Vec<ReadoutInput>,
}

/// A row that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowProblem {
    pub line: usize,
    pub card_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub rows: Vec<ResultRow>,
    pub problems: Vec<RowProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    JsonLines,
}

impl FileKind {
    /// The kind of a file with one of the default endings; `None` for any other.
    pub fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(FileKind::Csv),
            "jsonl" | "ndjson" => Some(FileKind::JsonLines),
            _ => None,
        }
    }

    /// The kind of a file whose ending is one of `extensions` (the configured list); `None` for
    /// a file that is not a result file and must be left alone.
    pub fn of_configured(path: &Path, extensions: &[String]) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?;
        if !extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
            return None;
        }
        Some(match ext.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => FileKind::JsonLines,
            _ => FileKind::Csv,
        })
    }
}

/// Names an encoder (or an editor, or a copy tool) uses while a file is still being written.
pub fn is_temporary_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with('~')
        || lower.ends_with(".reason.txt")
        || [".tmp", ".temp", ".part", ".partial", ".swp", ".crdownload", ".filepart", "~"].iter().any(|s| lower.ends_with(s))
}

/// Reads a whole file. `Err`: the file as a whole cannot be read (the reason goes to the reason
/// file); row problems are in the result.
pub fn parse(bytes: &[u8], kind: FileKind, config: &HotfolderConfig) -> std::result::Result<ParsedFile, String> {
    // Windows tools write a BOM; it would otherwise become part of the first column's name.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (byte {})", e.valid_up_to()))?;
    let mut parsed = match kind {
        FileKind::Csv => parse_csv(text, config)?,
        FileKind::JsonLines => parse_json_lines(text, config),
    };
    // A card twice in one file: the second row would overwrite the first's values; refuse it and
    // say where the first one is.
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(parsed.rows.len());
    for row in parsed.rows {
        if let Some(first) = first_line.get(&row.card_id) {
            parsed.problems.push(RowProblem {
                line: row.line,
                card_id: Some(row.card_id.clone()),
                reason: format!("card {} appears again (first on line {first})", row.card_id),
            });
            continue;
        }
        first_line.insert(row.card_id.clone(), row.line);
        rows.push(row);
    }
    parsed.rows = rows;
    Ok(parsed)
}

fn field_for(column: &str, config: &HotfolderConfig) -> String {
    config.columns.get(column).cloned().unwrap_or_else(|| column.to_owned())
}

fn parse_csv(text: &str, config: &HotfolderConfig) -> std::result::Result<ParsedFile, String> {
    let delimiter = sniff_delimiter(text);
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).trim(csv::Trim::Headers).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().map_err(|e| format!("no readable header: {e}"))?.iter().map(str::to_owned).collect();
    let id_column = header
        .iter()
        .position(|h| h.eq_ignore_ascii_case(&config.card_id_column))
        .ok_or_else(|| format!("no {:?} column in the header ({})", config.card_id_column, header.join(", ")))?;
    let fields: Vec<String> = header.iter().map(|h| field_for(h, config)).collect();
    let mut parsed = ParsedFile::default();
    // Line numbers from byte offsets: the csv crate's own line count skips blank lines, and an
    // operator opens the file in an editor that does not.
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                parsed.problems.push(RowProblem { line, card_id: None, reason: format!("unreadable row: {e}") });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        // Trimmed here, not by the reader: a trimmed record loses its position.
        let record: Vec<&str> = record.iter().map(str::trim).collect();
        if record.iter().all(|v| v.is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            parsed.problems.push(RowProblem {
                line,
                card_id: record.get(id_column).filter(|s| !s.is_empty()).map(|s| (*s).to_owned()),
                reason: format!("{} fields; the header has {}", record.len(), header.len()),
            });
            continue;
        }
        let card_id = record.get(id_column).copied().unwrap_or_default();
        if card_id.is_empty() {
            parsed.problems.push(RowProblem { line, card_id: None, reason: format!("no {}", config.card_id_column) });
            continue;
        }
        let values = record
            .iter()
            .enumerate()
            .filter(|(i, v)| *i != id_column && !v.is_empty())
            .map(|(i, v)| ReadoutInput { field: fields[i].clone(), value: (*v).to_owned() })
            .collect();
        parsed.rows.push(ResultRow { line, card_id: card_id.to_owned(), values });
    }
    Ok(parsed)
}

/// 1-based line of a byte offset; offsets must come in increasing order (one pass over the text).
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter { text: text.as_bytes(), offset: 0, line: 1 }
    }

    fn line_at(&mut self, byte: u64) -> usize {
        let mut target = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        // With CRLF the csv crate starts a record at the previous line's LF, and skipped blank
        // lines are not records: the row begins at the first byte that is not a line end.
        while self.text.get(target).is_some_and(|b| *b == b'\r' || *b == b'\n') {
            target += 1;
        }
        if target > self.offset {
            self.line += self.text[self.offset..target].iter().filter(|b| **b == b'\n').count();
            self.offset = target;
        }
        self.line
    }
}

/// Encoders configured for a German or Swedish locale write `;`. Decided on the header line.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let count = |c: char| header.matches(c).count();
    [(b',', count(',')), (b';', count(';')), (b'\t', count('\t'))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, n)| if n == 0 { b',' } else { d })
}

fn parse_json_lines(text: &str, config: &HotfolderConfig) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let raw = raw.trim_end_matches('\r').trim();
        if raw.is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(o)) => o,
            Ok(_) => {
                parsed.problems.push(RowProblem { line, card_id: None, reason: "not a JSON object".into() });
                continue;
            }
            Err(e) => {
                parsed.problems.push(RowProblem { line, card_id: None, reason: format!("not JSON: {e}") });
                continue;
            }
        };
        let card_id = object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&config.card_id_column))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let Some(card_id) = card_id else {
            parsed.problems.push(RowProblem { line, card_id: None, reason: format!("no {} (text)", config.card_id_column) });
            continue;
        };
        // Flat keys, or the values under "reportData" as in CARD_PRODUCED.
        let mut values = Vec::new();
        let mut bad = None;
        let nested = object.get("reportData").and_then(|v| v.as_object());
        for (key, value) in
            object.iter().filter(|(k, _)| !k.eq_ignore_ascii_case(&config.card_id_column) && *k != "reportData").chain(nested.into_iter().flatten())
        {
            match value {
                serde_json::Value::String(s) if !s.trim().is_empty() => values.push(ReadoutInput { field: field_for(key, config), value: s.clone() }),
                serde_json::Value::String(_) | serde_json::Value::Null => {}
                serde_json::Value::Number(n) => values.push(ReadoutInput { field: field_for(key, config), value: n.to_string() }),
                _ => bad = Some(format!("{key} is not text")),
            }
        }
        if let Some(reason) = bad {
            parsed.problems.push(RowProblem { line, card_id: Some(card_id.to_owned()), reason });
            continue;
        }
        parsed.rows.push(ResultRow { line, card_id: card_id.to_owned(), values });
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> HotfolderConfig {
        HotfolderConfig::default()
    }

    #[test]
    fn csv_with_bom_crlf_semicolons_and_mapped_columns() {
        let mut config = cfg();
        config.card_id_column = "CardID".into();
        config.columns.insert("UID".into(), "MIFARE_UID".into());
        let text = "\u{feff}CardID;UID;Note\r\nC-1;04A22B1C;x\r\n\r\nC-2;04:a2:2b:1d;\r\n";
        let parsed = parse(text.as_bytes(), FileKind::Csv, &config).expect("parses");
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[0].card_id, "C-1", "the BOM must not stick to the first column");
        assert_eq!(parsed.rows[0].values[0], ReadoutInput { field: "MIFARE_UID".into(), value: "04A22B1C".into() });
        assert_eq!(parsed.rows[1].line, 4, "line numbers count the blank line");
        assert_eq!(parsed.rows[1].values.len(), 1, "empty cells are not values");
    }

    #[test]
    fn csv_rows_with_problems_are_reported_by_line() {
        let text = "cardId,MIFARE_UID\nC-1,04A22B1C\n,04A22B1D\nC-3\nC-1,04A22B1E\n";
        let parsed = parse(text.as_bytes(), FileKind::Csv, &cfg()).expect("parses");
        assert_eq!(parsed.rows.len(), 1);
        let lines: Vec<usize> = parsed.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(parsed.problems[2].reason.contains("first on line 2"), "{:?}", parsed.problems[2]);
    }

    #[test]
    fn a_csv_without_the_card_id_column_is_refused_as_a_whole() {
        let err = parse(b"id,uid\n1,2\n", FileKind::Csv, &cfg()).expect_err("no cardId");
        assert!(err.contains("cardId"), "{err}");
        let err = parse(b"\xff\xfe\x00garbage", FileKind::Csv, &cfg()).expect_err("not utf-8");
        assert!(err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn json_lines_flat_or_nested_with_crlf_and_garbage() {
        let text = "{\"cardId\":\"C-1\",\"MIFARE_UID\":\"04A22B1C\"}\r\n{\"cardId\":\"C-2\",\"reportData\":{\"MIFARE_UID\":\"04A22B1D\"}}\r\nnot json\r\n[1]\r\n{\"MIFARE_UID\":\"x\"}\n";
        let parsed = parse(text.as_bytes(), FileKind::JsonLines, &cfg()).expect("parses");
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[1].values[0].field, "MIFARE_UID");
        let lines: Vec<usize> = parsed.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
    }

    #[test]
    fn only_configured_endings_are_result_files() {
        let exts: Vec<String> = vec!["CSV".into(), "res".into(), "ndjson".into()];
        assert_eq!(FileKind::of_configured(Path::new("a.csv"), &exts), Some(FileKind::Csv));
        assert_eq!(FileKind::of_configured(Path::new("a.res"), &exts), Some(FileKind::Csv));
        assert_eq!(FileKind::of_configured(Path::new("a.NDJSON"), &exts), Some(FileKind::JsonLines));
        assert_eq!(FileKind::of_configured(Path::new("a.txt"), &exts), None);
        assert_eq!(FileKind::of_configured(Path::new("cardbench.sqlite"), &exts), None);
        assert_eq!(FileKind::of_configured(Path::new("csv"), &exts), None);
    }

    #[test]
    fn temporary_names_are_not_taken() {
        for name in [".x.csv", "~lock.csv", "a.csv.tmp", "a.part", "a.csv.reason.txt", "a.swp"] {
            assert!(is_temporary_name(name), "{name}");
        }
        assert!(!is_temporary_name("results-0001.csv"));
    }
}
