//! `cardbench inbox|outbox|resend|conflicts`: queue inspection for support engineers. Works with
//! the link down: it only reads the store.

use std::io::Write as _;

use anyhow::Context as _;
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::conflicts;
use cardbench_store::time::display as shown;
use cardbench_workflow::cardholder;

use crate::cli::{ConflictsCommand, InboxArgs, OutboxArgs};
use crate::context::Context;
use crate::exit::NotFound;
use crate::output;

pub fn inbox(ctx: &Context, args: &InboxArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    if let Some(id) = args.id {
        // Revealing is an explicit, audited act; otherwise the body is shown as the
        // workstation's masking says.
        let (row, body) = if args.reveal {
            let row = ctx.workflow()?.reveal_inbox(ctx.operator()?, id).map_err(|e| match e {
                cardbench_workflow::WorkflowError::InvalidRequest(m) => anyhow::Error::new(NotFound(m)),
                other => other.into(),
            })?;
            let body = row.body.clone();
            (row, body)
        } else {
            let row = store.read(|c| inbox::get(c, id))?.ok_or_else(|| NotFound(format!("no inbox message #{id}")))?;
            let body = cardholder::shown_body(&row.body, ctx.config.workstation.mask_holder).into_bytes();
            (row, body)
        };
        if args.raw {
            std::io::stdout().write_all(&body)?;
            return Ok(());
        }
        if ctx.json {
            let mut value = serde_json::to_value(&row)?;
            value["body"] = serde_json::Value::String(String::from_utf8_lossy(&body).into_owned());
            return output::json(&value);
        }
        crate::say!("inbox #{}  {}", row.id, shown(&row.received_at));
        crate::say!("subject        {}", output::or_dash(row.subject.as_deref()));
        crate::say!("messageId      {}", output::or_dash(row.message_id.as_deref()));
        crate::say!("correlationId  {}", output::or_dash(row.correlation_id.as_deref()));
        crate::say!("outcome        {}{}", row.outcome.as_str(), row.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default());
        crate::say!("card/shipment  {} / {}", output::or_dash(row.card_id.as_deref()), output::or_dash(row.shipment_id.as_deref()));
        crate::say!("{}", output::body_text(&body));
        return Ok(());
    }
    let outcome = args
        .outcome
        .as_deref()
        .map(|o| Outcome::parse(o).with_context(|| format!("unknown outcome {o:?} (accepted, duplicate, rejected, ignored)")))
        .transpose()?;
    let filter = InboxFilter {
        subject: args.subject.clone(),
        outcome,
        card_id: args.card.clone(),
        shipment_id: args.shipment.clone(),
        since: cardbench_workflow::views::period::filter_bounds(args.since.as_deref(), None)?.0,
        limit: Some(args.limit),
        ..Default::default()
    };
    let rows = store.read(|c| inbox::list(c, &filter))?;
    if ctx.json {
        let summary: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({
                "id": r.id, "receivedAt": r.received_at, "subject": r.subject, "messageId": r.message_id,
                "outcome": r.outcome, "reason": r.reason, "cardId": r.card_id, "shipmentId": r.shipment_id,
            }))
            .collect();
        return output::json(&summary);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                shown(&r.received_at),
                short_subject(r.subject.as_deref()),
                r.outcome.as_str().to_owned(),
                output::or_dash(r.card_id.as_deref()),
                output::or_dash(r.shipment_id.as_deref()),
                r.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["ID", "RECEIVED", "SUBJECT", "OUTCOME", "CARD", "SHIPMENT", "REASON"], &table);
    Ok(())
}

pub fn outbox(ctx: &Context, args: &OutboxArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    if let Some(id) = args.id {
        let mut row = store.read(|c| outbox::get(c, id))?.ok_or_else(|| NotFound(format!("no outbox message #{id}")))?;
        // External report data (PIN codes...) is secret on every screen, raw view included.
        row.body = cardholder::shown_body(row.body.as_bytes(), ctx.config.workstation.mask_holder);
        if args.raw {
            crate::say!("{}", row.body);
            return Ok(());
        }
        if ctx.json {
            return output::json(&row);
        }
        crate::say!("outbox #{}  created {}", row.id, shown(&row.created_at));
        crate::say!("subject        {}", row.subject);
        crate::say!("destination    {}", row.destination);
        crate::say!("messageId      {}", row.message_id);
        crate::say!("correlationId  {}", output::or_dash(row.correlation_id.as_deref()));
        crate::say!("first sent     {}", output::or_dash(row.first_sent_at.as_deref().map(shown).as_deref()));
        crate::say!("sent           {}", sent_text(&row));
        crate::say!("resent         {}", resent_text(&row));
        crate::say!("attempts       {}{}", row.attempts, row.last_error.as_deref().map(|e| format!(" (last error: {e})")).unwrap_or_default());
        crate::say!("{}", output::body_text(row.body.as_bytes()));
        return Ok(());
    }
    let filter = OutboxFilter {
        subject: args.subject.clone(),
        sent: args.pending.then_some(false),
        card_id: args.card.clone(),
        shipment_id: args.shipment.clone(),
        limit: Some(args.limit),
        ..Default::default()
    };
    let mut rows = store.read(|c| outbox::list(c, &filter))?;
    for row in &mut rows {
        row.body = cardholder::shown_body(row.body.as_bytes(), ctx.config.workstation.mask_holder);
    }
    if ctx.json {
        return output::json(&rows);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                shown(&r.created_at),
                short_subject(Some(&r.subject)),
                r.destination.clone(),
                output::or_dash(r.first_sent_at.as_deref().map(shown).as_deref()),
                sent_text(r),
                r.resent_count.to_string(),
                r.attempts.to_string(),
                output::or_dash(r.card_id.as_deref()),
                output::or_dash(r.shipment_id.as_deref()),
                r.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &["ID", "CREATED", "SUBJECT", "TO", "FIRST SENT", "SENT", "RESENT", "TRIES", "CARD", "SHIPMENT", "LAST ERROR"],
        &table,
    );
    Ok(())
}

/// The latest send, or "waiting" (a resend waits again, its first send kept beside it).
fn sent_text(row: &outbox::OutboxRow) -> String {
    row.sent_at.as_deref().map_or_else(|| "waiting".into(), shown)
}

fn resent_text(row: &outbox::OutboxRow) -> String {
    match (&row.last_resent_at, row.resent_count) {
        (Some(at), n) => format!("{n} time(s), last {}", shown(at)),
        (None, _) => "never".into(),
    }
}

pub fn resend(ctx: &Context, outbox_id: i64) -> anyhow::Result<()> {
    ctx.workflow()?.resend(ctx.operator()?, outbox_id)?;
    if ctx.json {
        return output::json(&serde_json::json!({ "outboxId": outbox_id, "queued": true }));
    }
    crate::say!("outbox #{outbox_id} queued again (same messageId: the broker drops a copy it already has)");
    Ok(())
}

pub fn conflicts(ctx: &Context, command: ConflictsCommand) -> anyhow::Result<()> {
    match command {
        ConflictsCommand::List { all } => {
            let rows = ctx.store()?.read(|c| conflicts::list(c, !all))?;
            if ctx.json {
                return output::json(&rows);
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.card_id.clone(),
                        format!("inbox #{}", r.inbox_id),
                        shown(&r.received_at),
                        r.status.clone(),
                        r.resolution.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(&["ID", "CARD", "REQUEST", "RECEIVED", "STATUS", "RESOLUTION"], &table);
            Ok(())
        }
        ConflictsCommand::Resolve { id, resolution } => {
            ctx.workflow()?.resolve_conflict(ctx.operator()?, id, &resolution)?;
            if !ctx.json {
                crate::say!("conflict #{id} resolved");
            }
            Ok(())
        }
    }
}

/// `EXTERNAL_PRODUCTION_CARD_PRODUCED` → `CARD_PRODUCED`: the prefix is the same on every row.
fn short_subject(subject: Option<&str>) -> String {
    match subject {
        Some(s) => s.strip_prefix("EXTERNAL_PRODUCTION_").unwrap_or(s).to_owned(),
        None => "(none)".to_owned(),
    }
}
