use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {}", crate::postgres::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("database error: {0}")]
    Conversion(String),
    #[error("cannot open the store at {url}: {reason}")]
    Url { url: String, reason: String },
    /// The floor's database went away (restart, failover, a cut network) and its connection
    /// cannot be made again yet.
    #[error("the worklist database cannot be reached: {0}")]
    Unreachable(String),
    #[error(
        "the database at {path} was written by a newer Cardbench (schema version {found}; this build knows up to {known}); \
         upgrade Cardbench or use another --data-dir"
    )]
    NewerSchema { path: String, found: u32, known: u32 },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: u32, name: &'static str, source: rusqlite::Error },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot start a thread of the store (checkpoints, change feed): {0}")]
    Thread(std::io::Error),
    #[error("stored JSON in {what} is unreadable: {source}")]
    Json { what: &'static str, source: serde_json::Error },
}

impl StoreError {
    /// Worth trying again later (the database was busy or locked by another process)?
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

impl From<crate::db::DbError> for StoreError {
    fn from(e: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match e {
            DbError::Sqlite(e) => StoreError::Sqlite(e),
            DbError::Postgres(e) => StoreError::Postgres(e),
            DbError::NoRows => StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows),
            e @ DbError::Conversion { .. } => StoreError::Conversion(e.to_string()),
            DbError::Lost(reason) => StoreError::Unreachable(reason),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
