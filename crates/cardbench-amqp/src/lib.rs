//! Azure Service Bus transport over AMQP 1.0 (fe2o3-amqp), tested against RabbitMQ 3.10's AMQP
//! 1.0 plugin on loopback. Implements `cardbench_transport::Connector`.
//!
//! - [`ServiceBusConfig`]: host, TLS, auth (SAS via CBS, SASL PLAIN, anonymous), queues and how
//!   queue names become addresses; [`ConnectionString`] parses what NGOC pastes.
//! - [`AmqpConnector`]: receivers (peek-lock, small credit) and senders (pipelined, durable).
//! - [`check_connection`]: which step failed (DNS, TCP, TLS, WebSocket, AMQP, auth, queue,
//!   permission).
//! - [`DeadLetterBrowser`]: list / show dead letters (a real peek on Service Bus), take one
//!   locked and complete or release it.
//! - [`secrets`]: the key in the OS keyring. [`sas`]: SAS tokens.

mod cbs;
mod check;
pub mod config;
mod connect;
mod connector;
mod deadletter;
mod error;
mod link;
/// AMQP messages ↔ deliveries; public for the fuzz targets (`fuzz/`).
pub mod mapping;
mod peek;
mod receiver;
mod sever;
pub mod sas;
mod secret;
pub mod secrets;

pub use cbs::put_token_request;
pub use check::{CheckReport, StepResult, check_connection};
pub use config::{
    Auth, AuthKind, ConnectionString, CredentialSettings, DEFAULT_MAX_MESSAGE_SIZE, Secret, ServiceBusConfig, ServiceBusSettings,
};
pub use connector::AmqpConnector;
pub use deadletter::{BrowseMethod, DeadLetter, DeadLetterBrowser, Listing};
pub use error::{ConfigError, SecretError, Step, StepError};
pub use link::AmqpSender;
pub use receiver::AmqpReceiver;
