//! The encoder hot folder: the personalization machine writes one result file per job (CSV with a
//! header, or JSON Lines); we take each file once it is complete, validate every row, apply the
//! valid rows in one transaction, and move the file to `processed/` (every row applied) or
//! `failed/` (some row refused, or the file unreadable) with `NAME.reason.txt` beside it naming
//! each refused row and why.
//!
//! - Complete: the file's size and modification time have not changed for `settle_ms`, and its
//!   name is not a temporary one (`.*`, `~*`, `*.tmp`, `*.part`, `*.swp`, `*.crdownload`).
//!   The encoder does not tell us when it is done, and inotify's close-write is not enough: some
//!   machines open, write and close many times.
//! - Once: the SHA-256 of the bytes is recorded in the same transaction as the rows. A file seen
//!   again is not applied again (a crash between commit and move just finishes the move).
//! - Files already in the folder when the watch starts are taken like new ones.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use cardbench_store::hotfolder_files::{self, HotfolderFileRow};
use cardbench_workflow::{ApplyOutcome, ReadoutInput, Workflow, WorkflowError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::HotfolderConfig;
use crate::error::{DevicesError, Result};

pub const PROCESSED_DIR: &str = "processed";
pub const FAILED_DIR: &str = "failed";
/// The audit/readout source of values from result files.
pub const SOURCE: &str = "hotfolder";

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
    pub fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(FileKind::Csv),
            "jsonl" | "ndjson" => Some(FileKind::JsonLines),
            _ => None,
        }
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
    [(b',', count(',')), (b';', count(';')), (b'\t', count('\t'))].into_iter().max_by_key(|(_, n)| *n).map_or(b',', |(d, n)| if n == 0 { b',' } else { d })
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
        for (key, value) in object.iter().filter(|(k, _)| !k.eq_ignore_ascii_case(&config.card_id_column) && *k != "reportData").chain(nested.into_iter().flatten()) {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    /// Every row applied; moved to processed/.
    Processed,
    /// Some row refused or the file unreadable; moved to failed/ with a reason file.
    Failed,
    /// The same bytes were taken before; nothing applied again.
    AlreadyTaken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub file_name: String,
    pub sha256: String,
    pub outcome: FileOutcome,
    pub rows_total: usize,
    pub rows_applied: usize,
    /// Cards produced (CARD_PRODUCED queued).
    pub produced: usize,
    pub problems: Vec<RowProblem>,
    /// Why the file as a whole was refused, if it was.
    pub file_problem: Option<String>,
    pub moved_to: PathBuf,
}

/// What the watch reports.
#[derive(Debug)]
pub enum HotFolderEvent {
    Taken(FileReport),
    /// A file that could not be taken now (I/O); it is tried again on its next change or restart.
    Error { file: Option<PathBuf>, error: DevicesError },
}

/// A configured hot folder over one store.
#[derive(Clone)]
pub struct HotFolder {
    workflow: Workflow,
    operator: String,
    folder: PathBuf,
    config: HotfolderConfig,
}

impl HotFolder {
    /// Creates `folder`, `processed/` and `failed/` if needed.
    pub fn new(workflow: Workflow, operator: &str, folder: &Path, config: HotfolderConfig) -> Result<HotFolder> {
        for dir in [folder.to_owned(), folder.join(PROCESSED_DIR), folder.join(FAILED_DIR)] {
            std::fs::create_dir_all(&dir).map_err(|e| DevicesError::io(&dir, e))?;
        }
        Ok(HotFolder { workflow, operator: operator.to_owned(), folder: folder.to_owned(), config })
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Result files waiting in the folder (not temporary names, not our subfolders), oldest name first.
    pub fn waiting(&self) -> Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(&self.folder).map_err(|e| DevicesError::io(&self.folder, e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| self.is_candidate(p))
            .collect();
        files.sort();
        Ok(files)
    }

    fn is_candidate(&self, path: &Path) -> bool {
        path.parent() == Some(self.folder.as_path())
            && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| !is_temporary_name(n))
    }

    /// Takes one complete file: validate, apply, record, move. The caller decides completeness
    /// (see [`HotFolder::watch`]).
    pub fn take(&self, path: &Path) -> Result<FileReport> {
        let bytes = std::fs::read(path).map_err(|e| DevicesError::io(path, e))?;
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("unnamed").to_owned();
        let sha256 = hex::encode(Sha256::digest(&bytes));

        if let Some(seen) = self.workflow.store().read(|c| hotfolder_files::get(c, &sha256))? {
            // Same name: we crashed between the commit and the move; finish the move. Another
            // name: the machine wrote the same results again; keep it aside, apply nothing.
            let (outcome, dir) = if seen.file_name == file_name {
                (if seen.rows_refused == 0 { FileOutcome::Processed } else { FileOutcome::Failed }, if seen.rows_refused == 0 { PROCESSED_DIR } else { FAILED_DIR })
            } else {
                (FileOutcome::AlreadyTaken, FAILED_DIR)
            };
            let note = format!(
                "{file_name}: the same content was already taken at {} as {} ({} row(s) applied then); nothing was applied again.\n",
                seen.taken_at, seen.file_name, seen.rows_applied
            );
            // A file that goes to failed/ always has its reason beside it.
            let moved_to = self.move_aside(path, dir, (dir == FAILED_DIR).then_some(note.as_str()))?;
            tracing::info!(file = %file_name, outcome = ?outcome, "result file seen before");
            return Ok(FileReport {
                file_name,
                sha256,
                outcome,
                rows_total: 0,
                rows_applied: 0,
                produced: 0,
                problems: Vec::new(),
                file_problem: (outcome == FileOutcome::AlreadyTaken).then_some(note),
                moved_to,
            });
        }

        let parsed = match FileKind::of(path) {
            None => Err("not a result file: the name must end in .csv, .txt, .jsonl or .ndjson".to_owned()),
            Some(kind) => parse(&bytes, kind, &self.config),
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(reason) => {
                let now = cardbench_store::time::now();
                let record = HotfolderFileRow { sha256: sha256.clone(), file_name: file_name.clone(), taken_at: now, rows_total: 0, rows_applied: 0, rows_refused: 0 };
                self.workflow.store().write(|tx| hotfolder_files::insert(tx, &record))?;
                let text = format!("{file_name}: refused as a whole, nothing applied: {reason}\n");
                let moved_to = self.move_aside(path, FAILED_DIR, Some(&text))?;
                tracing::warn!(file = %file_name, "result file refused as a whole");
                return Ok(FileReport { file_name, sha256, outcome: FileOutcome::Failed, rows_total: 0, rows_applied: 0, produced: 0, problems: Vec::new(), file_problem: Some(reason), moved_to });
            }
        };

        let mut problems = parsed.problems;
        let rows_total = parsed.rows.len() + problems.len();
        let batch: Vec<(String, Vec<ReadoutInput>)> = parsed.rows.iter().map(|r| (r.card_id.clone(), r.values.clone())).collect();
        let refused_before = problems.len();
        let started = Instant::now();
        let (results, rows_done) = self.workflow.apply_readout_batch(&self.operator, &batch, SOURCE, true, |tx, results| {
            let refused = refused_before + results.iter().filter(|r| r.is_err()).count();
            let record = HotfolderFileRow {
                sha256: sha256.clone(),
                file_name: file_name.clone(),
                taken_at: cardbench_store::time::now(),
                rows_total: i64::try_from(rows_total).unwrap_or(i64::MAX),
                rows_applied: i64::try_from(rows_total - refused).unwrap_or(i64::MAX),
                rows_refused: i64::try_from(refused).unwrap_or(i64::MAX),
            };
            hotfolder_files::insert(tx, &record)?;
            Ok(started.elapsed())
        })?;
        let committed = started.elapsed();
        let mut applied = 0;
        let mut produced = 0;
        for (row, result) in parsed.rows.iter().zip(results) {
            match result {
                Ok(outcome) => {
                    applied += 1;
                    if matches!(outcome, ApplyOutcome::Produced(_)) {
                        produced += 1;
                    }
                }
                Err(e) => problems.push(RowProblem { line: row.line, card_id: Some(row.card_id.clone()), reason: row_reason(&e) }),
            }
        }
        problems.sort_by_key(|p| p.line);

        let (outcome, dir, text) = if problems.is_empty() {
            (FileOutcome::Processed, PROCESSED_DIR, None)
        } else {
            let mut text = format!(
                "{file_name}: {applied} of {rows_total} row(s) applied; {} row(s) refused and NOT applied:\n",
                problems.len()
            );
            for p in &problems {
                let _ = writeln!(text, "line {}{}: {}", p.line, p.card_id.as_deref().map(|c| format!(" (card {c})")).unwrap_or_default(), p.reason);
            }
            (FileOutcome::Failed, FAILED_DIR, Some(text))
        };
        let moved_to = self.move_aside(path, dir, text.as_deref())?;
        tracing::info!(
            file = %file_name,
            rows = rows_total,
            applied,
            refused = problems.len(),
            apply_ms = rows_done.as_millis(),
            commit_ms = (committed - rows_done).as_millis(),
            "result file taken"
        );
        Ok(FileReport { file_name, sha256, outcome, rows_total, rows_applied: applied, produced, problems, file_problem: None, moved_to })
    }

    /// Moves `path` into `dir` under a free name; writes the reason file first, so a file in
    /// failed/ never lacks its reason.
    fn move_aside(&self, path: &Path, dir: &str, reason: Option<&str>) -> Result<PathBuf> {
        let target_dir = self.folder.join(dir);
        std::fs::create_dir_all(&target_dir).map_err(|e| DevicesError::io(&target_dir, e))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("unnamed");
        let mut target = target_dir.join(name);
        let mut n = 2;
        while target.exists() {
            target = target_dir.join(format!("{name}.{n}"));
            n += 1;
        }
        if let Some(text) = reason {
            let reason_path = PathBuf::from(format!("{}.reason.txt", target.display()));
            std::fs::write(&reason_path, text).map_err(|e| DevicesError::io(&reason_path, e))?;
        }
        std::fs::rename(path, &target).map_err(|e| DevicesError::io(path, e))?;
        Ok(target)
    }

    /// Watches the folder until `stop` is called: files already there and every new or changed
    /// file are taken once their size has settled. Blocks on file-system events (inotify) while
    /// nothing is pending; wakes every `settle_ms / 4` only while a file is settling.
    pub fn watch(self, events: mpsc::Sender<HotFolderEvent>) -> Result<WatchHandle> {
        let (tx, rx) = mpsc::channel::<Wake>();
        let fs_tx = tx.clone();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let _ = fs_tx.send(Wake::Fs(res));
        })
        .map_err(|e| DevicesError::Watch { path: self.folder.clone(), message: e.to_string() })?;
        notify::Watcher::watch(&mut watcher, &self.folder, notify::RecursiveMode::NonRecursive)
            .map_err(|e| DevicesError::Watch { path: self.folder.clone(), message: e.to_string() })?;
        let thread = std::thread::Builder::new()
            .name("cardbench-hotfolder".into())
            .spawn(move || {
                // Keep the watcher alive for as long as the loop runs.
                let _watcher = watcher;
                self.watch_loop(&rx, &events);
            })
            .map_err(|e| DevicesError::io(PathBuf::from("(thread)"), e))?;
        Ok(WatchHandle { wake: tx, thread: Some(thread) })
    }

    fn watch_loop(&self, rx: &mpsc::Receiver<Wake>, events: &mpsc::Sender<HotFolderEvent>) {
        let settle = Duration::from_millis(self.config.settle_ms);
        let mut pending: HashMap<PathBuf, Observation> = HashMap::new();
        // Files that arrived while we were stopped.
        match self.waiting() {
            Ok(files) => {
                for f in files {
                    pending.insert(f, Observation::unknown());
                }
            }
            Err(error) => {
                let _ = events.send(HotFolderEvent::Error { file: None, error });
            }
        }
        loop {
            let wake = if pending.is_empty() {
                rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected)
            } else {
                rx.recv_timeout(settle / 4)
            };
            match wake {
                Ok(Wake::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(Wake::Fs(Ok(event))) => {
                    for path in event.paths {
                        if self.is_candidate(&path) {
                            pending.entry(path).or_insert_with(Observation::unknown);
                        }
                    }
                }
                Ok(Wake::Fs(Err(e))) => {
                    let _ = events.send(HotFolderEvent::Error {
                        file: None,
                        error: DevicesError::Watch { path: self.folder.clone(), message: e.to_string() },
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let mut ready = Vec::new();
            pending.retain(|path, seen| {
                let Ok(meta) = std::fs::metadata(path) else {
                    return false; // gone (renamed away or deleted): nothing to take
                };
                let now = (meta.len(), meta.modified().ok());
                if seen.state != Some(now) {
                    *seen = Observation { state: Some(now), since: Instant::now() };
                    return true;
                }
                if seen.since.elapsed() >= settle {
                    ready.push(path.clone());
                    return false;
                }
                true
            });
            ready.sort();
            for path in ready {
                let event = match self.take(&path) {
                    Ok(report) => HotFolderEvent::Taken(report),
                    Err(error) => {
                        tracing::warn!(file = %path.display(), %error, "result file not taken");
                        HotFolderEvent::Error { file: Some(path), error }
                    }
                };
                if events.send(event).is_err() {
                    return; // nobody listens any more
                }
            }
        }
    }
}

fn row_reason(e: &WorkflowError) -> String {
    match e {
        WorkflowError::UnknownCard(id) => format!("unknown card {id}"),
        other => other.to_string(),
    }
}

enum Wake {
    Fs(notify::Result<notify::Event>),
    Stop,
}

struct Observation {
    state: Option<(u64, Option<SystemTime>)>,
    since: Instant,
}

impl Observation {
    fn unknown() -> Observation {
        Observation { state: None, since: Instant::now() }
    }
}

/// Stops the watch when dropped or on [`WatchHandle::stop`].
pub struct WatchHandle {
    wake: mpsc::Sender<Wake>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WatchHandle {
    /// Stops after the file being taken (if any) is done, and waits for that.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.wake.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
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
    fn temporary_names_are_not_taken() {
        for name in [".x.csv", "~lock.csv", "a.csv.tmp", "a.part", "a.csv.reason.txt", "a.swp"] {
            assert!(is_temporary_name(name), "{name}");
        }
        assert!(!is_temporary_name("results-0001.csv"));
    }
}
