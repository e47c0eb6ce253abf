//! Secrets (SAS keys, passwords, webhook secrets, API tokens) kept where the OS keeps them: the
//! keyring (macOS Keychain, Windows Credential Manager, Secret Service on Linux), never in a config
//! file or a log. One place for every crate that files a secret, so they all honour the same
//! stand-in for a machine without a desktop session.
//!
//! A daemon run as a system service (the packaged `cardbench.service`) has no desktop session and
//! so no Secret Service to ask. There, `CARDBENCH_SECRETS_DIR` names a directory that takes the
//! keyring's place: one file per entry, holding the secret as text, readable by the service's user
//! alone. The Service Bus keys (service [`SERVICEBUS`]) are files directly in it, as they always
//! were; every other service's entries are in a subdirectory named after the service. When the
//! variable is set the directory is the only store used, so a station never finds half its
//! secrets in one place and half in the other.

use std::path::{Path, PathBuf};

use keyring::Entry;

mod secret;

pub use secret::Secret;

/// The OS keyring (or the directory standing in for it) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("OS keyring unavailable or refused access: {0}")]
    Keyring(String),
}

/// The keyring "service" the Service Bus keys and broker passwords are filed under.
pub const SERVICEBUS: &str = "cardbench-servicebus";

/// The environment variable naming the directory used instead of the OS keyring.
pub const SECRETS_DIR_ENV: &str = "CARDBENCH_SECRETS_DIR";

/// A key file holds one line of text; anything much larger is not a key or a password.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// The secrets directory when `CARDBENCH_SECRETS_DIR` is set (and not empty).
fn secrets_dir() -> Option<PathBuf> {
    std::env::var_os(SECRETS_DIR_ENV).filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// Where `service`'s entries live inside the secrets directory.
fn service_dir(dir: &Path, service: &str) -> PathBuf {
    if service == SERVICEBUS { dir.to_owned() } else { dir.join(file_name(service)) }
}

/// The file an account is kept in: the account, with `%` and `/` percent-encoded so an account
/// such as a queue-level rule's `<rule>@<host>/<entity>` stays one file name.
pub fn file_name(account: &str) -> String {
    account.replace('%', "%25").replace('/', "%2F")
}

fn entry(service: &str, account: &str) -> Result<Entry, SecretError> {
    Entry::new(service, account).map_err(|e| SecretError::Keyring(e.to_string()))
}

/// Files `secret` under (`service`, `account`), replacing what was there.
pub fn store(service: &str, account: &str, secret: &Secret) -> Result<(), SecretError> {
    match secrets_dir() {
        Some(dir) => files::store(&service_dir(&dir, service), &file_name(account), secret),
        None => entry(service, account)?.set_password(secret.expose()).map_err(|e| SecretError::Keyring(e.to_string())),
    }
}

/// `Ok(None)` when nothing is filed under (`service`, `account`).
pub fn load(service: &str, account: &str) -> Result<Option<Secret>, SecretError> {
    if let Some(dir) = secrets_dir() {
        return files::load(&service_dir(&dir, service), &file_name(account));
    }
    match entry(service, account)?.get_password() {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(SecretError::Keyring(e.to_string())),
    }
}

/// Removes the entry; removing what is not there is not an error.
pub fn delete(service: &str, account: &str) -> Result<(), SecretError> {
    if let Some(dir) = secrets_dir() {
        return files::delete(&service_dir(&dir, service), &file_name(account));
    }
    match entry(service, account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(SecretError::Keyring(e.to_string())),
    }
}

/// A fresh random secret of `bytes` random bytes, written as lowercase hex (webhook secrets, API
/// tokens): text a person can paste into the receiving system's configuration.
pub fn generate(bytes: usize) -> Secret {
    use rand::RngCore as _;
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    Secret::new(raw.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The secrets directory: one file per entry, written atomically (temporary file, fsync, rename)
/// with mode 0600 inside a directory created 0700.
mod files {
    use super::*;
    use std::io::Write;

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
        let name = file_name("partner-listen@ns.servicebus.windows.net/ngoc-requests");
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

    /// Two services may use the same account name without overwriting each other; the Service
    /// Bus keys stay where older stations filed them.
    #[test]
    fn services_are_kept_apart_in_the_directory() {
        let root = tempfile::tempdir().expect("temp dir");
        assert_eq!(service_dir(root.path(), SERVICEBUS), root.path());
        assert_ne!(service_dir(root.path(), "cardbench-webhook"), service_dir(root.path(), "cardbench-forward"));
    }

    #[test]
    fn generated_secrets_are_fresh_hex() {
        let (a, b) = (generate(32), generate(32));
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    /// Runs against the real OS keyring when one is reachable (a desktop session); on a headless
    /// machine without a Secret Service the keyring error is the expected answer, and it must be
    /// an error, not a silent success.
    #[test]
    fn keyring_round_trip_or_clear_error() {
        if secrets_dir().is_some() {
            return;
        }
        let service = format!("cardbench-test-{}", uuid::Uuid::new_v4());
        match store(&service, "acct", &Secret::new("k3y")) {
            Ok(()) => {
                assert_eq!(load(&service, "acct").expect("load"), Some(Secret::new("k3y")));
                delete(&service, "acct").expect("delete");
                assert_eq!(load(&service, "acct").expect("load after delete"), None);
            }
            Err(SecretError::Keyring(msg)) => {
                assert!(!msg.contains("k3y"), "the error must not carry the secret");
                eprintln!("no OS keyring here ({msg}); round trip not exercised");
            }
        }
    }
}
