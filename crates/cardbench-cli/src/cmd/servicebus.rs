//! `cardbench check-connection`, `cardbench dead-letters …`, `cardbench config set-servicebus`.

use anyhow::Context as _;
use cardbench_amqp::check_connection as check;
use cardbench_runtime::config::Config;

use crate::cli::DeadLettersCommand;
use crate::context::Context;
use crate::exit::NotFound;
use crate::output;

fn amqp_config(ctx: &Context) -> anyhow::Result<cardbench_amqp::ServiceBusConfig> {
    ctx.config.amqp()?.context(
        "no Service Bus is configured (the embedded simulator is in use): run `cardbench config set-servicebus`",
    )
}

pub fn check_connection(ctx: &Context) -> anyhow::Result<()> {
    let config = amqp_config(ctx)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(check(&config));
    if ctx.json {
        output::json(&report)?;
    } else {
        crate::say!("checking {}", report.target);
        for step in &report.steps {
            crate::say!("  {:<40} {}", step.what, if step.ok { "ok".to_owned() } else { format!("FAILED: {}", step.detail) });
        }
    }
    match &report.failed {
        None => {
            if !ctx.json {
                crate::say!("connection ok");
            }
            Ok(())
        }
        Some((step, message)) => anyhow::bail!("{step:?} failed: {message} (see docs/servicebus/troubleshooting.md)"),
    }
}

pub fn dead_letters(ctx: &Context, command: DeadLettersCommand) -> anyhow::Result<()> {
    use cardbench_runtime::deadletters;
    use cardbench_workflow::IngestOutcome;
    let config = amqp_config(ctx)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match command {
        DeadLettersCommand::List { max } => {
            let listing = runtime.block_on(deadletters::list(&config, max))?;
            if ctx.json {
                return output::json(&listing);
            }
            let rows: Vec<Vec<String>> = listing
                .letters
                .iter()
                .map(|d| {
                    vec![
                        output::or_dash(d.message_id.as_deref()),
                        output::or_dash(d.subject.as_deref()),
                        output::or_dash(d.card_id.as_deref()),
                        output::or_dash(d.enqueued_at.as_deref().map(cardbench_store::time::display).as_deref()),
                        output::or_dash(d.reason.as_deref()),
                        d.body.len().to_string(),
                    ]
                })
                .collect();
            output::table(&["MESSAGE ID", "SUBJECT", "CARD ID", "ENQUEUED", "REASON", "BYTES"], &rows);
            if !listing.peeked {
                crate::say!("(this broker has no peek: the dead letters were taken and released again to list them)");
            }
            Ok(())
        }
        DeadLettersCommand::Show { message_id } => match runtime.block_on(deadletters::show(&config, &message_id))? {
            Some(d) => {
                if ctx.json {
                    return output::json(&d);
                }
                crate::say!("subject {}", output::or_dash(d.subject.as_deref()));
                crate::say!("reason  {}", output::or_dash(d.reason.as_deref()));
                crate::say!("{}", output::body_text(&d.body));
                Ok(())
            }
            None => Err(NotFound(format!("no dead letter {message_id}")).into()),
        },
        DeadLettersCommand::Import { message_id } => {
            let workflow = ctx.workflow()?;
            let outcome = runtime.block_on(deadletters::import(&workflow, &config, &message_id))?;
            let Some(outcome) = outcome else { return Err(NotFound(format!("no dead letter {message_id}")).into()) };
            if ctx.json {
                return output::json(&outcome);
            }
            match &outcome {
                IngestOutcome::Accepted { inbox_id } => crate::say!("{message_id} recorded (inbox #{inbox_id}) and removed from the dead-letter queue"),
                IngestOutcome::Duplicate { inbox_id } => {
                    crate::say!("{message_id} was already received (inbox #{inbox_id}): recorded as a duplicate, removed from the dead-letter queue")
                }
                IngestOutcome::Rejected { inbox_id, code, reason } => {
                    crate::say!("{message_id} recorded as rejected (inbox #{inbox_id}, {code}: {reason}) and removed from the dead-letter queue")
                }
                IngestOutcome::Ignored { inbox_id, reason } => crate::say!("{message_id} recorded as ignored (inbox #{inbox_id}: {reason})"),
                IngestOutcome::Retry { error } => crate::say!("{message_id} not recorded: {error}"),
            }
            Ok(())
        }
    }
}

pub fn set_servicebus(ctx: &Context, first: &str, outbound_string: Option<&str>, inbound: &str, outbound: &str) -> anyhow::Result<()> {
    let mut config = Config::load_file(&ctx.config_path)?;
    config.use_service_bus_strings(first, outbound_string, inbound, outbound)?;
    config.save(&ctx.config_path)?;
    let Some(sb) = config.servicebus.as_ref() else { anyhow::bail!("no [servicebus] section was written") };
    let rule = sb.user.clone().unwrap_or_default();
    match &sb.outbound_credential {
        None => crate::say!(
            "Service Bus {} (rule {rule} for both queues) saved to {}; the key is in the OS keyring. Run `cardbench check-connection`.",
            sb.host,
            ctx.config_path.display()
        ),
        Some(out) => crate::say!(
            "Service Bus {}: inbound {} (rule {rule}), outbound {} (rule {}) saved to {}; the keys are in the OS keyring. Run `cardbench check-connection`.",
            sb.host,
            sb.inbound_queue,
            sb.outbound_queue,
            out.user,
            ctx.config_path.display()
        ),
    }
    Ok(())
}
