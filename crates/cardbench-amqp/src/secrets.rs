//! The SAS key / password lives in the OS keyring (through [`cardbench_secrets`]), never in the
//! config file or a log. Entries are keyed by the namespace host and the rule/user name, so two
//! namespaces do not overwrite each other, and by the EntityPath of a queue-level rule: Service
//! Bus names such rules per queue, so the inbound and the outbound queue may each have a rule of
//! the same name with its own key. Without a desktop session `CARDBENCH_SECRETS_DIR` stands in for
//! the keyring (see [`cardbench_secrets`]): one file per entry, named like the keyring account
//! (`<rule>@<host>`, with a `/` of a queue-level rule's account written `%2F`).

use crate::secret::Secret;
use crate::error::SecretError;

pub use cardbench_secrets::SECRETS_DIR_ENV;

/// The keyring "service" all Service Bus secrets are filed under.
pub const KEYRING_SERVICE: &str = cardbench_secrets::SERVICEBUS;

/// The keyring account: `<rule>@<host>` for a namespace-level rule (as before EntityPaths were
/// kept), `<rule>@<host>/<entity>` for a rule issued on one queue.
pub fn account(host: &str, user: &str, entity_path: Option<&str>) -> String {
    match entity_path {
        None => format!("{user}@{host}"),
        Some(entity) => format!("{user}@{host}/{entity}"),
    }
}

pub fn store_secret_for(host: &str, user: &str, entity_path: Option<&str>, secret: &Secret) -> Result<(), SecretError> {
    cardbench_secrets::store(KEYRING_SERVICE, &account(host, user, entity_path), secret)
}

/// `Ok(None)` when nothing is stored (the settings screen then asks for the key).
pub fn load_secret_for(host: &str, user: &str, entity_path: Option<&str>) -> Result<Option<Secret>, SecretError> {
    cardbench_secrets::load(KEYRING_SERVICE, &account(host, user, entity_path))
}

pub fn delete_secret_for(host: &str, user: &str, entity_path: Option<&str>) -> Result<(), SecretError> {
    cardbench_secrets::delete(KEYRING_SERVICE, &account(host, user, entity_path))
}

/// A namespace-level rule's key (no EntityPath): [`store_secret_for`] with `None`.
pub fn store_secret(host: &str, user: &str, secret: &Secret) -> Result<(), SecretError> {
    store_secret_for(host, user, None, secret)
}

/// A namespace-level rule's key (no EntityPath): [`load_secret_for`] with `None`.
pub fn load_secret(host: &str, user: &str) -> Result<Option<Secret>, SecretError> {
    load_secret_for(host, user, None)
}

/// A namespace-level rule's key (no EntityPath): [`delete_secret_for`] with `None`.
pub fn delete_secret(host: &str, user: &str) -> Result<(), SecretError> {
    delete_secret_for(host, user, None)
}

/// A broker URL's password (`amqp://user:pass@host:port`) is kept like a SAS key, under the
/// account `<user>@<host:port>`; the config file keeps the URL without it. Files the password
/// (when the URL has one) and returns the URL to write.
pub fn store_url_password(url: &str) -> Result<String, SecretError> {
    match crate::config::url_credential(url) {
        Some(c) => {
            if let Some(password) = &c.password {
                store_secret_for(&c.server, &c.user, None, password)?;
            }
            Ok(c.without_password)
        }
        None => Ok(url.to_owned()),
    }
}

/// The password for a URL written without one, from where [`store_url_password`] filed it.
/// `Ok(None)`: the URL carries its own password, has no user, or none was filed.
pub fn load_url_password(url: &str) -> Result<Option<Secret>, SecretError> {
    match crate::config::url_credential(url) {
        Some(c) if c.password.is_none() => load_secret_for(&c.server, &c.user, None),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_url_splits_into_the_url_to_keep_and_its_password() {
        let c = crate::config::url_credential("ws://ngoc%2Dreader:p%40ss@127.0.0.1:8080/$servicebus/websocket").expect("user");
        assert_eq!((c.user.as_str(), c.server.as_str()), ("ngoc-reader", "127.0.0.1:8080"));
        assert_eq!(c.password, Some(Secret::new("p@ss")));
        assert_eq!(c.without_password, "ws://ngoc%2Dreader@127.0.0.1:8080/$servicebus/websocket");
        assert_eq!(crate::config::url_credential("amqp://127.0.0.1:5672"), None, "anonymous");
        let shown = crate::config::url_credential("amqp://u:***@h:1").expect("user");
        assert_eq!(shown.password, None, "the redaction mark is not a password");
        use crate::config::restore_redacted_url as restore;
        assert_eq!(restore("amqp://u:***@h:1", Some("amqp://u:pw@h:1")), "amqp://u:pw@h:1", "unchanged on screen: the password in use stays");
        assert_eq!(restore("amqp://u:***@h:1", Some("amqp://v:pw@h:1")), "amqp://u@h:1", "another user: no password carried over");
        assert_eq!(restore("amqp://u:new@h:1", Some("amqp://u:pw@h:1")), "amqp://u:new@h:1", "a new password is taken");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(cardbench_secrets::file_name(&account(&c.server, &c.user, None)));
        assert_eq!(file.file_name().and_then(|n| n.to_str()), Some("ngoc-reader@127.0.0.1:8080"));
    }

    #[test]
    fn namespace_rules_keep_their_old_account_and_queue_rules_get_their_own() {
        assert_eq!(account("ns.servicebus.windows.net", "bureau", None), "bureau@ns.servicebus.windows.net");
        assert_eq!(account("ns.servicebus.windows.net", "partner", Some("ngoc-requests")), "partner@ns.servicebus.windows.net/ngoc-requests");
        assert_ne!(account("h", "partner", Some("a")), account("h", "partner", Some("b")));
    }

    /// Runs against the real OS keyring when one is reachable (a desktop session); on a headless
    /// machine without a Secret Service the keyring error is the expected answer, and it must be
    /// an error, not a silent success.
    #[test]
    fn store_load_delete_round_trip_or_clear_error() {
        let host = format!("test-{}.invalid", uuid::Uuid::new_v4());
        match store_secret_for(&host, "rule", None, &Secret::new("k3y")) {
            Ok(()) => {
                assert_eq!(load_secret_for(&host, "rule", None).expect("load"), Some(Secret::new("k3y")));
                // The same rule name on a queue is another rule with its own key.
                store_secret_for(&host, "rule", Some("q1"), &Secret::new("other")).expect("store queue-level");
                assert_eq!(load_secret_for(&host, "rule", Some("q1")).expect("load"), Some(Secret::new("other")));
                assert_eq!(load_secret_for(&host, "rule", None).expect("load"), Some(Secret::new("k3y")));
                delete_secret_for(&host, "rule", Some("q1")).expect("delete");
                delete_secret_for(&host, "rule", None).expect("delete");
                assert_eq!(load_secret_for(&host, "rule", None).expect("load after delete"), None);
            }
            Err(SecretError::Keyring(msg)) => {
                assert!(!msg.contains("k3y"), "the error must not carry the secret");
                eprintln!("no OS keyring here ({msg}); round trip not exercised");
            }
        }
    }
}
