//! The operator's settings: loaded from and saved to `settings.json` in the data directory.
//! Invalid settings are refused with the reason and never written.

use std::path::{Path, PathBuf};

use crate::dto::{ConnectionKind, Settings};
use crate::error::AppError;

pub const FILE: &str = "settings.json";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Reads the settings, or defaults when there is no file yet. A file that cannot be read is an
/// error (the operator must see it), not silently replaced.
pub fn load(data_dir: &Path) -> Result<Settings, AppError> {
    let file = path(data_dir);
    match std::fs::read_to_string(&file) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::Settings(format!("{} is not valid: {e}", file.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(AppError::Settings(format!("cannot read {}: {e}", file.display()))),
    }
}

/// Checks every setting; the first problem found is returned in words.
pub fn validate(s: &Settings) -> Result<(), AppError> {
    let refuse = |what: &str| Err(AppError::Settings(what.to_owned()));
    let operator = s.operator.trim();
    if operator.is_empty() {
        return refuse("operator name: required — every action is recorded under it");
    }
    if operator.chars().count() > 64 {
        return refuse("operator name: at most 64 characters");
    }
    if operator.chars().any(char::is_control) {
        return refuse("operator name: no control characters");
    }
    for (label, q) in [("inbound queue", &s.inbound_queue), ("outbound queue", &s.outbound_queue)] {
        if q.trim().is_empty() {
            return refuse(&format!("{label}: required"));
        }
        if !q.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) {
            return refuse(&format!("{label}: letters, digits, '-', '_', '.', '/' only"));
        }
    }
    if s.inbound_queue == s.outbound_queue {
        return refuse("queues: inbound and outbound must be different queues");
    }
    if s.connection == ConnectionKind::ServiceBus {
        let ns = s.service_bus_namespace.trim();
        if !ns.starts_with("Endpoint=sb://") {
            return refuse("Service Bus: the connection string must start with Endpoint=sb://");
        }
        if ns.contains("SharedAccessKey=") {
            return refuse("Service Bus: leave the key out of the connection string (it is kept in the OS keyring)");
        }
    }
    if !s.hot_folder.trim().is_empty() {
        let dir = Path::new(s.hot_folder.trim());
        if !dir.is_absolute() {
            return refuse("hot folder: must be an absolute path");
        }
        if !dir.is_dir() {
            return refuse(&format!("hot folder: {} is not an existing folder", dir.display()));
        }
    }
    if !(30..=3650).contains(&s.retention_days) {
        return refuse("retention: between 30 and 3650 days");
    }
    Ok(())
}

pub fn save(data_dir: &Path, s: &Settings) -> Result<(), AppError> {
    validate(s)?;
    let file = path(data_dir);
    let text = serde_json::to_string_pretty(s).map_err(|e| AppError::Settings(format!("cannot encode: {e}")))?;
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| AppError::Settings(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, &file).map_err(|e| AppError::Settings(format!("cannot write {}: {e}", file.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Settings {
        Settings { operator: "Åsa Öberg".into(), ..Settings::default() }
    }

    #[test]
    fn invalid_settings_are_refused_with_the_reason_and_not_saved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blank = Settings { operator: "  ".into(), ..valid() };
        let err = save(dir.path(), &blank).expect_err("blank operator");
        assert!(err.to_string().contains("operator name"), "{err}");
        assert!(!path(dir.path()).exists());

        let same = Settings { outbound_queue: "ngoc-requests".into(), ..valid() };
        assert!(save(dir.path(), &same).expect_err("same queues").to_string().contains("different"));

        let missing = Settings { hot_folder: "/no/such/folder".into(), ..valid() };
        assert!(save(dir.path(), &missing).expect_err("hot folder").to_string().contains("hot folder"));

        let short = Settings { retention_days: 3, ..valid() };
        assert!(save(dir.path(), &short).expect_err("retention").to_string().contains("retention"));

        let sb = Settings { connection: ConnectionKind::ServiceBus, service_bus_namespace: "foo".into(), ..valid() };
        assert!(save(dir.path(), &sb).expect_err("service bus").to_string().contains("Endpoint=sb://"));
    }

    #[test]
    fn valid_settings_load_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load(dir.path()).expect("defaults"), Settings::default());
        let s = Settings { hot_folder: dir.path().display().to_string(), ..valid() };
        save(dir.path(), &s).expect("save");
        assert_eq!(load(dir.path()).expect("load"), s);
    }
}
