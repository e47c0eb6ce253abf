//! `cardbench store migrate --to postgres://…`: a station's worklist moves onto a floor's store.

use anyhow::Context as _;
use cardbench_store::Store;
use cardbench_store::move_in;

use crate::cli::StoreCommand;
use crate::context::Context;
use crate::output;

pub fn store(ctx: &Context, command: StoreCommand) -> anyhow::Result<()> {
    match command {
        StoreCommand::Migrate { to } => migrate(ctx, &to),
    }
}

fn migrate(ctx: &Context, to: &str) -> anyhow::Result<()> {
    if !cardbench_store::postgres::is_postgres_url(to) {
        anyhow::bail!(crate::exit::Usage(format!("--to must be a postgres:// URL, not {}", cardbench_store::postgres::redact(to))));
    }
    // The station's own store, whatever `[store] url` says: the worklist being moved.
    let source = Store::open_in(&ctx.data_dir).with_context(|| format!("cannot open the store in {}", ctx.data_dir.display()))?;
    let shown = cardbench_store::postgres::redact(to);
    let target = Store::open_url(to).with_context(|| format!("cannot open the target store {shown}"))?;
    let moved = move_in::sqlite_to_postgres(&source, &target).with_context(|| format!("moving into {shown}"))?;
    if ctx.json {
        return output::json(&serde_json::json!({ "target": shown, "tables": moved }));
    }
    let rows: Vec<Vec<String>> = moved.iter().map(|t| vec![t.table.clone(), t.rows.to_string(), t.checksum[..16].to_owned()]).collect();
    output::table(&["TABLE", "ROWS", "CHECKSUM (SHA-256, first 16)"], &rows);
    let total: u64 = moved.iter().map(|t| t.rows).sum();
    crate::say!("moved {total} rows in {} tables into {shown}; counts and checksums match", moved.len());
    crate::say!("to work on it, set `url` under [store] in the config (or CARDBENCH_STORE_URL)");
    Ok(())
}
