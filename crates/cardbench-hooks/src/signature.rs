//! The `X-Nexus-Signature` header: `HMAC-SHA256=<signature>`, the HMAC-SHA256 of the exact body
//! bytes under the webhook's shared secret, lowercase hex by default or base64 (standard alphabet,
//! padded) for receivers that want it. One place for signing and verifying, used by the sender,
//! `cardbench webhook verify` and the tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The header that carries the signature.
pub const HEADER: &str = "X-Nexus-Signature";
/// What the header's value starts with.
pub const PREFIX: &str = "HMAC-SHA256=";

/// How the signature bytes are written in the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Lowercase hex, 64 characters.
    #[default]
    Hex,
    /// Standard base64 with padding, 44 characters.
    Base64,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
        }
    }
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hex" => Ok(Encoding::Hex),
            "base64" => Ok(Encoding::Base64),
            other => Err(format!("unknown signature encoding `{other}`: hex or base64")),
        }
    }
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of every length"),
    }
}

/// The header value for `body` signed with `secret`: `HMAC-SHA256=<signature>`.
pub fn sign(secret: &[u8], body: &[u8], encoding: Encoding) -> String {
    let mut m = mac(secret);
    m.update(body);
    let tag = m.finalize().into_bytes();
    let sig = match encoding {
        Encoding::Hex => hex::encode(tag),
        Encoding::Base64 => STANDARD.encode(tag),
    };
    format!("{PREFIX}{sig}")
}

/// Why a header value is not a signature at all (as opposed to a signature that does not match).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedSignature {
    #[error("the signature does not start with `{PREFIX}`")]
    Prefix,
    #[error("the signature is neither 64 hex digits nor 44 characters of base64")]
    Encoding,
}

/// The signature bytes of a header value, hex or base64 detected by their form: 64 hex digits
/// (either case) or standard/URL-safe base64 of 32 bytes.
pub fn parse(header_value: &str) -> Result<Vec<u8>, MalformedSignature> {
    let value = header_value.trim();
    let sig = value
        .strip_prefix(PREFIX)
        .or_else(|| value.get(..PREFIX.len()).filter(|p| p.eq_ignore_ascii_case(PREFIX)).map(|_| &value[PREFIX.len()..]))
        .ok_or(MalformedSignature::Prefix)?;
    if sig.len() == 64 && sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(sig).map_err(|_| MalformedSignature::Encoding);
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(sig).ok().filter(|b| b.len() == 32))
        .ok_or(MalformedSignature::Encoding)
}

/// Whether `header_value` is `body`'s signature under `secret`, hex or base64. The comparison is
/// constant-time (`hmac`'s `verify_slice`). A malformed value is an error, not a mismatch.
pub fn check(secret: &[u8], body: &[u8], header_value: &str) -> Result<bool, MalformedSignature> {
    let expected = parse(header_value)?;
    let mut m = mac(secret);
    m.update(body);
    Ok(m.verify_slice(&expected).is_ok())
}

/// Whether `header_value` is `body`'s signature under `secret`; false when it is malformed too.
pub fn verify(secret: &[u8], body: &[u8], header_value: &str) -> bool {
    check(secret, body, header_value).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    const RFC4231_2: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn hex_is_lowercase_and_matches_rfc_4231() {
        let h = sign(b"Jefe", b"what do ya want for nothing?", Encoding::Hex);
        assert_eq!(h, format!("HMAC-SHA256={RFC4231_2}"));
    }

    #[test]
    fn base64_is_the_same_bytes() {
        let h = sign(b"Jefe", b"what do ya want for nothing?", Encoding::Base64);
        let b64 = h.strip_prefix(PREFIX).expect("prefix");
        assert_eq!(hex::encode(STANDARD.decode(b64).expect("b64")), RFC4231_2);
    }

    #[test]
    fn verify_takes_hex_in_any_case_and_base64() {
        let body = "{\"organisationId\":\"Zoë Ångström\"}".as_bytes();
        for enc in [Encoding::Hex, Encoding::Base64] {
            let h = sign(b"s3cret", body, enc);
            assert!(verify(b"s3cret", body, &h), "{enc:?}");
        }
        let upper = sign(b"s3cret", body, Encoding::Hex).to_uppercase();
        assert!(verify(b"s3cret", body, &upper));
    }

    #[test]
    fn one_changed_byte_or_another_secret_is_refused() {
        let body = "{\"errorMessage\":\"Zoë Ångström\"}".as_bytes().to_vec();
        let h = sign(b"s3cret", &body, Encoding::Hex);
        for i in 0..body.len() {
            let mut changed = body.clone();
            changed[i] ^= 0x01;
            assert!(!verify(b"s3cret", &changed, &h), "byte {i} changed and still verified");
        }
        assert!(!verify(b"s3creT", &body, &h));
    }

    #[test]
    fn malformed_values_are_errors() {
        assert_eq!(check(b"k", b"b", "sha256=abc"), Err(MalformedSignature::Prefix));
        assert_eq!(check(b"k", b"b", "HMAC-SHA256=zz"), Err(MalformedSignature::Encoding));
        assert_eq!(check(b"k", b"b", "HMAC-SHA256="), Err(MalformedSignature::Encoding));
    }
}
