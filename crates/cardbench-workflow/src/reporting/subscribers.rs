//! The bureau's subscribers to the event log: webhooks (signed with a secret generated here and
//! shown once) and forwarding sinks (BASIC credentials). One place for the rules of adding one,
//! used by `cardbench webhook|forward …` and the settings screen alike.
//!
//! Secrets live in the OS keyring ([`cardbench_secrets`]): a webhook's under
//! [`WEBHOOK_SECRETS`], a sink's password under [`FORWARD_PASSWORDS`], the account being the
//! subscriber's name. The store keeps everything else.

use std::net::IpAddr;

use cardbench_secrets::Secret;
use cardbench_store::Store;
use cardbench_store::subscribers::{self as rows, NewSubscriber, SubscriberRow};
use serde::{Deserialize, Serialize};

use super::Topic;
use crate::error::{Result, WorkflowError};

/// The keyring service of webhook secrets.
pub const WEBHOOK_SECRETS: &str = "cardbench-webhook";
/// The keyring service of forwarding sinks' passwords.
pub const FORWARD_PASSWORDS: &str = "cardbench-forward";
/// Random bytes in a webhook secret (written as 64 hex digits).
const SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberKind {
    Webhook,
    Forward,
}

impl SubscriberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberKind::Webhook => "webhook",
            SubscriberKind::Forward => "forward",
        }
    }

    pub fn parse(text: &str) -> Option<SubscriberKind> {
        match text {
            "webhook" => Some(SubscriberKind::Webhook),
            "forward" => Some(SubscriberKind::Forward),
            _ => None,
        }
    }

    fn secret_service(self) -> &'static str {
        match self {
            SubscriberKind::Webhook => WEBHOOK_SECRETS,
            SubscriberKind::Forward => FORWARD_PASSWORDS,
        }
    }
}

/// How a webhook writes its signature: receivers differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureEncoding {
    /// Lowercase hex (the default).
    #[default]
    Hex,
    Base64,
}

impl SignatureEncoding {
    pub fn parse(text: &str) -> Option<SignatureEncoding> {
        match text.trim().to_ascii_lowercase().as_str() {
            "hex" => Some(SignatureEncoding::Hex),
            "base64" => Some(SignatureEncoding::Base64),
            _ => None,
        }
    }
}

/// A subscriber as the CLI and the settings screen show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscriber {
    pub name: String,
    pub kind: SubscriberKind,
    pub url: String,
    pub topics: Vec<Topic>,
    /// Kind-specific settings: a webhook's `encoding`, a sink's `user` and field mapping.
    pub settings: serde_json::Value,
    pub created_at: String,
    pub paused_at: Option<String>,
    pub paused_reason: Option<String>,
}

impl Subscriber {
    pub fn destination(&self) -> String {
        super::destination(self.kind, &self.name)
    }

    /// A webhook's signature encoding (hex when not set).
    pub fn encoding(&self) -> SignatureEncoding {
        self.settings
            .get("encoding")
            .and_then(|v| v.as_str())
            .and_then(SignatureEncoding::parse)
            .unwrap_or_default()
    }

    /// Its secret (webhook) or password (forwarding sink), from the keyring.
    pub fn secret(&self) -> Result<Option<Secret>> {
        secret_of(self.kind, &self.name)
    }

    fn from_row(row: SubscriberRow) -> Option<Subscriber> {
        let kind = SubscriberKind::parse(&row.kind)?;
        let topics: Vec<String> = serde_json::from_str(&row.topics).unwrap_or_default();
        Some(Subscriber {
            name: row.name,
            kind,
            url: row.url,
            topics: topics.iter().filter_map(|t| Topic::parse(t)).collect(),
            settings: serde_json::from_str(&row.settings).unwrap_or_else(|_| serde_json::json!({})),
            created_at: row.created_at,
            paused_at: row.paused_at,
            paused_reason: row.paused_reason,
        })
    }
}

/// What is wrong with a subscriber's name, URL or topics, said so a person can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriberProblem {
    #[error("name {0:?}: use 1 to 40 letters, digits, '-' or '_'")]
    Name(String),
    #[error("URL {url:?}: {why}")]
    Url { url: String, why: String },
    #[error("no topics given: name at least one of {}", Topic::ALL.map(Topic::as_str).join(", "))]
    NoTopics,
    #[error("unknown topic {0:?}: the topics are {all}", all = Topic::ALL.map(Topic::as_str).join(", "))]
    Topic(String),
    #[error("a {kind} named {name} exists already")]
    Exists { kind: &'static str, name: String },
    #[error("no {kind} named {name}")]
    Unknown { kind: &'static str, name: String },
}

impl From<SubscriberProblem> for WorkflowError {
    fn from(p: SubscriberProblem) -> Self {
        WorkflowError::InvalidRequest(p.to_string())
    }
}

pub fn check_name(name: &str) -> std::result::Result<(), SubscriberProblem> {
    let ok = (1..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(SubscriberProblem::Name(name.to_owned())) }
}

/// HTTPS anywhere; plain HTTP only to this machine (a receiver on loopback, e.g. a local relay),
/// since the body and its signature would otherwise cross the network in the clear.
pub fn check_url(text: &str) -> std::result::Result<url::Url, SubscriberProblem> {
    let bad = |why: &str| SubscriberProblem::Url { url: text.to_owned(), why: why.to_owned() };
    let url = url::Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(bad("no host")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad("plain http is allowed only to this machine (127.0.0.1, ::1, localhost); use https")),
        other => Err(bad(&format!("scheme {other} is not http(s)"))),
    }
}

/// Topics from names (`CARD_PRODUCED`, `card_produced`); at least one.
pub fn parse_topics<S: AsRef<str>>(names: &[S]) -> std::result::Result<Vec<Topic>, SubscriberProblem> {
    let mut topics = Vec::new();
    for name in names.iter().map(AsRef::as_ref).filter(|n| !n.trim().is_empty()) {
        let topic = Topic::parse(name).ok_or_else(|| SubscriberProblem::Topic(name.to_owned()))?;
        if !topics.contains(&topic) {
            topics.push(topic);
        }
    }
    if topics.is_empty() {
        return Err(SubscriberProblem::NoTopics);
    }
    Ok(topics)
}

/// Adds a webhook and returns it with its secret, generated here: the only time it is shown.
pub fn add_webhook(store: &Store, name: &str, url: &str, topics: &[Topic], encoding: SignatureEncoding) -> Result<(Subscriber, Secret)> {
    let secret = cardbench_secrets::generate(SECRET_BYTES);
    let settings = serde_json::json!({ "encoding": encoding });
    let subscriber = add(store, SubscriberKind::Webhook, name, url, topics, settings, &secret)?;
    Ok((subscriber, secret))
}

/// Adds a forwarding sink; its password goes to the keyring, `settings` (user, field mapping)
/// to the store.
pub fn add_forward(
    store: &Store,
    name: &str,
    url: &str,
    topics: &[Topic],
    user: &str,
    password: &Secret,
    mut settings: serde_json::Value,
) -> Result<Subscriber> {
    if !settings.is_object() {
        settings = serde_json::json!({});
    }
    settings["user"] = serde_json::Value::String(user.to_owned());
    add(store, SubscriberKind::Forward, name, url, topics, settings, password)
}

fn add(
    store: &Store,
    kind: SubscriberKind,
    name: &str,
    url: &str,
    topics: &[Topic],
    settings: serde_json::Value,
    secret: &Secret,
) -> Result<Subscriber> {
    check_name(name)?;
    let url = check_url(url)?;
    if topics.is_empty() {
        return Err(SubscriberProblem::NoTopics.into());
    }
    // Checked before the secret is filed: filing first would replace a live subscriber's secret.
    if store.read(|c| rows::get(c, name))?.is_some_and(|r| r.removed_at.is_none()) {
        return Err(SubscriberProblem::Exists { kind: kind.as_str(), name: name.to_owned() }.into());
    }
    cardbench_secrets::store(kind.secret_service(), name, secret).map_err(|e| WorkflowError::InvalidRequest(e.to_string()))?;
    let topic_names: Vec<&str> = topics.iter().map(|t| t.as_str()).collect();
    let topics_json = serde_json::to_string(&topic_names).map_err(|source| WorkflowError::Encode { what: "topics", source })?;
    let settings_json = settings.to_string();
    let now = cardbench_store::time::now();
    let added = store.write(|tx| {
        rows::insert(
            tx,
            &NewSubscriber {
                name,
                kind: kind.as_str(),
                url: url.as_str(),
                topics: &topics_json,
                settings: &settings_json,
                created_at: &now,
            },
        )
    })?;
    if !added {
        return Err(SubscriberProblem::Exists { kind: kind.as_str(), name: name.to_owned() }.into());
    }
    get(store, name)?.ok_or_else(|| SubscriberProblem::Unknown { kind: kind.as_str(), name: name.to_owned() }.into())
}

/// A live subscriber by name.
pub fn get(store: &Store, name: &str) -> Result<Option<Subscriber>> {
    let row = store.read(|c| rows::get(c, name))?;
    Ok(row.filter(|r| r.removed_at.is_none()).and_then(Subscriber::from_row))
}

/// Every live subscriber, by name.
pub fn list(store: &Store) -> Result<Vec<Subscriber>> {
    Ok(store.read(rows::list)?.into_iter().filter_map(Subscriber::from_row).collect())
}

/// Removes a subscriber and its secret. Its rows still waiting in the outbox stay there, unsent
/// (nothing is deleted); adding it again under the same name sends them.
pub fn remove(store: &Store, kind: SubscriberKind, name: &str) -> Result<()> {
    let Some(found) = get(store, name)?.filter(|s| s.kind == kind) else {
        return Err(SubscriberProblem::Unknown { kind: kind.as_str(), name: name.to_owned() }.into());
    };
    let now = cardbench_store::time::now();
    store.write(|tx| rows::remove(tx, &found.name, &now))?;
    cardbench_secrets::delete(kind.secret_service(), name).map_err(|e| WorkflowError::InvalidRequest(e.to_string()))?;
    Ok(())
}

/// Holds a subscriber's deliveries back, with the reason shown beside it.
pub fn pause(store: &Store, name: &str, reason: &str) -> Result<bool> {
    let now = cardbench_store::time::now();
    Ok(store.write(|tx| rows::pause(tx, name, &now, reason))?)
}

/// Lets a paused subscriber's deliveries go again, at once: its waiting rows are due now, not
/// after the delay of their last retry.
pub fn resume(store: &Store, name: &str) -> Result<bool> {
    let Some(found) = get(store, name)? else { return Ok(false) };
    let now = cardbench_store::time::now();
    store.write(|tx| -> Result<bool> {
        let resumed = rows::resume(tx, name)?;
        cardbench_store::outbox::due_now(tx, &found.destination(), &now)?;
        Ok(resumed)
    })
}

/// A subscriber's secret (webhook) or password (sink) from the keyring.
pub fn secret_of(kind: SubscriberKind, name: &str) -> Result<Option<Secret>> {
    cardbench_secrets::load(kind.secret_service(), name).map_err(|e| WorkflowError::InvalidRequest(e.to_string()))
}

/// The live subscribers that want `topic`, paused ones included (their rows wait; nothing is
/// dropped). Inside the caller's transaction.
pub(super) fn wanting(conn: &cardbench_store::Connection, topic: Topic) -> Result<Vec<Subscriber>> {
    Ok(rows::list(conn)?.into_iter().filter_map(Subscriber::from_row).filter(|s| s.topics.contains(&topic)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback_http() {
        assert!(check_url("https://erp.example.com/hooks/cards").is_ok());
        assert!(check_url("http://127.0.0.1:9000/in").is_ok());
        assert!(check_url("http://[::1]:9000/in").is_ok());
        assert!(check_url("http://localhost/in").is_ok());
        assert!(check_url("http://erp.example.com/in").is_err(), "plain http across the network");
        assert!(check_url("http://10.0.0.5/in").is_err());
        assert!(check_url("ftp://127.0.0.1/in").is_err());
        assert!(check_url("https://user:pw@erp.example.com/").is_err(), "no credentials in the URL");
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn names_and_topics_are_checked() {
        assert!(check_name("erp-main_1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name(&"x".repeat(41)).is_err());
        assert_eq!(parse_topics(&["card_produced", "SHIPPED", "CARD_PRODUCED"]), Ok(vec![Topic::CardProduced, Topic::Shipped]));
        assert_eq!(parse_topics::<&str>(&[]), Err(SubscriberProblem::NoTopics));
        assert!(matches!(parse_topics(&["CARD_MADE"]), Err(SubscriberProblem::Topic(_))));
    }
}
