// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;

use clap::Parser;

/// Cardbench: the card production workstation.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Where the store and logs live (default: the config file's `data_dir`, else the platform
    /// data directory).
    #[arg(long, env = "CARDBENCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The config file (default: config.toml beside the data when a data directory is given,
    /// else the platform config directory's).
    #[arg(long, env = "CARDBENCH_CONFIG")]
    config: Option<PathBuf>,
    /// Measure start to first worklist paint, idle memory and worklist page latency, print them
    /// and quit.
    #[arg(long)]
    bench: bool,
    /// With --bench: also run the bench on a fresh store of this many cards, after this run's
    /// figures are taken, and report both and their ratio (0: no baseline).
    #[arg(long, default_value_t = 100)]
    bench_baseline_cards: u64,
    /// Do not run the daemon in the app (when `cardbench run` serves this data directory).
    #[arg(long, env = "CARDBENCH_NO_DAEMON")]
    no_daemon: bool,
}

fn main() -> anyhow::Result<()> {
    // First, before any thread exists: it may replace the process with one whose environment
    // selects the rendering path (see rendering.rs).
    let rendering = cardbench_app::rendering::choose();
    let args = Args::parse();
    let (config_path, data_dir) = cardbench_app::locations(args.config.as_deref(), args.data_dir.as_deref(), args.bench)?;
    cardbench_app::run(cardbench_app::Options {
        data_dir,
        config_path,
        bench: args.bench,
        no_daemon: args.no_daemon,
        started: rendering.started,
        rendering: rendering.describe(),
        bench_baseline_cards: args.bench_baseline_cards,
    })
}
