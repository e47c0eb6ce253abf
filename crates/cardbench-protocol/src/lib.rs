//! The NGOC External Production protocol as Cardbench speaks it.
//!
//! Owns: the six message subjects, their bodies as Rust types (serde), the error codes, the
//! validation of received bodies (every problem with its field path), and the formats of the
//! readouts a partner reports (e.g. `MIFARE_UID`).
//!
//! The contract itself lives in `docs/protocol/` (AsyncAPI 3 + JSON Schemas); the schemas are
//! embedded here and used to validate what we receive, and tests check that what we send validates.
//! To add a message: add its schema under `docs/protocol/schemas/`, its type in [`messages`], its
//! [`Subject`] variant, and an example in the AsyncAPI document.
//!
//! Receive tolerantly (unknown fields are ignored here and kept in the raw body by the store);
//! send strictly (our types serialise exactly the documented fields).

pub mod error_code;
pub mod messages;
pub mod problem;
pub mod readout;
pub mod received_time;
pub mod report_fields;
pub mod subject;
pub mod validate;
/// The embedded schemas, public so contract tests and the simulator check against the same files.
pub mod validate_schema;

pub use error_code::ErrorCode;
pub use messages::{
    Accessory, Address, CardProduced, CardRequest, ErrorMessage, ExternalProductionData, ReportOk,
    Shipped, ShippedOk,
};
pub use problem::Problem;
pub use readout::{NormalisedReadout, ReadoutError, normalise_readout};
pub use received_time::{ReceivedTime, ReceivedZone, UnknownZone};
pub use report_fields::{FieldKind, FieldSpec, ReportFieldCatalogue};
pub use subject::{Direction, Subject};
pub use validate::{DecodeOptions, Inbound, decode_inbound, decode_inbound_with};
