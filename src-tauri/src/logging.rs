//! Logs through tracing to a daily rolling file in `<data dir>/logs/` (viewable in the app) and to
//! stderr. Never cardholder data: commands log identifiers, not names or card elements.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const FILE_PREFIX: &str = "cardbench-app.log";

/// Starts logging; keep the guard alive for the life of the process (it flushes on drop).
pub fn init(data_dir: &Path) -> anyhow::Result<(PathBuf, WorkerGuard)> {
    let dir = data_dir.join("logs");
    // 0700: the appender creates its daily files with the process umask, and no one else may
    // read them through this directory. Files from before are made 0600.
    cardbench_store::private_files::create_dir_all(&dir)?;
    cardbench_store::private_files::make_private(&dir)?;
    for entry in std::fs::read_dir(&dir)?.filter_map(Result::ok) {
        let _ = cardbench_store::private_files::make_private(&entry.path());
    }
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .max_log_files(14)
        .build(&dir)?;
    let (file, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("CARDBENCH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(file))
        .try_init()?;
    Ok((dir.join(FILE_PREFIX), guard))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn the_log_directory_is_private_and_older_logs_are_made_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).expect("mkdir");
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let old = logs.join("cardbench-app.log.2026-01-01");
        std::fs::write(&old, "old").expect("write");
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let (_file, guard) = super::init(dir.path()).expect("logging");
        tracing::info!("a line");
        drop(guard);
        let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&logs), 0o700, "no one else can reach any log file");
        assert_eq!(mode(&old), 0o600);
    }
}
