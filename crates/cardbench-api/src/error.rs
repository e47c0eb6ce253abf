use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("invalid [api] listen address {listen:?}: {reason}")]
    Listen { listen: String, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("no API token yet: run `cardbench api token` (or generate one in Settings → Reporting)")]
    NoToken,
    #[error("an API token exists already; rotate it to replace it (the old one stops working)")]
    TokenExists,
    #[error("the API token could not be kept: {0}")]
    Secrets(String),
}
