//! The SAS key / password lives in the OS keyring (macOS Keychain, Windows Credential Manager,
//! Secret Service on Linux), never in the config file or a log. Entries are keyed by the
//! namespace host and the rule/user name, so two namespaces do not overwrite each other.

use keyring::Entry;

use crate::config::Secret;
use crate::error::SecretError;

/// The keyring "service" all Cardbench secrets are filed under.
pub const KEYRING_SERVICE: &str = "cardbench-servicebus";

fn entry(host: &str, user: &str) -> Result<Entry, SecretError> {
    Entry::new(KEYRING_SERVICE, &format!("{user}@{host}")).map_err(|e| SecretError::Keyring(e.to_string()))
}

pub fn store_secret(host: &str, user: &str, secret: &Secret) -> Result<(), SecretError> {
    entry(host, user)?.set_password(secret.expose()).map_err(|e| SecretError::Keyring(e.to_string()))
}

/// `Ok(None)` when nothing is stored (the settings screen then asks for the key).
pub fn load_secret(host: &str, user: &str) -> Result<Option<Secret>, SecretError> {
    match entry(host, user)?.get_password() {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(SecretError::Keyring(e.to_string())),
    }
}

pub fn delete_secret(host: &str, user: &str) -> Result<(), SecretError> {
    match entry(host, user)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(SecretError::Keyring(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs against the real OS keyring when one is reachable (a desktop session); on a headless
    /// machine without a Secret Service the keyring error is the expected answer, and it must be
    /// an error, not a silent success.
    #[test]
    fn store_load_delete_round_trip_or_clear_error() {
        let host = format!("test-{}.invalid", uuid::Uuid::new_v4());
        match store_secret(&host, "rule", &Secret::new("k3y")) {
            Ok(()) => {
                assert_eq!(load_secret(&host, "rule").expect("load"), Some(Secret::new("k3y")));
                delete_secret(&host, "rule").expect("delete");
                assert_eq!(load_secret(&host, "rule").expect("load after delete"), None);
            }
            Err(SecretError::Keyring(msg)) => {
                assert!(!msg.contains("k3y"), "the error must not carry the secret");
                eprintln!("no OS keyring here ({msg}); round trip not exercised");
            }
        }
    }
}
