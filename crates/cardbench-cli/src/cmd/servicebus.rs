//! `cardbench check-connection`, `cardbench dead-letters …`, `cardbench config set-servicebus`.

use std::time::Duration;

use anyhow::Context as _;
use cardbench_amqp::{AmqpConnector, check_connection as check};
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
    let config = amqp_config(ctx)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let connector = AmqpConnector::new(config.clone());
        let mut browser = connector.dead_letters(&config.inbound_queue).await?;
        let wait = Duration::from_secs(2);
        let result = match command {
            DeadLettersCommand::List { max } => {
                let letters = browser.list(max, wait).await?;
                let rows: Vec<Vec<String>> = letters
                    .iter()
                    .map(|d| {
                        vec![
                            output::or_dash(d.delivery.message_id.as_deref()),
                            output::or_dash(d.delivery.subject.as_deref()),
                            d.delivery.body.len().to_string(),
                        ]
                    })
                    .collect();
                output::table(&["MESSAGE ID", "SUBJECT", "BYTES"], &rows);
                Ok(())
            }
            DeadLettersCommand::Show { message_id } => match browser.show(&message_id, 1000, wait).await? {
                Some(d) => {
                    crate::say!("subject {}", output::or_dash(d.delivery.subject.as_deref()));
                    crate::say!("{}", output::body_text(&d.delivery.body));
                    Ok(())
                }
                None => Err(NotFound(format!("no dead letter {message_id}")).into()),
            },
            DeadLettersCommand::Import { message_id } => {
                if browser.import(&message_id, 1000, wait).await? {
                    crate::say!("{message_id} sent back to {}", config.inbound_queue);
                    Ok(())
                } else {
                    Err(NotFound(format!("no dead letter {message_id}")).into())
                }
            }
        };
        browser.close().await;
        result
    })
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
