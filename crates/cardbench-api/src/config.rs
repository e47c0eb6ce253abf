//! `[api]` in the config file.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The listen address when none is configured: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Serve the card API (default: off).
    pub enabled: bool,
    /// `IP:port` to listen on (default `127.0.0.1:7878`). Port 0: any free port.
    pub listen: String,
    /// Allow a listen address other than loopback (the API has no TLS: only on a network the
    /// bureau trusts, or behind its own TLS proxy).
    pub allow_remote: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { enabled: false, listen: DEFAULT_LISTEN.to_owned(), allow_remote: false }
    }
}

impl ApiConfig {
    /// The address to listen on, refused when it is not loopback and `allow_remote` is off. The
    /// one check for the config file, the settings screen and the server.
    pub fn listen_addr(&self) -> Result<SocketAddr, ApiError> {
        let invalid = |reason: &str| ApiError::Listen { listen: self.listen.clone(), reason: reason.to_owned() };
        let addr: SocketAddr = self.listen.trim().parse().map_err(|_| invalid("write it as IP:port, e.g. 127.0.0.1:7878"))?;
        if !addr.ip().is_loopback() && !self.allow_remote {
            return Err(invalid("not a loopback address; set allow_remote = true to serve other machines"));
        }
        Ok(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(listen: &str, allow_remote: bool) -> Result<SocketAddr, ApiError> {
        ApiConfig { enabled: true, listen: listen.into(), allow_remote }.listen_addr()
    }

    #[test]
    fn loopback_only_unless_remote_is_allowed() {
        assert!(listen("127.0.0.1:7878", false).is_ok());
        assert!(listen("[::1]:7878", false).is_ok());
        assert!(listen("0.0.0.0:7878", false).is_err());
        assert!(listen("192.168.1.10:7878", false).is_err());
        assert!(listen("0.0.0.0:7878", true).is_ok());
        assert!(listen("localhost", false).is_err());
        assert_eq!(ApiConfig::default().listen_addr().ok(), Some(SocketAddr::from(([127, 0, 0, 1], 7878))));
    }
}
