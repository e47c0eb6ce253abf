//! Errors of this crate. Transport operations report `cardbench_transport::TransportError` (the
//! trait's type); configuration, secrets and connection steps have their own types here.

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
    #[error("no key is stored in the OS keyring for {0}: enter it again in the settings")]
    KeyNotStored(String),
    #[error("{0}")]
    Keyring(String),
}

/// The OS keyring could not be used.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("OS keyring unavailable or refused access: {0}")]
    Keyring(String),
}
