//! Settings and the log tail.

use std::path::PathBuf;

use cardbench_runtime::config::Config;

use crate::settings;
use crate::dto::*;
use crate::error::AppError;
use crate::station::{Result, Station};

impl Station {
    /// The organisations the store has shipments of, for the cost-centre list in Settings.
    pub fn organisations(&self) -> Result<Vec<OrganisationSeen>> {
        let rows = self.store().read(cardbench_store::shipments::organisations)?;
        Ok(rows.into_iter().map(|(organisation_id, shipments)| OrganisationSeen { organisation_id, shipments }).collect())
    }

    /// Checks and writes the screen into the config file; the caller restarts the daemon so the
    /// connection and devices take effect.
    pub fn save_settings(&self, s: Settings) -> Result<Settings> {
        let mut file = Config::load_file(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        let store_before = file.store.url.clone();
        settings::apply(&mut file, &s)?;
        // A new shared store is connected to before it is written down (and its schema created
        // if the database is empty), so a typo is refused here, not at the next start.
        if file.store.url != store_before
            && let Some(url) = file.store.shared_url()
        {
            cardbench_store::Store::open_url(url)
                .map_err(|e| AppError::Settings(format!("store: cannot open {}: {e}", cardbench_store::postgres::redact(url))))?;
        }
        // The directories this app writes to, as it runs (the config alone may not know them).
        if let Some(folder) = &file.devices.hotfolder.folder {
            let mut own = vec![("the data directory", self.data_dir.clone()), ("the documents directory", self.documents_dir())];
            own.extend(self.log_file.parent().map(|d| ("the log directory", d.to_owned())));
            cardbench_devices::hotfolder::refuse_own_directories(folder, &own).map_err(|r| AppError::Settings(format!("hot folder: {r}")))?;
        }
        file.save(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        let effective = Config::load(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = effective;
        tracing::info!(file = %self.config_path.display(), "settings saved");
        Ok(settings::view(&file))
    }

    pub fn log_tail(&self, lines: usize) -> Result<LogLines> {
        let dir = self.log_file.parent().map(PathBuf::from).unwrap_or_default();
        // The rolling appender adds the date to the file name: read the newest one.
        let newest = std::fs::read_dir(&dir)
            .map_err(|e| AppError::Io(format!("cannot read {}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("cardbench-app.log"))
            .max_by_key(|e| e.file_name());
        let Some(file) = newest else {
            return Ok(LogLines { file: self.log_file.display().to_string(), lines: Vec::new() });
        };
        let text = std::fs::read_to_string(file.path()).map_err(|e| AppError::Io(format!("cannot read the log: {e}")))?;
        let all: Vec<&str> = text.lines().collect();
        let from = all.len().saturating_sub(lines.clamp(1, 5000));
        Ok(LogLines { file: file.path().display().to_string(), lines: all[from..].iter().map(|l| (*l).to_owned()).collect() })
    }
}
