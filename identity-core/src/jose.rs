//! JOSE: JWS compact serialisation (RFC 7515), JWT claims validation (RFC 7519),
//! JWK and JWK Sets (RFC 7517) with RFC 7638 thumbprints.
//!
//! Only `ES256` and `EdDSA` exist here. `alg: none`, any algorithm the caller did
//! not allow, a header `crit` member (no extension is understood) and a key of
//! another algorithm than the token's are all refused before any signature check.
//!
//! ```
//! use identity_core::jose::{self, Jwk, JwsAlgorithm, JwsHeader, Validation};
//! use identity_core::keys::{SigningKey, SignatureAlgorithm, SystemRandom};
//! use serde_json::json;
//!
//! let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &SystemRandom::new())?;
//! let jwk = Jwk::new(key.verifying_key().clone()).with_thumbprint_kid();
//! let now = 1_764_000_000;
//! let claims = json!({"iss": "https://id.gov.vn", "sub": "079203001234",
//!                     "aud": "tax-portal", "iat": now, "exp": now + 300});
//! let header = JwsHeader::new(JwsAlgorithm::Es256).with_kid(jwk.kid.clone()).with_typ("JWT");
//! let token = jose::sign_jwt(&header, &claims, &key)?;
//!
//! let rules = Validation::new(now + 10, &[JwsAlgorithm::Es256])
//!     .issuer("https://id.gov.vn")
//!     .audience("tax-portal");
//! let verified = jose::UnverifiedJwt::decode(&token)?.verify(jwk.key(), &rules)?;
//! assert_eq!(verified.subject(), Some("079203001234"));
//!
//! // Six minutes later (five, plus the default minute of leeway) it has expired.
//! let later = Validation::new(now + 360, &[JwsAlgorithm::Es256]).audience("tax-portal");
//! assert!(jose::UnverifiedJwt::decode(&token)?.verify(jwk.key(), &later).is_err());
//! # Ok::<(), identity_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ClaimsError, Error, JoseError};
use crate::keys::{Signature, SignatureAlgorithm, Signer, VerifyingKey};

/// A JWS algorithm this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// Ed25519 (RFC 8037).
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256: what OpenID Connect requires every provider
    /// to offer for ID tokens, and what older relying-party libraries expect.
    Rs256,
}

impl JwsAlgorithm {
    /// The registered name: `ES256`, `EdDSA`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
        }
    }

    /// The key algorithm that signs for this JWS algorithm.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        match self {
            Self::Es256 => SignatureAlgorithm::EcdsaP256Sha256,
            Self::Es384 => SignatureAlgorithm::EcdsaP384Sha384,
            Self::EdDsa => SignatureAlgorithm::Ed25519,
            Self::Rs256 => SignatureAlgorithm::RsaPkcs1Sha256,
        }
    }

    /// The JWS algorithm for a key algorithm.
    pub fn for_key(algorithm: SignatureAlgorithm) -> Self {
        match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => Self::Es256,
            SignatureAlgorithm::EcdsaP384Sha384 => Self::Es384,
            SignatureAlgorithm::Ed25519 => Self::EdDsa,
            SignatureAlgorithm::RsaPkcs1Sha256 => Self::Rs256,
        }
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwsAlgorithm {
    type Err = JoseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(Self::Es256),
            "ES384" => Ok(Self::Es384),
            "EdDSA" => Ok(Self::EdDsa),
            "RS256" => Ok(Self::Rs256),
            "none" => Err(JoseError::Unsecured),
            other => Err(JoseError::AlgorithmNotAllowed {
                alg: other.to_owned(),
            }),
        }
    }
}

fn malformed(what: &'static str, detail: impl Into<String>) -> JoseError {
    JoseError::Malformed {
        what,
        detail: detail.into(),
    }
}

fn b64_decode(what: &'static str, s: &str) -> Result<Vec<u8>, JoseError> {
    Base64UrlUnpadded::decode_vec(s).map_err(|_| malformed(what, "not unpadded base64url"))
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A JWS protected header.
#[derive(Debug, Clone, PartialEq)]
pub struct JwsHeader {
    /// `alg`: the signature algorithm.
    pub alg: JwsAlgorithm,
    /// `kid`: which key signed.
    pub kid: Option<String>,
    /// `typ`: the media type of the whole JWS (`JWT`, `at+jwt`, …).
    pub typ: Option<String>,
    /// `cty`: the media type of the payload.
    pub cty: Option<String>,
    /// Any other members, kept as they came.
    pub other: Map<String, Value>,
}

impl JwsHeader {
    /// A header with only `alg`.
    pub fn new(alg: JwsAlgorithm) -> Self {
        Self {
            alg,
            kid: None,
            typ: None,
            cty: None,
            other: Map::new(),
        }
    }

    /// Sets `kid`.
    pub fn with_kid(mut self, kid: impl Into<Option<String>>) -> Self {
        self.kid = kid.into();
        self
    }

    /// Sets `typ`.
    pub fn with_typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    fn to_json(&self) -> Value {
        let mut m = self.other.clone();
        m.insert("alg".into(), self.alg.as_str().into());
        for (name, value) in [("kid", &self.kid), ("typ", &self.typ), ("cty", &self.cty)] {
            if let Some(v) = value {
                m.insert(name.into(), v.clone().into());
            }
        }
        Value::Object(m)
    }

    fn from_json(bytes: &[u8]) -> Result<Self, JoseError> {
        let Value::Object(mut m) =
            serde_json::from_slice(bytes).map_err(|e| malformed("JWS header", e.to_string()))?
        else {
            return Err(malformed("JWS header", "not a JSON object"));
        };
        let alg = match m.remove("alg") {
            Some(Value::String(s)) => s.parse()?,
            Some(_) => return Err(malformed("JWS header", "alg is not a string")),
            None => return Err(malformed("JWS header", "alg is missing")),
        };
        if let Some(crit) = m.get("crit") {
            // RFC 7515 §4.1.11: a recipient that does not understand a listed
            // extension must reject the JWS. We understand none.
            let name = crit
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .unwrap_or("crit")
                .to_owned();
            return Err(JoseError::CriticalExtension { name });
        }
        let mut text = |name: &'static str| match m.remove(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(malformed("JWS header", format!("{name} is not a string"))),
        };
        let (kid, typ, cty) = (text("kid")?, text("typ")?, text("cty")?);
        Ok(Self {
            alg,
            kid,
            typ,
            cty,
            other: m,
        })
    }
}

/// Signs `payload` as a JWS in compact serialisation.
///
/// The header's `alg` must match the signer's key.
pub fn sign_compact(
    header: &JwsHeader,
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String, Error> {
    let key_alg = JwsAlgorithm::for_key(signer.algorithm());
    if key_alg != header.alg {
        return Err(JoseError::KeyMismatch {
            alg: header.alg.as_str(),
            key: key_alg.as_str(),
        }
        .into());
    }
    let header_json = serde_json::to_vec(&header.to_json())
        .map_err(|e| malformed("JWS header", e.to_string()))?;
    let mut token = b64(&header_json);
    token.push('.');
    token.push_str(&b64(payload));
    let signature = signer.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64(signature.as_bytes()));
    Ok(token)
}

/// A compact JWS that has been parsed but whose signature is not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedJws<'a> {
    header: JwsHeader,
    signing_input: &'a str,
    payload_b64: &'a str,
    signature: Vec<u8>,
}

/// A JWS whose signature verified with a key the caller trusts.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJws {
    header: JwsHeader,
    payload: Vec<u8>,
}

impl VerifiedJws {
    /// The protected header.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload, by value.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }
}

impl<'a> UnverifiedJws<'a> {
    /// Parses the compact serialisation `header.payload.signature`. Refuses `alg:
    /// none`, unknown algorithms and `crit` here, before anything else is looked at.
    pub fn decode(token: &'a str) -> Result<Self, JoseError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(
                "JWS",
                "compact serialisation has three dot-separated parts",
            ));
        };
        let header = JwsHeader::from_json(&b64_decode("JWS header", h)?)?;
        let signature = b64_decode("JWS signature", s)?;
        let signing_input = token.get(..h.len() + 1 + p.len()).unwrap_or_default();
        // Check the payload's encoding now so that verify cannot fail on it later.
        b64_decode("JWS payload", p)?;
        Ok(Self {
            header,
            signing_input,
            payload_b64: p,
            signature,
        })
    }

    /// The header, unauthenticated until [`UnverifiedJws::verify`] succeeds: use it only
    /// to pick a key.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// Checks the signature with `key`, accepting only the algorithms in `allowed`.
    pub fn verify(
        self,
        key: &VerifyingKey,
        allowed: &[JwsAlgorithm],
    ) -> Result<VerifiedJws, JoseError> {
        self.check_algorithm(allowed)?;
        self.check_signature(key)?;
        self.into_verified()
    }

    /// Checks the signature with the key of `keys` that the header's `kid` names
    /// (or, without a `kid`, each key of the right algorithm in turn).
    pub fn verify_with_set(
        self,
        keys: &JwkSet,
        allowed: &[JwsAlgorithm],
    ) -> Result<VerifiedJws, JoseError> {
        self.check_algorithm(allowed)?;
        let candidates: Vec<&Jwk> = keys
            .candidates(self.header.kid.as_deref(), self.header.alg)
            .collect();
        if candidates.is_empty() {
            return Err(JoseError::UnknownKey {
                kid: self.header.kid.clone(),
            });
        }
        if candidates
            .iter()
            .any(|jwk| self.check_signature(&jwk.key).is_ok())
        {
            self.into_verified()
        } else {
            Err(JoseError::BadSignature)
        }
    }

    fn check_algorithm(&self, allowed: &[JwsAlgorithm]) -> Result<(), JoseError> {
        if allowed.contains(&self.header.alg) {
            Ok(())
        } else {
            Err(JoseError::AlgorithmNotAllowed {
                alg: self.header.alg.as_str().to_owned(),
            })
        }
    }

    fn check_signature(&self, key: &VerifyingKey) -> Result<(), JoseError> {
        let expected = self.header.alg.signature_algorithm();
        if key.algorithm() != expected {
            return Err(JoseError::KeyMismatch {
                alg: self.header.alg.as_str(),
                key: JwsAlgorithm::for_key(key.algorithm()).as_str(),
            });
        }
        let signature = Signature::from_fixed(expected, self.signature.clone())
            .map_err(|_| JoseError::BadSignature)?;
        key.verify(self.signing_input.as_bytes(), &signature)
            .map_err(|_| JoseError::BadSignature)
    }

    fn into_verified(self) -> Result<VerifiedJws, JoseError> {
        Ok(VerifiedJws {
            payload: b64_decode("JWS payload", self.payload_b64)?,
            header: self.header,
        })
    }
}

/// Signs a JWT: `claims` must serialise to a JSON object.
pub fn sign_jwt(
    header: &JwsHeader,
    claims: &impl Serialize,
    signer: &dyn Signer,
) -> Result<String, Error> {
    let value = serde_json::to_value(claims).map_err(|e| ClaimsError::Malformed {
        detail: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(ClaimsError::Malformed {
            detail: "JWT claims must be a JSON object".into(),
        }
        .into());
    }
    let payload = serde_json::to_vec(&value).map_err(|e| ClaimsError::Malformed {
        detail: e.to_string(),
    })?;
    sign_compact(header, &payload, signer)
}

/// What a JWT must satisfy, beyond its signature. Times are seconds since the Unix
/// epoch; the caller supplies `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    now: i64,
    algorithms: Vec<JwsAlgorithm>,
    leeway: u64,
    issuer: Option<String>,
    audiences: Vec<String>,
    required: Vec<String>,
    max_age: Option<u64>,
    typ: Option<String>,
    any_audience: bool,
}

impl Validation {
    /// Rules for a token checked at `now` and signed with one of `algorithms`: a 60 s
    /// leeway, `exp` required, no issuer or audience expected (a token that carries
    /// an `aud` is then refused, as RFC 7519 §4.1.3 requires).
    pub fn new(now: i64, algorithms: &[JwsAlgorithm]) -> Self {
        Self {
            now,
            algorithms: algorithms.to_vec(),
            leeway: 60,
            issuer: None,
            audiences: Vec::new(),
            required: vec!["exp".into()],
            max_age: None,
            typ: None,
            any_audience: false,
        }
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Requires `iss` to equal `issuer` exactly.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Accepts tokens whose `aud` contains `audience` (may be called several times:
    /// any one matching is enough).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Requires the claim `name` to be present.
    pub fn require(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.required.contains(&name) {
            self.required.push(name);
        }
        self
    }

    /// Requires the header's `typ` to be `typ` (RFC 8725 §3.11 explicit typing), compared
    /// without regard to case and with an optional `application/` prefix, so that a
    /// token of one kind (`at+jwt`, `logout+jwt`) is never taken for another.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    fn check_typ(&self, header: &JwsHeader) -> Result<(), ClaimsError> {
        let Some(expected) = &self.typ else {
            return Ok(());
        };
        let bare = |t: &str| {
            let t = t.to_ascii_lowercase();
            t.strip_prefix("application/")
                .map(str::to_owned)
                .unwrap_or(t)
        };
        match &header.typ {
            Some(found) if bare(found) == bare(expected) => Ok(()),
            found => Err(ClaimsError::Type {
                expected: expected.clone(),
                found: found.clone(),
            }),
        }
    }

    /// Refuses tokens whose `iat` is more than `seconds` before `now` (requires `iat`).
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self.require("iat")
    }

    fn check(&self, claims: &Map<String, Value>) -> Result<(), ClaimsError> {
        for name in &self.required {
            if !claims.contains_key(name) {
                return Err(ClaimsError::Missing { name: name.clone() });
            }
        }
        let (now, leeway) = (self.now, self.leeway);
        let slack = i64::try_from(leeway).unwrap_or(i64::MAX);
        if let Some(exp) = numeric_date(claims, "exp", Round::Down)?
            && now >= exp.saturating_add(slack)
        {
            return Err(ClaimsError::Expired { exp, now, leeway });
        }
        if let Some(nbf) = numeric_date(claims, "nbf", Round::Up)?
            && now.saturating_add(slack) < nbf
        {
            return Err(ClaimsError::NotYetValid { nbf, now, leeway });
        }
        if let Some(iat) = numeric_date(claims, "iat", Round::Up)? {
            if iat > now.saturating_add(slack) {
                return Err(ClaimsError::IssuedInFuture { iat, now, leeway });
            }
            if let Some(max_age) = self.max_age {
                let limit = i64::try_from(max_age)
                    .unwrap_or(i64::MAX)
                    .saturating_add(slack);
                if now.saturating_sub(iat) > limit {
                    return Err(ClaimsError::TooOld { iat, now, max_age });
                }
            }
        }
        if let Some(expected) = &self.issuer {
            match claims.get("iss") {
                Some(Value::String(iss)) if iss == expected => {}
                Some(Value::String(iss)) => {
                    return Err(ClaimsError::Issuer {
                        expected: expected.clone(),
                        found: iss.clone(),
                    });
                }
                Some(_) => {
                    return Err(ClaimsError::Malformed {
                        detail: "iss is not a string".into(),
                    });
                }
                None => return Err(ClaimsError::Missing { name: "iss".into() }),
            }
        }
        let found = audiences(claims)?;
        if self.any_audience {
            return Ok(());
        }
        match found {
            None if self.audiences.is_empty() => {}
            None => return Err(ClaimsError::Missing { name: "aud".into() }),
            Some(found) => {
                if !found.iter().any(|a| self.audiences.contains(a)) {
                    return Err(ClaimsError::Audience {
                        expected: self.audiences.clone(),
                        found,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Which way a fractional NumericDate is rounded: always towards refusing the token.
#[derive(Clone, Copy)]
enum Round {
    /// For `exp`: an earlier expiry.
    Down,
    /// For `nbf` and `iat`: a later start.
    Up,
}

/// Reads a NumericDate claim: a JSON number of seconds, possibly fractional.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
    round: Round,
) -> Result<Option<i64>, ClaimsError> {
    let whole = |f: f64| match round {
        Round::Down => f.floor(),
        Round::Up => f.ceil(),
    };
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| whole(f) as i64)
            })
            .map(Some)
            .ok_or_else(|| ClaimsError::Malformed {
                detail: format!("{name} is out of range"),
            }),
        Some(_) => Err(ClaimsError::Malformed {
            detail: format!("{name} is not a number"),
        }),
    }
}

fn audiences(claims: &Map<String, Value>) -> Result<Option<Vec<String>>, ClaimsError> {
    let bad = || ClaimsError::Malformed {
        detail: "aud is not a string or an array of strings".into(),
    };
    match claims.get("aud") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad()),
    }
}

/// A JWT that has been parsed but whose signature and claims are not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedJwt<'a>(UnverifiedJws<'a>);

impl<'a> UnverifiedJwt<'a> {
    /// Parses a compact JWT.
    pub fn decode(token: &'a str) -> Result<Self, JoseError> {
        UnverifiedJws::decode(token).map(Self)
    }

    /// The unauthenticated header, for picking a key.
    pub fn header(&self) -> &JwsHeader {
        self.0.header()
    }

    /// Checks the signature with `key`, then the claims against `rules`.
    pub fn verify(self, key: &VerifyingKey, rules: &Validation) -> Result<VerifiedClaims, Error> {
        let jws = self.0.verify(key, &rules.algorithms)?;
        VerifiedClaims::check(jws, rules)
    }

    /// Checks the signature with a key from `keys`, then the claims against `rules`.
    pub fn verify_with_set(
        self,
        keys: &JwkSet,
        rules: &Validation,
    ) -> Result<VerifiedClaims, Error> {
        let jws = self.0.verify_with_set(keys, &rules.algorithms)?;
        VerifiedClaims::check(jws, rules)
    }
}

/// The claims of a JWT whose signature verified and whose claims passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    header: JwsHeader,
    claims: Map<String, Value>,
}

impl VerifiedClaims {
    fn check(jws: VerifiedJws, rules: &Validation) -> Result<Self, Error> {
        let Value::Object(claims) =
            serde_json::from_slice(&jws.payload).map_err(|e| ClaimsError::Malformed {
                detail: e.to_string(),
            })?
        else {
            return Err(ClaimsError::Malformed {
                detail: "JWT claims must be a JSON object".into(),
            }
            .into());
        };
        rules.check_typ(&jws.header)?;
        rules.check(&claims)?;
        Ok(Self {
            header: jws.header,
            claims,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// All claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// One claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// `iss`, if a string.
    pub fn issuer(&self) -> Option<&str> {
        self.get("iss").and_then(Value::as_str)
    }

    /// `sub`, if a string.
    pub fn subject(&self) -> Option<&str> {
        self.get("sub").and_then(Value::as_str)
    }

    /// `exp`, when present (validation has checked its type).
    pub fn expires_at(&self) -> Option<i64> {
        numeric_date(&self.claims, "exp", Round::Down)
            .ok()
            .flatten()
    }

    /// The claims as a caller's own type.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, ClaimsError> {
        T::deserialize(Value::Object(self.claims.clone())).map_err(|e| ClaimsError::Malformed {
            detail: e.to_string(),
        })
    }
}

/// A public key as a JWK (RFC 7517): `EC` P-256 or P-384, `OKP` Ed25519, `RSA`.
///
/// Reading refuses a JWK holding private members (`d`): publishing one would leak a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct Jwk {
    key: VerifyingKey,
    /// `kid`.
    pub kid: Option<String>,
    /// `alg`, when the key is restricted to one algorithm.
    pub alg: Option<JwsAlgorithm>,
    /// `use`: `sig` or `enc`.
    pub key_use: Option<String>,
}

impl Jwk {
    /// A JWK for `key`, restricted to its JWS algorithm and to signatures.
    pub fn new(key: VerifyingKey) -> Self {
        let alg = Some(JwsAlgorithm::for_key(key.algorithm()));
        Self {
            key,
            kid: None,
            alg,
            key_use: Some("sig".into()),
        }
    }

    /// Sets `kid` to the key's RFC 7638 thumbprint.
    pub fn with_thumbprint_kid(mut self) -> Self {
        self.kid = Some(self.thumbprint());
        self
    }

    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The RFC 7638 thumbprint: base64url of the SHA-256 of the required members in
    /// lexicographic order, without white space.
    pub fn thumbprint(&self) -> String {
        let canonical = match self.key.algorithm() {
            SignatureAlgorithm::Ed25519 => {
                format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    b64(self.key.as_bytes())
                )
            }
            SignatureAlgorithm::RsaPkcs1Sha256 => {
                let (n, e) = self.key.rsa_components().unwrap_or_default();
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n))
            }
            ec => {
                let (x, y) = ec_coordinates(&self.key);
                format!(
                    r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                    curve_name(ec),
                    b64(x),
                    b64(y)
                )
            }
        };
        b64(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }
}

/// The JWK curve name of an ECDSA key.
fn curve_name(algorithm: SignatureAlgorithm) -> &'static str {
    if algorithm == SignatureAlgorithm::EcdsaP384Sha384 {
        "P-384"
    } else {
        "P-256"
    }
}

/// The x and y halves of an uncompressed EC point.
fn ec_coordinates(key: &VerifyingKey) -> (&[u8], &[u8]) {
    let point = key.as_bytes().get(1..).unwrap_or_default();
    point.split_at(point.len() / 2)
}

impl From<Jwk> for Value {
    fn from(jwk: Jwk) -> Self {
        let mut m = Map::new();
        match jwk.key.algorithm() {
            SignatureAlgorithm::Ed25519 => {
                m.insert("kty".into(), "OKP".into());
                m.insert("crv".into(), "Ed25519".into());
                m.insert("x".into(), b64(jwk.key.as_bytes()).into());
            }
            SignatureAlgorithm::RsaPkcs1Sha256 => {
                let (n, e) = jwk.key.rsa_components().unwrap_or_default();
                m.insert("kty".into(), "RSA".into());
                m.insert("n".into(), b64(n).into());
                m.insert("e".into(), b64(e).into());
            }
            ec => {
                let (x, y) = ec_coordinates(&jwk.key);
                m.insert("kty".into(), "EC".into());
                m.insert("crv".into(), curve_name(ec).into());
                m.insert("x".into(), b64(x).into());
                m.insert("y".into(), b64(y).into());
            }
        }
        if let Some(kid) = jwk.kid {
            m.insert("kid".into(), kid.into());
        }
        if let Some(alg) = jwk.alg {
            m.insert("alg".into(), alg.as_str().into());
        }
        if let Some(u) = jwk.key_use {
            m.insert("use".into(), u.into());
        }
        Value::Object(m)
    }
}

impl TryFrom<Value> for Jwk {
    type Error = JoseError;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        let Value::Object(m) = value else {
            return Err(malformed("JWK", "not a JSON object"));
        };
        let text = |name: &str| -> Result<Option<&str>, JoseError> {
            match m.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(malformed("JWK", format!("{name} is not a string"))),
            }
        };
        let coordinate = |name: &str, len: usize| -> Result<Vec<u8>, JoseError> {
            let v = text(name)?.ok_or_else(|| malformed("JWK", format!("{name} is missing")))?;
            let bytes = b64_decode("JWK", v)?;
            if bytes.len() != len {
                return Err(malformed(
                    "JWK",
                    format!("{name} must be {len} bytes, found {}", bytes.len()),
                ));
            }
            Ok(bytes)
        };
        if m.contains_key("d") {
            return Err(malformed(
                "JWK",
                "holds a private key (member d): publish public keys only",
            ));
        }
        let kty = text("kty")?.ok_or_else(|| malformed("JWK", "kty is missing"))?;
        let crv = text("crv")?;
        let unsupported = || JoseError::UnsupportedKey {
            kty: kty.to_owned(),
            crv: crv.map(str::to_owned),
        };
        let key = match (kty, crv) {
            ("EC", Some(curve @ ("P-256" | "P-384"))) => {
                let (alg, len) = if curve == "P-256" {
                    (SignatureAlgorithm::EcdsaP256Sha256, 32)
                } else {
                    (SignatureAlgorithm::EcdsaP384Sha384, 48)
                };
                let mut point = vec![4u8];
                point.extend(coordinate("x", len)?);
                point.extend(coordinate("y", len)?);
                VerifyingKey::from_bytes(alg, &point)
            }
            ("OKP", Some("Ed25519")) => {
                VerifyingKey::from_bytes(SignatureAlgorithm::Ed25519, &coordinate("x", 32)?)
            }
            ("RSA", None) => {
                let integer = |name: &str| -> Result<Vec<u8>, JoseError> {
                    let v = text(name)?
                        .ok_or_else(|| malformed("JWK", format!("{name} is missing")))?;
                    b64_decode("JWK", v)
                };
                VerifyingKey::from_rsa_components(&integer("n")?, &integer("e")?)
            }
            _ => return Err(unsupported()),
        }
        .map_err(|e| malformed("JWK", e.to_string()))?;
        let alg = match text("alg")? {
            None => None,
            Some(a) => {
                let alg: JwsAlgorithm = a.parse().map_err(|_| unsupported())?;
                if alg.signature_algorithm() != key.algorithm() {
                    return Err(malformed(
                        "JWK",
                        format!("alg {a} does not fit a {kty} {} key", crv.unwrap_or("")),
                    ));
                }
                Some(alg)
            }
        };
        Ok(Self {
            kid: text("kid")?.map(str::to_owned),
            key_use: text("use")?.map(str::to_owned),
            alg,
            key,
        })
    }
}

/// A JWK Set (RFC 7517 §5).
///
/// Reading skips keys of a type or curve this crate does not handle, as §5 asks, but
/// refuses a malformed key of a type it does handle.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The key with this `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }

    fn candidates(&self, kid: Option<&str>, alg: JwsAlgorithm) -> impl Iterator<Item = &Jwk> {
        self.keys.iter().filter(move |k| {
            (kid.is_none() || k.kid.as_deref() == kid)
                && k.key.algorithm() == alg.signature_algorithm()
                && k.alg.is_none_or(|a| a == alg)
                && k.key_use.as_deref().is_none_or(|u| u == "sig")
        })
    }

    /// Parses a JWK Set document.
    pub fn from_json(json: &str) -> Result<Self, JoseError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| malformed("JWK Set", e.to_string()))?;
        Self::try_from(value)
    }

    /// The JWK Set document.
    pub fn to_json(&self) -> String {
        Value::from(self.clone()).to_string()
    }
}

impl From<JwkSet> for Value {
    fn from(set: JwkSet) -> Self {
        serde_json::json!({ "keys": set.keys.into_iter().map(Value::from).collect::<Vec<_>>() })
    }
}

impl TryFrom<Value> for JwkSet {
    type Error = JoseError;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        let Some(Value::Array(items)) = value.get("keys") else {
            return Err(malformed("JWK Set", "keys is missing or not an array"));
        };
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            match Jwk::try_from(item.clone()) {
                Ok(k) => keys.push(k),
                Err(JoseError::UnsupportedKey { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Self { keys })
    }
}

impl Serialize for JwkSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Value::from(self.clone()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for JwkSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::try_from(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Knobs that weaken validation, for the rare caller that needs them.
pub mod dangerous {
    use super::Validation;

    /// Stops requiring `exp`. Only for long-lived assertions whose lifetime is checked
    /// some other way: a token without expiry is valid forever once leaked.
    pub fn allow_missing_expiry(mut rules: Validation) -> Validation {
        rules.required.retain(|c| c != "exp");
        rules
    }

    /// Accepts whatever `aud` the token names: for a token service that issues to
    /// many audiences and checks each use's audience itself.
    pub fn accept_any_audience(mut rules: Validation) -> Validation {
        rules.any_audience = true;
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{SigningKey, SystemRandom};
    use serde_json::json;

    const NOW: i64 = 1_764_000_000;

    fn key(alg: SignatureAlgorithm) -> SigningKey {
        SigningKey::generate(alg, &SystemRandom::new()).unwrap()
    }

    fn token(k: &SigningKey, claims: Value) -> String {
        let header = JwsHeader::new(JwsAlgorithm::for_key(k.algorithm())).with_typ("JWT");
        sign_jwt(&header, &claims, k).unwrap()
    }

    fn check(k: &SigningKey, claims: Value, rules: &Validation) -> Result<VerifiedClaims, Error> {
        UnverifiedJwt::decode(&token(k, claims))?.verify(k.verifying_key(), rules)
    }

    #[test]
    fn none_and_unlisted_algorithms_are_refused() {
        let k = key(SignatureAlgorithm::EcdsaP256Sha256);
        let good = token(&k, json!({"exp": NOW + 60}));
        let (_, rest) = good.split_once('.').unwrap();
        let none = format!("{}.{}", b64(br#"{"alg":"none"}"#), rest);
        assert_eq!(
            UnverifiedJws::decode(&none).unwrap_err(),
            JoseError::Unsecured
        );
        let hs = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), rest);
        assert_eq!(
            UnverifiedJws::decode(&hs).unwrap_err(),
            JoseError::AlgorithmNotAllowed {
                alg: "HS256".into()
            }
        );
        let only_eddsa = UnverifiedJws::decode(&good)
            .unwrap()
            .verify(k.verifying_key(), &[JwsAlgorithm::EdDsa]);
        assert_eq!(
            only_eddsa.unwrap_err(),
            JoseError::AlgorithmNotAllowed {
                alg: "ES256".into()
            }
        );
        let crit = format!(
            "{}.{}",
            b64(br#"{"alg":"ES256","crit":["b64"],"b64":false}"#),
            rest
        );
        assert_eq!(
            UnverifiedJws::decode(&crit).unwrap_err(),
            JoseError::CriticalExtension { name: "b64".into() }
        );
    }

    #[test]
    fn key_of_other_algorithm_is_refused() {
        let ec = key(SignatureAlgorithm::EcdsaP256Sha256);
        let ed = key(SignatureAlgorithm::Ed25519);
        let t = token(&ec, json!({}));
        let r = UnverifiedJws::decode(&t).unwrap().verify(
            ed.verifying_key(),
            &[JwsAlgorithm::Es256, JwsAlgorithm::EdDsa],
        );
        assert!(matches!(r, Err(JoseError::KeyMismatch { .. })));
        let header = JwsHeader::new(JwsAlgorithm::EdDsa);
        assert!(sign_compact(&header, b"x", &ec).is_err());
    }

    #[test]
    fn tampering_breaks_the_signature() {
        for alg in [
            SignatureAlgorithm::EcdsaP256Sha256,
            SignatureAlgorithm::Ed25519,
        ] {
            let k = key(alg);
            let t = token(&k, json!({"sub": "a", "exp": NOW + 10}));
            let parts: Vec<&str> = t.split('.').collect();
            let forged = format!(
                "{}.{}.{}",
                parts[0],
                b64(br#"{"sub":"b","exp":9999999999}"#),
                parts[2]
            );
            let rules = Validation::new(NOW, &[JwsAlgorithm::for_key(alg)]);
            let r = UnverifiedJwt::decode(&forged)
                .unwrap()
                .verify(k.verifying_key(), &rules);
            assert_eq!(r.unwrap_err(), Error::Jose(JoseError::BadSignature));
            for bad in ["a.b", "a.b.c.d", "!!.e30.e30", ""] {
                assert!(UnverifiedJws::decode(bad).is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn claims_rules() {
        let k = key(SignatureAlgorithm::Ed25519);
        let algs = [JwsAlgorithm::EdDsa];
        let rules = Validation::new(NOW, &algs).leeway(30);
        let base = json!({"iss": "https://id.example", "aud": ["a", "b"], "iat": NOW, "nbf": NOW, "exp": NOW + 300});
        let with = |patch: Value| {
            let mut c = base.clone();
            for (k, v) in patch.as_object().unwrap() {
                c[k] = v.clone();
            }
            c
        };
        let aud_rules = rules.clone().audience("b");
        assert!(check(&k, base.clone(), &aud_rules).is_ok());
        // aud present but the validator names none: refused.
        assert!(matches!(
            check(&k, base.clone(), &rules),
            Err(Error::Claims(ClaimsError::Audience { .. }))
        ));
        assert!(matches!(
            check(&k, base.clone(), &rules.clone().audience("c")),
            Err(Error::Claims(ClaimsError::Audience { .. }))
        ));
        // exp: valid until exp + leeway, exclusive.
        assert!(check(&k, with(json!({"exp": NOW - 29})), &aud_rules).is_ok());
        assert!(matches!(
            check(&k, with(json!({"exp": NOW - 30})), &aud_rules),
            Err(Error::Claims(ClaimsError::Expired { .. }))
        ));
        assert!(matches!(
            check(&k, with(json!({"nbf": NOW + 31})), &aud_rules),
            Err(Error::Claims(ClaimsError::NotYetValid { .. }))
        ));
        assert!(check(&k, with(json!({"nbf": NOW + 30})), &aud_rules).is_ok());
        assert!(matches!(
            check(&k, with(json!({"iat": NOW + 31})), &aud_rules),
            Err(Error::Claims(ClaimsError::IssuedInFuture { .. }))
        ));
        assert!(matches!(
            check(
                &k,
                with(json!({"iat": NOW - 1000})),
                &aud_rules.clone().max_age(900)
            ),
            Err(Error::Claims(ClaimsError::TooOld { .. }))
        ));
        assert!(matches!(
            check(&k, with(json!({"exp": "tomorrow"})), &aud_rules),
            Err(Error::Claims(ClaimsError::Malformed { .. }))
        ));
        assert!(
            check(
                &k,
                with(json!({"exp": (NOW + 10) as f64 + 0.5})),
                &aud_rules
            )
            .is_ok()
        );
        assert!(matches!(
            check(&k, json!({"aud": "b"}), &aud_rules),
            Err(Error::Claims(ClaimsError::Missing { .. }))
        ));
        assert!(
            check(
                &k,
                json!({"aud": "b"}),
                &dangerous::allow_missing_expiry(aud_rules.clone())
            )
            .is_ok()
        );
        assert!(matches!(
            check(&k, base.clone(), &aud_rules.clone().issuer("https://other")),
            Err(Error::Claims(ClaimsError::Issuer { .. }))
        ));
        assert!(matches!(
            check(&k, base.clone(), &aud_rules.clone().require("nonce")),
            Err(Error::Claims(ClaimsError::Missing { .. }))
        ));
        let v = check(
            &k,
            base.clone(),
            &aud_rules.clone().issuer("https://id.example"),
        )
        .unwrap();
        assert_eq!(v.issuer(), Some("https://id.example"));
        assert_eq!(v.expires_at(), Some(NOW + 300));
    }

    #[test]
    fn explicit_typing_and_fractional_dates() {
        let k = key(SignatureAlgorithm::EcdsaP256Sha256);
        let algs = [JwsAlgorithm::Es256];
        let claims = json!({"exp": NOW + 60});
        // token() writes typ JWT.
        assert!(check(&k, claims.clone(), &Validation::new(NOW, &algs).typ("jwt")).is_ok());
        assert!(
            check(
                &k,
                claims.clone(),
                &Validation::new(NOW, &algs).typ("application/JWT")
            )
            .is_ok()
        );
        assert_eq!(
            check(
                &k,
                claims.clone(),
                &Validation::new(NOW, &algs).typ("at+jwt")
            )
            .unwrap_err(),
            Error::Claims(ClaimsError::Type {
                expected: "at+jwt".into(),
                found: Some("JWT".into())
            })
        );
        // A fractional nbf half a second ahead is not yet valid with no leeway.
        let rules = Validation::new(NOW, &algs).leeway(0);
        let early = json!({"exp": NOW + 60, "nbf": NOW as f64 + 0.5});
        assert!(matches!(
            check(&k, early, &rules),
            Err(Error::Claims(ClaimsError::NotYetValid { .. }))
        ));
        let late = json!({"exp": NOW as f64 + 0.5});
        assert!(matches!(
            check(&k, late, &rules),
            Err(Error::Claims(ClaimsError::Expired { .. }))
        ));
    }

    #[test]
    fn jwk_set_selects_by_kid() {
        let a = key(SignatureAlgorithm::EcdsaP256Sha256);
        let b = key(SignatureAlgorithm::EcdsaP256Sha256);
        let set = JwkSet {
            keys: vec![
                Jwk::new(a.verifying_key().clone()).with_thumbprint_kid(),
                Jwk::new(b.verifying_key().clone()).with_thumbprint_kid(),
            ],
        };
        let set = JwkSet::from_json(&set.to_json()).unwrap();
        let kid_b = set.keys[1].kid.clone();
        let header = JwsHeader::new(JwsAlgorithm::Es256).with_kid(kid_b.clone());
        let t = sign_compact(&header, b"hello", &b).unwrap();
        let v = UnverifiedJws::decode(&t)
            .unwrap()
            .verify_with_set(&set, &[JwsAlgorithm::Es256])
            .unwrap();
        assert_eq!(v.payload(), b"hello");
        // Signed by b but naming a's kid: refused.
        let header = JwsHeader::new(JwsAlgorithm::Es256).with_kid(set.keys[0].kid.clone());
        let t = sign_compact(&header, b"hello", &b).unwrap();
        assert_eq!(
            UnverifiedJws::decode(&t)
                .unwrap()
                .verify_with_set(&set, &[JwsAlgorithm::Es256])
                .unwrap_err(),
            JoseError::BadSignature
        );
        let header = JwsHeader::new(JwsAlgorithm::Es256).with_kid(Some("nobody".to_owned()));
        let t = sign_compact(&header, b"hello", &b).unwrap();
        assert!(matches!(
            UnverifiedJws::decode(&t)
                .unwrap()
                .verify_with_set(&set, &[JwsAlgorithm::Es256]),
            Err(JoseError::UnknownKey { .. })
        ));
    }

    #[test]
    fn jwk_parsing_refuses_private_and_malformed_keys() {
        let k = key(SignatureAlgorithm::EcdsaP256Sha256);
        let mut v = Value::from(Jwk::new(k.verifying_key().clone()));
        let ok: Jwk = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(ok.key(), k.verifying_key());
        v["d"] = "AAAA".into();
        assert!(Jwk::try_from(v.clone()).is_err());
        v.as_object_mut().unwrap().remove("d");
        v["x"] = "AAAA".into();
        assert!(Jwk::try_from(v.clone()).is_err());
        v["alg"] = "EdDSA".into();
        assert!(Jwk::try_from(v).is_err());
        // Unknown key types are skipped in a set, not fatal.
        let set = JwkSet::from_json(r#"{"keys":[{"kty":"oct","k":"AQAB"}]}"#).unwrap();
        assert!(set.keys.is_empty());
        // A weak RSA key is refused, not skipped.
        assert!(JwkSet::from_json(r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#).is_err());
    }

    proptest::proptest! {
        #[test]
        fn jws_round_trips(payload in proptest::collection::vec(proptest::num::u8::ANY, 0..512), ed in proptest::bool::ANY) {
            let alg = if ed { SignatureAlgorithm::Ed25519 } else { SignatureAlgorithm::EcdsaP256Sha256 };
            let k = key(alg);
            let header = JwsHeader::new(JwsAlgorithm::for_key(alg)).with_kid(Some("k1".to_owned()));
            let token = sign_compact(&header, &payload, &k).unwrap();
            let v = UnverifiedJws::decode(&token).unwrap().verify(k.verifying_key(), &[JwsAlgorithm::for_key(alg)]).unwrap();
            proptest::prop_assert_eq!(v.header(), &header);
            proptest::prop_assert_eq!(v.into_payload(), payload);
        }

        #[test]
        fn jwk_round_trips(ed in proptest::bool::ANY, kid in proptest::option::of("[ -~]{0,40}")) {
            let alg = if ed { SignatureAlgorithm::Ed25519 } else { SignatureAlgorithm::EcdsaP256Sha256 };
            let mut jwk = Jwk::new(key(alg).verifying_key().clone());
            jwk.kid = kid;
            let json = serde_json::to_string(&jwk).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<Jwk>(&json).unwrap(), jwk);
        }

        #[test]
        fn structured_garbage_is_refused_not_panicked_on(
            alg in proptest::sample::select(vec![json!("ES256"), json!("EdDSA"), json!("none"), json!("HS256"), json!(1), json!(null)]),
            crit in proptest::option::of(proptest::sample::select(vec![json!(["b64"]), json!([]), json!("x")])),
            kid in proptest::option::of(proptest::sample::select(vec![json!("k"), json!(7)])),
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            signature in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            kty in proptest::sample::select(vec!["EC", "OKP", "RSA", ""]),
            crv in proptest::sample::select(vec!["P-256", "Ed25519", "X25519", "P-384"]),
            x_len in 0usize..40,
            y_len in 0usize..40,
            private in proptest::bool::ANY,
        ) {
            let mut header = json!({"alg": alg});
            if let Some(c) = crit { header["crit"] = c; }
            if let Some(k) = kid { header["kid"] = k; }
            let token = format!("{}.{}.{}", b64(header.to_string().as_bytes()), b64(&payload), b64(&signature));
            let verdict = UnverifiedJws::decode(&token).and_then(|jws| {
                let key = VerifyingKey::from_bytes(SignatureAlgorithm::Ed25519, &[9; 32]).unwrap();
                jws.verify(&key, &[JwsAlgorithm::Es256, JwsAlgorithm::EdDsa])
            });
            // Random bytes never make a valid signature.
            proptest::prop_assert!(verdict.is_err());

            let mut jwk = json!({"kty": kty, "crv": crv, "x": b64(&vec![4; x_len]), "y": b64(&vec![5; y_len])});
            if private { jwk["d"] = json!(b64(&[1; 32])); }
            let parsed = Jwk::try_from(jwk.clone());
            let well_formed = !private
                && ((kty == "EC" && crv == "P-256" && x_len == 32 && y_len == 32)
                    || (kty == "OKP" && crv == "Ed25519" && x_len == 32));
            proptest::prop_assert_eq!(parsed.is_ok(), well_formed, "{}", jwk);
            let _ = JwkSet::from_json(&json!({"keys": [jwk]}).to_string());
        }
    }

    #[test]
    fn rfc7638_example_thumbprint_shape() {
        // RFC 8037 appendix A.3: the Ed25519 public key's thumbprint.
        let x =
            Base64UrlUnpadded::decode_vec("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        let jwk = Jwk::new(VerifyingKey::from_bytes(SignatureAlgorithm::Ed25519, &x).unwrap());
        assert_eq!(
            jwk.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn rfc7638_rsa_example() {
        // RFC 7638 §3.1: the RSA key and its thumbprint; members it ignores stay out.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFx\
                 uhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN\
                 5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5\
                 hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniI\
                 qbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk: Jwk = serde_json::from_value(
            json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}),
        )
        .unwrap();
        assert_eq!(jwk.alg, Some(JwsAlgorithm::Rs256));
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let back = Value::from(jwk.clone());
        assert_eq!(
            (back["n"].as_str(), back["e"].as_str()),
            (Some(n), Some("AQAB"))
        );
        // An RSA key may not claim an EC algorithm, nor carry private members.
        assert!(Jwk::try_from(json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "ES256"})).is_err());
        assert!(Jwk::try_from(json!({"kty": "RSA", "n": n, "e": "AQAB", "d": "AQAB"})).is_err());
    }

    #[test]
    fn rs256_tokens_verify_only_as_rs256() {
        let k = key(SignatureAlgorithm::RsaPkcs1Sha256);
        let header = JwsHeader::new(JwsAlgorithm::Rs256).with_kid(Some("r".to_owned()));
        let token = sign_compact(&header, b"payload", &k).unwrap();
        let jws = UnverifiedJws::decode(&token).unwrap();
        assert_eq!(
            jws.verify(k.verifying_key(), &[JwsAlgorithm::Es256])
                .unwrap_err(),
            JoseError::AlgorithmNotAllowed {
                alg: "RS256".into()
            }
        );
        let jws = UnverifiedJws::decode(&token).unwrap();
        assert_eq!(
            jws.verify(k.verifying_key(), &[JwsAlgorithm::Rs256])
                .unwrap()
                .payload(),
            b"payload"
        );
    }
}
