//! `cardbench`: the command line of the Cardbench workstation.
//!
//! Every command drives the same core crates as the desktop app. Human output by default,
//! `--json` for scripts; errors go to stderr with a stable exit code (see [`exit`]).

mod cli;
mod cmd;
mod context;
mod exit;
mod output;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    let json = cli.json;
    match cmd::dispatch(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let code = exit::code_for(&error);
            if json {
                let body = serde_json::json!({ "error": { "code": exit::name_for(&error), "message": format!("{error:#}") } });
                eprintln!("{body}");
            } else {
                eprintln!("error: {error:#}");
            }
            std::process::ExitCode::from(code)
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings, or info with -v).
fn init_logging(verbose: bool) {
    let default = if verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
