//! Opening a connection step by step (DNS, TCP, TLS, WebSocket upgrade, AMQP open with SASL,
//! session, CBS), so a failure names the step that failed. We open the TCP stream ourselves: fe2o3 does not set
//! TCP_NODELAY, and without it small-credit peek-lock stalls on Nagle + delayed ACK (~300 msg/s).

use std::sync::Arc;
use std::time::Duration;

use fe2o3_amqp::connection::ConnectionHandle;
use fe2o3_amqp::connection::OpenError;
use fe2o3_amqp::sasl_profile::SaslProfile;
use fe2o3_amqp::session::SessionHandle;
use fe2o3_amqp::types::definitions;
use fe2o3_amqp::types::definitions::{AmqpError, ErrorCondition};
use fe2o3_amqp::{Connection, Session};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::cbs;
use crate::error::{Step, StepError};
use crate::config::{Auth, ServiceBusConfig};
use crate::sever::{Sever, SeverableTcp};

/// An open connection and one session on it, plus the CBS renewal task when SAS is used.
/// Dropping it ends everything (the renewal task too).
pub(crate) struct Link {
    pub(crate) connection: ConnectionHandle<()>,
    pub(crate) session: SessionHandle<()>,
    renewal: Option<JoinHandle<()>>,
    sever: Sever,
}

impl Link {
    /// Ends the connection from our side at once, dropping whatever it has not delivered
    /// ([`crate::sever`]): for a broker that stopped answering, whose socket would otherwise
    /// deliver our abandoned transfers once the network heals.
    pub(crate) fn sever(&self) {
        self.sever.sever();
    }

    /// For SAS: puts a token for `address` on `$cbs` and keeps renewing it while the link lives.
    pub(crate) async fn authorize(&mut self, config: &ServiceBusConfig, address: &str) -> Result<(), StepError> {
        if let Auth::SasCbs { rule, key } = &config.auth {
            let mut client = cbs::CbsClient::attach(&mut self.session).await?;
            let audience = config.audience(address);
            client.put_sas_token(&audience, rule, key, config.token_lifetime).await?;
            if let Some(old) = self.renewal.take() {
                old.abort();
            }
            self.renewal = Some(cbs::spawn_renewal(client, audience, rule.clone(), key.clone(), config.token_lifetime));
        }
        Ok(())
    }

    /// Closes politely; errors only mean the peer is already gone.
    ///
    /// The connection's Close ends its session too (AMQP 1.0 §2.4.3), so no End is sent first:
    /// fe2o3 0.18's session engine busy-polls from sending End until the peer's End arrives (its
    /// link-frame channel is closed and yields None at once). On one thread that wait often ran
    /// into the whole close timeout: 10 s of a core at 100 %, and a 10 s stall at every daemon
    /// shutdown or reconnect (test `closing_a_receiver_on_one_thread_ends_by_handshake_not_timeout`).
    pub(crate) async fn close(mut self) {
        if let Some(r) = self.renewal.take() {
            r.abort();
        }
        let _ = self.connection.close().await;
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(r) = self.renewal.take() {
            r.abort();
        }
    }
}

/// DNS → TCP → (TLS) → (WebSocket upgrade) → AMQP open + SASL → session.
pub(crate) async fn open(config: &ServiceBusConfig) -> Result<Link, StepError> {
    let deadline = config.connect_timeout;
    match tokio::time::timeout(deadline, open_inner(config)).await {
        Ok(r) => r,
        // The inner steps carry their own timeouts; this only catches a peer that accepts TCP
        // and then says nothing.
        Err(_) => Err(StepError::new(Step::Amqp, format!("no AMQP open from {}:{} within {deadline:?}", config.host, config.port))),
    }
}

async fn open_inner(config: &ServiceBusConfig) -> Result<Link, StepError> {
    let (stream, sever) = SeverableTcp::new(tcp_connect(config).await?);
    // Each layer is a different stream type; fe2o3 takes any of them and spawns its engine, so
    // the handle we keep is the same whichever way we got there.
    let mut connection = match (config.tls, config.websocket.as_deref()) {
        (false, None) => amqp_open(config, stream).await?,
        (true, None) => amqp_open(config, tls_connect(config, stream).await?).await?,
        (false, Some(path)) => amqp_open(config, ws_connect(config, path, stream).await?).await?,
        (true, Some(path)) => {
            let tls = tls_connect(config, stream).await?;
            amqp_open(config, ws_connect(config, path, tls).await?).await?
        }
    };
    let session = Session::begin(&mut connection)
        .await
        .map_err(|e| StepError::new(Step::Amqp, format!("session refused: {e}")))?;
    Ok(Link { connection, session, renewal: None, sever })
}

/// AMQP open + SASL over whatever stream the layers below produced.
async fn amqp_open<Io>(config: &ServiceBusConfig, stream: Io) -> Result<ConnectionHandle<()>, StepError>
where
    Io: AsyncRead + AsyncWrite + std::fmt::Debug + Send + Unpin + 'static,
{
    let builder = Connection::builder()
        .container_id(format!("cardbench-{}", uuid::Uuid::new_v4()))
        .hostname(config.host.as_str())
        .sasl_hostname(config.host.as_str())
        // TLS and WebSocket (if any) are already done below us; fe2o3 sees a plain stream.
        .scheme("amqp")
        // Lets the broker notice a dead client and us a dead broker.
        .idle_time_out(60_000u32);
    let builder = match &config.auth {
        Auth::SaslPlain { user, password } => {
            builder.sasl_profile(SaslProfile::Plain { username: user.clone(), password: password.expose().to_owned() })
        }
        Auth::SasCbs { .. } | Auth::Anonymous => builder.sasl_profile(SaslProfile::Anonymous),
    };
    builder.open_with_stream(stream).await.map_err(|e| classify_open(e, config))
}

/// The URL of the WebSocket endpoint. The scheme only names what the stream below already is
/// (we did TLS ourselves); the default port is left out so the Host header is the bare name, as
/// an HTTPS front end expects.
pub(crate) fn websocket_url(config: &ServiceBusConfig, path: &str) -> String {
    let (scheme, default) = if config.tls { ("wss", crate::config::WSS_PORT) } else { ("ws", crate::config::WS_PORT) };
    let host = if config.host.contains(':') && !config.host.starts_with('[') { format!("[{}]", config.host) } else { config.host.clone() };
    let port = if config.port == default { String::new() } else { format!(":{}", config.port) };
    format!("{scheme}://{host}{port}{path}")
}

/// The HTTP upgrade to a WebSocket with subprotocol `amqp` (the OASIS AMQP WebSocket binding),
/// over our own TCP (NODELAY) or TLS stream; fe2o3-amqp-ws insists on the `amqp` subprotocol in
/// the answer.
async fn ws_connect<S>(
    config: &ServiceBusConfig,
    path: &str,
    stream: S,
) -> Result<fe2o3_amqp_ws::WebSocketStream<fe2o3_amqp_ws::native::TokioWebSocketStream<S>>, StepError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let url = websocket_url(config, path);
    match tokio::time::timeout(Duration::from_secs(15), fe2o3_amqp_ws::WebSocketStream::connect_with_stream(&url, stream)).await {
        Ok(Ok(ws)) => {
            tracing::debug!(url = %url, "WebSocket upgraded (subprotocol amqp)");
            Ok(ws)
        }
        Ok(Err(e)) => Err(classify_ws(&e, &url)),
        Err(_) => Err(StepError::new(Step::WebSocket, format!("no answer to the WebSocket upgrade at {url} within 15 s"))),
    }
}

fn classify_ws(e: &fe2o3_amqp_ws::Error, url: &str) -> StepError {
    use fe2o3_amqp_ws::Error as W;
    use fe2o3_amqp_ws::tungstenite::Error as T;
    use fe2o3_amqp_ws::tungstenite::error::ProtocolError as P;
    let why = match e {
        W::Tungstenite(T::Http(resp)) => {
            let status = resp.status();
            let hint = match status.as_u16() {
                404 => " (wrong path? Service Bus serves /$servicebus/websocket)",
                400 | 426 => " (the server does not take this upgrade: a proxy in between, or not a WebSocket endpoint)",
                401 | 403 | 407 => " (a proxy or gateway refused the request)",
                _ => "",
            };
            format!("the server refused the WebSocket upgrade with HTTP {status}{hint}")
        }
        W::Tungstenite(T::Protocol(P::SecWebSocketSubProtocolError(sub))) => {
            format!("the server upgraded but not to the `amqp` subprotocol ({sub})")
        }
        W::MissingSecWebSocketProtocol | W::SecWebSocketProtocolIsNotAmqp => {
            "the server upgraded but not to the `amqp` subprotocol".to_owned()
        }
        W::StatucCodeIsNotSwitchingProtocols => "the server did not switch protocols (no HTTP 101)".to_owned(),
        W::Tungstenite(T::HttpFormat(err)) => format!("the answer is not HTTP ({err}): is this a plain AMQP port?"),
        W::Tungstenite(T::Protocol(p)) => format!("the WebSocket handshake failed: {p}"),
        W::Tungstenite(T::Io(io)) => format!("the connection broke during the WebSocket upgrade: {io}"),
        other => format!("the WebSocket upgrade failed: {other}"),
    };
    StepError::new(Step::WebSocket, format!("{url}: {why}"))
}

async fn tcp_connect(config: &ServiceBusConfig) -> Result<TcpStream, StepError> {
    let target = format!("{}:{}", config.host, config.port);
    let addrs: Vec<_> = match tokio::time::timeout(Duration::from_secs(10), tokio::net::lookup_host((config.host.as_str(), config.port))).await {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => return Err(StepError::new(Step::Dns, format!("cannot resolve {}: {e}", config.host))),
        Err(_) => return Err(StepError::new(Step::Dns, format!("resolving {} timed out", config.host))),
    };
    if addrs.is_empty() {
        return Err(StepError::new(Step::Dns, format!("{} resolves to no address", config.host)));
    }
    let mut last = String::new();
    for addr in addrs {
        match tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                if let Err(e) = s.set_nodelay(true) {
                    tracing::warn!(error = %e, "could not set TCP_NODELAY; small-credit receiving will be slow");
                }
                return Ok(s);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = format!("connection to {addr} refused (nothing listening on port {})", config.port)
            }
            Ok(Err(e)) => last = format!("cannot reach {addr}: {e}"),
            Err(_) => last = format!("connecting to {addr} timed out (a firewall dropping port {}?)", config.port),
        }
    }
    Err(StepError::new(Step::Tcp, format!("{target}: {last}")))
}

/// The TLS client configuration: `cardbench_tls`'s roots, plus the configured `ca_file`'s
/// certificates.
fn tls_config(config: &ServiceBusConfig) -> Result<Arc<rustls::ClientConfig>, StepError> {
    cardbench_tls::client_config(config.ca_file.as_deref()).map_err(|e| StepError::new(Step::Tls, e.to_string()))
}

async fn tls_connect<S>(config: &ServiceBusConfig, stream: S) -> Result<tokio_rustls::client::TlsStream<S>, StepError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = rustls::pki_types::ServerName::try_from(config.host.clone())
        .map_err(|e| StepError::new(Step::Tls, format!("`{}` is not a valid TLS server name: {e}", config.host)))?;
    let connector = tokio_rustls::TlsConnector::from(tls_config(config)?);
    match tokio::time::timeout(Duration::from_secs(15), connector.connect(name, stream)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(StepError::new(Step::Tls, format!("TLS handshake with {} failed: {e}", config.host))),
        Err(_) => Err(StepError::new(Step::Tls, format!("TLS handshake with {} timed out", config.host))),
    }
}

fn classify_open(e: OpenError, config: &ServiceBusConfig) -> StepError {
    match e {
        OpenError::SaslError { code, .. } => {
            let who = match &config.auth {
                Auth::SaslPlain { user, .. } => format!("user/rule `{user}`"),
                _ => "anonymous login".to_owned(),
            };
            StepError::new(Step::Auth, format!("SASL refused {who} (outcome {code:?}): wrong name or key/password?"))
        }
        OpenError::ProtocolHeaderMismatch(b) => {
            StepError::new(Step::Amqp, format!("the peer at {}:{} does not speak AMQP 1.0 (answered {:?})", config.host, config.port, &b[..b.len().min(8)]))
        }
        OpenError::RemoteClosedWithError(err) => match condition_step(&err) {
            Some(step) => StepError::new(step, format!("connection refused by the broker: {}", describe_amqp_error(&err))),
            None => StepError::new(Step::Amqp, format!("connection closed by the broker: {}", describe_amqp_error(&err))),
        },
        other => StepError::new(Step::Amqp, format!("AMQP open with {}:{} failed: {other}", config.host, config.port)),
    }
}

/// Maps AMQP error conditions that mean "not there" / "not allowed" / "bad credentials".
pub(crate) fn condition_step(err: &definitions::Error) -> Option<Step> {
    match &err.condition {
        ErrorCondition::AmqpError(AmqpError::NotFound) => Some(Step::QueueNotFound),
        ErrorCondition::AmqpError(AmqpError::UnauthorizedAccess) => {
            // Service Bus uses unauthorized-access both for a bad/expired token and for a missing
            // Listen/Send claim; the description tells which.
            let d = err.description.as_deref().unwrap_or("").to_ascii_lowercase();
            if d.contains("claim") || d.contains("permission") || d.contains("access refused") || d.contains("access_refused") {
                Some(Step::NoPermission)
            } else if d.contains("token") || d.contains("signature") || d.contains("expired") {
                Some(Step::Auth)
            } else {
                Some(Step::NoPermission)
            }
        }
        _ => None,
    }
}

pub(crate) fn describe_amqp_error(err: &definitions::Error) -> String {
    format!("{:?}{}", err.condition, err.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())
}

/// A link-attach or link-use error: find the AMQP error inside and classify it; a stopped
/// session/connection is a Connection failure.
pub(crate) fn classify_link_error(context: &str, debug: String, inner: Option<&definitions::Error>) -> StepError {
    if let Some(err) = inner {
        if let Some(step) = condition_step(err) {
            return StepError::new(step, format!("{context}: {}", describe_amqp_error(err)));
        }
        return StepError::new(Step::Amqp, format!("{context}: {}", describe_amqp_error(err)));
    }
    // Some stop reasons nest the error deeper than we unpack: fall back on its rendering.
    if debug.contains("NotFound") {
        return StepError::new(Step::QueueNotFound, format!("{context}: {debug}"));
    }
    if debug.contains("UnauthorizedAccess") {
        return StepError::new(Step::NoPermission, format!("{context}: {debug}"));
    }
    StepError::new(Step::Amqp, format!("{context}: {debug}"))
}

pub(crate) fn session_stop_error(r: &fe2o3_amqp::link::SessionStopReason) -> Option<&definitions::Error> {
    use fe2o3_amqp::connection::ConnectionStopReason as C;
    use fe2o3_amqp::link::SessionStopReason as S;
    match r {
        S::EndedWithError(e) | S::RemoteEndedWithError(e) => Some(e),
        S::ConnectionStopped(C::ClosedWithError(e) | C::RemoteClosedWithError(e)) => Some(e),
        _ => None,
    }
}

pub(crate) fn detach_error(e: &fe2o3_amqp::link::DetachError) -> Option<&definitions::Error> {
    use fe2o3_amqp::link::DetachError as D;
    match e {
        D::RemoteDetachedWithError(e) | D::RemoteClosedWithError(e) => Some(e),
        D::SessionStopped(r) => session_stop_error(r),
        _ => None,
    }
}

pub(crate) fn link_state_error(e: &fe2o3_amqp::link::LinkStateError) -> Option<&definitions::Error> {
    use fe2o3_amqp::link::LinkStateError as L;
    match e {
        L::RemoteDetachedWithError(e) | L::RemoteClosedWithError(e) => Some(e),
        L::SessionStopped(r) => session_stop_error(r),
        _ => None,
    }
}
