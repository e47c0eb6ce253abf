//! The SAS key / password lives in the OS keyring (macOS Keychain, Windows Credential Manager,
//! Secret Service on Linux), never in the config file or a log. Entries are keyed by the
//! namespace host and the rule/user name, so two namespaces do not overwrite each other, and by
//! the EntityPath of a queue-level rule: Service Bus names such rules per queue, so the
//! inbound and the outbound queue may each have a rule of the same name with its own key.
//!
//! A daemon run as a system service (the packaged `cardbench.service`) has no desktop session and
//! so no Secret Service to ask. There, `CARDBENCH_SECRETS_DIR` names a directory that takes the
//! keyring's place: one file per entry, named like the keyring account (`<rule>@<host>`, with a
//! `/` of a queue-level rule's account written `%2F`), holding the key as text, readable by the
//! service's user alone. When the variable is set the directory is the only store used, so a
//! station never finds half its secrets in one place and half in the other.

use std::io::Write;
use std::path::{Path, PathBuf};

use keyring::Entry;

use crate::secret::Secret;
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

/// The environment variable naming the directory used instead of the OS keyring.
pub const SECRETS_DIR_ENV: &str = "CARDBENCH_SECRETS_DIR";

/// A key file holds one line of text; anything much larger is not a SAS key or a password.
const MAX_SECRET_FILE: u64 = 64 * 1024;

fn entry(host: &str, user: &str, entity_path: Option<&str>) -> Result<Entry, SecretError> {
    Entry::new(KEYRING_SERVICE, &account(host, user, entity_path)).map_err(|e| SecretError::Keyring(e.to_string()))
}

/// The secrets directory when `CARDBENCH_SECRETS_DIR` is set (and not empty).
fn secrets_dir() -> Option<PathBuf> {
    std::env::var_os(SECRETS_DIR_ENV).filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// The file an account is kept in: the account, with `%` and `/` percent-encoded so a queue-level
/// rule's `<rule>@<host>/<entity>` stays one file name.
fn file_name(account: &str) -> String {
    account.replace('%', "%25").replace('/', "%2F")
}

pub fn store_secret_for(host: &str, user: &str, entity_path: Option<&str>, secret: &Secret) -> Result<(), SecretError> {
    match secrets_dir() {
        Some(dir) => files::store(&dir, &file_name(&account(host, user, entity_path)), secret),
        None => entry(host, user, entity_path)?.set_password(secret.expose()).map_err(|e| SecretError::Keyring(e.to_string())),
    }
}

/// `Ok(None)` when nothing is stored (the settings screen then asks for the key).
pub fn load_secret_for(host: &str, user: &str, entity_path: Option<&str>) -> Result<Option<Secret>, SecretError> {
    if let Some(dir) = secrets_dir() {
        return files::load(&dir, &file_name(&account(host, user, entity_path)));
    }
    match entry(host, user, entity_path)?.get_password() {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(SecretError::Keyring(e.to_string())),
    }
}

pub fn delete_secret_for(host: &str, user: &str, entity_path: Option<&str>) -> Result<(), SecretError> {
    if let Some(dir) = secrets_dir() {
        return files::delete(&dir, &file_name(&account(host, user, entity_path)));
    }
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

/// The secrets directory: one file per entry, written atomically (temporary file, fsync, rename)
/// with mode 0600 inside a directory created 0700.
mod files {
    use super::*;

    fn path(dir: &Path, name: &str) -> Result<PathBuf, SecretError> {
        // Entry names come from the config (rule and host); refuse anything that could leave the
        // directory or hide as a dot file.
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
            return Err(SecretError::Keyring(format!("cannot keep a secret named {name:?} in {SECRETS_DIR_ENV}")));
        }
        Ok(dir.join(name))
    }

    fn failed(what: &str, dir: &Path, e: std::io::Error) -> SecretError {
        SecretError::Keyring(format!("{SECRETS_DIR_ENV} {}: {what}: {e}", dir.display()))
    }

    pub(super) fn store(dir: &Path, name: &str, secret: &Secret) -> Result<(), SecretError> {
        let target = path(dir, name)?;
        create_private_dir(dir).map_err(|e| failed("cannot create it", dir, e))?;
        // tempfile creates its files 0600 on Unix: the key is never readable by others, not even
        // before the rename.
        let mut file = tempfile::Builder::new()
            .prefix(".secret-")
            .tempfile_in(dir)
            .map_err(|e| failed("cannot write a key file", dir, e))?;
        file.write_all(secret.expose().as_bytes()).map_err(|e| failed("cannot write a key file", dir, e))?;
        file.as_file().sync_all().map_err(|e| failed("cannot write a key file", dir, e))?;
        file.persist(&target).map_err(|e| failed("cannot write a key file", dir, e.error))?;
        Ok(())
    }

    pub(super) fn load(dir: &Path, name: &str) -> Result<Option<Secret>, SecretError> {
        let target = path(dir, name)?;
        let size = match std::fs::metadata(&target) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed("cannot read a key file", dir, e)),
        };
        if size > MAX_SECRET_FILE {
            return Err(SecretError::Keyring(format!(
                "{SECRETS_DIR_ENV} {}: the key file {name} is {size} bytes, not a key",
                dir.display()
            )));
        }
        let text = std::fs::read_to_string(&target).map_err(|e| failed("cannot read a key file", dir, e))?;
        // A key written with an editor ends in a newline that is not part of the key.
        let key = text.trim_end_matches(['\r', '\n']);
        Ok((!key.is_empty()).then(|| Secret::new(key)))
    }

    pub(super) fn delete(dir: &Path, name: &str) -> Result<(), SecretError> {
        match std::fs::remove_file(path(dir, name)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed("cannot remove a key file", dir, e)),
        }
    }

    #[cfg(unix)]
    fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }

    #[cfg(not(unix))]
    fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    /// The directory that stands in for the keyring on a service: a key written is read back,
    /// private to its owner, and gone after delete; a name that would leave the directory is
    /// refused.
    #[test]
    fn secrets_directory_round_trip_is_private() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("secrets");
        let name = file_name(&account("ns.servicebus.windows.net", "partner-listen", Some("ngoc-requests")));
        assert_eq!(files::load(&dir, &name).expect("load before store"), None);
        files::store(&dir, &name, &Secret::new("k3y=")).expect("store");
        assert_eq!(files::load(&dir, &name).expect("load"), Some(Secret::new("k3y=")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700, "the directory is its owner's alone");
            assert_eq!(mode(&dir.join(&name)), 0o600, "the key file is its owner's alone");
        }
        // A key file written by hand with a trailing newline.
        std::fs::write(dir.join(&name), "k3y=\n").expect("write by hand");
        assert_eq!(files::load(&dir, &name).expect("load"), Some(Secret::new("k3y=")));
        files::delete(&dir, &name).expect("delete");
        assert_eq!(files::load(&dir, &name).expect("load after delete"), None);
        files::delete(&dir, &name).expect("deleting what is not there is not an error");
        assert!(files::store(&dir, "../escape", &Secret::new("x")).is_err(), "a name must not leave the directory");
        assert!(!root.path().join("escape").exists());
    }


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
        let file = dir.path().join(file_name(&account(&c.server, &c.user, None)));
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
