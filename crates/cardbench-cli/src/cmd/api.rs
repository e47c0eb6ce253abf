//! `cardbench api …`: the card API's token and state, and its answers read from the store.

use crate::cli::ApiCommand;
use crate::context::Context;
use crate::output;

pub fn api(ctx: &Context, command: ApiCommand) -> anyhow::Result<()> {
    match command {
        ApiCommand::Token { rotate } => {
            let token = cardbench_api::token::issue(rotate)?;
            if ctx.json {
                return output::json(&serde_json::json!({ "token": token.expose(), "rotated": rotate }));
            }
            eprintln!("The card API's bearer token (shown this once; kept in the OS keyring):");
            crate::say!("{}", token.expose());
            if !ctx.config.api.enabled {
                eprintln!("The API is not enabled: set enabled = true under [api] in {}", ctx.config_path.display());
            } else if rotate {
                eprintln!("A running Cardbench keeps the old token until it is restarted.");
            }
            Ok(())
        }
        ApiCommand::Status => {
            let api = &ctx.config.api;
            let listen = api.listen_addr().map(|a| a.to_string());
            let has_token = cardbench_api::token::exists()?;
            if ctx.json {
                return output::json(&serde_json::json!({
                    "enabled": api.enabled,
                    "listen": api.listen,
                    "listenProblem": listen.as_ref().err().map(ToString::to_string),
                    "allowRemote": api.allow_remote,
                    "token": has_token,
                }));
            }
            crate::say!("enabled: {}", if api.enabled { "yes" } else { "no ([api] enabled = true to serve it)" });
            match listen {
                Ok(addr) => crate::say!("listen:  http://{addr}/api/"),
                Err(e) => crate::say!("listen:  {e}"),
            }
            crate::say!("token:   {}", if has_token { "kept in the OS keyring" } else { "none yet: run `cardbench api token`" });
            Ok(())
        }
        ApiCommand::Card { card_id } => output::json(&ctx.workflow()?.card_report(&card_id)?),
        ApiCommand::Shipment { shipment_id } => output::json(&ctx.workflow()?.shipment_report(&shipment_id)?),
    }
}
