use thiserror::Error;

/// What kind of failure, so callers know whether to reconnect, retry later, or give up on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Name resolution, TCP, TLS: the link is down; reconnect with backoff.
    Connection,
    /// Credentials refused.
    Auth,
    /// The queue does not exist or we may not use it.
    NotFound,
    Forbidden,
    /// The queue refused this message (too large, malformed): retrying the same bytes will not help.
    Rejected,
    /// A settle named a delivery the receiver does not hold (lock lost, link re-opened).
    LockLost,
    /// Anything else the carrier reports; treated like a connection failure.
    Other,
}

#[derive(Debug, Clone, Error)]
#[error("{kind:?}: {message}")]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

impl TransportError {
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError { kind, message: message.into() }
    }

    /// Should the whole link be torn down and re-opened?
    pub fn is_link_failure(&self) -> bool {
        matches!(self.kind, TransportErrorKind::Connection | TransportErrorKind::Other | TransportErrorKind::LockLost)
    }
}
