//! The Cardbench desktop shell: opens the process's one store, holds the state ([`station::Station`]),
//! registers the commands (bodies by screen in [`screens`]) and turns core changes into events
//! for the webview. Every rule lives in the core crates.

pub mod bench;
mod commands;
pub mod daemon;
pub mod devices;
pub mod dto;
pub mod dto_reporting;
mod error;
pub mod events;
mod logging;
pub mod rendering;
pub mod screens;
pub mod seed;
pub mod settings;
pub mod station;
pub mod window;

include!("command_list.rs");

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;

pub use error::AppError;

/// How the app was started.
#[derive(Debug, Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    /// The config file in effect ([`locations`]).
    pub config_path: PathBuf,
    /// Print start-up, memory and paging figures and quit.
    pub bench: bool,
    /// Do not run the daemon (receive loop, sender, simulator) in the app, e.g. when
    /// `cardbench run` serves this data directory already.
    pub no_daemon: bool,
    /// When the process started (before its exec, if [`rendering::choose`] made one).
    pub started: Instant,
    /// The rendering path taken and why, for the log and the bench.
    pub rendering: String,
    /// With `bench`: cards in the baseline store the bench also measures (0: no baseline).
    pub bench_baseline_cards: u64,
}

/// The config file and data directory in effect, by the rule the CLI follows too
/// ([`cardbench_runtime::config::Locations`]). A bench measures a store it is given and never
/// creates the platform's data directory.
pub fn locations(config: Option<&Path>, data_dir: Option<&Path>, bench: bool) -> anyhow::Result<(PathBuf, PathBuf)> {
    let locations = cardbench_runtime::config::Locations::resolve(config, data_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let data_dir = locations.load().and_then(|c| c.data_dir()).map_err(|e| anyhow::anyhow!("{e}"))?;
    if bench && cardbench_runtime::config::would_create_platform_data_dir(&data_dir) {
        anyhow::bail!(
            "--bench measures an existing store and does not create {}: pass --data-dir DIR (e.g. seeded by `cardbench-seed --data-dir DIR --cards 100000`)",
            data_dir.display()
        );
    }
    Ok((locations.config_file, data_dir))
}

macro_rules! names {
    ($($c:ident),*) => { &[$(stringify!($c)),*] };
}

/// Every command the webview may call (the capability grants exactly these).
pub const COMMANDS: &[&str] = with_commands!(names);

macro_rules! handler {
    ($($c:ident),*) => { tauri::generate_handler![$(commands::$c),*] };
}

/// Builds the one tokio runtime, hands it to Tauri, and runs the window until it closes.
pub fn run(options: Options) -> anyhow::Result<()> {
    cardbench_store::private_files::create_dir_all(&options.data_dir)
        .with_context(|| format!("cannot create the data directory {}", options.data_dir.display()))?;
    let (log_file, _log_guard) = logging::init(&options.data_dir)?;
    tracing::info!(data_dir = %options.data_dir.display(), "Cardbench starting");
    tracing::info!(rendering = %options.rendering, "rendering path");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("cardbench")
        .build()
        .context("cannot start the async runtime")?;
    tauri::async_runtime::set(runtime.handle().clone());

    // The floor's shared store when the config names one (`[store] url`), else the data
    // directory's SQLite file. A config that does not load leaves the station on its own store,
    // where the settings screen says what is wrong with it.
    let shared_url = cardbench_runtime::config::Config::load(&options.config_path).ok().map(|c| c.store_url()).transpose()?.flatten();
    let store = match &shared_url {
        Some(url) => cardbench_store::Store::open_url_when_reachable(url)
            .with_context(|| format!("cannot open the shared store {}", cardbench_store::postgres::redact(url)))?,
        None => cardbench_store::Store::open_in(&options.data_dir).context("cannot open the store")?,
    };
    let store = Arc::new(store);
    let config_path = options.config_path.clone();
    // The process's one store: the commands and the node (receive loop, sender, hot folder)
    // share its workflow.
    let station = Arc::new(
        station::Station::new(store, options.data_dir.clone(), log_file, !options.no_daemon, config_path)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .started_at(options.started),
    );
    let bench = options.bench;
    let services = Arc::new(daemon::NodeAndReaders::new(!options.no_daemon));
    let services_setup = services.clone();
    let station_at_exit = station.clone();

    let app = tauri::Builder::default()
        .manage(station.clone())
        .manage(services.clone())
        .manage(bench::BenchMode {
            on: bench,
            rendering: options.rendering.clone(),
            baseline_cards: options.bench_baseline_cards,
            no_daemon: options.no_daemon,
        })
        .invoke_handler(with_commands!(handler))
        .setup(move |app| {
            if let Some(main) = tauri::Manager::get_webview_window(app, "main")
                && let Err(e) = window::fit_to_monitor(&main)
            {
                tracing::warn!(error = %e, "cannot fit the window to the monitor");
            }
            events::spawn_watcher(app.handle().clone(), station.clone());
            // Started beside the window rather than before it: the first worklist paint reads the
            // store and need not wait for the transport.
            let (handle, services, station) = (app.handle().clone(), services_setup.clone(), station.clone());
            tauri::async_runtime::spawn(async move { services.start(&handle, &station.workflow, &station.config()).await });
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot build the window")?;
    app.run(move |_, event| {
        if let tauri::RunEvent::Exit = event {
            // The card in hand comes free at once for the other stations.
            if let Err(error) = station_at_exit.hand_over(None) {
                tracing::warn!(%error, "cannot release the card in hand");
            }
            tauri::async_runtime::block_on(services.stop());
            tracing::info!("Cardbench stopped");
        }
    });
    Ok(())
}
