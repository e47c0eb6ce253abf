//! The SAS key / password lives in the OS keyring (macOS Keychain, Windows Credential Manager,
//! Secret Service on Linux), never in the config file or a log. Entries are keyed by the
//! namespace host and the rule/user name, so two namespaces do not overwrite each other, and by
//! the EntityPath of a queue-level rule: Service Bus names such rules per queue, so the
//! inbound and the outbound queue may each have a rule of the same name with its own key.

use keyring::Entry;

use crate::config::Secret;
use crate::error::SecretError;

/// The keyring "service" all Cardbench secrets are filed under.
pub const KEYRING_SERVICE: &str = "cardbench-servicebus";

/// The keyring account: `<rule>@<host>` for a namespace-level rule (as before EntityPaths were
/// kept), `<rule>@<host>/<entity>` for a rule issued on one queue.
pub fn account(host: &str, user: &str, entity_path: Option<&str>) -> String {
    match entity_path {
        None => format!("{user}@{host}"),
        Some(entity) => format!("{user}@{host}/{entity}"),
    }
}

fn entry(host: &str, user: &str, entity_path: Option<&str>) -> Result<Entry, SecretError> {
    Entry::new(KEYRING_SERVICE, &account(host, user, entity_path)).map_err(|e| SecretError::Keyring(e.to_string()))
}

pub fn store_secret_for(host: &str, user: &str, entity_path: Option<&str>, secret: &Secret) -> Result<(), SecretError> {
    entry(host, user, entity_path)?.set_password(secret.expose()).map_err(|e| SecretError::Keyring(e.to_string()))
}

/// `Ok(None)` when nothing is stored (the settings screen then asks for the key).
pub fn load_secret_for(host: &str, user: &str, entity_path: Option<&str>) -> Result<Option<Secret>, SecretError> {
    match entry(host, user, entity_path)?.get_password() {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(SecretError::Keyring(e.to_string())),
    }
}

pub fn delete_secret_for(host: &str, user: &str, entity_path: Option<&str>) -> Result<(), SecretError> {
    match entry(host, user, entity_path)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(SecretError::Keyring(e.to_string())),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
