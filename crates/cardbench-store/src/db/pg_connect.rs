//! How a connection to a floor's PostgreSQL server is made: plain TCP, or TLS when the URL asks
//! for it with `sslmode`, verified against `cardbench_tls`'s roots plus the CA file `sslrootcert`
//! names (a bureau's own CA). Every connection of the store goes through here: the reader's, the
//! writer's and the change feed's.
//!
//! The URL speaks libpq's words; what Cardbench does with each (`docs/floor.md`):
//! - no `sslmode`, or `disable`: plain TCP (a floor network, or a tunnel);
//! - `prefer`, `require`, `verify-ca`, `verify-full`: TLS, and the server's certificate is always
//!   verified, its name included (stricter than libpq's `require` and `verify-ca`, which do not
//!   check the name: a store holding cardholder data is not reached over a link whose far end is
//!   unknown). Without a usable TLS server the connection fails; it never falls back to plain.

use tokio_postgres::{Client, Connection, Socket};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A connection as both kinds of link give it (a plain one never uses its TLS side).
pub(crate) type PgLink = Connection<Socket, <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream>;

/// What the URL asks for, in tokio-postgres's words.
#[derive(Debug)]
pub(crate) struct Target {
    /// The URL without Cardbench's own parameter (`sslrootcert`) and with `sslmode` as
    /// tokio-postgres reads it (`disable` or `require`).
    pub config: tokio_postgres::Config,
    pub tls: bool,
    pub ca_file: Option<std::path::PathBuf>,
}

/// Reads `url`'s TLS parameters. The query is taken apart by hand, not re-encoded: the rest of it
/// (e.g. `options=-c%20search_path%3D…`) goes to tokio-postgres exactly as written.
pub(crate) fn target(url: &str) -> Result<Target, String> {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let mut kept = Vec::new();
    let (mut mode, mut ca_file) = (None, None);
    for piece in query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()) {
        let decoded = |p: &str| url::form_urlencoded::parse(p.as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
        match piece.split_once('=').map_or(piece, |(k, _)| k) {
            "sslmode" => mode = Some(decoded(piece)),
            "sslrootcert" => ca_file = Some(std::path::PathBuf::from(decoded(piece))),
            _ => kept.push(piece),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable") => false,
        Some("prefer" | "require" | "verify-ca" | "verify-full") => true,
        Some(other) => return Err(format!("sslmode={other} is not one of disable, require, verify-ca, verify-full")),
    };
    if ca_file.is_some() && !tls {
        return Err("sslrootcert is given but no sslmode asks for TLS (add sslmode=verify-full)".into());
    }
    kept.push(if tls { "sslmode=require" } else { "sslmode=disable" });
    let config = format!("{base}?{}", kept.join("&")).parse::<tokio_postgres::Config>().map_err(|e| e.to_string())?;
    Ok(Target { config, tls, ca_file })
}

/// Why a connection was not made.
#[derive(Debug)]
pub(crate) struct ConnectFailed {
    pub reason: String,
    /// The server did not answer or would not take a connection now (refused, timed out, shutting
    /// down, too many connections): the store is unreachable, not wrongly configured.
    pub unreachable: bool,
}

impl From<String> for ConnectFailed {
    fn from(reason: String) -> Self {
        ConnectFailed { reason, unreachable: false }
    }
}

/// Connects to `url` as [`target`] reads it.
pub(crate) async fn connect(url: &str) -> Result<(Client, PgLink), ConnectFailed> {
    let target = target(url)?;
    let tls = if target.tls {
        cardbench_tls::client_config(target.ca_file.as_deref()).map_err(|e| e.to_string())?
    } else {
        // Never used (sslmode=disable): any configuration will do.
        cardbench_tls::client_config(None).map_err(|e| e.to_string())?
    };
    let connector = MakeRustlsConnect::new(std::sync::Arc::unwrap_or_clone(tls));
    target.config.connect(connector).await.map_err(|e| ConnectFailed {
        reason: crate::postgres::describe(&e),
        // 55000 at connect: the database does not take connections now (`ALLOW_CONNECTIONS
        // false`, what IT sets for maintenance).
        unreachable: crate::postgres::is_connection_lost(&e) || e.code().is_some_and(|c| c.code() == "55000"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_says_whether_to_use_tls_and_keeps_the_rest_as_written() {
        let plain = target("postgres://cardbench@127.0.0.1:5432/db?options=-c%20search_path%3Dt_1").expect("plain");
        assert!(!plain.tls);
        assert_eq!(plain.config.get_options(), Some("-c search_path=t_1"));
        let tls = target("postgres://cardbench@db.floor/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fcardbench%2Fca.pem").expect("tls");
        assert!(tls.tls);
        assert_eq!(tls.ca_file.as_deref(), Some(std::path::Path::new("/etc/cardbench/ca.pem")));
        assert_eq!(tls.config.get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        assert!(target("postgres://db/x?sslmode=allow").expect_err("refused").contains("sslmode=allow"));
        assert!(target("postgres://db/x?sslrootcert=/ca.pem").expect_err("refused").contains("sslmode"));
    }
}
