//! `cardbench run`: the daemon until Ctrl-C (or --for-seconds).

use std::time::Duration;

use cardbench_runtime::node::{Node, NodeOptions};
use cardbench_runtime::RuntimeEvent;

use crate::cli::RunArgs;
use crate::context::Context;

pub fn run(ctx: &Context, args: &RunArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut config = ctx.config.clone();
        config.data_dir = Some(ctx.data_dir.clone());
        let node = Node::start(&config, &NodeOptions { no_simulator: args.no_sim }).await?;
        eprintln!(
            "cardbench running on {} ({}); Ctrl-C stops",
            ctx.data_dir.display(),
            if node.simulator_running() { "embedded transport with the NGOC simulator" } else { "no simulator" }
        );
        if let Some(hot) = node.hotfolder_status() {
            match &hot.problem {
                None => eprintln!("watching the hot folder {}", hot.folder.display()),
                Some(problem) => eprintln!("the hot folder {} is NOT watched: {problem}", hot.folder.display()),
            }
        }
        let mut events = node.runtime.subscribe();
        let json = ctx.json;
        let printer = tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                if json {
                    if let Ok(line) = serde_json::to_string(&event) {
                        crate::say!("{line}");
                    }
                } else {
                    match event {
                        RuntimeEvent::Ingested { accepted, duplicate, rejected, ignored, released } => {
                            crate::say!("received: {accepted} accepted, {duplicate} duplicate, {rejected} rejected, {ignored} ignored, {released} to retry");
                        }
                        RuntimeEvent::HotFolderFile { report } => crate::say!(
                            "hot folder: {} {:?}: {} of {} rows applied, {} produced",
                            report.file_name, report.outcome, report.rows_applied, report.rows_total, report.produced
                        ),
                        RuntimeEvent::HotFolderProblem { message } => crate::say!("hot folder: {message}"),
                        _ => {}
                    }
                }
            }
        });
        match args.for_seconds {
            Some(s) => tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(s)) => {}
                _ = tokio::signal::ctrl_c() => {}
            },
            None => {
                tokio::signal::ctrl_c().await?;
            }
        }
        eprintln!("stopping…");
        node.shutdown().await;
        printer.abort();
        Ok(())
    })
}
