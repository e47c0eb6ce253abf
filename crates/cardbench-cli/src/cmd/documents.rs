//! `cardbench slip|manifest|billing|shift-report`: documents from the store.

use std::path::Path;

use anyhow::Context as _;
use cardbench_documents::api::{self, SlipTarget};

use crate::cli::PeriodArgs;
use crate::context::Context;

/// `--from DAY --to DAY`: both days included, by the rule the app's period documents follow
/// ([`cardbench_workflow::Period`]).
fn period(p: &PeriodArgs) -> anyhow::Result<(String, String)> {
    let period = cardbench_workflow::Period::days(&p.from, &p.to).context("--from and --to are days, --from not after --to")?;
    Ok((period.start(), period.end()))
}

fn written(paths: &[impl AsRef<Path>]) {
    for p in paths {
        crate::say!("wrote {}", p.as_ref().display());
    }
}

pub fn slip(ctx: &Context, target: &str, out: &Path, print: bool) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let target = SlipTarget::parse(&store, target)?;
    let files = api::slip(&store, &target, &ctx.config.documents.slip, out)?;
    written(&files);
    if print {
        let printer = ctx.config.documents.print.printer.as_deref().context("no printer configured ([documents.print] printer)")?;
        for f in &files {
            cardbench_documents::print::send_to_printer(printer, f)?;
            crate::say!("sent {} to {printer}", f.display());
        }
    }
    Ok(())
}

pub fn manifest(ctx: &Context, p: &PeriodArgs) -> anyhow::Result<()> {
    let (from, to) = period(p)?;
    cardbench_store::private_files::create_dir_all(&p.out)?;
    let files = api::manifest(&*ctx.store()?, &from, &to, &ctx.config.documents.slip.sender_name, &p.out)?;
    written(&files);
    Ok(())
}

pub fn billing(ctx: &Context, p: &PeriodArgs) -> anyhow::Result<()> {
    let (from, to) = period(p)?;
    cardbench_store::private_files::create_dir_all(&p.out)?;
    let files = api::billing(&*ctx.store()?, &from, &to, &ctx.config.documents.billing, &p.out)?;
    for f in &files {
        crate::say!(
            "wrote {} ({}, cost centre {}, invoice {}, {} line(s))",
            f.path.display(),
            f.organisation_id,
            f.cost_centre,
            f.invoice_number,
            f.lines.len()
        );
    }
    let without: Vec<&str> = files.iter().filter(|f| f.cost_centre_missing).map(|f| f.organisation_id.as_str()).collect();
    if !without.is_empty() {
        crate::say!(
            "note: billed under {} (no cost centre): {} — set [documents.billing] cost_centres in {} or in the app's Settings",
            cardbench_documents::billing::NO_COST_CENTRE,
            without.join(", "),
            ctx.config_path.display()
        );
    }
    Ok(())
}

pub fn shift_report(ctx: &Context, p: &PeriodArgs) -> anyhow::Result<()> {
    let (from, to) = period(p)?;
    // `--out` is a folder, as for the manifest and billing: the files are named by the period.
    cardbench_store::private_files::create_dir_all(&p.out).with_context(|| format!("cannot create {}", p.out.display()))?;
    let pdf = api::shift_report_path(&p.out, &from, &to);
    let files = api::shift_report(&*ctx.store()?, &from, &to, &ctx.config.documents.shift, &ctx.config.documents.slip.sender_name, &pdf)?;
    written(&files);
    Ok(())
}
