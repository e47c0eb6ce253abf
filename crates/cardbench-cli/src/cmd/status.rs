//! `cardbench status`: what an operator or a support engineer wants to see first.

use cardbench_store::{cards, conflicts, inbox, link_status, outbox};
use serde::Serialize;

use crate::context::Context;
use crate::output;

#[derive(Serialize)]
struct Status {
    data_dir: String,
    cards: Vec<(cards::CardStatus, i64)>,
    inbox: Vec<(inbox::Outcome, i64)>,
    outbox_pending: i64,
    open_conflicts: usize,
    links: Vec<link_status::LinkStatusRow>,
}

pub fn status(ctx: &Context) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let status = store.read(|c| {
        Ok::<_, cardbench_store::StoreError>(Status {
            data_dir: ctx.data_dir.display().to_string(),
            cards: cards::count_by_status(c)?,
            inbox: inbox::count_by_outcome(c)?,
            outbox_pending: outbox::pending_count(c)?,
            open_conflicts: conflicts::list(c, true)?.len(),
            links: link_status::all(c)?,
        })
    })?;
    if ctx.json {
        return output::json(&status);
    }
    crate::say!("data dir        {}", status.data_dir);
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
    Ok(())
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

