//! The command bodies, one file per screen, each an `impl Station` block: plain values in, the
//! core crates called, DTOs out. No rules and no SQL live here.

mod dashboard;
mod production;
mod queues;
mod reporting;
mod settings;
mod shipments;
mod worklist;

pub use production::{check_readout, check_readout_with};
