//! OpenID Connect decisions, free of HTTP and storage: request validation, PKCE,
//! pairwise subjects, token contents. Handlers do the I/O around these.

pub mod authorize;
pub mod request;
pub mod token;

use std::collections::HashMap;
use std::sync::Arc;

use base64ct::{Base64UrlUnpadded, Encoding};
use identity_core::jose::{self, Jwk, JwkSet, JwsAlgorithm, JwsHeader};
use identity_core::keys::{Passphrase, SigningKey, SystemRandom};
use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// An OAuth 2.0 error: the code of RFC 6749 and a description for developers
/// (never a secret, never a stack of internal detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, ….
    pub code: &'static str,
    /// What was wrong.
    pub description: String,
}

impl OAuthError {
    /// The description is kept to the characters RFC 6749 §5.2 allows in
    /// `error_description` (printable ASCII but `"` and `\`): a value echoed
    /// from a request cannot put anything else in a redirect or a JSON answer.
    pub(crate) fn new(code: &'static str, description: impl Into<String>) -> Self {
        let description = description
            .into()
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\\' => '/',
                ' '..='~' => c,
                _ => '?',
            })
            .collect();
        Self { code, description }
    }
}

/// The server's secret, from which the keys that hash client secrets and codes,
/// make pairwise subjects and encrypt signing keys are derived.
pub struct ServerSecret {
    client_secrets: hmac::Key,
    codes: hmac::Key,
    pairwise: hmac::Key,
    references: ring::aead::LessSafeKey,
    /// Wraps the token signing keys at rest (AES-256-GCM, the kid as associated data).
    key_wrapping: ring::aead::LessSafeKey,
    /// The PBES2 passphrase keys were stored under before key wrapping: still read.
    legacy_key_passphrase: Zeroizing<String>,
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret([secret elided])")
    }
}

fn derive(secret: &[u8], label: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), label.as_bytes())
        .as_ref()
        .to_vec()
}

impl ServerSecret {
    /// From at least 32 bytes of high-entropy secret.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err(format!(
                "the server secret must be at least 32 bytes, not {}",
                secret.len()
            ));
        }
        let key = |label| hmac::Key::new(hmac::HMAC_SHA256, &derive(secret, label));
        let aead = |label| {
            let key = Zeroizing::new(derive(secret, label));
            ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &key)
                .map(ring::aead::LessSafeKey::new)
                .map_err(|_| format!("could not make the {label} key"))
        };
        Ok(Self {
            references: aead("token references")?,
            key_wrapping: aead("signing key wrapping")?,
            client_secrets: key("client secrets"),
            codes: key("authorization codes"),
            pairwise: key("pairwise subjects"),
            legacy_key_passphrase: Zeroizing::new(Base64UrlUnpadded::encode_string(&derive(
                secret,
                "signing key encryption",
            ))),
        })
    }

    /// The keyed hash a client secret is stored as (client secrets are high-entropy,
    /// so a fast keyed hash, not a password hash, is right).
    pub fn hash_client_secret(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.client_secrets, secret.as_bytes())
            .as_ref()
            .to_vec()
    }

    /// Whether `secret` is the one `stored` was made from, in constant time.
    pub fn client_secret_matches(&self, secret: &str, stored: &[u8]) -> bool {
        self.hash_client_secret(secret).ct_eq(stored).into()
    }

    /// The hash an authorization code is stored under.
    pub fn hash_code(&self, code: &str) -> Vec<u8> {
        hmac::sign(&self.codes, code.as_bytes()).as_ref().to_vec()
    }

    /// The keyed hash a random handle of `kind` (a login under way, a session, a
    /// browser binding) is stored under: the database never holds a handle.
    pub fn hash_handle(&self, kind: &str, handle: &str) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.codes);
        ctx.update(kind.as_bytes());
        ctx.update(&[0]);
        ctx.update(handle.as_bytes());
        ctx.sign().as_ref().to_vec()
    }

    /// The pairwise subject of a person for a sector: unlinkable across sectors.
    pub fn pairwise_subject(&self, sector: &str, personal_number: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.pairwise);
        ctx.update(sector.as_bytes());
        ctx.update(&[0]);
        ctx.update(personal_number.as_bytes());
        Base64UrlUnpadded::encode_string(ctx.sign().as_ref())
    }

    /// An opaque, encrypted reference to a person, carried in access tokens so that
    /// userinfo can find them without the token revealing their number.
    pub fn seal_reference(&self, personal_number: &str) -> Result<String, OAuthError> {
        let mut nonce = [0u8; 12];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut nonce)
            .map_err(|_| OAuthError::new("server_error", "no randomness"))?;
        let mut data = personal_number.as_bytes().to_vec();
        self.references
            .seal_in_place_append_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::empty(),
                &mut data,
            )
            .map_err(|_| OAuthError::new("server_error", "could not seal"))?;
        Ok(Base64UrlUnpadded::encode_string(
            &[&nonce[..], &data].concat(),
        ))
    }

    /// The person a reference names, if it is one of ours.
    pub fn open_reference(&self, reference: &str) -> Option<String> {
        let bytes = Base64UrlUnpadded::decode_vec(reference).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .references
            .open_in_place(nonce, ring::aead::Aad::empty(), &mut sealed)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// A signing key wrapped for storage: `01 ‖ nonce ‖ AES-256-GCM(PKCS#8)`, with
    /// the kid as associated data (so a wrapped key cannot be passed off under
    /// another kid). The wrapping key is derived from the server secret, which is
    /// already high-entropy: no password hash is needed (or wanted: it cost every
    /// start and every key reload a quarter of a second per key).
    pub fn wrap_signing_key(&self, kid: &str, key: &SigningKey) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; 12];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut nonce)
            .map_err(|_| "no randomness".to_owned())?;
        let mut data = key.secret_pkcs8_der();
        self.key_wrapping
            .seal_in_place_append_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::from(kid.as_bytes()),
                &mut *data,
            )
            .map_err(|_| "could not wrap the signing key".to_owned())?;
        Ok([&[WRAPPED_KEY_V1][..], &nonce, &data].concat())
    }

    /// The signing key `wrapped` holds (or, for a key stored by an earlier
    /// version, the PBES2-encrypted PKCS#8 it is).
    pub fn unwrap_signing_key(&self, kid: &str, wrapped: &[u8]) -> Result<SigningKey, String> {
        let failed = || {
            format!(
                "signing key {kid}: cannot be opened (is IDP_SECRET_KEY the one it was made with?)"
            )
        };
        let Some((&WRAPPED_KEY_V1, rest)) = wrapped.split_first() else {
            let passphrase = Passphrase::new(self.legacy_key_passphrase.to_string());
            return SigningKey::from_encrypted_pkcs8_der(wrapped, &passphrase)
                .map_err(|_| failed());
        };
        let (nonce, sealed) = rest.split_at_checked(12).ok_or_else(failed)?;
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| failed())?;
        let mut sealed = Zeroizing::new(sealed.to_vec());
        let plain = self
            .key_wrapping
            .open_in_place(nonce, ring::aead::Aad::from(kid.as_bytes()), &mut sealed)
            .map_err(|_| failed())?;
        SigningKey::from_pkcs8_der(plain).map_err(|e| format!("signing key {kid}: {e}"))
    }
}

/// The first byte of a wrapped signing key (a PBES2 one, from before, is DER: 0x30).
const WRAPPED_KEY_V1: u8 = 1;

/// A random token of 32 bytes, base64url (codes, secrets, state).
pub fn random_token() -> Result<String, OAuthError> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut bytes)
        .map_err(|_| OAuthError::new("server_error", "no randomness"))?;
    Ok(Base64UrlUnpadded::encode_string(&bytes))
}

/// PKCE S256 (RFC 7636 §4.6): whether `verifier` hashes to `challenge`.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let valid_verifier = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = Base64UrlUnpadded::encode_string(
        ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    valid_verifier && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The algorithms ID tokens can be signed with, per client: ES256 for everyone
/// who can, RS256 because OpenID Connect Discovery requires it to be offered.
/// Access tokens are always ES256.
pub const ID_TOKEN_ALGS: [JwsAlgorithm; 2] = [JwsAlgorithm::Es256, JwsAlgorithm::Rs256];

/// The keys that sign tokens: per algorithm, the newest whose time has come
/// signs; all are published (a new key before it signs, an old one until its
/// tokens expired).
pub struct SigningKeys {
    /// The signing key of each algorithm that has one, with its kid; ES256 first.
    active: Vec<(JwsAlgorithm, Arc<SigningKey>, String)>,
    /// Every key opened, by kid: a reload opens only the keys it has not seen.
    opened: HashMap<String, Arc<SigningKey>>,
    published: JwkSet,
    /// The published keys and those retired lately: logout hints are ID tokens
    /// that may be older than the keys still published.
    recent: JwkSet,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let active: Vec<_> = self.active.iter().map(|(a, _, kid)| (a, kid)).collect();
        f.debug_struct("SigningKeys")
            .field("active", &active)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// From the stored keys (by `not_before`, newest first), unwrapped with the
    /// server secret (or taken from `previous`, which opened them already); each
    /// algorithm's signing key is its newest one whose `not_before` is past. There
    /// must be an ES256 one. Keys retired by `now` are kept for
    /// [`SigningKeys::recent`] only.
    pub fn from_stored(
        stored: &[crate::store::StoredKey],
        secret: &ServerSecret,
        previous: Option<&SigningKeys>,
        now: i64,
    ) -> Result<Self, String> {
        let mut keys = Vec::new();
        let mut opened = HashMap::new();
        for k in stored {
            let alg: JwsAlgorithm = k
                .alg
                .parse()
                .map_err(|_| format!("signing key {} has an unknown algorithm {}", k.kid, k.alg))?;
            let key = match previous.and_then(|p| p.opened.get(&k.kid)) {
                Some(key) => Arc::clone(key),
                None => Arc::new(secret.unwrap_signing_key(&k.kid, &k.pkcs8_encrypted)?),
            };
            if key.verifying_key().algorithm() != alg.signature_algorithm() {
                return Err(format!("signing key {} is not an {alg} key", k.kid));
            }
            // The kid is the key's thumbprint: a row whose key was swapped is refused.
            if Jwk::new(key.verifying_key().clone()).thumbprint() != k.kid {
                return Err(format!("signing key {} does not match its kid", k.kid));
            }
            opened.insert(k.kid.clone(), Arc::clone(&key));
            keys.push((alg, k.kid.clone(), key));
        }
        let mut published = JwkSet::default();
        let mut recent = JwkSet::default();
        for ((_, kid, key), stored) in keys.iter().zip(stored) {
            if stored.retired_at.is_none_or(|at| at > now) {
                published.keys.push(jwk(key, kid));
            }
            recent.keys.push(jwk(key, kid));
        }
        let mut active: Vec<(JwsAlgorithm, Arc<SigningKey>, String)> = Vec::new();
        for ((alg, kid, key), stored) in keys.into_iter().zip(stored) {
            let signs = stored.not_before <= now && stored.retired_at.is_none_or(|at| at > now);
            if signs && !active.iter().any(|(a, _, _)| *a == alg) {
                active.push((alg, key, kid));
            }
        }
        active.sort_by_key(|(alg, _, _)| *alg != JwsAlgorithm::Es256);
        if active
            .first()
            .is_none_or(|(alg, _, _)| *alg != JwsAlgorithm::Es256)
        {
            return Err("no ES256 signing key is active yet".into());
        }
        Ok(Self {
            active,
            opened,
            published,
            recent,
        })
    }

    /// Makes a new key for `alg` (ES256 or RS256), wrapped for storage, to sign
    /// from `not_before`.
    pub fn generate(
        alg: JwsAlgorithm,
        secret: &ServerSecret,
        now: i64,
        not_before: i64,
    ) -> Result<crate::store::StoredKey, String> {
        let rng = SystemRandom::new();
        let key = SigningKey::generate(alg.signature_algorithm(), &rng)
            .map_err(|e| format!("making an {alg} key: {e}"))?;
        let kid = Jwk::new(key.verifying_key().clone()).thumbprint();
        let pkcs8_encrypted = secret.wrap_signing_key(&kid, &key)?;
        Ok(crate::store::StoredKey {
            kid,
            alg: alg.as_str().into(),
            pkcs8_encrypted,
            created_at: now,
            not_before,
            retired_at: None,
        })
    }

    /// The ES256 signing key and its kid: access tokens and most ID tokens.
    pub fn active(&self) -> (&SigningKey, &str) {
        let (_, key, kid) = &self.active[0];
        (key.as_ref(), kid)
    }

    /// The signing key of `alg` and its kid, if there is one.
    pub fn signer(&self, alg: JwsAlgorithm) -> Option<(&SigningKey, &str)> {
        self.active
            .iter()
            .find(|(a, _, _)| *a == alg)
            .map(|(_, key, kid)| (key.as_ref(), kid.as_str()))
    }

    /// A JWT of `claims` signed with the `alg` key, with its kid and `typ`; `None`
    /// when no key of `alg` signs yet.
    pub fn sign_jwt(
        &self,
        alg: JwsAlgorithm,
        typ: &str,
        claims: &serde_json::Value,
    ) -> Result<Option<String>, identity_core::Error> {
        let Some((key, kid)) = self.signer(alg) else {
            return Ok(None);
        };
        let header = JwsHeader::new(alg)
            .with_kid(Some(kid.to_owned()))
            .with_typ(typ);
        jose::sign_jwt(&header, claims, key).map(Some)
    }

    /// The JWK Set to publish.
    pub fn jwks(&self) -> &JwkSet {
        &self.published
    }

    /// The published keys and those retired within the refresh token lifetime,
    /// to recognise old ID tokens given as logout hints.
    pub fn recent(&self) -> &JwkSet {
        &self.recent
    }
}

/// What `keys rotate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The new key.
    pub kid: String,
    /// Its algorithm.
    pub alg: JwsAlgorithm,
    /// When it starts signing.
    pub signs_from: i64,
    /// When the old keys stop being published.
    pub old_retire_at: i64,
}

/// How long relying parties may cache the JWKS (its `Cache-Control: max-age`).
pub const JWKS_MAX_AGE: i64 = 300;

/// Rotates the signing key of `alg`: a new key is published now and signs
/// `activate_in` seconds from now (at least the JWKS cache age, so that relying
/// parties have it before they see a token it signed); the old keys of `alg` stay
/// published until every token they signed has expired.
pub async fn rotate_keys(
    store: &crate::store::Store,
    secret: &ServerSecret,
    config: &crate::config::Config,
    alg: JwsAlgorithm,
    now: i64,
    activate_in: i64,
) -> Result<Rotation, String> {
    if !ID_TOKEN_ALGS.contains(&alg) {
        return Err(format!(
            "tokens are not signed {alg}: rotate ES256 or RS256"
        ));
    }
    if activate_in < JWKS_MAX_AGE {
        return Err(format!(
            "the new key must be published at least {JWKS_MAX_AGE} s (the JWKS cache age) before it signs; \
             give --activate-in {JWKS_MAX_AGE} or more"
        ));
    }
    let signs_from = now + activate_in;
    let old_retire_at =
        signs_from + config.id_token_lifetime.max(config.access_token_lifetime) + JWKS_MAX_AGE;
    let key = SigningKeys::generate(alg, secret, now, signs_from)?;
    let kid = key.kid.clone();
    store
        .add_signing_key(&key, Some(old_retire_at))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Rotation {
        kid,
        alg,
        signs_from,
        old_retire_at,
    })
}

/// Makes a key for `alg` that signs at once if none of `alg` is published: the
/// first keys, at the first start (or the first start of a version that signs
/// with `alg`). Returns the new key's kid.
pub async fn ensure_key(
    store: &crate::store::Store,
    secret: &ServerSecret,
    alg: JwsAlgorithm,
    now: i64,
) -> Result<Option<String>, String> {
    let published = store.signing_keys(now).await.map_err(|e| e.to_string())?;
    if published.iter().any(|k| k.alg == alg.as_str()) {
        return Ok(None);
    }
    let key = SigningKeys::generate(alg, secret, now, now)?;
    store
        .add_signing_key(&key, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(key.kid))
}

fn jwk(key: &SigningKey, kid: &str) -> Jwk {
    let mut jwk = Jwk::new(key.verifying_key().clone());
    jwk.kid = Some(kid.to_owned());
    jwk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_descriptions_keep_to_the_characters_rfc6749_allows() {
        let e = OAuthError::new("invalid_scope", "scope \"hồ sơ\\x\"\n is not allowed");
        assert_eq!(e.description, "scope 'h? s?/x'? is not allowed");
        assert!(
            e.description
                .bytes()
                .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e))
        );
    }

    #[test]
    fn pkce_s256_rfc7636_appendix_b() {
        // RFC 7636 appendix B.
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "short",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn signing_keys_are_wrapped_under_the_server_secret_and_their_kid() {
        let secret = ServerSecret::new(&[7; 32]).unwrap();
        let rng = SystemRandom::new();
        let key = SigningKey::generate(
            identity_core::keys::SignatureAlgorithm::EcdsaP256Sha256,
            &rng,
        )
        .unwrap();
        let wrapped = secret.wrap_signing_key("k1", &key).unwrap();
        let opened = secret.unwrap_signing_key("k1", &wrapped).unwrap();
        assert_eq!(opened.verifying_key(), key.verifying_key());
        // Under another kid, another secret, or damaged: refused with the reason.
        let error = secret.unwrap_signing_key("k2", &wrapped).unwrap_err();
        assert!(error.contains("IDP_SECRET_KEY"), "{error}");
        let other = ServerSecret::new(&[8; 32]).unwrap();
        assert!(other.unwrap_signing_key("k1", &wrapped).is_err());
        let mut damaged = wrapped.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(secret.unwrap_signing_key("k1", &damaged).is_err());
        assert!(secret.unwrap_signing_key("k1", &wrapped[..5]).is_err());
        assert!(secret.unwrap_signing_key("k1", &[]).is_err());
        // A key stored by an earlier version (PBES2 under the derived passphrase).
        let legacy = key
            .to_encrypted_pkcs8_der(
                &Passphrase::new(secret.legacy_key_passphrase.to_string()),
                &rng,
            )
            .unwrap();
        let opened = secret.unwrap_signing_key("k1", &legacy).unwrap();
        assert_eq!(opened.verifying_key(), key.verifying_key());
    }

    #[test]
    fn pairwise_subjects_differ_by_sector_and_are_stable() {
        let s = ServerSecret::new(&[7; 32]).unwrap();
        let a = s.pairwise_subject("tax.gov.vn", "001090012345");
        assert_eq!(a, s.pairwise_subject("tax.gov.vn", "001090012345"));
        assert_ne!(a, s.pairwise_subject("bank.example", "001090012345"));
        assert!(ServerSecret::new(&[1; 16]).is_err());
        let hash = s.hash_client_secret("s3cret");
        assert!(s.client_secret_matches("s3cret", &hash));
        assert!(!s.client_secret_matches("s3cres", &hash));
    }
}
