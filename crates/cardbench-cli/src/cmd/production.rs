//! `cardbench capture|produce|spoil|refuse`.

use anyhow::Context as _;
use cardbench_workflow::ReadoutInput;

use crate::cli::CaptureArgs;
use crate::context::Context;
use crate::output;

fn parse_readouts(args: &[String]) -> anyhow::Result<Vec<ReadoutInput>> {
    args.iter()
        .map(|arg| {
            let (field, value) = arg
                .split_once('=')
                .with_context(|| format!("readout {arg:?} is not FIELD=VALUE (e.g. MIFARE_UID=04A22B1C)"))?;
            Ok(ReadoutInput { field: field.trim().to_owned(), value: value.to_owned() })
        })
        .collect()
}

pub fn capture(ctx: &Context, args: &CaptureArgs, produce: bool) -> anyhow::Result<()> {
    let operator = ctx.operator()?;
    let readouts = parse_readouts(&args.readouts)?;
    let wf = ctx.workflow()?;
    if produce {
        let result = wf.produce(operator, &args.card_id, &readouts, &args.source)?;
        if ctx.json {
            return output::json(&result);
        }
        crate::say!("card {} produced: CARD_PRODUCED {} queued", result.card_id, result.message_id);
        for (field, value) in &result.report_data {
            crate::say!("  {field} = {value}");
        }
    } else {
        let status = wf.save_readouts(operator, &args.card_id, &readouts, &args.source)?;
        if ctx.json {
            return output::json(&serde_json::json!({ "cardId": args.card_id, "status": status }));
        }
        crate::say!("card {}: readouts saved, now {status}", args.card_id);
    }
    Ok(())
}

pub fn spoil(ctx: &Context, card_id: &str, reason: &str) -> anyhow::Result<()> {
    ctx.workflow()?.spoil(ctx.operator()?, card_id, reason)?;
    if ctx.json {
        return output::json(&serde_json::json!({ "cardId": card_id, "status": "received" }));
    }
    crate::say!("card {card_id} spoiled: readouts cleared, to be made again");
    Ok(())
}

pub fn refuse(ctx: &Context, card_id: &str, code: &str, details: &str) -> anyhow::Result<()> {
    let code = cardbench_protocol::ErrorCode::parse(code.trim());
    let result = ctx.workflow()?.refuse(ctx.operator()?, card_id, &code, details)?;
    if ctx.json {
        return output::json(&result);
    }
    crate::say!(
        "card {card_id} refused: ERROR {} {} queued for NGOC (answers request {})",
        result.error_code,
        result.message_id,
        output::or_dash(result.correlation_id.as_deref())
    );
    Ok(())
}
