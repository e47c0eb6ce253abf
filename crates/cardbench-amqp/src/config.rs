//! Where and how to connect. [`ServiceBusSettings`] is what the config file holds (never a key);
//! [`ServiceBusConfig`] is the settings plus the secret, ready to connect.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

pub const AMQPS_PORT: u16 = 5671;
pub const AMQP_PORT: u16 = 5672;
/// AMQP over WebSockets: HTTPS's port, the one a floor that only lets HTTPS out still allows.
pub const WSS_PORT: u16 = 443;
pub const WS_PORT: u16 = 80;
/// Where Service Bus serves AMQP over WebSockets (the path its SDKs use).
pub const SERVICE_BUS_WS_PATH: &str = "/$servicebus/websocket";
/// Link credit granted at a time (see [`ServiceBusConfig::credit`]). Each grant costs a round
/// trip of idle link; 128 and 256 measured the same here, and the smaller one locks fewer at once.
pub const DEFAULT_CREDIT: u32 = 128;
/// Messages held locked at most (see [`ServiceBusConfig::max_locked`]): three of the daemon's
/// batches of up to 1,024 — one committing, one taken and waiting its turn, one arriving while
/// the first commits (fewer, and the broker idles during commits). A message waits at most for
/// the commits of what is held ahead of it: 3,072 messages commit in ≈ 0.3 s here, and even at a
/// one-at-a-time rate (≈ 200 msg/s) in ≈ 15 s — inside Service Bus's default 60 s lock (and the
/// 30 s we ask NGOC for at least). We do not renew locks.
pub const DEFAULT_MAX_LOCKED: u32 = 3072;
/// Largest received message whose body is read (see [`ServiceBusConfig::max_message_size`]):
/// Service Bus premium's message size (the standard tier's is 256 KB).
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 1024 * 1024;
/// Service Bus addresses a queue's dead-letter sub-queue as `<queue>/$DeadLetterQueue`.
pub const SERVICE_BUS_DLQ_SUFFIX: &str = "/$DeadLetterQueue";

pub use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Service Bus: SASL ANONYMOUS, then a SAS token put on `$cbs` for each queue (renewed).
    SasCbs { rule: String, key: Secret },
    /// SASL PLAIN: Service Bus accepts rule name / key; plain brokers take user / password.
    SaslPlain { user: String, password: Secret },
    Anonymous,
}

/// How to authenticate, as stored in the config file (the secret is in the OS keyring).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    #[default]
    SasCbs,
    SaslPlain,
    Anonymous,
}

/// What the config file holds. No secret: see [`crate::secrets`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceBusSettings {
    /// Namespace host, e.g. `ngoc-prod.servicebus.windows.net`.
    pub host: String,
    /// Default: 5671 with TLS, 5672 without.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "yes")]
    pub tls: bool,
    /// AMQP over WebSockets (HTTP upgrade, subprotocol `amqp`) instead of AMQP straight on TCP:
    /// for floors where only HTTPS (443) leaves the building. The port then defaults to 443.
    #[serde(default)]
    pub websocket: bool,
    /// The WebSocket endpoint's HTTP path; default `/$servicebus/websocket` (Service Bus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket_path: Option<String>,
    /// A PEM file of extra CA certificates to trust for TLS, on top of the platform's and
    /// Mozilla's roots: a TLS-inspecting proxy's CA, or a rehearsal broker's own CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub auth: AuthKind,
    /// SAS rule name (SasCbs, SaslPlain on Service Bus) or user name (SaslPlain on a plain broker):
    /// the receiving side's credential (inbound queue, its dead letters), and the sending side's
    /// too unless `outbound_credential` is set.
    #[serde(default)]
    pub user: Option<String>,
    /// The `EntityPath` of `user`'s connection string: the one queue that credential was issued
    /// for. Must then be the inbound queue, and the outbound queue needs its own credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_path: Option<String>,
    /// Queue NGOC sends to (we listen). Empty: the inbound credential's `entity_path`.
    #[serde(default)]
    pub inbound_queue: String,
    /// Queue we send to (NGOC listens). Empty: the outbound credential's `entity_path`.
    #[serde(default)]
    pub outbound_queue: String,
    /// Put before a queue name to make its AMQP address: "" for Service Bus, "/amq/queue/" for
    /// RabbitMQ (whose `/queue/x` would auto-create a transient queue instead).
    #[serde(default)]
    pub address_prefix: String,
    /// Put after a queue name to make its dead-letter queue's name.
    #[serde(default = "dlq_suffix")]
    pub dead_letter_suffix: String,
    /// Receiver credit: how many messages are asked of the broker at a time.
    #[serde(default = "default_credit")]
    pub credit: u32,
    /// How many messages the receiver holds locked at most (received, not yet settled).
    #[serde(default = "default_max_locked")]
    pub max_locked: u32,
    /// See [`ServiceBusConfig::count_first_acquirer`].
    #[serde(default)]
    pub count_first_acquirer: bool,
    /// See [`ServiceBusConfig::max_message_size`].
    #[serde(default = "default_max_message_size")]
    pub max_message_size: u64,
    /// The sending side's own credential, when NGOC hands out one per queue (the partner may
    /// Listen on the inbound queue and Send on the outbound one). Absent: `user` serves both.
    /// Last in the struct: TOML writes tables after plain values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_credential: Option<CredentialSettings>,
}

/// One side's credential as the config file holds it (its key is in the OS keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSettings {
    /// SAS rule name (or user name on a plain broker).
    pub user: String,
    /// The queue the credential was issued for (`EntityPath`), checked against the queue name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_path: Option<String>,
}

fn yes() -> bool {
    true
}
fn dlq_suffix() -> String {
    SERVICE_BUS_DLQ_SUFFIX.to_owned()
}
fn default_credit() -> u32 {
    DEFAULT_CREDIT
}
fn default_port(tls: bool, websocket: bool) -> u16 {
    match (tls, websocket) {
        (true, false) => AMQPS_PORT,
        (false, false) => AMQP_PORT,
        (true, true) => WSS_PORT,
        (false, true) => WS_PORT,
    }
}
fn default_max_locked() -> u32 {
    DEFAULT_MAX_LOCKED
}
fn default_max_message_size() -> u64 {
    DEFAULT_MAX_MESSAGE_SIZE
}

/// Settings plus secret, checked: ready for [`crate::AmqpConnector::new`] and
/// [`crate::check_connection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceBusConfig {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// `Some(path)`: AMQP runs over a WebSocket opened with an HTTP upgrade on `path` (after TLS
    /// when `tls`). `None`: AMQP straight on the TCP (or TLS) stream.
    pub websocket: Option<String>,
    /// Extra trusted CA certificates (PEM), added to the platform's and Mozilla's roots; never
    /// replaces them and never turns verification off.
    pub ca_file: Option<PathBuf>,
    /// The receiving side's credential (receivers on the inbound queue, the dead-letter browser),
    /// and the sending side's too unless `outbound_auth` is set.
    pub auth: Auth,
    /// The sending side's own credential (senders to the outbound queue), when NGOC hands out
    /// one per queue. `None`: `auth` serves both sides.
    pub outbound_auth: Option<Auth>,
    pub inbound_queue: String,
    pub outbound_queue: String,
    pub address_prefix: String,
    pub dead_letter_suffix: String,
    /// Link credit granted at a time: the broker sends at most this many before we ask again.
    /// A grant is made only when the previous one is used up (RabbitMQ 3.10 miscounts a grant
    /// made while transfers are in flight), so each grant costs one broker round trip of idle
    /// link: larger grants idle less often.
    pub credit: u32,
    /// Messages this receiver holds locked at most: received and not yet accepted or released
    /// (waiting for a commit, in a commit, waiting for the accept). A grant is made only when it
    /// fits under this. It is what bounds how long a lock can wait: Service Bus's default lock
    /// is 60 s, and we do not renew locks.
    pub max_locked: u32,
    /// DNS + TCP + TLS + AMQP open must finish within this.
    pub connect_timeout: Duration,
    /// Lifetime of each SAS token; renewed at 80 %.
    pub token_lifetime: Duration,
    /// Count a delivery with first-acquirer=false as redelivered (RabbitMQ leaves
    /// delivery-count at 0). Off for Service Bus, which counts properly.
    pub count_first_acquirer: bool,
    /// A received message whose body is larger than this many bytes is not read: the receiver
    /// passes on only its first `max_message_size + 1` bytes, and the workflow records that
    /// prefix and answers ERROR without decoding it (see "Limits" in `docs/protocol/README.md`).
    /// Not advertised on the link: fe2o3 detaches a link on a larger delivery, the message comes
    /// back on the next link, and the queue jams (`docs/decisions/max-message-size.md`).
    pub max_message_size: u64,
}

impl ServiceBusConfig {
    /// A Service Bus namespace over amqps:5671 with CBS SAS auth and default addressing.
    pub fn service_bus(host: &str, rule: &str, key: Secret, inbound: &str, outbound: &str) -> Result<Self, ConfigError> {
        Self {
            host: host.to_owned(),
            port: AMQPS_PORT,
            tls: true,
            websocket: None,
            ca_file: None,
            auth: Auth::SasCbs { rule: rule.to_owned(), key },
            outbound_auth: None,
            inbound_queue: inbound.to_owned(),
            outbound_queue: outbound.to_owned(),
            address_prefix: String::new(),
            dead_letter_suffix: dlq_suffix(),
            credit: DEFAULT_CREDIT,
            max_locked: DEFAULT_MAX_LOCKED,
            connect_timeout: Duration::from_secs(20),
            token_lifetime: Duration::from_secs(3600),
            count_first_acquirer: false,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
        .validated()
    }

    /// From a URL like `amqp://guest:guest@127.0.0.1:5672` (the test broker; `amqps://` for TLS;
    /// `ws://` / `wss://` for AMQP over WebSockets, with the URL's path as the endpoint, default
    /// `/$servicebus/websocket`). User and password give SASL PLAIN, none gives ANONYMOUS.
    /// Addressing is RabbitMQ's (`/amq/queue/<name>`, dead letters in `<name>.dlq`).
    pub fn from_amqp_url(url: &str, inbound: &str, outbound: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::BadUrl(redact_url(url));
        let (tls, ws, rest) = if let Some(r) = url.strip_prefix("amqps://") {
            (true, false, r)
        } else if let Some(r) = url.strip_prefix("amqp://") {
            (false, false, r)
        } else if let Some(r) = url.strip_prefix("wss://") {
            (true, true, r)
        } else if let Some(r) = url.strip_prefix("ws://") {
            (false, true, r)
        } else {
            return Err(bad());
        };
        // Only a WebSocket URL has a meaningful path (the HTTP endpoint of the upgrade).
        let (rest, path) = match rest.find('/') {
            Some(i) if ws => (&rest[..i], Some(&rest[i..])),
            Some(i) if rest[i..].trim_matches('/').is_empty() => (&rest[..i], None),
            Some(_) => return Err(bad()),
            None => (rest, None),
        };
        let websocket = ws.then(|| path.filter(|p| *p != "/").unwrap_or(SERVICE_BUS_WS_PATH).to_owned());
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() => (h.trim_matches(['[', ']']), p.parse::<u16>().map_err(|_| bad())?),
            None if !hostport.is_empty() => (hostport, default_port(tls, ws)),
            _ => return Err(bad()),
        };
        let auth = match userinfo {
            None => Auth::Anonymous,
            Some(ui) => {
                let (u, p) = ui.split_once(':').unwrap_or((ui, ""));
                Auth::SaslPlain { user: percent_decode(u), password: Secret::new(percent_decode(p)) }
            }
        };
        Self {
            host: host.to_owned(),
            port,
            tls,
            websocket,
            ca_file: None,
            auth,
            outbound_auth: None,
            inbound_queue: inbound.to_owned(),
            outbound_queue: outbound.to_owned(),
            address_prefix: "/amq/queue/".to_owned(),
            dead_letter_suffix: ".dlq".to_owned(),
            credit: DEFAULT_CREDIT,
            max_locked: DEFAULT_MAX_LOCKED,
            connect_timeout: Duration::from_secs(20),
            token_lifetime: Duration::from_secs(3600),
            count_first_acquirer: true,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
        .validated()
    }

    /// Like [`Self::from_amqp_url`], with a second URL for the sending side: the same broker
    /// (scheme, host, port, path), another user. This is how the rehearsal broker plays NGOC's
    /// two credentials (read on the inbound queue, write on the outbound one). `None`: the one
    /// URL serves both sides.
    pub fn from_amqp_urls(url: &str, outbound_url: Option<&str>, inbound: &str, outbound: &str) -> Result<Self, ConfigError> {
        let mut config = Self::from_amqp_url(url, inbound, outbound)?;
        if let Some(out_url) = outbound_url {
            let out = Self::from_amqp_url(out_url, inbound, outbound)?;
            if (&out.host, out.port, out.tls, &out.websocket) != (&config.host, config.port, config.tls, &config.websocket) {
                return Err(ConfigError::OutboundUrlOtherBroker(redact_url(out_url)));
            }
            config.outbound_auth = Some(out.auth);
        }
        config.validated()
    }

    /// The credential receivers use (inbound queue, dead letters).
    pub fn inbound_auth(&self) -> &Auth {
        &self.auth
    }

    /// The credential senders use (outbound queue).
    pub fn outbound_auth(&self) -> &Auth {
        self.outbound_auth.as_ref().unwrap_or(&self.auth)
    }

    /// This configuration as the sending side connects: with the outbound credential in `auth`,
    /// so the connection code (SASL, CBS) has one credential to deal with.
    pub fn sending(&self) -> Cow<'_, ServiceBusConfig> {
        match &self.outbound_auth {
            None => Cow::Borrowed(self),
            Some(auth) => Cow::Owned(ServiceBusConfig { auth: auth.clone(), outbound_auth: None, ..self.clone() }),
        }
    }

    /// Checks what can be checked without connecting.
    pub fn validated(self) -> Result<Self, ConfigError> {
        if self.host.trim().is_empty() {
            return Err(ConfigError::EmptyHost);
        }
        if self.inbound_queue.trim().is_empty() {
            return Err(ConfigError::EmptyQueue("inbound"));
        }
        if self.outbound_queue.trim().is_empty() {
            return Err(ConfigError::EmptyQueue("outbound"));
        }
        // Keys and tokens would cross the network in clear: only on this machine.
        if !self.tls && !is_loopback(&self.host) {
            return Err(ConfigError::PlainToRemoteHost(self.host.clone()));
        }
        for auth in [Some(&self.auth), self.outbound_auth.as_ref()].into_iter().flatten() {
            match auth {
                Auth::SasCbs { rule, key } => {
                    if rule.is_empty() {
                        return Err(ConfigError::EmptyCredential("SAS rule name"));
                    }
                    if key.expose().is_empty() {
                        return Err(ConfigError::EmptyCredential("SAS key"));
                    }
                }
                Auth::SaslPlain { user, .. } if user.is_empty() => return Err(ConfigError::EmptyCredential("user name")),
                _ => {}
            }
        }
        if let Some(path) = &self.websocket
            && (!path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#'))
        {
            return Err(ConfigError::BadWebSocketPath(path.clone()));
        }
        if !(1..=10_000).contains(&self.credit) {
            return Err(ConfigError::BadCredit(self.credit));
        }
        if !(self.credit..=10_000).contains(&self.max_locked) {
            return Err(ConfigError::BadMaxLocked { max_locked: self.max_locked, credit: self.credit });
        }
        Ok(self)
    }

    /// The AMQP address of a queue.
    pub fn address(&self, queue: &str) -> String {
        format!("{}{}", self.address_prefix, queue)
    }

    /// The AMQP address of a queue's dead-letter queue.
    pub fn dead_letter_address(&self, queue: &str) -> String {
        format!("{}{}{}", self.address_prefix, queue, self.dead_letter_suffix)
    }

    /// The CBS audience of a queue: `sb://<host>/<address>`.
    pub fn audience(&self, address: &str) -> String {
        format!("sb://{}/{}", self.host, address.trim_start_matches('/'))
    }

    /// For logs: where, how, never the secret.
    pub fn describe(&self) -> String {
        let scheme = match (self.tls, self.websocket.is_some()) {
            (true, false) => "amqps",
            (false, false) => "amqp",
            (true, true) => "wss",
            (false, true) => "ws",
        };
        let path = self.websocket.as_deref().unwrap_or("");
        let auth = match &self.outbound_auth {
            None => describe_auth(&self.auth),
            Some(out) => format!("receiving: {}; sending: {}", describe_auth(&self.auth), describe_auth(out)),
        };
        format!("{scheme}://{}:{}{path} ({auth})", self.host, self.port)
    }

    /// The settings to store in the config file (the secrets go to the keyring). EntityPaths
    /// are not known here (they were checked against the queue names): none is written.
    pub fn settings(&self) -> ServiceBusSettings {
        let (auth, user) = match &self.auth {
            Auth::SasCbs { rule, .. } => (AuthKind::SasCbs, Some(rule.clone())),
            Auth::SaslPlain { user, .. } => (AuthKind::SaslPlain, Some(user.clone())),
            Auth::Anonymous => (AuthKind::Anonymous, None),
        };
        ServiceBusSettings {
            host: self.host.clone(),
            port: Some(self.port),
            tls: self.tls,
            websocket: self.websocket.is_some(),
            websocket_path: self.websocket.clone().filter(|p| p != SERVICE_BUS_WS_PATH),
            ca_file: self.ca_file.clone(),
            auth,
            user,
            inbound_queue: self.inbound_queue.clone(),
            outbound_queue: self.outbound_queue.clone(),
            address_prefix: self.address_prefix.clone(),
            dead_letter_suffix: self.dead_letter_suffix.clone(),
            credit: self.credit,
            max_locked: self.max_locked,
            count_first_acquirer: self.count_first_acquirer,
            max_message_size: self.max_message_size,
            entity_path: None,
            outbound_credential: self.outbound_auth.as_ref().and_then(|a| match a {
                Auth::SasCbs { rule, .. } => Some(CredentialSettings { user: rule.clone(), entity_path: None }),
                Auth::SaslPlain { user, .. } => Some(CredentialSettings { user: user.clone(), entity_path: None }),
                Auth::Anonymous => None,
            }),
        }
    }
}

/// A credential in words, never its secret: "SAS rule partner-listen via CBS".
fn describe_auth(auth: &Auth) -> String {
    match auth {
        Auth::SasCbs { rule, .. } => format!("SAS rule {rule} via CBS"),
        Auth::SaslPlain { user, .. } => format!("SASL PLAIN as {user}"),
        Auth::Anonymous => "anonymous".to_owned(),
    }
}

impl Auth {
    /// The credential's name as NGOC knows it (SAS rule or user name), for messages.
    pub fn name(&self) -> &str {
        match self {
            Auth::SasCbs { rule, .. } => rule,
            Auth::SaslPlain { user, .. } => user,
            Auth::Anonymous => "anonymous",
        }
    }
}

impl ServiceBusSettings {
    /// Reads the keys/passwords from the OS keyring (filed by [`crate::secrets::store_secret_for`]
    /// under host, rule/user and EntityPath) and joins them: what the CLI and the app call at start.
    pub fn load_config(self) -> Result<ServiceBusConfig, ConfigError> {
        let load = |user: &str, entity: Option<&str>| {
            crate::secrets::load_secret_for(&self.host, user, entity).map_err(|e| ConfigError::Keyring(e.to_string()))
        };
        let (inbound, outbound) = match self.auth {
            AuthKind::Anonymous => (None, None),
            AuthKind::SasCbs | AuthKind::SaslPlain => {
                let inbound = load(self.user.as_deref().unwrap_or_default(), self.entity_path.as_deref())?;
                let outbound = match &self.outbound_credential {
                    Some(c) => load(&c.user, c.entity_path.as_deref())?,
                    None => inbound.clone(),
                };
                (inbound, outbound)
            }
        };
        self.into_config_with(inbound, outbound)
    }

    /// Joins the settings with the secret (from [`crate::secrets::load_secret`]; `None` for
    /// anonymous), for settings with one credential for both sides.
    pub fn into_config(self, secret: Option<Secret>) -> Result<ServiceBusConfig, ConfigError> {
        self.into_config_with(secret.clone(), secret)
    }

    /// Joins the settings with each side's secret (the outbound one is used only when
    /// `outbound_credential` is set). Checks each credential's EntityPath against its queue: a
    /// mismatch is refused; an empty queue name is taken from the EntityPath.
    pub fn into_config_with(mut self, inbound_secret: Option<Secret>, outbound_secret: Option<Secret>) -> Result<ServiceBusConfig, ConfigError> {
        let user = self.user.clone().unwrap_or_default();
        let host = self.host.clone();
        let kind = self.auth;
        let make = |user: &str, entity: Option<&str>, secret: Option<Secret>| -> Result<Auth, ConfigError> {
            let need = || {
                let which = match entity {
                    Some(e) => format!("{host} ({user}, EntityPath {e})"),
                    None => format!("{host} ({user})"),
                };
                secret.clone().ok_or(ConfigError::KeyNotStored(which))
            };
            Ok(match kind {
                AuthKind::SasCbs => Auth::SasCbs { rule: user.to_owned(), key: need()? },
                AuthKind::SaslPlain => Auth::SaslPlain { user: user.to_owned(), password: need()? },
                AuthKind::Anonymous => Auth::Anonymous,
            })
        };
        if let Some(entity) = &self.entity_path {
            if self.outbound_credential.is_none() {
                return Err(ConfigError::EntityPathForBothQueues { user: user.clone(), entity_path: entity.clone() });
            }
            self.inbound_queue = checked_entity_path("inbound", &user, entity, &self.inbound_queue)?;
        }
        let outbound_auth = match &self.outbound_credential {
            None => None,
            Some(c) => {
                if let Some(entity) = &c.entity_path {
                    self.outbound_queue = checked_entity_path("outbound", &c.user, entity, &self.outbound_queue)?;
                }
                Some(make(&c.user, c.entity_path.as_deref(), outbound_secret)?)
            }
        };
        let auth = make(&user, self.entity_path.as_deref(), inbound_secret)?;
        ServiceBusConfig {
            port: self.port.unwrap_or(default_port(self.tls, self.websocket)),
            websocket: self.websocket.then(|| self.websocket_path.clone().unwrap_or_else(|| SERVICE_BUS_WS_PATH.to_owned())),
            ca_file: self.ca_file,
            host: self.host,
            tls: self.tls,
            auth,
            outbound_auth,
            inbound_queue: self.inbound_queue,
            outbound_queue: self.outbound_queue,
            address_prefix: self.address_prefix,
            dead_letter_suffix: self.dead_letter_suffix,
            credit: self.credit,
            max_locked: self.max_locked,
            connect_timeout: Duration::from_secs(20),
            token_lifetime: Duration::from_secs(3600),
            count_first_acquirer: self.count_first_acquirer,
            max_message_size: self.max_message_size,
        }
        .validated()
    }
}

impl ServiceBusSettings {
    /// The settings for pasted connection strings: `first` serves the receiving side (and the
    /// sending side too when `outbound` is `None`), `outbound` the sending side. Each
    /// `EntityPath` is checked against its queue name, or gives the queue name when that is
    /// empty; both strings must name one namespace. The keys are not in the result: the caller
    /// files them with [`crate::secrets::store_secret_for`] under ([`ConnectionString::host`],
    /// rule, EntityPath).
    pub fn from_connection_strings(
        first: &ConnectionString,
        outbound: Option<&ConnectionString>,
        inbound_queue: &str,
        outbound_queue: &str,
    ) -> Result<ServiceBusSettings, ConfigError> {
        let (inbound_queue, outbound_queue, outbound_credential) = match outbound {
            None => {
                if let Some(entity) = &first.entity_path {
                    return Err(ConfigError::EntityPathForBothQueues { user: first.rule.clone(), entity_path: entity.clone() });
                }
                (inbound_queue.trim().to_owned(), outbound_queue.trim().to_owned(), None)
            }
            Some(out) => {
                if !out.host.eq_ignore_ascii_case(&first.host) {
                    return Err(ConfigError::DifferentNamespaces { inbound: first.host.clone(), outbound: out.host.clone() });
                }
                let inbound_queue = match &first.entity_path {
                    Some(e) => checked_entity_path("inbound", &first.rule, e, inbound_queue)?,
                    None => inbound_queue.trim().to_owned(),
                };
                let outbound_queue = match &out.entity_path {
                    Some(e) => checked_entity_path("outbound", &out.rule, e, outbound_queue)?,
                    None => outbound_queue.trim().to_owned(),
                };
                (inbound_queue, outbound_queue, Some(CredentialSettings { user: out.rule.clone(), entity_path: out.entity_path.clone() }))
            }
        };
        if inbound_queue.is_empty() {
            return Err(ConfigError::EmptyQueue("inbound"));
        }
        if outbound_queue.is_empty() {
            return Err(ConfigError::EmptyQueue("outbound"));
        }
        Ok(ServiceBusSettings {
            host: first.host.clone(),
            port: None,
            tls: true,
            websocket: false,
            websocket_path: None,
            ca_file: None,
            auth: AuthKind::SasCbs,
            user: Some(first.rule.clone()),
            entity_path: first.entity_path.clone(),
            inbound_queue,
            outbound_queue,
            address_prefix: String::new(),
            dead_letter_suffix: dlq_suffix(),
            credit: DEFAULT_CREDIT,
            max_locked: DEFAULT_MAX_LOCKED,
            count_first_acquirer: false,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            outbound_credential,
        })
    }
}

/// A credential issued for one queue (`EntityPath`) serves that queue only: the queue name must
/// be that one, and an empty queue name becomes it. Returns the queue name to use.
pub fn checked_entity_path(side: &'static str, user: &str, entity_path: &str, queue: &str) -> Result<String, ConfigError> {
    let queue = queue.trim();
    if queue.is_empty() || queue == entity_path {
        return Ok(entity_path.to_owned());
    }
    Err(ConfigError::EntityPathMismatch { side, user: user.to_owned(), entity_path: entity_path.to_owned(), queue: queue.to_owned() })
}

/// A pasted `Endpoint=sb://HOST/;SharedAccessKeyName=...;SharedAccessKey=...[;EntityPath=...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    pub host: String,
    pub rule: String,
    pub key: Secret,
    /// Present when the string was issued for one queue (a queue-level rule).
    pub entity_path: Option<String>,
}

impl ConnectionString {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ConfigError::EmptyConnectionString);
        }
        let (mut endpoint, mut rule, mut key, mut entity) = (None, None, None, None);
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            // The key is base64 and may end in '=': split at the first '=' only.
            let Some((name, value)) = part.split_once('=') else {
                // Never echo what may be the key.
                let shown = if part.len() > 24 { format!("{}…", &part[..part.char_indices().nth(12).map_or(part.len(), |(i, _)| i)]) } else { part.to_owned() };
                return Err(ConfigError::MalformedPart(shown));
            };
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "endpoint" => (&mut endpoint, "Endpoint"),
                "sharedaccesskeyname" => (&mut rule, "SharedAccessKeyName"),
                "sharedaccesskey" => (&mut key, "SharedAccessKey"),
                "entitypath" => (&mut entity, "EntityPath"),
                // Other parts (e.g. UseDevelopmentEmulator) do not concern us.
                _ => continue,
            };
            if slot.0.is_some() {
                return Err(ConfigError::DuplicatePart(slot.1));
            }
            let value = value.trim();
            if value.is_empty() {
                return Err(ConfigError::EmptyPart(slot.1));
            }
            *slot.0 = Some(value.to_owned());
        }
        let endpoint = endpoint.ok_or(ConfigError::MissingPart("Endpoint"))?;
        let rule = rule.ok_or(ConfigError::MissingPart("SharedAccessKeyName"))?;
        let key = key.ok_or(ConfigError::MissingPart("SharedAccessKey"))?;
        let host = endpoint
            .strip_prefix("sb://")
            .or_else(|| endpoint.strip_prefix("amqps://"))
            .map(|h| h.trim_end_matches('/'))
            .filter(|h| !h.is_empty() && !h.contains(['/', '@', ' ', ':']))
            .ok_or_else(|| ConfigError::BadEndpoint(endpoint.clone()))?;
        Ok(ConnectionString { host: host.to_owned(), rule, key: Secret::new(key), entity_path: entity })
    }
}

pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_matches(['[', ']']);
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// What a screen shows in place of a password, and what it may send back meaning "unchanged".
pub const REDACTED_PASSWORD: &str = "***";

/// The credential part of an AMQP URL (`amqp://user:pass@host:port/path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCredential {
    /// Percent-decoded.
    pub user: String,
    /// Percent-decoded; `None` when the URL has none, or only [`REDACTED_PASSWORD`].
    pub password: Option<Secret>,
    /// `host:port` as written: with the user, the keyring account of the password.
    pub server: String,
    /// The same URL without the password (`amqp://user@host:port/path`): what a file may keep.
    pub without_password: String,
}

/// The user, password and server of `url`; `None` for a URL without a user (anonymous) or one
/// that is not `scheme://…`.
pub fn url_credential(url: &str) -> Option<UrlCredential> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, server) = authority.rsplit_once('@')?;
    let (user_raw, password_raw) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let password = password_raw.filter(|p| !p.is_empty() && *p != REDACTED_PASSWORD).map(|p| Secret::new(percent_decode(p)));
    Some(UrlCredential {
        user: percent_decode(user_raw),
        password,
        server: server.to_owned(),
        without_password: format!("{scheme}://{user_raw}@{server}{path}"),
    })
}

/// The URL a screen sent back: when it carries [`REDACTED_PASSWORD`] (the password left as
/// shown), `current` if that is the same URL with its password, else the URL without one (the
/// password then stays where it is kept).
pub fn restore_redacted_url(posted: &str, current: Option<&str>) -> String {
    let Some(credential) = url_credential(posted) else {
        return posted.to_owned();
    };
    let redacted = posted.split_once("://").and_then(|(_, r)| r.split('/').next()).and_then(|a| a.rsplit_once('@')).is_some_and(|(ui, _)| ui.ends_with(&format!(":{REDACTED_PASSWORD}")));
    if !redacted {
        return posted.to_owned();
    }
    match current.and_then(|c| url_credential(c).map(|cc| (c, cc))) {
        Some((current, cc)) if cc.without_password == credential.without_password => current.to_owned(),
        _ => credential.without_password,
    }
}

/// The URL with any password replaced, for error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Endpoint=sb://ngoc-test.servicebus.windows.net/;SharedAccessKeyName=bureau;SharedAccessKey=abc+/def==;EntityPath=to-bureau";

    #[test]
    fn parses_a_pasted_connection_string() {
        let cs = ConnectionString::parse(GOOD).expect("parses");
        assert_eq!(cs.host, "ngoc-test.servicebus.windows.net");
        assert_eq!(cs.rule, "bureau");
        assert_eq!(cs.key.expose(), "abc+/def==");
        assert_eq!(cs.entity_path.as_deref(), Some("to-bureau"));
        assert!(!format!("{cs:?}").contains("abc+"), "the key must not be in Debug output");
        let no_entity = ConnectionString::parse("endpoint=sb://h.example/ ; sharedaccesskeyname=r;sharedaccesskey=k;").expect("parses");
        assert_eq!((no_entity.host.as_str(), no_entity.entity_path), ("h.example", None));
    }

    #[test]
    fn names_what_is_wrong_with_a_connection_string() {
        use ConfigError::*;
        let cases: [(&str, ConfigError); 8] = [
            ("", EmptyConnectionString),
            ("SharedAccessKeyName=r;SharedAccessKey=k", MissingPart("Endpoint")),
            ("Endpoint=sb://h/;SharedAccessKey=k", MissingPart("SharedAccessKeyName")),
            ("Endpoint=sb://h/;SharedAccessKeyName=r", MissingPart("SharedAccessKey")),
            ("Endpoint=sb://h/;SharedAccessKeyName=;SharedAccessKey=k", EmptyPart("SharedAccessKeyName")),
            ("Endpoint=https://h/;SharedAccessKeyName=r;SharedAccessKey=k", BadEndpoint("https://h/".into())),
            ("Endpoint=sb://h/;Endpoint=sb://g/;SharedAccessKeyName=r;SharedAccessKey=k", DuplicatePart("Endpoint")),
            ("Endpoint=sb://h/;garbage;SharedAccessKey=k", MalformedPart("garbage".into())),
        ];
        for (input, want) in cases {
            assert_eq!(ConnectionString::parse(input), Err(want), "input: {input}");
        }
    }

    #[test]
    fn plain_amqp_only_to_loopback() {
        assert!(ServiceBusConfig::from_amqp_url("amqp://u:p@127.0.0.1:5672", "in", "out").is_ok());
        assert!(ServiceBusConfig::from_amqp_url("amqp://u:p@localhost:5672", "in", "out").is_ok());
        assert!(ServiceBusConfig::from_amqp_url("amqp://u:p@[::1]:5672", "in", "out").is_ok());
        assert_eq!(
            ServiceBusConfig::from_amqp_url("amqp://u:p@10.0.0.5:5672", "in", "out"),
            Err(ConfigError::PlainToRemoteHost("10.0.0.5".into()))
        );
        assert!(ServiceBusConfig::from_amqp_url("amqps://u:p@10.0.0.5", "in", "out").is_ok_and(|c| c.port == 5671 && c.tls));
    }

    #[test]
    fn url_parsing_and_redaction() {
        let c = ServiceBusConfig::from_amqp_url("amqp://guest:se%40cret@127.0.0.1:33093", "in", "out").expect("ok");
        assert_eq!(c.auth, Auth::SaslPlain { user: "guest".into(), password: Secret::new("se@cret") });
        assert_eq!(c.address("in"), "/amq/queue/in");
        assert_eq!(c.dead_letter_address("in"), "/amq/queue/in.dlq");
        assert!(!c.describe().contains("cret"));
        let anon = ServiceBusConfig::from_amqp_url("amqp://127.0.0.1:1", "in", "out").expect("ok");
        assert_eq!(anon.auth, Auth::Anonymous);
        match ServiceBusConfig::from_amqp_url("http://u:secret@h", "in", "out") {
            Err(ConfigError::BadUrl(shown)) => assert!(!shown.contains("secret"), "{shown}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn websocket_urls_and_settings() {
        let c = ServiceBusConfig::from_amqp_url("ws://guest:guest@127.0.0.1:8080/amqp", "in", "out").expect("ws url");
        assert_eq!((c.host.as_str(), c.port, c.tls, c.websocket.as_deref()), ("127.0.0.1", 8080, false, Some("/amqp")));
        assert_eq!(c.describe(), "ws://127.0.0.1:8080/amqp (SASL PLAIN as guest)");
        let c = ServiceBusConfig::from_amqp_url("wss://localhost", "in", "out").expect("wss url");
        assert_eq!((c.port, c.tls, c.websocket.as_deref()), (443, true, Some(SERVICE_BUS_WS_PATH)));
        let c = ServiceBusConfig::from_amqp_url("ws://127.0.0.1/", "in", "out").expect("ws url");
        assert_eq!((c.port, c.websocket.as_deref()), (80, Some(SERVICE_BUS_WS_PATH)));
        // A path means nothing to plain AMQP: refuse rather than silently drop it.
        assert!(matches!(ServiceBusConfig::from_amqp_url("amqp://127.0.0.1:1/vhost", "in", "out"), Err(ConfigError::BadUrl(_))));
        assert_eq!(ServiceBusConfig::from_amqp_url("amqp://127.0.0.1:1/", "in", "out").map(|c| c.websocket), Ok(None));
        // Plain ws is loopback-only, like plain amqp.
        assert!(matches!(ServiceBusConfig::from_amqp_url("ws://example.com/x", "in", "out"), Err(ConfigError::PlainToRemoteHost(_))));

        // Service Bus over WebSockets from the config file: 443 and Service Bus's path by default.
        let mut sb = ServiceBusConfig::service_bus("ns.servicebus.windows.net", "rule", Secret::new("k"), "a", "b").expect("ok").settings();
        sb.port = None;
        sb.websocket = true;
        let c = sb.clone().into_config(Some(Secret::new("k"))).expect("ok");
        assert_eq!((c.port, c.tls, c.websocket.as_deref()), (443, true, Some("/$servicebus/websocket")));
        assert_eq!(c.settings().websocket_path, None, "the default path is not written out");
        sb.websocket_path = Some("no-slash".into());
        assert_eq!(sb.into_config(Some(Secret::new("k"))), Err(ConfigError::BadWebSocketPath("no-slash".into())));
        // Older config files have no websocket keys: plain AMQP.
        let old: ServiceBusSettings = toml_like();
        assert!(!old.websocket && old.websocket_path.is_none() && old.ca_file.is_none());
    }

    /// A settings record as older versions wrote it (no websocket fields).
    fn toml_like() -> ServiceBusSettings {
        serde_json::from_str(r#"{"host":"h","inbound_queue":"a","outbound_queue":"b"}"#).expect("older settings still load")
    }

    #[test]
    fn service_bus_addressing_and_settings_round_trip() {
        let c = ServiceBusConfig::service_bus("ns.servicebus.windows.net", "rule", Secret::new("k"), "to-bureau", "to-ngoc").expect("ok");
        assert_eq!(c.address("to-bureau"), "to-bureau");
        assert_eq!(c.dead_letter_address("to-bureau"), "to-bureau/$DeadLetterQueue");
        assert_eq!(c.audience("to-bureau"), "sb://ns.servicebus.windows.net/to-bureau");
        let settings = c.settings();
        assert_eq!(settings.clone().into_config(Some(Secret::new("k"))), Ok(c));
        assert!(matches!(settings.into_config(None), Err(ConfigError::KeyNotStored(_))));
    }

    const LISTEN: &str = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-listen;SharedAccessKey=bGlzdGVu;EntityPath=ngoc-requests";
    const SEND: &str = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-send;SharedAccessKey=c2VuZA==;EntityPath=ngoc-notifications";

    #[test]
    fn two_connection_strings_give_one_credential_per_side() {
        let (listen, send) = (ConnectionString::parse(LISTEN).expect("listen"), ConnectionString::parse(SEND).expect("send"));
        // No queue names given: the EntityPaths set them.
        let settings = ServiceBusSettings::from_connection_strings(&listen, Some(&send), "", "").expect("two strings");
        assert_eq!((settings.inbound_queue.as_str(), settings.outbound_queue.as_str()), ("ngoc-requests", "ngoc-notifications"));
        assert_eq!(settings.user.as_deref(), Some("partner-listen"));
        assert_eq!(settings.entity_path.as_deref(), Some("ngoc-requests"));
        assert_eq!(
            settings.outbound_credential,
            Some(CredentialSettings { user: "partner-send".into(), entity_path: Some("ngoc-notifications".into()) })
        );
        // The config file round trip keeps both credentials and no key.
        let text = toml::to_string_pretty(&settings).expect("toml");
        assert!(!text.contains("bGlzdGVu") && !text.contains("c2VuZA"), "{text}");
        let back: ServiceBusSettings = toml::from_str(&text).expect("read back");
        assert_eq!(back, settings);
        let config = back.into_config_with(Some(listen.key.clone()), Some(send.key.clone())).expect("config");
        assert_eq!(config.inbound_auth(), &Auth::SasCbs { rule: "partner-listen".into(), key: Secret::new("bGlzdGVu") });
        assert_eq!(config.outbound_auth(), &Auth::SasCbs { rule: "partner-send".into(), key: Secret::new("c2VuZA==") });
        assert_eq!(config.sending().auth, Auth::SasCbs { rule: "partner-send".into(), key: Secret::new("c2VuZA==") });
        assert_eq!(config.describe(), "amqps://ns.servicebus.windows.net:5671 (receiving: SAS rule partner-listen via CBS; sending: SAS rule partner-send via CBS)");
        // Queue names given and matching: fine.
        assert!(ServiceBusSettings::from_connection_strings(&listen, Some(&send), "ngoc-requests", "ngoc-notifications").is_ok());
    }

    #[test]
    fn an_entity_path_that_is_not_the_queue_is_a_config_error() {
        let (listen, send) = (ConnectionString::parse(LISTEN).expect("listen"), ConnectionString::parse(SEND).expect("send"));
        let err = ServiceBusSettings::from_connection_strings(&listen, Some(&send), "to-bureau", "").expect_err("mismatch");
        assert_eq!(
            err,
            ConfigError::EntityPathMismatch { side: "inbound", user: "partner-listen".into(), entity_path: "ngoc-requests".into(), queue: "to-bureau".into() }
        );
        assert!(err.to_string().contains("`partner-listen` was issued for queue `ngoc-requests`"), "{err}");
        // Swapped strings: the inbound side's EntityPath names the outbound queue.
        let err = ServiceBusSettings::from_connection_strings(&send, Some(&listen), "ngoc-requests", "ngoc-notifications").expect_err("swapped");
        assert!(matches!(err, ConfigError::EntityPathMismatch { side: "inbound", .. }), "{err}");
        // One queue-level string cannot serve both queues.
        let err = ServiceBusSettings::from_connection_strings(&listen, None, "ngoc-requests", "ngoc-notifications").expect_err("one for both");
        assert!(matches!(err, ConfigError::EntityPathForBothQueues { .. }), "{err}");
        // Two namespaces.
        let other = ConnectionString::parse(&SEND.replace("sb://ns.", "sb://other.")).expect("other");
        let err = ServiceBusSettings::from_connection_strings(&listen, Some(&other), "", "").expect_err("two namespaces");
        assert!(matches!(err, ConfigError::DifferentNamespaces { .. }), "{err}");
        // A hand-edited file is checked the same way when it is loaded.
        let mut settings = ServiceBusSettings::from_connection_strings(&listen, Some(&send), "", "").expect("ok");
        settings.outbound_queue = "elsewhere".into();
        let err = settings.into_config_with(Some(listen.key.clone()), Some(send.key.clone())).expect_err("file mismatch");
        assert!(matches!(err, ConfigError::EntityPathMismatch { side: "outbound", .. }), "{err}");
    }

    #[test]
    fn one_namespace_connection_string_still_serves_both_sides() {
        let cs = ConnectionString::parse("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=bureau;SharedAccessKey=k").expect("cs");
        let settings = ServiceBusSettings::from_connection_strings(&cs, None, "to-bureau", "to-ngoc").expect("shared");
        assert_eq!((settings.entity_path.clone(), settings.outbound_credential.clone()), (None, None));
        let text = toml::to_string_pretty(&settings).expect("toml");
        assert!(!text.contains("entity_path") && !text.contains("outbound_credential"), "an old-style file stays old-style: {text}");
        let config = settings.into_config(Some(Secret::new("k"))).expect("config");
        assert_eq!(config.inbound_auth(), config.outbound_auth());
        assert!(matches!(config.sending(), Cow::Borrowed(_)));
    }

    #[test]
    fn two_broker_urls_give_two_users_on_one_broker() {
        let c = ServiceBusConfig::from_amqp_urls("amqp://reader:r@127.0.0.1:5672", Some("amqp://writer:w@127.0.0.1:5672"), "in", "out").expect("two urls");
        assert_eq!(c.inbound_auth(), &Auth::SaslPlain { user: "reader".into(), password: Secret::new("r") });
        assert_eq!(c.outbound_auth(), &Auth::SaslPlain { user: "writer".into(), password: Secret::new("w") });
        assert_eq!(c.sending().auth, *c.outbound_auth());
        assert!(!c.describe().contains(":w@") && c.describe().contains("sending: SASL PLAIN as writer"), "{}", c.describe());
        let err = ServiceBusConfig::from_amqp_urls("amqp://reader:r@127.0.0.1:5672", Some("amqp://writer:secret@127.0.0.1:5673"), "in", "out")
            .expect_err("other broker");
        assert!(matches!(&err, ConfigError::OutboundUrlOtherBroker(u) if !u.contains("secret")), "{err}");
        let one = ServiceBusConfig::from_amqp_urls("amqp://guest:g@127.0.0.1:5672", None, "in", "out").expect("one url");
        assert_eq!(one, ServiceBusConfig::from_amqp_url("amqp://guest:g@127.0.0.1:5672", "in", "out").expect("same"));
    }

    #[test]
    fn max_locked_must_hold_at_least_one_grant() {
        let base = ServiceBusConfig::from_amqp_url("amqp://127.0.0.1:5672", "in", "out").expect("ok");
        assert!(base.max_locked >= base.credit);
        let c = ServiceBusConfig { credit: 64, max_locked: 63, ..base.clone() };
        assert_eq!(c.validated(), Err(ConfigError::BadMaxLocked { max_locked: 63, credit: 64 }));
        let c = ServiceBusConfig { credit: 64, max_locked: 64, ..base.clone() };
        assert!(c.validated().is_ok());
        let c = ServiceBusConfig { credit: 64, max_locked: 10_001, ..base };
        assert!(matches!(c.validated(), Err(ConfigError::BadMaxLocked { .. })));
        // Older config files have no max_locked: they get the default.
        let toml = "host = \"h\"\ninbound_queue = \"i\"\noutbound_queue = \"o\"\n";
        let s: ServiceBusSettings = toml::from_str(toml).expect("settings");
        assert_eq!((s.credit, s.max_locked), (DEFAULT_CREDIT, DEFAULT_MAX_LOCKED));
    }
}
