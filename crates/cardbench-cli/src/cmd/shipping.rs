//! `cardbench shipments list|show` and `cardbench ship`.

use anyhow::Context as _;
use cardbench_protocol::Accessory;
use cardbench_store::shipments::{self, ShipmentFilter};
use cardbench_workflow::ParcelRequest;

use crate::cli::{ShipArgs, ShipmentsCommand};
use crate::context::Context;
use crate::output;

pub fn shipments(ctx: &Context, command: ShipmentsCommand) -> anyhow::Result<()> {
    match command {
        ShipmentsCommand::List { open, organisation } => {
            let filter = ShipmentFilter { organisation_id: organisation, open_only: open, limit: None };
            let list = ctx.store()?.read(|c| shipments::list(c, &filter))?;
            if ctx.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.shipment_id.clone(),
                        s.organisation_id.clone(),
                        s.cards.to_string(),
                        s.ready.to_string(),
                        s.awaiting_report.to_string(),
                        s.shipped.to_string(),
                        s.parcels.to_string(),
                    ]
                })
                .collect();
            output::table(&["SHIPMENT", "ORGANISATION", "CARDS", "READY", "AWAITING", "SHIPPED", "PARCELS"], &rows);
            Ok(())
        }
        ShipmentsCommand::Show { shipment_id } => {
            let d = ctx.workflow()?.shipment_detail(&shipment_id)?;
            if ctx.json {
                return output::json(&d);
            }
            crate::say!("shipment {}  (organisation {})", d.shipment.shipment_id, d.shipment.organisation_id);
            crate::say!("gate     {}", d.gate.summary);
            for note in &d.gate.notes {
                crate::say!("  {:<20} {}", note.card_id, note.text);
            }
            crate::say!("cards");
            for c in &d.cards {
                crate::say!("  {:<20} {}", c.card_id, c.status);
            }
            crate::say!("accessories");
            for a in &d.accessories {
                crate::say!("  {}:{}  requested {}  shipped {}", a.article_id, a.accessory_id, a.requested, a.shipped);
            }
            crate::say!("parcels");
            for p in &d.parcels {
                crate::say!(
                    "  #{} {:?} {} card(s) carrier {} tracking {} {}",
                    p.id,
                    p.status,
                    p.cards.len(),
                    output::or_dash(p.carrier.as_deref()),
                    output::or_dash(p.tracking_id.as_deref()),
                    p.error_code.as_deref().map(|e| format!("error {e}")).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

fn parse_accessory(text: &str) -> anyhow::Result<Accessory> {
    let parts: Vec<&str> = text.split(':').collect();
    let [article_id, accessory_id, quantity] = parts.as_slice() else {
        anyhow::bail!("accessory {text:?} is not ARTICLE:ACCESSORY:QUANTITY");
    };
    let quantity: u32 = quantity.parse().with_context(|| format!("quantity in {text:?} is not a whole number"))?;
    anyhow::ensure!(quantity > 0, "quantity in {text:?} must be at least 1");
    Ok(Accessory { article_id: (*article_id).to_owned(), accessory_id: (*accessory_id).to_owned(), quantity })
}

/// The lines that ship `remaining` of one accessory: a line's quantity is a u32 on the wire, and
/// a shipment's remaining count (a 64-bit sum of its requests) may exceed it, so it is split
/// into lines of at most u32::MAX (NGOC counts a parcel's lines of one accessory together).
fn accessory_lines(article_id: &str, accessory_id: &str, mut remaining: u64) -> Vec<Accessory> {
    let mut lines = Vec::new();
    while remaining > 0 {
        let quantity = u32::try_from(remaining).unwrap_or(u32::MAX);
        lines.push(Accessory { article_id: article_id.to_owned(), accessory_id: accessory_id.to_owned(), quantity });
        remaining -= u64::from(quantity);
    }
    lines
}

pub fn ship(ctx: &Context, args: &ShipArgs) -> anyhow::Result<()> {
    let operator = ctx.operator()?;
    let wf = ctx.workflow()?;
    let mut cards = args.cards.clone();
    let mut accessories = args.accessories.iter().map(|a| parse_accessory(a)).collect::<anyhow::Result<Vec<_>>>()?;
    if args.all_ready || args.all_accessories {
        let detail = wf.shipment_detail(&args.shipment_id)?;
        if args.all_ready {
            cards.extend(detail.gate.ready.iter().cloned());
        }
        if args.all_accessories {
            for a in &detail.accessories {
                accessories.extend(accessory_lines(&a.article_id, &a.accessory_id, a.remaining()));
            }
        }
    }
    if cards.is_empty() && accessories.is_empty() {
        return Err(empty_parcel(&wf, &args.shipment_id));
    }
    let request = ParcelRequest {
        shipment_id: args.shipment_id.clone(),
        cards,
        accessories,
        carrier: args.carrier.clone(),
        tracking_id: args.tracking.clone(),
    };
    let parcel = wf.ship(operator, &request).map_err(|e| explain_refusal(&wf, &args.shipment_id, e))?;
    if ctx.json {
        return output::json(&parcel);
    }
    crate::say!(
        "parcel #{} of shipment {}: SHIPPED {} queued with {} card(s), {} accessory line(s)",
        parcel.id,
        parcel.shipment_id,
        parcel.message_id,
        parcel.cards.len(),
        parcel.accessories.len()
    );
    Ok(())
}

/// The refusal of a parcel that holds nothing, saying what the flags would put in it: a parcel
/// never takes every accessory unless asked to (`--all-accessories`).
fn empty_parcel(wf: &cardbench_workflow::Workflow, shipment_id: &str) -> anyhow::Error {
    let refused = anyhow::Error::new(cardbench_workflow::WorkflowError::ShipRefused(vec![
        cardbench_workflow::shipping::ShipProblem::EmptyParcel,
    ]));
    let Ok(detail) = wf.shipment_detail(shipment_id) else { return refused };
    let left: Vec<String> = detail
        .accessories
        .iter()
        .filter(|a| a.remaining() > 0)
        .map(|a| format!("{} × {} ({})", a.remaining(), a.accessory_id, a.article_id))
        .collect();
    let accessories = if left.is_empty() { "no accessory is left to ship".to_owned() } else { format!("--all-accessories would send {}", left.join(", ")) };
    refused.context(format!(
        "nothing to ship: name cards, or --all-ready ({} card(s) ready), or --accessory; {accessories}; gate: {}",
        detail.gate.ready.len(),
        detail.gate.summary
    ))
}

/// A refused parcel, said as the shipment screen says it: the shipment's gate (the same read
/// model, `cardbench_workflow::views::gate`) with every card that keeps it back and why, and the
/// option each required detail is given with.
fn explain_refusal(wf: &cardbench_workflow::Workflow, shipment_id: &str, error: cardbench_workflow::WorkflowError) -> anyhow::Error {
    use cardbench_workflow::ShipProblem;
    let cardbench_workflow::WorkflowError::ShipRefused(problems) = &error else { return error.into() };
    let mut lines = Vec::new();
    let gated = problems.iter().any(|p| {
        matches!(
            p,
            ShipProblem::AwaitingReportOk { .. } | ShipProblem::ReportErrors { .. } | ShipProblem::NotReported { .. } | ShipProblem::Refused { .. }
        )
    });
    if gated && let Ok(detail) = wf.shipment_detail(shipment_id) {
        lines.push(format!("shipment {shipment_id}: {}", detail.gate.summary));
        lines.extend(detail.gate.notes.iter().map(|n| format!("  {:<20} {}", n.card_id, n.text)));
    }
    for problem in problems {
        if let ShipProblem::DetailRequired { detail } = problem {
            lines.push(format!("give {} (the setting {} requires a {} on every parcel)", detail.option(), detail.setting(), detail.label()));
        }
    }
    if lines.is_empty() {
        return error.into();
    }
    anyhow::Error::new(error).context(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::accessory_lines;

    #[test]
    fn what_is_left_beyond_u32_ships_in_several_lines_that_add_up_to_it() {
        let remaining = 2 * u64::from(u32::MAX) + 7;
        let lines = accessory_lines("ART", "LEAFLET", remaining);
        assert_eq!(lines.iter().map(|l| l.quantity).collect::<Vec<_>>(), [u32::MAX, u32::MAX, 7]);
        assert_eq!(lines.iter().map(|l| u64::from(l.quantity)).sum::<u64>(), remaining);
        assert!(accessory_lines("ART", "LEAFLET", 0).is_empty());
    }
}
