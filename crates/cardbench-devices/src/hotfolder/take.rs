//! Taking one result file: check what it is without following links, move it into the private
//! `taking/` (so the writer's name is free again and nothing else can swap what we read), read
//! at most `max_file_bytes` of it through a descriptor opened with `O_NOFOLLOW | O_NONBLOCK`,
//! apply the rows, and move it to `processed/` or `failed/`. A file that changed while it was
//! read is not applied; one that changed after it was read goes to `failed/`, never to
//! `processed/`, so `processed/` only ever holds bytes that were applied.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read as _, Seek as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cardbench_store::hotfolder_files::{self, HotfolderFileRow};
use cardbench_workflow::{ApplyOutcome, ReadoutInput, WorkflowError};
use sha2::{Digest, Sha256};

use super::{FAILED_DIR, FileKind, FileOutcome, FileReport, HotFolder, PROCESSED_DIR, RowProblem, SOURCE, TAKING_DIR, parse};
use crate::error::{DevicesError, Result};

/// Reads of a file that keeps changing under us before it is left in `taking/` for later.
const READ_ATTEMPTS: usize = 3;

/// What a file was when it was read: a later look that differs means it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp { ino: meta.ino(), len: meta.len(), mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()) }
    }
}

impl HotFolder {
    /// Takes one complete file: validate, apply, record, move. The caller decides completeness
    /// (see [`HotFolder::watch`]). A file that is not ours to take (a link, a pipe, a device,
    /// another ending) is left where it is with [`DevicesError::LeftAlone`].
    pub fn take(&self, path: &Path) -> Result<FileReport> {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("unnamed").to_owned();
        let meta = std::fs::symlink_metadata(path).map_err(|e| DevicesError::io(path, e))?;
        let left_alone = |reason: String| DevicesError::LeftAlone { path: path.to_owned(), reason };
        if !meta.file_type().is_file() {
            return Err(left_alone(format!("not a regular file ({}); only files the encoder wrote are taken", kind_of(&meta))));
        }
        let in_taking = path.parent().is_some_and(|p| p == self.folder.join(TAKING_DIR));
        let Some(kind) = FileKind::of_configured(path, &self.config.extensions) else {
            if in_taking {
                // Ours already (the endings were changed since): it cannot go back.
                let reason = format!("{file_name}: not a result file under the configured endings; nothing applied\n");
                return self.refuse_whole(path, &file_name, String::new(), &reason);
            }
            return Err(left_alone(format!("not a result file: the name must end in .{}", self.config.extensions.join(", ."))));
        };
        if meta.len() > self.config.max_file_bytes {
            return self.refuse_too_big(path, &file_name, meta.len());
        }
        let path = if in_taking { path.to_owned() } else { self.move_into_taking(path, &file_name)? };
        self.take_from_taking(&path, &file_name, kind)
    }

    /// Renames `path` into `taking/` under its own name. A name still there from an earlier
    /// attempt is taken first (it is listed first by [`HotFolder::waiting`]); until then this
    /// one waits.
    fn move_into_taking(&self, path: &Path, file_name: &str) -> Result<PathBuf> {
        let target = self.taking_dir()?.join(file_name);
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(DevicesError::StillChanging { path: target });
        }
        std::fs::rename(path, &target).map_err(|e| DevicesError::io(path, e))?;
        Ok(target)
    }

    fn take_from_taking(&self, path: &Path, file_name: &str, kind: FileKind) -> Result<FileReport> {
        // O_NOFOLLOW: a link swapped in after the check is not followed. O_NONBLOCK: a pipe
        // swapped in does not hang the open. Both are then refused by the descriptor's type.
        let mut file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path) {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return self.refuse_whole(path, file_name, String::new(), &format!("{file_name}: a symbolic link; not followed, nothing applied\n"));
            }
            Err(e) => return Err(DevicesError::io(path, e)),
        };
        let meta = file.metadata().map_err(|e| DevicesError::io(path, e))?;
        if !meta.file_type().is_file() {
            let reason = format!("{file_name}: not a regular file ({}); not read, nothing applied\n", kind_of(&meta));
            return self.refuse_whole(path, file_name, String::new(), &reason);
        }
        let Some((bytes, stamp)) = self.read_stable(&mut file, path)? else {
            let len = file.metadata().map_or(self.config.max_file_bytes + 1, |m| m.len());
            return self.refuse_too_big(path, file_name, len);
        };
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let report = self.apply(path, file_name, kind, &bytes, sha256, |report| changed_since(&file, path, stamp, report))?;
        Ok(report)
    }

    /// The whole file, read when it did not change between the start and the end of the read;
    /// `None` when it is bigger than the cap (only the cap plus one byte is ever held).
    fn read_stable(&self, file: &mut File, path: &Path) -> Result<Option<(Vec<u8>, Stamp)>> {
        let cap = self.config.max_file_bytes;
        for attempt in 0..READ_ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(self.config.settle_ms));
            }
            let before = Stamp::of(&file.metadata().map_err(|e| DevicesError::io(path, e))?);
            file.rewind().map_err(|e| DevicesError::io(path, e))?;
            let mut bytes = Vec::with_capacity(usize::try_from(before.len.min(cap)).unwrap_or(0));
            (&mut *file).take(cap + 1).read_to_end(&mut bytes).map_err(|e| DevicesError::io(path, e))?;
            if bytes.len() as u64 > cap {
                return Ok(None);
            }
            let after = Stamp::of(&file.metadata().map_err(|e| DevicesError::io(path, e))?);
            if before == after && after.len == bytes.len() as u64 {
                return Ok(Some((bytes, after)));
            }
            tracing::info!(file = %path.display(), "result file changed while it was read; reading again");
        }
        Err(DevicesError::StillChanging { path: path.to_owned() })
    }

    /// Validates and applies `bytes` (read from `path`, in `taking/`), records the file and
    /// moves it. `changed` says, after the commit, whether the file on disk is no longer what was
    /// read (a note for the reason file), so it never lands in `processed/` with unapplied rows.
    fn apply(
        &self,
        path: &Path,
        file_name: &str,
        kind: FileKind,
        bytes: &[u8],
        sha256: String,
        changed: impl Fn(&str) -> Option<String>,
    ) -> Result<FileReport> {
        let file_name = file_name.to_owned();
        if let Some(seen) = self.workflow.store().read(|c| hotfolder_files::get(c, &sha256))? {
            // Same name: we crashed between the commit and the move; finish the move. Another
            // name: the machine wrote the same results again; keep it aside, apply nothing.
            let (outcome, dir) = if seen.file_name == file_name {
                (
                    if seen.rows_refused == 0 { FileOutcome::Processed } else { FileOutcome::Failed },
                    if seen.rows_refused == 0 { PROCESSED_DIR } else { FAILED_DIR },
                )
            } else {
                (FileOutcome::AlreadyTaken, FAILED_DIR)
            };
            let note = format!(
                "{file_name}: the same content was already taken at {} as {} ({} row(s) applied then); nothing was applied again.\n",
                seen.taken_at, seen.file_name, seen.rows_applied
            );
            let late = changed("");
            let (outcome, dir) = if late.is_some() { (FileOutcome::Failed, FAILED_DIR) } else { (outcome, dir) };
            let text = late.map_or(note.clone(), |l| format!("{note}{l}"));
            // A file that goes to failed/ always has its reason beside it.
            let moved_to = self.move_aside(path, dir, (dir == FAILED_DIR).then_some(text.as_str()))?;
            tracing::info!(file = %file_name, outcome = ?outcome, "result file seen before");
            return Ok(FileReport {
                file_name,
                sha256,
                outcome,
                rows_total: 0,
                rows_applied: 0,
                produced: 0,
                problems: Vec::new(),
                file_problem: (outcome != FileOutcome::Processed).then_some(text),
                moved_to,
            });
        }

        let parsed = match parse(bytes, kind, &self.config) {
            Ok(p) => p,
            Err(reason) => {
                let record = HotfolderFileRow {
                    sha256: sha256.clone(),
                    file_name: file_name.clone(),
                    taken_at: cardbench_store::time::now(),
                    rows_total: 0,
                    rows_applied: 0,
                    rows_refused: 0,
                };
                self.workflow.store().write(|tx| hotfolder_files::insert(tx, &record))?;
                let text = format!("{file_name}: refused as a whole, nothing applied: {reason}\n");
                let mut report = self.refuse_whole(path, &file_name, sha256, &text)?;
                report.file_problem = Some(reason);
                return Ok(report);
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

        let late = changed(&format!("{applied} of {rows_total} row(s) read were applied"));
        let (outcome, dir, text) = if problems.is_empty() && late.is_none() {
            (FileOutcome::Processed, PROCESSED_DIR, None)
        } else {
            let mut text = format!("{file_name}: {applied} of {rows_total} row(s) applied; {} row(s) refused and NOT applied:\n", problems.len());
            for p in &problems {
                let _ = writeln!(text, "line {}{}: {}", p.line, p.card_id.as_deref().map(|c| format!(" (card {c})")).unwrap_or_default(), p.reason);
            }
            if let Some(l) = &late {
                text.push_str(l);
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
        Ok(FileReport { file_name, sha256, outcome, rows_total, rows_applied: applied, produced, problems, file_problem: late, moved_to })
    }

    /// Moves a file refused unread (too big) to `failed/` with the reason: it is never read.
    fn refuse_too_big(&self, path: &Path, file_name: &str, len: u64) -> Result<FileReport> {
        let text = format!(
            "{file_name}: {len} bytes, more than the limit of {} (devices.hotfolder.max_file_bytes); not read, nothing applied\n",
            self.config.max_file_bytes
        );
        tracing::warn!(file = %file_name, bytes = len, "result file too big; not read");
        self.refuse_whole(path, file_name, String::new(), &text)
    }

    /// Moves `path` to `failed/` with `text` beside it; nothing was applied.
    fn refuse_whole(&self, path: &Path, file_name: &str, sha256: String, text: &str) -> Result<FileReport> {
        let moved_to = self.move_aside(path, FAILED_DIR, Some(text))?;
        tracing::warn!(file = %file_name, "result file refused as a whole");
        Ok(FileReport {
            file_name: file_name.to_owned(),
            sha256,
            outcome: FileOutcome::Failed,
            rows_total: 0,
            rows_applied: 0,
            produced: 0,
            problems: Vec::new(),
            file_problem: Some(text.trim_end().to_owned()),
            moved_to,
        })
    }

    /// Moves `path` into `dir` under a free name; writes the reason file first, so a file in
    /// failed/ never lacks its reason.
    fn move_aside(&self, path: &Path, dir: &str, reason: Option<&str>) -> Result<PathBuf> {
        let target_dir = self.folder.join(dir);
        std::fs::create_dir_all(&target_dir).map_err(|e| DevicesError::io(&target_dir, e))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("unnamed");
        let mut target = target_dir.join(name);
        let mut n = 2;
        while std::fs::symlink_metadata(&target).is_ok() {
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
}

/// A note for the reason file when the file at `path` is no longer what was read (written to
/// through a descriptor the writer kept open, or replaced): what was applied came from the
/// bytes read, the rest was not.
fn changed_since(file: &File, path: &Path, read: Stamp, applied: &str) -> Option<String> {
    let now_open = file.metadata().ok().map(|m| Stamp::of(&m));
    let now_named = std::fs::symlink_metadata(path).ok().map(|m| Stamp::of(&m));
    if now_open == Some(read) && now_named == Some(read) {
        return None;
    }
    let applied = if applied.is_empty() { String::new() } else { format!(" {applied};") };
    Some(format!(
        "the file changed after its first {} bytes were read:{applied} anything written after that was NOT applied. Write the missing rows in a new file.\n",
        read.len
    ))
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

fn row_reason(e: &WorkflowError) -> String {
    match e {
        WorkflowError::UnknownCard(id) => format!("unknown card {id}"),
        other => other.to_string(),
    }
}
