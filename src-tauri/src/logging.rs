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
    std::fs::create_dir_all(&dir)?;
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
