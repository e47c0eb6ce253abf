//! The TLS client configuration of every outbound link that is not HTTP: NGOC's Service Bus (or a
//! rehearsal broker over AMQPS) and a floor's PostgreSQL server. One rule for whom we trust: the
//! platform's roots (what the bureau's IT manages, inspection proxies' CAs included), Mozilla's
//! roots so a bare system still reaches Azure, and a CA file the configuration names (a
//! bureau's own CA). The file only ever adds trust anchors: verification is never relaxed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("CA file {}: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },
}

/// The platform's roots plus Mozilla's. Loaded once: reading the platform store is slow on some
/// systems.
pub fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::debug!(error = %e, "skipping a platform certificate store entry");
        }
        let (added, _ignored) = roots.add_parsable_certificates(native.certs);
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        tracing::debug!(platform_roots = added, "TLS roots loaded");
        roots
    })
}

/// The client configuration trusting [`base_roots`] and, when given, the certificates of
/// `ca_file` (PEM). The file is read at each call (connects are rare): a replaced CA is picked up
/// without a restart.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    static BASE: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    let Some(path) = ca_file else {
        return Ok(BASE.get_or_init(|| config_with(base_roots().clone())).clone());
    };
    let extra = read_ca_file(path)?;
    let mut roots = base_roots().clone();
    let (added, ignored) = roots.add_parsable_certificates(extra);
    if added == 0 {
        return Err(TlsError::CaFile {
            path: path.to_owned(),
            reason: format!("none of its {ignored} certificate(s) can be used as a trust anchor"),
        });
    }
    tracing::debug!(ca_file = %path.display(), added, "extra TLS roots added");
    Ok(config_with(roots))
}

fn config_with(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
        // ring supports the default versions; this arm exists only to avoid a panic path.
        Err(_) => ClientConfig::builder().with_root_certificates(RootCertStore::empty()).with_no_client_auth(),
    };
    Arc::new(config)
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |reason: String| TlsError::CaFile { path: path.to_owned(), reason };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(format!("cannot read it: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_certificates_is_refused_with_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let e = client_config(Some(&empty)).expect_err("refused").to_string();
        assert!(e.contains("empty.pem") && e.contains("no PEM certificate"), "{e}");
        let missing = client_config(Some(&dir.path().join("missing.pem"))).expect_err("refused").to_string();
        assert!(missing.contains("cannot read it"), "{missing}");
        assert!(client_config(None).is_ok());
    }
}
