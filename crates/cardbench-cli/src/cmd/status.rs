//! `cardbench status`: what an operator or a support engineer wants to see first.

use std::time::Duration;

use cardbench_store::{StoreFailure, cards, conflicts, health, inbox, link_status, outbox};
use serde::Serialize;

use crate::context::Context;
use crate::output;

#[derive(Serialize)]
struct Status {
    data_dir: String,
    /// Asked of the disk and the database now: a failing store cannot record that it fails.
    store_failing: Option<StoreFailure>,
    cards: Vec<(cards::CardStatus, i64)>,
    inbox: Vec<(inbox::Outcome, i64)>,
    outbox_pending: i64,
    open_conflicts: usize,
    links: Vec<link_status::LinkStatusRow>,
    /// As the app's dashboard lists them: cards NGOC refused, messages rejected on arrival.
    recent_errors: Vec<cardbench_workflow::views::dashboard::RecentError>,
}

pub fn status(ctx: &Context) -> anyhow::Result<()> {
    let store_failing = health::probe(&ctx.data_dir.join(cardbench_store::DATABASE_FILE), Duration::from_secs(2));
    // A full disk can keep the store from opening at all (SQLite's shared-memory file is made on
    // open): say so first, then why the counts are missing.
    let store = ctx.store().map_err(|e| failing_store(ctx, e, store_failing))?;
    let status = gather(ctx, &store, store_failing).map_err(|e| failing_store(ctx, e, None))?;
    if ctx.json {
        return output::json(&status);
    }
    crate::say!("data dir        {}", status.data_dir);
    say_store(status.store_failing);
    crate::say!("cards           {}", join(&status.cards));
    crate::say!("inbox           {}", join(&status.inbox));
    crate::say!("outbox waiting  {}", status.outbox_pending);
    crate::say!("open conflicts  {}", status.open_conflicts);
    if status.links.is_empty() {
        crate::say!("links           (the daemon has not run yet)");
    }
    for l in &status.links {
        crate::say!(
            "link {:<10} {} since {}{}{}",
            l.link,
            l.state,
            l.since,
            l.detail.as_deref().map(|d| format!(", last error: {d}")).unwrap_or_default(),
            l.next_retry_at.as_deref().map(|t| format!(", retry at {t}")).unwrap_or_default()
        );
    }
    if !status.recent_errors.is_empty() {
        crate::say!("recent errors");
    }
    for e in &status.recent_errors {
        crate::say!(
            "  {}  {:<16} {}  {}",
            cardbench_store::time::display(&e.at),
            e.what,
            output::or_dash(e.card_id.as_deref()),
            e.detail
        );
    }
    Ok(())
}

fn gather(ctx: &Context, store: &std::sync::Arc<cardbench_store::Store>, store_failing: Option<StoreFailure>) -> anyhow::Result<Status> {
    let recent_errors = cardbench_workflow::Workflow::new(store.clone()).dashboard()?.recent_errors;
    Ok(store.read(|c| {
        Ok::<_, cardbench_store::StoreError>(Status {
            data_dir: ctx.data_dir.display().to_string(),
            store_failing,
            cards: cards::count_by_status(c)?,
            inbox: inbox::count_by_outcome(c)?,
            outbox_pending: outbox::pending_count(c)?,
            open_conflicts: conflicts::list(c, true)?.len(),
            links: link_status::all(c)?,
            recent_errors,
        })
    })?)
}

/// `e`, said as the store failing when that is what it is (`probed` from the disk, else what `e`
/// says: a floor's database that does not answer), in the words of a full disk, so support reads
/// one line for "the store, not the message".
fn failing_store(ctx: &Context, e: anyhow::Error, probed: Option<StoreFailure>) -> anyhow::Error {
    let failure = probed.or_else(|| {
        e.chain().find_map(|c| {
            c.downcast_ref::<cardbench_store::StoreError>()
                .and_then(cardbench_store::StoreError::failure)
                .or_else(|| c.downcast_ref::<cardbench_runtime::node::NodeError>().and_then(|n| n.store_failure()))
                .or_else(|| c.downcast_ref::<cardbench_workflow::WorkflowError>().and_then(|w| w.store_failure()))
        })
    });
    match failure {
        Some(failure) => {
            if !ctx.json {
                say_store(Some(failure));
            }
            e.context(format!("store failing: {failure}"))
        }
        None => e,
    }
}

fn say_store(failing: Option<StoreFailure>) {
    match failing {
        None => crate::say!("store           ok"),
        Some(failure) => crate::say!("store           FAILING: {failure} (received messages are held, not lost; it resumes by itself)"),
    }
}

fn join<T: Serialize>(counts: &[(T, i64)]) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    counts
        .iter()
        .map(|(k, n)| format!("{} {n}", serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ")
}

