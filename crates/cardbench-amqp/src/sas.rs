//! Shared Access Signature tokens, as Service Bus expects them for a CBS put-token.
//!
//! `SharedAccessSignature sr=<urlenc(uri)>&sig=<urlenc(base64(HMAC-SHA256(key, urlenc(uri) "\n" expiry)))>&se=<expiry>&skn=<rule>`
//! The key is used as its UTF-8 bytes (Service Bus keys are base64 text, but the service signs
//! with the text itself, not the decoded bytes).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

/// What `urllib.parse.quote(s, safe="")` and .NET's `WebUtility.UrlEncode` leave alone (except
/// that .NET encodes space as '+'; a resource URI and a base64 signature never hold a space).
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, URL_ENCODE).to_string()
}

/// The signature over `urlenc(resource_uri) + "\n" + expiry`, base64 (not yet URL-encoded).
pub fn sign(key: &str, resource_uri: &str, expiry_unix: u64) -> String {
    let to_sign = format!("{}\n{}", url_encode(resource_uri), expiry_unix);
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The full token string for `resource_uri` (e.g. `sb://ns.servicebus.windows.net/queue`),
/// valid until `expiry_unix` (seconds since 1970). Pure: same inputs, same token.
pub fn sas_token(resource_uri: &str, rule: &str, key: &str, expiry_unix: u64) -> String {
    format!(
        "SharedAccessSignature sr={}&sig={}&se={}&skn={}",
        url_encode(resource_uri),
        url_encode(&sign(key, resource_uri, expiry_unix)),
        expiry_unix,
        url_encode(rule)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently with Python 3 (hmac, hashlib, base64, urllib.parse):
    //   import hmac, hashlib, base64, urllib.parse as u
    //   def tok(uri, rule, key, se):
    //       sr = u.quote(uri, safe="")
    //       sig = base64.b64encode(hmac.new(key.encode(), f"{sr}\n{se}".encode(), hashlib.sha256).digest()).decode()
    //       return f"SharedAccessSignature sr={sr}&sig={u.quote(sig, safe='')}&se={se}&skn={u.quote(rule, safe='')}"
    // The script is kept in tests/sas_vectors.py; `sas_vectors_match_python` below re-runs it
    // when /usr/bin/python3 exists.
    const URI: &str = "sb://cardbench-test.servicebus.windows.net/ngoc-to-bureau";
    const RULE: &str = "bureau-listen";
    const KEY: &str = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo=";
    const EXPIRY: u64 = 1_900_000_000;

    #[test]
    fn url_encoding_matches_python_quote() {
        assert_eq!(url_encode("sb://a.b/c d+e=f/g"), "sb%3A%2F%2Fa.b%2Fc%20d%2Be%3Df%2Fg");
        assert_eq!(url_encode("AZaz09-_.~"), "AZaz09-_.~");
    }

    #[test]
    fn token_matches_precomputed_vector() {
        assert_eq!(sas_token(URI, RULE, KEY, EXPIRY), include_str!("../tests/sas_vector_1.txt").trim());
        assert_eq!(
            sas_token("sb://x.servicebus.windows.net/", "RootManageSharedAccessKey", "key with/odd+chars=", 1_700_000_000),
            include_str!("../tests/sas_vector_2.txt").trim()
        );
    }

    #[test]
    fn token_changes_with_every_input() {
        let base = sas_token(URI, RULE, KEY, EXPIRY);
        assert_ne!(base, sas_token(URI, RULE, KEY, EXPIRY + 1));
        assert_ne!(base, sas_token(URI, RULE, "other", EXPIRY));
        assert_ne!(base, sas_token(&format!("{URI}x"), RULE, KEY, EXPIRY));
        assert!(base.starts_with("SharedAccessSignature sr=sb%3A%2F%2Fcardbench-test.servicebus.windows.net%2Fngoc-to-bureau&sig="));
        assert!(base.ends_with("&se=1900000000&skn=bureau-listen"));
    }

    #[test]
    fn sas_vectors_match_python() {
        let python = std::path::Path::new("/usr/bin/python3");
        if !python.exists() {
            return; // The precomputed constants above still check the token.
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sas_vectors.py");
        let out = std::process::Command::new(python).arg(script).arg(URI).arg(RULE).arg(KEY).arg(EXPIRY.to_string()).output();
        let Ok(out) = out else { return };
        assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), sas_token(URI, RULE, KEY, EXPIRY));
    }
}
