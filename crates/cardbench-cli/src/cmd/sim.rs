//! `cardbench sim generate|received|run`: the NGOC simulator against this data directory's embedded queues.

use std::time::Duration;

use cardbench_sim::{SimConfig, Simulator};
use tokio::sync::watch;

use crate::cli::SimCommand;
use crate::context::Context;
use crate::output;

fn sim_config(ctx: &Context) -> SimConfig {
    ctx.config.sim_config()
}

pub fn sim(ctx: &Context, command: SimCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        std::fs::create_dir_all(&ctx.data_dir)?;
        // The same transport as the daemon: the embedded queues, or the configured broker, where
        // the simulator plays NGOC on the other ends of the two queues.
        let (queues, _) = cardbench_runtime::node::connector(&ctx.config, &ctx.data_dir)?;
        match command {
            SimCommand::Generate { requests, max_shipment, seed } => {
                let mut config = sim_config(ctx);
                config.max_cards_per_shipment = max_shipment;
                if seed.is_some() {
                    config.seed = seed;
                }
                let sim = Simulator::open(&ctx.data_dir, config, queues)?;
                let report = sim.generate(requests).await?;
                if ctx.json {
                    return output::json(&report);
                }
                crate::say!("{report:?}");
                Ok(())
            }
            SimCommand::Received { message_id } => {
                let sim = Simulator::open(&ctx.data_dir, sim_config(ctx), queues)?;
                let mut received = sim.received().await?;
                if let Some(id) = &message_id {
                    received.retain(|r| r.message_id.as_deref() == Some(id.as_str()));
                }
                if ctx.json {
                    return output::json(&received);
                }
                for r in &received {
                    crate::say!(
                        "#{:<6} {:<28} {:<38} ×{} {}",
                        r.seq,
                        r.subject.as_deref().unwrap_or("-"),
                        r.message_id.as_deref().unwrap_or("-"),
                        r.times_received,
                        r.outcome
                    );
                }
                Ok(())
            }
            SimCommand::Run { for_seconds } => {
                let sim = Simulator::open(&ctx.data_dir, sim_config(ctx), queues)?;
                let (stop, stop_rx) = watch::channel(false);
                let task = tokio::spawn(async move { sim.run(stop_rx).await });
                match for_seconds {
                    Some(s) => tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(s)) => {}
                        _ = tokio::signal::ctrl_c() => {}
                    },
                    None => tokio::signal::ctrl_c().await?,
                }
                let _ = stop.send(true);
                task.await??;
                Ok(())
            }
        }
    })
}
