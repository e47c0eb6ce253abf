//! `cardbench purge --dry-run|--now`: the retention purge the daemon runs daily, run once now,
//! or only reported. The rule is the workflow's; the directories come from the config.

use clap::{ArgGroup, Args};

use crate::context::Context;
use crate::output;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("mode").required(true).args(["dry_run", "now"])))]
pub struct PurgeArgs {
    /// List what a purge now would take, per kind; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Purge now.
    #[arg(long)]
    pub now: bool,
}

pub fn purge(ctx: &Context, args: &PurgeArgs) -> anyhow::Result<()> {
    let workflow = ctx.workflow()?;
    let report = cardbench_runtime::retention::purge(
        &workflow,
        &ctx.config,
        &ctx.data_dir,
        chrono::Utc::now(),
        args.dry_run,
    )?;
    if ctx.json {
        return output::json(&report);
    }
    let c = &report.counts;
    let verb = if report.dry_run {
        "would purge"
    } else {
        "purged"
    };
    crate::say!(
        "{verb}: cardholder data of cards shipped (SHIPPED_OK) before {} ({} days kept)",
        report.cutoff,
        report.retention_days
    );
    let rows = [
        ("cards", c.cards),
        ("received bodies of those cards", c.inbox_bodies),
        ("sent bodies of those cards", c.outbox_bodies),
        ("readouts", c.readouts),
        ("received messages naming no card", c.messages_without_card),
        ("hot-folder result files", c.hot_folder_files),
        ("job exports", c.job_exports),
        ("packing slips", c.slips),
        (
            "files kept with purged cards' lines removed",
            c.files_rewritten,
        ),
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(what, n)| vec![(*what).to_owned(), n.to_string()])
        .collect();
    output::table(&["KIND", "COUNT"], &table);
    if c.files_too_large > 0 {
        crate::say!(
            "{} file(s) too large to read were left in place",
            c.files_too_large
        );
    }
    if report.dry_run {
        for card in &report.card_ids {
            crate::say!("card {card}");
        }
        for file in &report.files {
            crate::say!("file {}", file.display());
        }
        for file in &report.rewritten {
            crate::say!("lines of {}", file.display());
        }
    } else if !report.log_truncated {
        crate::say!(
            "note: another process held the database log; the next purge finishes emptying it"
        );
    }
    Ok(())
}
