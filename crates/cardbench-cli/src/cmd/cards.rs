//! `cardbench cards list|show`.

use anyhow::Context as _;
use cardbench_store::cards::{CardStatus, SortColumn, WorklistFilter};
use cardbench_workflow::cardholder;

use crate::cli::CardsCommand;
use crate::context::Context;
use crate::output;

pub fn cards(ctx: &Context, command: CardsCommand) -> anyhow::Result<()> {
    match command {
        CardsCommand::List(args) => {
            let statuses = args
                .statuses
                .iter()
                .map(|s| CardStatus::parse(s).with_context(|| format!("unknown status {s:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mask = ctx.config.workstation.mask_holder;
            let sort = SortColumn::parse(&args.sort).with_context(|| {
                let names: Vec<&str> = SortColumn::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown sort column {:?} (one of {})", args.sort, names.join(", "))
            })?;
            cardholder::check_sort(sort, mask).map_err(anyhow::Error::msg)?;
            let (received_from, received_to) = cardbench_workflow::views::period::filter_bounds(args.from.as_deref(), args.to.as_deref())?;
            let filter = WorklistFilter {
                statuses,
                organisation_id: args.organisation,
                shipment_id: args.shipment,
                article_id: args.article,
                search: args.search,
                search_holder: cardholder::search_matches_holder(mask),
                received_from,
                received_to,
                sort,
                descending: args.desc,
                limit: Some(args.limit),
                ..Default::default()
            };
            let mut page = ctx.workflow()?.worklist(&filter)?;
            if mask {
                for row in &mut page.rows {
                    row.holder = row.holder.as_deref().map(cardholder::mask_name);
                }
            }
            if ctx.json {
                return output::json(&page);
            }
            let rows: Vec<Vec<String>> = page
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.card_id.clone(),
                        r.status.to_string(),
                        r.shipment_id.clone(),
                        r.organisation_id.clone(),
                        r.article_id.clone(),
                        output::or_dash(r.holder.as_deref()),
                        cardbench_store::time::display(&r.received_at),
                        r.taken.as_ref().map_or_else(|| "-".to_owned(), |c| format!("at {} by {}", c.station, c.operator)),
                    ]
                })
                .collect();
            output::table(&["CARD", "STATUS", "SHIPMENT", "ORGANISATION", "ARTICLE", "HOLDER", "RECEIVED", "TAKEN"], &rows);
            if page.next.is_some() {
                crate::say!("(more: raise --limit or filter)");
            }
            Ok(())
        }
        CardsCommand::Show { card_id } => {
            // Masked as the app's card panel is (the workstation's `mask_holder`).
            let detail = ctx.workflow()?.card_detail(&card_id)?.shown(ctx.config.workstation.mask_holder);
            if ctx.json {
                return output::json(&detail);
            }
            let c = &detail.card;
            crate::say!("card        {}", c.card_id);
            crate::say!("status      {}", c.status);
            crate::say!("next step   {}", detail.next_step);
            if let Some(t) = &detail.taken {
                crate::say!("taken       at {} by {} since {}", t.station, t.operator, cardbench_store::time::display(&t.taken_at));
            }
            crate::say!("shipment    {}  (organisation {})", c.shipment_id, c.organisation_id);
            crate::say!("article     {}", c.article_id);
            crate::say!("holder      {}", output::or_dash(c.holder.as_deref()));
            crate::say!("elements");
            for (name, value) in &c.request.card.card_elements {
                crate::say!("  {name:<16} {value}");
            }
            crate::say!("readouts");
            for f in &detail.expected {
                let value = f.value.as_deref().unwrap_or("(missing)");
                let orders = match (&f.msb_first, &f.lsb_first) {
                    (Some(m), Some(l)) => format!("  MSB {m}  LSB {l}"),
                    _ => String::new(),
                };
                crate::say!("  {:<16} {value}{orders}", f.field);
            }
            if let Some(code) = &c.last_error_code {
                crate::say!("last error  {code}: {}", output::or_dash(c.last_error_details.as_deref()));
            }
            crate::say!("timeline");
            for t in &detail.timeline {
                crate::say!("  {}  {:<16} {}", cardbench_store::time::display(&t.at), t.what, output::or_dash(t.detail.as_deref()));
            }
            Ok(())
        }
        CardsCommand::Take { card_id } => {
            let wf = ctx.workflow()?;
            let claim = wf.take_card(ctx.operator()?, &card_id)?;
            if ctx.json {
                return output::json(&serde_json::json!({ "cardId": card_id, "claim": claim }));
            }
            match claim {
                Some(c) => crate::say!(
                    "card {card_id} taken at {} by {} until {}",
                    c.station,
                    c.operator,
                    cardbench_store::time::display(&c.expires_at)
                ),
                None => crate::say!("card {card_id} cannot be produced now: nothing to take"),
            }
            Ok(())
        }
        CardsCommand::Release { card_id } => {
            ctx.workflow()?.release_card(&card_id)?;
            if ctx.json {
                return output::json(&serde_json::json!({ "cardId": card_id, "released": true }));
            }
            crate::say!("card {card_id} released");
            Ok(())
        }
    }
}
