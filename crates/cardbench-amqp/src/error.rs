//! Errors of this crate. Transport operations report `cardbench_transport::TransportError` (the
//! trait's type); configuration, secrets and connection steps have their own types here.

use cardbench_transport::{TransportError, TransportErrorKind};
use serde::Serialize;
use thiserror::Error;

/// A configuration or connection string that cannot be used. Each variant names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("the connection string is empty")]
    EmptyConnectionString,
    #[error("the connection string part `{0}` is not of the form Name=Value")]
    MalformedPart(String),
    #[error("the connection string has no `{0}=` part")]
    MissingPart(&'static str),
    #[error("the connection string has `{0}=` more than once")]
    DuplicatePart(&'static str),
    #[error("the connection string part `{0}=` is empty")]
    EmptyPart(&'static str),
    #[error("Endpoint `{0}` is not of the form sb://<namespace>.servicebus.windows.net/")]
    BadEndpoint(String),
    #[error("the host is empty")]
    EmptyHost,
    #[error("the queue name for {0} is empty")]
    EmptyQueue(&'static str),
    #[error(
        "plain (unencrypted) AMQP is only allowed to a loopback host (127.0.0.1, ::1, localhost), not `{0}`: use TLS (amqps, port 5671)"
    )]
    PlainToRemoteHost(String),
    #[error("the {0} is empty")]
    EmptyCredential(&'static str),
    #[error("credit must be between 1 and 10000, not {0}")]
    BadCredit(u32),
    #[error("max_locked must be at least the credit ({credit}) and at most 10000, not {max_locked}")]
    BadMaxLocked { max_locked: u32, credit: u32 },
    #[error("`{0}` is not an amqp://, amqps://, ws:// or wss:// URL with a host and port")]
    BadUrl(String),
    #[error("the WebSocket path `{0}` must start with `/` and hold no spaces (Service Bus: /$servicebus/websocket)")]
    BadWebSocketPath(String),
    #[error(
        "the {side} credential `{user}` was issued for queue `{entity_path}` (EntityPath), but the {side} queue is `{queue}`: use the connection string issued for `{queue}`, or set the {side} queue to `{entity_path}`"
    )]
    EntityPathMismatch { side: &'static str, user: String, entity_path: String, queue: String },
    #[error(
        "the credential `{user}` was issued for queue `{entity_path}` only (EntityPath), so it cannot serve both queues: give one connection string per queue (inbound and outbound)"
    )]
    EntityPathForBothQueues { user: String, entity_path: String },
    #[error("the inbound and outbound connection strings name different namespaces (`{inbound}`, `{outbound}`): both queues must be in one namespace")]
    DifferentNamespaces { inbound: String, outbound: String },
    #[error("the outbound URL `{0}` must name the same broker (scheme, host, port, path) as the inbound one; only the user may differ")]
    OutboundUrlOtherBroker(String),
    #[error("no key is stored in the OS keyring for {0}: enter it again in the settings")]
    KeyNotStored(String),
    #[error("{0}")]
    Keyring(String),
}

/// The OS keyring could not be used.
pub use cardbench_secrets::SecretError;

/// The steps of getting to a usable queue, in order. `check_connection` reports the first that
/// failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The host name does not resolve.
    Dns,
    /// Nothing answers on host:port (refused, unreachable, timed out).
    Tcp,
    /// TLS handshake failed (certificate, protocol, a proxy in between).
    Tls,
    /// AMQP over WebSockets only: the HTTP upgrade to a WebSocket with subprotocol `amqp` was
    /// refused (wrong path, a proxy that does not pass WebSockets, not a WebSocket endpoint).
    #[serde(rename = "websocket")]
    WebSocket,
    /// The peer does not speak AMQP 1.0 or closed the connection during open.
    Amqp,
    /// SASL refused the credentials, or the CBS put-token was refused.
    Auth,
    /// The queue does not exist.
    QueueNotFound,
    /// The credentials may not Listen / Send on the queue.
    NoPermission,
}

impl Step {
    pub fn kind(self) -> TransportErrorKind {
        match self {
            Step::Dns | Step::Tcp | Step::Tls | Step::WebSocket | Step::Amqp => TransportErrorKind::Connection,
            Step::Auth => TransportErrorKind::Auth,
            Step::QueueNotFound => TransportErrorKind::NotFound,
            Step::NoPermission => TransportErrorKind::Forbidden,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step:?}: {message}")]
pub struct StepError {
    pub step: Step,
    pub message: String,
}

impl StepError {
    pub fn new(step: Step, message: impl Into<String>) -> Self {
        StepError { step, message: message.into() }
    }
}

impl From<StepError> for TransportError {
    fn from(e: StepError) -> Self {
        TransportError::new(e.step.kind(), e.to_string())
    }
}
