//! `cardbench config show|set-operator`.

use anyhow::Context as _;
use cardbench_runtime::config::{Config, TransportKind};

use crate::cli::ConfigCommand;
use crate::context::Context;
use crate::output;

pub fn config(ctx: &Context, command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Show => {
            // A broker password (from CARDBENCH_AMQP_URL, or a file written before they went to
            // the keyring) is shown as `***`.
            let shown = ctx.config.redacted();
            if ctx.json {
                return output::json(&serde_json::json!({
                    "configFile": ctx.config_path, "dataDir": ctx.data_dir, "config": shown,
                }));
            }
            crate::say!("# config file: {}", ctx.config_path.display());
            crate::say!("# data dir:    {}", ctx.data_dir.display());
            crate::say!("{}", toml::to_string_pretty(&shown)?);
            Ok(())
        }
        ConfigCommand::SetAmqpUrl { url, outbound_url } => {
            let mut config = Config::load_file(&ctx.config_path)?;
            config.use_amqp_urls(url.trim(), outbound_url.as_deref().map(str::trim).filter(|u| !u.is_empty()))?;
            config.save(&ctx.config_path)?;
            crate::say!(
                "transport: AMQP broker {} (passwords kept in the OS keyring, not in {})",
                cardbench_amqp::config::redact_url(url.trim()),
                ctx.config_path.display()
            );
            Ok(())
        }
        ConfigCommand::SetServicebus { connection_string, inbound_connection_string, outbound_connection_string, inbound, outbound } => {
            // clap guarantees one of the two for the receiving side.
            let first = inbound_connection_string.or(connection_string).unwrap_or_default();
            super::servicebus::set_servicebus(ctx, &first, outbound_connection_string.as_deref(), &inbound, &outbound)
        }
        ConfigCommand::UseSimulator => {
            let mut config = Config::load_file(&ctx.config_path)?;
            config.transport = TransportKind::Embedded;
            config.save(&ctx.config_path)?;
            crate::say!("transport: embedded queues with the NGOC simulator ({})", ctx.config_path.display());
            Ok(())
        }
        ConfigCommand::SetStore { url, local, station } => {
            let mut config = Config::load_file(&ctx.config_path)?;
            if local {
                config.store.url = None;
            } else if let Some(url) = url {
                let shown = cardbench_store::postgres::redact(&url);
                if !cardbench_store::postgres::is_postgres_url(&url) {
                    anyhow::bail!(crate::exit::Usage(format!("--url must be a postgres:// URL, not {shown}")));
                }
                cardbench_store::Store::open_url(&url).with_context(|| format!("cannot open the store {shown}"))?;
                config.store.url = Some(url);
            }
            if let Some(station) = station {
                config.store.station = Some(station.trim().to_owned()).filter(|s| !s.is_empty());
            }
            config.save(&ctx.config_path)?;
            match config.store.shared_url() {
                Some(url) => crate::say!("store: {} (in {})", cardbench_store::postgres::redact(url), ctx.config_path.display()),
                None => crate::say!("store: the SQLite file in {} (in {})", ctx.data_dir.display(), ctx.config_path.display()),
            }
            Ok(())
        }
        ConfigCommand::SetOperator { name } => {
            let mut config = Config::load_file(&ctx.config_path)?;
            config.operator = Some(name.trim().to_owned());
            config.save(&ctx.config_path)?;
            crate::say!("operator set to {:?} in {}", name.trim(), ctx.config_path.display());
            Ok(())
        }
    }
}
