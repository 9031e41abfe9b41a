//! Storage: one `Store` in front of the database: SQLite, the embedded default,
//! or PostgreSQL, for several replicas.

mod sql;

use serde::{Deserialize, Serialize};

pub use sql::{
    Backend, CodeTaken, DevicePoll, RefreshTaken, Removal, SqlStore, USED_CODE_RETENTION,
};

/// A storage failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {source}")]
pub struct StoreError {
    doing: &'static str,
    #[source]
    source: sqlx::Error,
}

impl StoreError {
    pub(crate) fn new(doing: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self { doing, source }
    }
}

/// A registered relying party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// A name people see on the login page.
    pub name: String,
    /// A keyed hash of the client secret (never the secret).
    #[serde(skip)]
    pub secret_hash: Option<Vec<u8>>,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// The sector its pairwise subjects are computed for.
    pub sector: String,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// Grants it may use: `authorization_code`, `refresh_token`, `client_credentials`.
    pub grant_types: Vec<String>,
    /// Its public keys (a JWK Set, JSON) for `private_key_jwt`.
    pub jwks: Option<String>,
    /// Where it may send people after logout, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// The JWS algorithm of its ID tokens: `ES256` (the default) or `RS256`.
    pub id_token_signed_response_alg: String,
    /// The resource servers it may ask tokens for (RFC 8707 `resource`), matched
    /// exactly; a token for one has it as its audience.
    pub resources: Vec<String>,
}

impl Client {
    /// A public client: no secret and no keys (a native application such as
    /// the signer CLI); it is named by its client_id alone.
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none() && self.jwks.is_none()
    }

    /// The algorithm its ID tokens are signed with.
    pub fn id_token_alg(&self) -> identity_core::jose::JwsAlgorithm {
        self.id_token_signed_response_alg
            .parse()
            .unwrap_or(identity_core::jose::JwsAlgorithm::Es256)
    }
}

/// A refresh token's grant, stored under the token's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    /// The family: every token descended from one code.
    pub family_id: String,
    /// The client.
    pub client_id: String,
    /// Who.
    pub personal_number: String,
    /// The scopes.
    pub scope: String,
    /// The login's assurance level.
    pub acr: String,
    /// When the person authenticated.
    pub auth_time: i64,
    /// When the token expires.
    pub expires_at: i64,
    /// The business the person acts for (enterprise code), if they chose one.
    pub business: Option<String>,
}

/// A signing key as stored: encrypted PKCS#8.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key id (RFC 7638 thumbprint).
    pub kid: String,
    /// The JWS algorithm.
    pub alg: String,
    /// PKCS#8, encrypted under the server's secret.
    pub pkcs8_encrypted: Vec<u8>,
    /// When it was made (and first published).
    pub created_at: i64,
    /// When it starts signing.
    pub not_before: i64,
    /// When it stops being published (the tokens it signed have expired by then).
    pub retired_at: Option<i64>,
}

/// A resident in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The personal identification number.
    pub personal_number: String,
    /// The full name.
    pub full_name: String,
    /// The birth date, `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// `low`, `substantial` or `high`.
    pub assurance: String,
}

/// A business a person represents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Represented {
    /// The enterprise code.
    pub enterprise_code: String,
    /// The registered name.
    pub registered_name: String,
}

/// An authorization code's grant, stored under the code's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeGrant {
    /// Which client it was issued to.
    pub client_id: String,
    /// The redirect URI of the request (must be repeated at the token endpoint).
    pub redirect_uri: String,
    /// Who logged in.
    pub personal_number: String,
    /// The scopes granted.
    pub scope: String,
    /// The client's nonce, for the ID token.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The assurance level of the login.
    pub acr: String,
    /// When the person authenticated.
    pub auth_time: i64,
    /// When the code expires.
    pub expires_at: i64,
    /// The business the person chose to act for (enterprise code), if any.
    pub business: Option<String>,
}

/// A single sign-on session at the provider: a browser whose person has logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    /// Who.
    pub personal_number: String,
    /// The assurance level the login reached.
    pub acr: String,
    /// How they authenticated (RFC 8176 values, space-separated).
    pub amr: String,
    /// When.
    pub auth_time: i64,
    /// When the session ends by itself.
    pub expires_at: i64,
}

/// A resident's passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    /// The credential id the authenticator chose.
    pub credential_id: Vec<u8>,
    /// Whose it is.
    pub personal_number: String,
    /// The WebAuthn user handle it was registered with.
    pub user_handle: Vec<u8>,
    /// webauthn-rs's record (public key, counter), JSON.
    pub passkey: String,
    /// A name for the person to tell their passkeys apart.
    pub name: String,
    /// When it was registered.
    pub created_at: i64,
    /// When it last logged in.
    pub last_used_at: Option<i64>,
    /// When it was disabled (a suspected clone); a disabled passkey logs no one in.
    pub disabled_at: Option<i64>,
}

/// The store the server runs on.
pub type Store = SqlStore;

/// A device authorization request (RFC 8628) waiting for its person, as the
/// approval page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    /// The client (device) that asked.
    pub client_id: String,
    /// The scopes it asked for.
    pub scope: String,
    /// When the request expires.
    pub expires_at: i64,
}

/// A person's approval of a device authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceApproval {
    /// Who approved (the device acts as them).
    pub personal_number: String,
    /// The assurance level of their login.
    pub acr: String,
    /// When they authenticated.
    pub auth_time: i64,
}

/// A certificate the online CA issued, and its revocation if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    /// The serial number, lower-case hexadecimal.
    pub serial: String,
    /// The issuing CA's name.
    pub ca: String,
    /// The profile it was issued under.
    pub profile: String,
    /// Its subject, as text.
    pub subject: String,
    /// Whose it is.
    pub personal_number: Option<String>,
    /// When it was issued.
    pub issued_at: i64,
    /// When it expires.
    pub not_after: i64,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// The RFC 5280 reason code of its revocation.
    pub reason: Option<u8>,
}

/// What revoking a certificate did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// Revoked now.
    Revoked,
    /// Revoked before: when, and why.
    Already {
        /// When.
        at: i64,
        /// The reason code.
        reason: u8,
    },
    /// No such certificate.
    Unknown,
}
