//! The NGOC simulator: plays the other side for the sandbox, training and tests.
//!
//! It generates realistic EXTERNAL_PRODUCTION_REQUEST_SENT messages (organisations, shipments of
//! several cards, accessories, non-ASCII names, expected readouts), and answers what Cardbench
//! sends the way NGOC would: CARD_PRODUCED → REPORT_OK or ERROR, SHIPPED → SHIPPED_OK or ERROR;
//! an ERROR from Cardbench is recorded and never answered. Faults can be injected at configurable
//! rates (invalid requests, duplicate sends, conflicting card ids, spurious errors).
//!
//! Its state lives in its own SQLite file (`<data-dir>/sim.sqlite`), so a restart loses nothing:
//! a notification is settled only after its effect and its answer are committed, and answers wait
//! in the state's outbox until the queue takes them. It only uses the `Connector` trait, so it runs
//! against the embedded queues or a real broker alike.
//!
//! Modules: [`config`] (settings), [`fixtures`] (requests for tests, from the generator), `generate` (request content), `faults` (schema violations),
//! `judge` (NGOC's rules for answers), `state` (the SQLite file), `simulator` (the API and loop).

pub mod config;
mod error;
mod faults;
pub mod fixtures;
mod generate;
mod judge;
mod simulator;
mod state;

pub use config::{CorrelationForm, FaultRates, SimConfig, WireForms};
pub use error::SimError;
pub use simulator::{AnswerReport, GenerateReport, Simulator};
pub use state::{FILE_NAME, ParcelRecord, ReceivedRecord, SentRecord, SimCard};
