//! `cardbench reader list|watch`, `cardbench hotfolder watch`, `cardbench export-job`: readouts
//! from real devices (cardbench-devices), configured in the config file's `[devices]` section.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cardbench_devices::hotfolder::{FileOutcome, HotFolder, HotFolderEvent};
use cardbench_devices::reader::{self, ReaderEvent, ReaderWatch};
use cardbench_store::cards;
use cardbench_workflow::{ApplyOutcome, lifecycle};
use clap::{Args, Subcommand};

use crate::context::Context;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum ReaderCommand {
    /// The PC/SC readers connected now, and whether a card is on each.
    List,
    /// Follow readers and cards; read each card put on a reader (UID, ATR) and, with --card or
    /// --sequence, apply it and produce the card when nothing is missing. Ctrl-C stops.
    Watch(ReaderWatchArgs),
}

#[derive(Debug, Args)]
pub struct ReaderWatchArgs {
    /// Apply the first read to this card (then continue with --sequence, if given).
    #[arg(long)]
    pub card: Option<String>,
    /// Apply each read to the next card of the production sequence (oldest waiting first).
    #[arg(long)]
    pub sequence: bool,
    /// Stop after this many seconds (for scripts and tests).
    #[arg(long)]
    pub for_seconds: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum HotfolderCommand {
    /// Take result files from the configured hot folder (files waiting first, then new ones)
    /// until Ctrl-C.
    Watch(HotfolderWatchArgs),
}

#[derive(Debug, Args)]
pub struct HotfolderWatchArgs {
    /// The folder (default: `devices.hotfolder.folder` in the config file).
    #[arg(long)]
    pub folder: Option<PathBuf>,
    /// Take the files waiting now and stop (they must be complete).
    #[arg(long)]
    pub once: bool,
    #[arg(long)]
    pub for_seconds: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ExportJobArgs {
    /// Every card of this shipment still to be produced.
    #[arg(long)]
    pub shipment: Option<String>,
    /// A card; repeatable.
    #[arg(long = "card")]
    pub cards: Vec<String>,
    /// Every card still to be produced (received, readouts captured, or to be made again after
    /// NGOC's ERROR), oldest first, at most --limit.
    #[arg(long)]
    pub waiting: bool,
    #[arg(long, default_value_t = 500)]
    pub limit: u32,
    /// Where (default: `devices.export.folder`).
    #[arg(long)]
    pub folder: Option<PathBuf>,
    /// Job name in the file name (default: the shipment, or "batch").
    #[arg(long)]
    pub name: Option<String>,
    /// Start the file with a UTF-8 BOM (default: `devices.export.bom`).
    #[arg(long)]
    pub bom: bool,
}

/// A workflow refusal inside a device error keeps its own exit code (3 refused, 4 not found).
fn lift(error: cardbench_devices::DevicesError) -> anyhow::Error {
    match error {
        cardbench_devices::DevicesError::Workflow(e) => e.into(),
        other => other.into(),
    }
}

fn filter(ctx: &Context) -> Option<String> {
    ctx.config.devices.reader.name_filter.clone()
}

pub fn reader(ctx: &Context, command: ReaderCommand) -> anyhow::Result<()> {
    match command {
        ReaderCommand::List => {
            let readers = reader::list_readers(filter(ctx).as_deref())?;
            if ctx.json {
                return output::json(&readers);
            }
            if readers.is_empty() {
                crate::say!("no reader connected");
                return Ok(());
            }
            let rows: Vec<Vec<String>> =
                readers.iter().map(|r| vec![r.name.clone(), if r.card_present { "card present" } else { "empty" }.into()]).collect();
            output::table(&["READER", "STATE"], &rows);
            Ok(())
        }
        ReaderCommand::Watch(args) => reader_watch(ctx, &args),
    }
}

fn reader_watch(ctx: &Context, args: &ReaderWatchArgs) -> anyhow::Result<()> {
    let applying = args.card.is_some() || args.sequence;
    let workflow = if applying { Some(ctx.workflow()?) } else { None };
    let operator = if applying { Some(ctx.operator()?.to_owned()) } else { None };
    let (tx, rx) = mpsc::channel();
    let watch = ReaderWatch::start(filter(ctx), tx)?;
    let deadline = args.for_seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut selected = args.card.clone();
    crate::say!("watching readers{}", if applying { " (reads are applied)" } else { " (reads are shown, not applied)" });
    loop {
        let wait = deadline.map_or(Duration::from_secs(3600), |d| d.saturating_duration_since(Instant::now()));
        if wait.is_zero() {
            break;
        }
        let event = match rx.recv_timeout(wait) {
            Ok(e) => e,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match event {
            ReaderEvent::Attached { reader } => crate::say!("reader attached: {reader}"),
            ReaderEvent::Detached { reader } => crate::say!("reader unplugged: {reader}"),
            ReaderEvent::CardRemoved { reader } => crate::say!("card removed from {reader}"),
            ReaderEvent::ServiceLost(error) => crate::say!("{error} (retrying)"),
            ReaderEvent::ReadFailed { error, .. } => crate::say!("not read: {error}"),
            ReaderEvent::CardRead(chip) => {
                crate::say!("card on {}: UID {} ATR {}", chip.reader, chip.uid, chip.atr);
                let (Some(workflow), Some(operator)) = (&workflow, &operator) else { continue };
                let target = if args.sequence { selected.take() } else { selected.clone() };
                match reader::apply_chip(workflow, operator, target.as_deref(), &chip) {
                    // Shown and carried on: one wrong chip must not end the session.
                    Ok(ApplyOutcome::Produced(p)) => {
                        crate::say!("  {}: produced, CARD_PRODUCED queued ({})", p.card_id, p.message_id);
                        if !args.sequence {
                            break;
                        }
                    }
                    Ok(ApplyOutcome::Saved { card_id, missing, .. }) => {
                        crate::say!("  {card_id}: saved; still missing {}", missing.join(", "));
                    }
                    Err(error) => {
                        crate::say!("  refused: {error}");
                        // Keep the card in hand: the operator puts the right chip on next.
                        if args.sequence && target.is_some() {
                            selected = target;
                        }
                    }
                }
            }
        }
    }
    watch.stop();
    Ok(())
}

pub fn hotfolder(ctx: &Context, command: HotfolderCommand) -> anyhow::Result<()> {
    let HotfolderCommand::Watch(args) = command;
    let config = ctx.config.devices.hotfolder.clone();
    let folder = args
        .folder
        .clone()
        .or_else(|| config.folder.clone())
        .context("no hot folder: pass --folder DIR or set devices.hotfolder.folder in the config file")?;
    let own = ctx.config.own_directories(Some(&ctx.config_path));
    let hot = HotFolder::guarded(ctx.workflow()?, ctx.operator()?, &folder, config, own).map_err(lift)?;
    if args.once {
        let mut failed = 0;
        for path in hot.waiting()? {
            let report = hot.take(&path)?;
            failed += usize::from(report.outcome != FileOutcome::Processed);
            print_report(ctx, &report)?;
        }
        anyhow::ensure!(failed == 0, "{failed} file(s) went to failed/ (see the reason files)");
        return Ok(());
    }
    let (tx, rx) = mpsc::channel();
    let watch = hot.watch(tx)?;
    crate::say!("watching {}", folder.display());
    let deadline = args.for_seconds.map(|s| Instant::now() + Duration::from_secs(s));
    loop {
        let wait = deadline.map_or(Duration::from_secs(3600), |d| d.saturating_duration_since(Instant::now()));
        if wait.is_zero() {
            break;
        }
        match rx.recv_timeout(wait) {
            Ok(HotFolderEvent::Taken(report)) => print_report(ctx, &report)?,
            Ok(HotFolderEvent::Error { file, error }) => {
                crate::say!("{}: {error}", file.map_or_else(|| folder.display().to_string(), |f| f.display().to_string()));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    watch.stop();
    Ok(())
}

fn print_report(ctx: &Context, report: &cardbench_devices::FileReport) -> anyhow::Result<()> {
    if ctx.json {
        crate::say!("{}", serde_json::to_string(report)?);
        return Ok(());
    }
    crate::say!(
        "{}: {:?}: {} of {} row(s) applied, {} produced → {}",
        report.file_name,
        report.outcome,
        report.rows_applied,
        report.rows_total,
        report.produced,
        report.moved_to.display()
    );
    if let Some(p) = &report.file_problem {
        crate::say!("  {p}");
    }
    for p in &report.problems {
        crate::say!("  line {}: {}", p.line, p.reason);
    }
    Ok(())
}

pub fn export_job(ctx: &Context, args: &ExportJobArgs) -> anyhow::Result<()> {
    let mut config = ctx.config.devices.export.clone();
    config.bom |= args.bom;
    let folder = args
        .folder
        .clone()
        .or_else(|| config.folder.clone())
        .context("no job folder: pass --folder DIR or set devices.export.folder in the config file")?;
    let store = ctx.store()?;
    let mut card_ids = args.cards.clone();
    if let Some(shipment) = &args.shipment {
        let in_shipment = store.read(|c| cards::in_shipment(c, shipment))?;
        anyhow::ensure!(!in_shipment.is_empty(), crate::exit::NotFound(format!("no cards in shipment {shipment}")));
        card_ids.extend(in_shipment.into_iter().filter(|c| lifecycle::may_produce(c.status)).map(|c| c.card_id));
    }
    if args.waiting {
        let filter = lifecycle::producible(args.limit);
        card_ids.extend(store.read(|c| cards::worklist(c, &filter))?.rows.into_iter().map(|r| r.card_id));
    }
    anyhow::ensure!(!card_ids.is_empty(), "no cards to export: give --shipment, --card or --waiting (only cards still to be produced are taken)");
    let name = args.name.clone().or_else(|| args.shipment.clone()).unwrap_or_else(|| "batch".into());
    let job = store.read(|c| cardbench_devices::export::export_job(c, &card_ids, &config, &folder, &name)).map_err(lift)?;
    if ctx.json {
        return output::json(&job);
    }
    crate::say!("{} card(s) → {}", job.cards, job.path.display());
    Ok(())
}
