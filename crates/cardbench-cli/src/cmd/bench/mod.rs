//! `cardbench bench`: throughput and latency, each printed beside a baseline measured in the same
//! run on the same machine, as a ratio. Goals are stated beside the figures; nothing here fails a
//! build: speed is watched, not asserted in tests.
//!
//! One module per benchmark; what several share (request bodies, queue loading, waiting for the
//! daemon, medians and milliseconds) is in [`common`].

mod broker;
mod common;
mod floor;
mod hooks;
mod hotfolder;
mod ingest;
mod outage;
mod slip;
mod worklist;

use anyhow::Context as _;

use crate::cli::BenchArgs;
use crate::context::Context;

pub fn bench(ctx: &Context, args: &BenchArgs) -> anyhow::Result<()> {
    let wants = |name: &str| {
        args.only.is_empty() || args.only.iter().any(|o| o == name || (o == "floor" && floor::PHASES.contains(&name)))
    };
    let scratch = tempfile::Builder::new().prefix("cardbench-bench-").tempdir_in(bench_dir(ctx)?)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    crate::say!("cardbench bench (scratch data in {})", scratch.path().display());
    if wants("ingest") {
        runtime.block_on(ingest::ingest(scratch.path(), args.messages))?;
    }
    // The worklist's store, filled once, serves the PostgreSQL comparison too.
    let mut filled = None;
    if wants("worklist") {
        filled = Some(worklist::worklist(scratch.path(), args.cards)?);
    }
    if wants("hotfolder") {
        hotfolder::hotfolder(scratch.path(), 10_000)?;
    }
    if wants("slip") {
        slip::slip()?;
    }
    if wants("outage") {
        runtime.block_on(outage::outage(scratch.path(), args.messages))?;
    }
    if wants("hooks") {
        runtime.block_on(hooks::hooks(scratch.path(), args.messages.min(5_000)))?;
    }
    if wants("broker") {
        runtime.block_on(broker::broker(scratch.path(), ctx.config.amqp_url.as_deref(), args.messages))?;
    }
    let postgres = args.postgres_url.as_deref().filter(|u| !u.trim().is_empty());
    for &phase in floor::PHASES {
        if !wants(phase) {
            continue;
        }
        let Some(url) = postgres else {
            floor::skipped(phase);
            continue;
        };
        match phase {
            "pg-ingest" => runtime.block_on(floor::ingest(scratch.path(), url, args.messages.min(floor::INGEST_MESSAGES)))?,
            "pg-worklist" => floor::worklist(scratch.path(), url, args.cards, filled.take())?,
            _ => floor::latency(url)?,
        }
    }
    Ok(())
}

/// Benchmarks write to the data directory's disk (same fsync cost as production), in a scratch
/// folder removed afterwards. A bench never creates the platform's data directory: where that
/// is the one in effect and it does not exist yet, the scratch folder goes to the temp dir.
fn bench_dir(ctx: &Context) -> anyhow::Result<std::path::PathBuf> {
    if cardbench_runtime::config::would_create_platform_data_dir(&ctx.data_dir) {
        return Ok(std::env::temp_dir());
    }
    std::fs::create_dir_all(&ctx.data_dir).with_context(|| format!("cannot create {}", ctx.data_dir.display()))?;
    Ok(ctx.data_dir.clone())
}
