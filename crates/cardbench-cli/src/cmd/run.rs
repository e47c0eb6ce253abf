//! `cardbench run`: the daemon until Ctrl-C, SIGTERM (systemd's stop) or --for-seconds.

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
        let stop = stop_signal()?;
        let workflow = cardbench_runtime::node::open_workflow(&config)?;
        let node = Node::start(workflow, &config, &NodeOptions { no_simulator: args.no_sim }).await?;
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
        if let Some(api) = node.api_status() {
            match (api.listening, &api.problem) {
                (Some(addr), _) => eprintln!("card API on http://{addr}/api/"),
                (None, problem) => eprintln!("the card API is NOT served: {}", problem.as_deref().unwrap_or("unknown")),
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
                        RuntimeEvent::Store { health } => crate::say!("{}", health.describe()),
                        _ => {}
                    }
                }
            }
        });
        match args.for_seconds {
            Some(s) => tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(s)) => {}
                signal = stop => eprintln!("{signal} received"),
            },
            None => {
                let signal = stop.await;
                eprintln!("{signal} received");
            }
        }
        eprintln!("stopping…");
        node.shutdown().await;
        printer.abort();
        Ok(())
    })
}

/// Resolves on the first stop request: Ctrl-C (SIGINT) from a terminal, or SIGTERM from systemd
/// (`systemctl stop`) or `kill`. Both stop the same way: the node settles what is committed and
/// closes its links before the process ends. Installed before the node runs, so a SIGTERM that
/// arrives during start-up is not the default "die at once".
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = &'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}
