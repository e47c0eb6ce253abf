//! What every command needs: the configuration in effect and the store.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use cardbench_runtime::config::{self, Config};
use cardbench_store::Store;
use cardbench_workflow::Workflow;

use crate::cli::Global;

pub struct Context {
    pub config: Config,
    pub config_path: PathBuf,
    pub data_dir: PathBuf,
    pub json: bool,
    operator: Option<String>,
}

impl Context {
    pub fn new(global: &Global, json: bool) -> anyhow::Result<Context> {
        let locations = config::Locations::resolve(global.config.as_deref(), global.data_dir.as_deref())?;
        let config = locations.load()?;
        let config_path = locations.config_file;
        let data_dir = config.data_dir()?;
        let operator = global.operator.clone().or_else(|| config.operator.clone());
        Ok(Context { config, config_path, data_dir, json, operator })
    }

    pub fn store(&self) -> anyhow::Result<Arc<Store>> {
        let store = cardbench_runtime::node::open_store(&self.config).with_context(|| match self.config.store.shared_url() {
            Some(url) => format!("cannot open the shared store {}", cardbench_store::postgres::redact(url)),
            None => format!("cannot open the store in {}", self.data_dir.display()),
        })?;
        Ok(Arc::new(store))
    }

    pub fn workflow(&self) -> anyhow::Result<Workflow> {
        Ok(Workflow::new(self.store()?)
            .with_decode_options(self.config.decode_options()?)
            .with_report_settings(self.config.report_settings()?)
            .with_ship_rules(self.config.workstation.ship_rules())
            .with_station(self.config.station()))
    }

    /// The operator for a change; every change is audited under a name.
    pub fn operator(&self) -> anyhow::Result<&str> {
        self.operator.as_deref().filter(|o| !o.trim().is_empty()).context(
            "no operator name: pass --operator NAME, set CARDBENCH_OPERATOR, or set `operator` in the config file",
        )
    }
}
