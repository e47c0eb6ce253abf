//! The Cardbench store: one SQLite file holding the inbox, the worklist, shipments and parcels, the
//! outbox and the audit log.
//!
//! Owns the schema (`migrations/*.sql`, embedded, applied in order, each in its own transaction),
//! the connection settings, and one module per table with its row type and queries. It knows no
//! workflow rules: `cardbench-workflow` decides, this crate records.
//!
//! To change the schema, add a migration file and list it in [`migrate::MIGRATIONS`]; never edit a
//! shipped one.

pub mod audit;
pub mod batch;
pub mod bench;
pub mod cards;
pub mod changes;
pub mod claims;
mod check_rewrite;
mod checkpoint;
pub mod db;
pub mod conflicts;
pub mod dashboard;
pub mod deliveries;
mod error;
pub mod events;
pub mod hotfolder_files;
pub mod health;
pub mod inbox;
pub mod invoices;
pub mod leases;
pub mod link_status;
pub mod move_in;
mod migrate;
pub mod outbox;
pub mod parcels;
pub mod postgres;
pub mod private_files;
pub mod probe;
pub mod readouts;
mod refused_status;
pub mod reports;
pub mod retention;
pub mod shipments;
pub mod spreadsheet;
pub mod subscribers;
mod store;
pub mod testing;
pub mod time;

pub use error::{Result, StoreError};
pub use health::StoreFailure;
pub use migrate::SCHEMA_VERSION;
pub use db::Connection;
pub use store::{DATABASE_FILE, Store};
