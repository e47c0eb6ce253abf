//! The API's bearer token: generated here (32 random bytes, hex), shown once, kept in the OS
//! keyring (`cardbench_secrets`, service [`SERVICE`], account [`ACCOUNT`]). The one place for it,
//! used by `cardbench api token` and the settings screen alike.

use cardbench_secrets::Secret;

use crate::error::ApiError;
use crate::server::Token;

/// The keyring service and account of the token.
pub const SERVICE: &str = "cardbench-api";
pub const ACCOUNT: &str = "token";
/// Random bytes in a token (written as 64 hex digits).
const TOKEN_BYTES: usize = 32;

fn kept(e: cardbench_secrets::SecretError) -> ApiError {
    ApiError::Secrets(e.to_string())
}

/// Generates and keeps a new token, returned to be shown once. Refused when one exists unless
/// `rotate` (the old one stops working as soon as a running server reloads it: at its next start).
pub fn issue(rotate: bool) -> Result<Secret, ApiError> {
    if !rotate && exists()? {
        return Err(ApiError::TokenExists);
    }
    let token = cardbench_secrets::generate(TOKEN_BYTES);
    cardbench_secrets::store(SERVICE, ACCOUNT, &token).map_err(kept)?;
    tracing::info!(rotated = rotate, "a new card API token was generated");
    Ok(token)
}

/// Whether a token is kept.
pub fn exists() -> Result<bool, ApiError> {
    Ok(cardbench_secrets::load(SERVICE, ACCOUNT).map_err(kept)?.is_some())
}

/// The kept token, for the server; [`ApiError::NoToken`] when none was generated.
pub fn load() -> Result<Token, ApiError> {
    let secret = cardbench_secrets::load(SERVICE, ACCOUNT).map_err(kept)?.ok_or(ApiError::NoToken)?;
    Ok(Token::new(secret.expose()))
}
