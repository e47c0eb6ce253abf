//! What the shell holds for the life of the window: the one workflow over the process's one
//! store, the config in effect, the paths. The command bodies, free of Tauri, live by screen in
//! [`crate::screens`]: each takes this state and plain values and calls the core crates. The
//! `commands` module only registers them with Tauri; tests and the bench call them directly.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use cardbench_runtime::config::Config;
use cardbench_store::Store;
use cardbench_workflow::Workflow;

use crate::dto::*;
use crate::error::AppError;
use crate::settings;

/// The workstation as the shell holds it for the life of the window.
pub struct Station {
    /// Over the process's one store: the commands and the daemon (receive loop, sender, hot
    /// folder) share it, so every write wakes the same sender.
    pub workflow: Workflow,
    pub data_dir: PathBuf,
    pub log_file: PathBuf,
    /// The shared config file (`CARDBENCH_CONFIG` or the platform config dir).
    pub config_path: PathBuf,
    /// The config in effect: the file, then environment overrides.
    pub(crate) config: RwLock<Config>,
    pub daemon: bool,
    pub started: Instant,
    /// The card this window took on the production screen (released when it moves on or closes).
    pub(crate) in_hand: std::sync::Mutex<Option<String>>,
    /// The store failing as a whole, as the store watcher last found it (`crate::events`).
    pub(crate) store_failing: std::sync::Mutex<Option<crate::events::StoreFailing>>,
}

pub(crate) type Result<T> = std::result::Result<T, AppError>;

pub(crate) fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Station {
    pub fn new(store: Arc<Store>, data_dir: PathBuf, log_file: PathBuf, daemon: bool, config_path: PathBuf) -> Result<Station> {
        let config = Config::load(&config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        // Configured as the node configures it: the node is handed this same workflow.
        let workflow = cardbench_runtime::node::configure(Workflow::new(store), &config).map_err(|e| AppError::Settings(e.to_string()))?;
        Ok(Station {
            workflow,
            data_dir,
            log_file,
            config_path,
            config: RwLock::new(config),
            daemon,
            started: Instant::now(),
            in_hand: std::sync::Mutex::new(None),
            store_failing: std::sync::Mutex::new(None),
        })
    }

    /// Counts start-up from `at` (the process start) rather than from now.
    pub fn started_at(mut self, at: Instant) -> Station {
        self.started = at;
        self
    }

    pub fn store(&self) -> &Arc<Store> {
        self.workflow.store()
    }

    /// The config in effect (file and environment), with the app's data directory.
    pub fn config(&self) -> Config {
        let mut config = self.config.read().unwrap_or_else(|p| p.into_inner()).clone();
        config.data_dir = Some(self.data_dir.clone());
        config
    }

    /// The settings screen: the file as written (an environment override is not the operator's
    /// to save into it).
    pub fn settings(&self) -> Result<Settings> {
        let file = Config::load_file(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        Ok(settings::view(&file))
    }

    pub(crate) fn operator(&self) -> String {
        self.config.read().unwrap_or_else(|p| p.into_inner()).operator.clone().unwrap_or_default()
    }

    pub(crate) fn mask(&self) -> bool {
        self.config.read().unwrap_or_else(|p| p.into_inner()).workstation.mask_holder
    }

    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            data_dir: self.data_dir.display().to_string(),
            log_file: self.log_file.display().to_string(),
            database: self.store().path().display().to_string(),
            config_file: self.config_path.display().to_string(),
            daemon: self.daemon,
            started_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            store_failing: self.store_failing.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(crate::events::StoreFailing::detail),
        }
    }

}
