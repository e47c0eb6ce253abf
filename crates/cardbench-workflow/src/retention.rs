//! Retention: cardholder data is kept until NGOC confirmed the card shipped (SHIPPED_OK) plus the
//! configured days (`workstation.retention_days`), then purged. This is the one place that says
//! which cards are past retention; the daemon's daily run and `cardbench purge` both call
//! [`Workflow::purge`].
//!
//! What goes: the holder column, every cardholder value of the card's request JSON, of every
//! received body naming the card (request, duplicates, conflicts) and of every body we queued
//! for it (CARD_PRODUCED readouts and external report data), the card's readout values, and the
//! files outside the database that name only purged cards (hot-folder result files in
//! `processed/` and `failed/`, job exports, packing slips). What a body loses is decided by
//! [`crate::cardholder`], the same walk that masks bodies on screen.
//!
//! What stays: every row, with its ids, statuses, times, counts (accessory quantities, readout
//! field names) and the audit trail, so billing, the manifest and the card's history still add
//! up. Each purged value is replaced by a tombstone (`<purged after retention 2027-…>`) and the
//! row gets `purged_at`; an audit row per card says what was purged. Received messages naming no
//! card we hold (rejected, ignored) are purged by age alone: received before the cut-off.
//!
//! The store runs with `secure_delete`, so rewritten values are zeroed in the file; after a
//! purge the write-ahead log is checkpointed and truncated, so no older page copy stays there.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cardbench_store::audit::{self, NewAudit};
use cardbench_store::{Connection, cards, readouts, retention as rows};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Workflow;
use crate::cardholder::{self, Hide};
use crate::error::{Result, WorkflowError};

/// Audit action of a card's purge.
pub const PURGED: &str = "cardholder_data_purged";
/// Audit action of the purge of received messages naming no card, and of files.
pub const PURGED_UNLINKED: &str = "cardholder_data_purged_unlinked";
/// The audit operator of a purge: the retention rule, no person.
pub const PURGED_BY: &str = "retention";
const TOMBSTONE_PREFIX: &str = "<purged after retention";
/// Cards purged per transaction: the write lock is held for one batch only, so ingest and the
/// operator's clicks wait for a few milliseconds at most.
const BATCH: u32 = 100;
/// Files larger than this are left alone (and counted): no result file, job or slip is this big.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What replaces a purged value.
pub fn tombstone(at: &str) -> String {
    format!("{TOMBSTONE_PREFIX} {at}>")
}

/// Whether a stored value is a purge tombstone.
pub fn is_tombstone(value: &str) -> bool {
    value.starts_with(TOMBSTONE_PREFIX)
}

/// The cut-off: cards answered by SHIPPED_OK before it are past retention.
pub fn cutoff(now: DateTime<Utc>, days: u32) -> String {
    cardbench_store::time::format(now - chrono::Duration::days(i64::from(days)))
}

/// A kind of file outside the database that may hold cardholder data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// An encoder result file in the hot folder's `processed/` or `failed/` (with its reason file).
    HotFolderResult,
    /// A job file written for the personalization machine.
    JobExport,
    /// A packing slip PDF (`slip_<shipment>_<parcel>.pdf`): holder names and addresses.
    Slip,
}

/// A directory holding files of one kind (not searched below itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileArea {
    pub kind: FileKind,
    pub dir: PathBuf,
}

/// How much a purge took (or, dry, would take), per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeCounts {
    pub cards: usize,
    /// Received bodies of those cards that held cardholder data.
    pub inbox_bodies: usize,
    /// Bodies we queued for those cards that held some (CARD_PRODUCED readouts and secrets).
    pub outbox_bodies: usize,
    pub readouts: usize,
    /// Received messages naming no card we hold, purged by age.
    pub messages_without_card: usize,
    pub hot_folder_files: usize,
    pub job_exports: usize,
    pub slips: usize,
    /// Text files naming kept and purged cards both (a job of several cards): the lines of the
    /// purged ones removed, the file kept.
    pub files_rewritten: usize,
    /// Files bigger than the cap, left in place.
    pub files_too_large: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    /// Nothing was changed: what a purge now would take.
    pub dry_run: bool,
    pub at: String,
    pub retention_days: u32,
    pub cutoff: String,
    pub counts: PurgeCounts,
    /// The cards purged (or to purge).
    pub card_ids: Vec<String>,
    /// The files removed (or to remove).
    pub files: Vec<PathBuf>,
    /// The files whose purged cards' lines were removed (or are to be).
    pub rewritten: Vec<PathBuf>,
    /// Whether the write-ahead log was emptied afterwards (false when a reader held it; the next
    /// run finishes it). Always false in a dry run.
    pub log_truncated: bool,
}

/// One card's purge, worked out before anything is written.
struct CardPlan {
    card_id: String,
    shipment_id: String,
    shipped_ok_at: Option<String>,
    request_json: String,
    /// Received rows: the new body, or None when the row held nothing to purge.
    inbox: Vec<(i64, Option<Vec<u8>>)>,
    outbox: Vec<(i64, Option<String>)>,
    readouts: usize,
}

impl CardPlan {
    fn count_into(&self, counts: &mut PurgeCounts) {
        counts.cards += 1;
        counts.inbox_bodies += self.inbox.iter().filter(|(_, b)| b.is_some()).count();
        counts.outbox_bodies += self.outbox.iter().filter(|(_, b)| b.is_some()).count();
        counts.readouts += self.readouts;
    }
}

/// A received body with its cardholder values replaced by `tombstone`; None when it held none.
/// A body that is not a JSON object may hold anything: it is replaced whole.
fn purged_inbox_body(body: &[u8], tombstone: &str) -> Option<Vec<u8>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value @ Value::Object(_)) => {
            let n = cardholder::hide(&mut value, &Hide::Purge { tombstone });
            (n > 0).then(|| {
                serde_json::to_vec(&value).unwrap_or_else(|_| tombstone.as_bytes().to_vec())
            })
        }
        _ if body == tombstone.as_bytes() => None,
        _ => Some(tombstone.as_bytes().to_vec()),
    }
}

fn purged_outbox_body(body: &str, tombstone: &str) -> Option<String> {
    purged_inbox_body(body.as_bytes(), tombstone).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn plan_card(conn: &Connection, card_id: &str, tombstone: &str) -> Result<Option<CardPlan>> {
    let Some(card) = cards::get(conn, card_id)? else {
        return Ok(None);
    };
    let mut request =
        serde_json::to_value(&card.request).map_err(|source| WorkflowError::Encode {
            what: "the request before its purge",
            source,
        })?;
    cardholder::hide(&mut request, &Hide::Purge { tombstone });
    let request_json = serde_json::to_string(&request).map_err(|source| WorkflowError::Encode {
        what: "the purged request",
        source,
    })?;
    let inbox = rows::inbox_of_card(conn, card_id)?
        .into_iter()
        .map(|(id, body)| (id, purged_inbox_body(&body, tombstone)))
        .collect();
    let outbox = rows::outbox_of_card(conn, card_id)?
        .into_iter()
        .map(|(id, body)| (id, purged_outbox_body(&body, tombstone)))
        .collect();
    let readouts = readouts::for_card(conn, card_id)?
        .iter()
        .filter(|r| !is_tombstone(&r.value))
        .count();
    Ok(Some(CardPlan {
        card_id: card.card_id,
        shipment_id: card.shipment_id,
        shipped_ok_at: card.shipped_ok_at,
        request_json,
        inbox,
        outbox,
        readouts,
    }))
}

fn apply_card(conn: &Connection, plan: &CardPlan, tombstone: &str, now: &str) -> Result<()> {
    for (id, body) in &plan.inbox {
        rows::purge_inbox(conn, *id, body.as_deref(), now)?;
    }
    for (id, body) in &plan.outbox {
        rows::purge_outbox(conn, *id, body.as_deref(), now)?;
    }
    rows::purge_readouts(conn, &plan.card_id, tombstone)?;
    rows::purge_card(conn, &plan.card_id, &plan.request_json, now)?;
    audit::record(
        conn,
        &NewAudit {
            at: now,
            operator: PURGED_BY,
            action: PURGED,
            card_id: Some(&plan.card_id),
            shipment_id: Some(&plan.shipment_id),
            details: Some(&serde_json::json!({
                "shippedOkAt": plan.shipped_ok_at,
                "replacedBy": tombstone,
                "where": ["cards.holder", "cards.request_json", "inbox bodies", "outbox bodies", "readouts"],
                "inboxIds": plan.inbox.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                "outboxIds": plan.outbox.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                "readouts": plan.readouts,
            })),
        },
    )?;
    Ok(())
}

impl Workflow {
    /// Purges the cardholder data of every card answered by SHIPPED_OK more than `days` days
    /// before `now`, of received messages naming no card received before then, and of the files
    /// in `areas` that name only purged cards and are older than that. With `dry_run`, changes
    /// nothing and reports what it would take.
    pub fn purge(
        &self,
        now: DateTime<Utc>,
        days: u32,
        areas: &[FileArea],
        dry_run: bool,
    ) -> Result<PurgeReport> {
        let at = cardbench_store::time::format(now);
        let cutoff = cutoff(now, days);
        let tombstone = tombstone(&at);
        let mut report = PurgeReport {
            dry_run,
            at: at.clone(),
            retention_days: days,
            cutoff: cutoff.clone(),
            counts: PurgeCounts::default(),
            card_ids: Vec::new(),
            files: Vec::new(),
            rewritten: Vec::new(),
            log_truncated: false,
        };
        if dry_run {
            self.store().read(|conn| {
                for card_id in rows::cards_shipped_ok_before(conn, &cutoff, u32::MAX)? {
                    if let Some(plan) = plan_card(conn, &card_id, &tombstone)? {
                        plan.count_into(&mut report.counts);
                        report.card_ids.push(plan.card_id);
                    }
                }
                report.counts.messages_without_card =
                    rows::inbox_without_card_before(conn, &cutoff, u32::MAX)?.len();
                Ok::<_, WorkflowError>(())
            })?;
        } else {
            loop {
                let taken = self.store().write(|tx| {
                    let ids = rows::cards_shipped_ok_before(tx, &cutoff, BATCH)?;
                    for card_id in &ids {
                        if let Some(plan) = plan_card(tx, card_id, &tombstone)? {
                            apply_card(tx, &plan, &tombstone, &at)?;
                            plan.count_into(&mut report.counts);
                            report.card_ids.push(plan.card_id);
                        }
                    }
                    Ok::<_, WorkflowError>(ids.len())
                })?;
                if taken < BATCH as usize {
                    break;
                }
            }
            loop {
                let taken = self
                    .store()
                    .write(|tx| purge_unlinked_messages(tx, &cutoff, &tombstone, &at))?;
                report.counts.messages_without_card += taken;
                if taken < BATCH as usize {
                    break;
                }
            }
        }
        let planned: HashSet<&str> = if dry_run {
            report.card_ids.iter().map(String::as_str).collect()
        } else {
            HashSet::new()
        };
        let files = self
            .store()
            .read(|conn| old_files(conn, areas, &cutoff, &planned))?;
        for (verdict, path) in files {
            match verdict {
                FileVerdict::TooLarge => report.counts.files_too_large += 1,
                FileVerdict::Rewrite(keep) => {
                    if !dry_run {
                        overwrite_file(&path, &keep)?;
                    }
                    report.counts.files_rewritten += 1;
                    report.rewritten.push(path);
                }
                FileVerdict::Remove(kind) => {
                    if !dry_run {
                        remove_file(&path)?;
                    }
                    match kind {
                        FileKind::HotFolderResult => report.counts.hot_folder_files += 1,
                        FileKind::JobExport => report.counts.job_exports += 1,
                        FileKind::Slip => report.counts.slips += 1,
                    }
                    report.files.push(path);
                }
            }
        }
        if !dry_run {
            if !report.files.is_empty() || !report.rewritten.is_empty() {
                self.store().write(|tx| {
                    audit::record(
                        tx,
                        &NewAudit {
                            at: &at,
                            operator: PURGED_BY,
                            action: PURGED_UNLINKED,
                            card_id: None,
                            shipment_id: None,
                            details: Some(&serde_json::json!({ "files": report.files, "rewritten": report.rewritten, "cutoff": cutoff })),
                        },
                    )?;
                    Ok::<_, WorkflowError>(())
                })?;
            }
            report.log_truncated = self.truncate_log()?;
            tracing::info!(
                cards = report.counts.cards,
                messages_without_card = report.counts.messages_without_card,
                files = report.files.len(),
                log_truncated = report.log_truncated,
                "retention purge done"
            );
        }
        Ok(report)
    }

    /// Empties the write-ahead log, waiting a little for readers of an older snapshot.
    fn truncate_log(&self) -> Result<bool> {
        for _ in 0..20 {
            if self.store().checkpoint_truncate()? {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(false)
    }
}

/// One batch of received messages naming no card, before `cutoff`: bodies purged, one audit row.
fn purge_unlinked_messages(
    conn: &Connection,
    cutoff: &str,
    tombstone: &str,
    at: &str,
) -> Result<usize> {
    let batch = rows::inbox_without_card_before(conn, cutoff, BATCH)?;
    let mut ids = Vec::with_capacity(batch.len());
    for (id, body) in &batch {
        rows::purge_inbox(conn, *id, purged_inbox_body(body, tombstone).as_deref(), at)?;
        ids.push(*id);
    }
    if !ids.is_empty() {
        audit::record(
            conn,
            &NewAudit {
                at,
                operator: PURGED_BY,
                action: PURGED_UNLINKED,
                card_id: None,
                shipment_id: None,
                details: Some(
                    &serde_json::json!({ "inboxIds": ids, "replacedBy": tombstone, "cutoff": cutoff }),
                ),
            },
        )?;
    }
    Ok(batch.len())
}

/// What becomes of one old file.
enum FileVerdict {
    Remove(FileKind),
    /// Keep the file with only these bytes (the lines naming purged cards removed).
    Rewrite(Vec<u8>),
    TooLarge,
}

/// The files of `areas` older than `cutoff` that hold data of purged cards (cards in `purging`
/// count as purged): removed when they name no card whose data is kept, else (text files) the
/// purged cards' lines removed. A slip is one parcel's: removed once all its cards are purged.
fn old_files(
    conn: &Connection,
    areas: &[FileArea],
    cutoff: &str,
    purging: &HashSet<&str>,
) -> Result<Vec<(FileVerdict, PathBuf)>> {
    let cutoff_time = cardbench_store::time::parse(cutoff).map(SystemTime::from);
    let Some(cutoff_time) = cutoff_time else {
        return Ok(Vec::new());
    };
    // Some(true): data kept; Some(false): purged or being purged; None: no such card.
    let kept = |card_id: &str| -> Result<Option<bool>> {
        if purging.contains(card_id) {
            return Ok(Some(false));
        }
        Ok(rows::card_kept(conn, card_id)?)
    };
    let mut out = Vec::new();
    for area in areas {
        let entries = match std::fs::read_dir(&area.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(file_error("cannot list", &area.dir, source)),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            // Never follow a link or open a device: only regular files of the area itself.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if !meta.file_type().is_file() || meta.modified().map_or(true, |m| m >= cutoff_time) {
                continue;
            }
            if meta.len() > MAX_FILE_BYTES {
                out.push((FileVerdict::TooLarge, path));
                continue;
            }
            if let (FileKind::Slip, Some(parcel)) = (area.kind, slip_parcel(&path)) {
                let cards = rows::parcel_card_ids(conn, parcel)?.unwrap_or_default();
                let mut any_kept = false;
                for card_id in &cards {
                    any_kept |= kept(card_id)? == Some(true);
                }
                if !any_kept {
                    out.push((FileVerdict::Remove(area.kind), path));
                }
                continue;
            }
            let bytes =
                std::fs::read(&path).map_err(|source| file_error("cannot read", &path, source))?;
            let text = String::from_utf8_lossy(&bytes);
            let (mut any_kept, mut any_purged) = (false, false);
            let mut lines_kept = Vec::with_capacity(bytes.len());
            for line in text.split_inclusive('\n') {
                let mut line_purged = false;
                for word in words(line) {
                    match kept(word)? {
                        Some(true) => any_kept = true,
                        Some(false) => line_purged = true,
                        None => {}
                    }
                }
                any_purged |= line_purged;
                if !line_purged {
                    lines_kept.extend_from_slice(line.as_bytes());
                }
            }
            if !any_kept {
                // Naming purged cards only, or no card we hold at all (and old): it goes.
                out.push((FileVerdict::Remove(area.kind), path));
            } else if any_purged {
                out.push((FileVerdict::Rewrite(lines_kept), path));
            }
        }
    }
    Ok(out)
}

/// The parcel of `slip_<shipment>_<parcel>.pdf`.
fn slip_parcel(path: &Path) -> Option<i64> {
    let stem = path
        .file_name()?
        .to_str()?
        .strip_suffix(".pdf")?
        .strip_prefix("slip_")?;
    stem.rsplit('_').next()?.parse().ok()
}

/// Every word of a line that could be a cardId (CSV cells, JSON strings): the caller looks them
/// up. Reading a file for ids, not parsing it: a failed result file may be malformed.
fn words(line: &str) -> HashSet<&str> {
    line.split(|c: char| c.is_whitespace() || ",;\"'{}[]|=<>()".contains(c))
        .map(|w| w.trim_start_matches('\u{feff}'))
        .filter(|w| !w.is_empty() && w.len() <= 128)
        .collect()
}

/// Rewrites a file in place with `keep`, zeroing what followed before cutting it short, so the
/// removed lines are not left in the file's old blocks.
fn overwrite_file(path: &Path, keep: &[u8]) -> Result<()> {
    use std::io::{Seek as _, Write as _};
    let write = || -> std::io::Result<()> {
        let len = std::fs::symlink_metadata(path)?.len();
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.seek(std::io::SeekFrom::Start(0))?;
        file.write_all(keep)?;
        write_zeros(&mut file, len.saturating_sub(keep.len() as u64))?;
        file.sync_data()?;
        file.set_len(keep.len() as u64)?;
        file.sync_all()
    };
    write().map_err(|source| file_error("cannot rewrite", path, source))
}

/// Overwrites a file with zeros, then removes it: on a plain file system its blocks no longer
/// hold the data once freed. (Copy-on-write and flash storage may keep old blocks: the data
/// directory's disk encryption is the answer there, see docs.)
fn remove_file(path: &Path) -> Result<()> {
    let zero = || -> std::io::Result<()> {
        let len = std::fs::symlink_metadata(path)?.len();
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        write_zeros(&mut file, len)?;
        file.sync_data()
    };
    zero().map_err(|source| file_error("cannot overwrite", path, source))?;
    std::fs::remove_file(path).map_err(|source| file_error("cannot remove", path, source))
}

/// Writes `len` zero bytes at the file's position, a block at a time.
fn write_zeros(file: &mut std::fs::File, len: u64) -> std::io::Result<()> {
    use std::io::Write as _;
    let block = [0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n])?;
        left -= n as u64;
    }
    Ok(())
}

fn file_error(action: &'static str, path: &Path, source: std::io::Error) -> WorkflowError {
    WorkflowError::File {
        action,
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_are_known_by_their_parcel() {
        assert_eq!(slip_parcel(Path::new("/d/slip_S-1_42.pdf")), Some(42));
        assert_eq!(
            slip_parcel(Path::new("/d/slip_S_with_underscores_7.pdf")),
            Some(7)
        );
        assert_eq!(slip_parcel(Path::new("/d/manifest_x.pdf")), None);
    }

    #[test]
    fn a_body_that_is_not_json_is_replaced_whole_and_only_once() {
        let t = tombstone("2027-01-01T00:00:00.000Z");
        assert_eq!(
            purged_inbox_body(b"Jane Doe", &t),
            Some(t.as_bytes().to_vec())
        );
        assert_eq!(purged_inbox_body(t.as_bytes(), &t), None);
        assert_eq!(
            purged_inbox_body(br#"{"cardId":"C-1"}"#, &t),
            None,
            "nothing to purge: the body stays"
        );
    }
}
