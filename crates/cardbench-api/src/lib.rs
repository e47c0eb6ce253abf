//! The card API: what the bureau's own systems (ERP, MES, CRM) read of Cardbench over HTTP, in
//! the shape of NGOC's card report. Read-only, behind a bearer token, on loopback unless the
//! config allows otherwise.
//!
//! - `GET /api/card/{cardId}`: [`cardbench_workflow::views::report::CardReport`] (external report
//!   data masked).
//! - `GET /api/shipment/{shipmentId}`: its cards and parcels.
//! - `GET /api/events?after=ID&limit=N`: pages of the event log.
//!
//! [`ApiServer`] serves it on the caller's tokio runtime (`cardbench run` and the app start it
//! beside the node); [`config::ApiConfig`] is `[api]` in the config; [`token`] issues and keeps
//! the token. `docs/api/openapi.yaml` documents it, and `tests/openapi.rs` holds the server to it.

pub mod config;
mod error;
mod server;
pub mod token;

pub use config::ApiConfig;
pub use error::ApiError;
pub use server::{ApiServer, DEFAULT_LIMIT, MAX_LIMIT, ROUTES, STOP_GRACE, Token, router};
