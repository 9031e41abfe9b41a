//! `signer jws sign|verify`: compact JWS over a file's bytes.

use std::path::Path;

use anyhow::{Context, Result, bail};
use identity_core::jose::{self, Jwk, JwkSet, JwsAlgorithm, JwsHeader, UnverifiedJws, VerifiedJws};
use identity_core::{JoseError, Signer as _, VerifyingKey};
use serde_json::json;

use super::Outcome;
use crate::cli::{JwsSignArgs, JwsVerifyArgs};
use crate::io::{self, Access};
use crate::report;

const ALGORITHMS: [JwsAlgorithm; 3] = [
    JwsAlgorithm::Es256,
    JwsAlgorithm::Es384,
    JwsAlgorithm::EdDsa,
];

pub(crate) fn sign(args: &JwsSignArgs, json_output: bool) -> Result<Outcome> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::io::append_extension(&args.input, "jws"));
    if !args.force && out.exists() {
        bail!(
            "{} already exists: choose another path or pass --force",
            out.display()
        );
    }
    let key = io::read_signing_key(&args.key, &args.passphrase)?;
    let payload = io::read(&args.input)?;
    let jwk = Jwk::new(key.verifying_key().clone()).with_thumbprint_kid();
    let mut header =
        JwsHeader::new(JwsAlgorithm::for_key(key.algorithm())).with_kid(jwk.kid.clone());
    header.typ = args.typ.clone();
    let token = jose::sign_compact(&header, &payload, &key).context("signing")?;
    io::write_atomic(&out, token.as_bytes(), Access::Public, args.force)?;
    report::done(
        json_output,
        &format!(
            "signed {} with key {}: {}",
            args.input.display(),
            jwk.kid.as_deref().unwrap_or(""),
            out.display()
        ),
        json!({
            "input": args.input.display().to_string(),
            "output": out.display().to_string(),
            "kid": jwk.kid,
            "alg": header.alg.as_str(),
        }),
    );
    Ok(Outcome::Valid)
}

/// The keys a JWS may be checked against, read from PEM, a JWK or a JWK Set.
pub(crate) enum PublicKeys {
    One(VerifyingKey),
    Set(JwkSet),
}

impl PublicKeys {
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let text = io::read_text(path)?;
        let context = || format!("reading the public key {}", path.display());
        if text.trim_start().starts_with("-----BEGIN") {
            return Ok(Self::One(
                VerifyingKey::from_spki_pem(&text).with_context(context)?,
            ));
        }
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is neither a PEM public key nor JSON", path.display()))?;
        let set = if value.get("keys").is_some() {
            JwkSet::try_from(value).with_context(context)?
        } else {
            // A single JWK goes through the set, so its `alg` and `use` still apply.
            JwkSet {
                keys: vec![Jwk::try_from(value).with_context(context)?],
            }
        };
        Ok(Self::Set(set))
    }

    pub(crate) fn verify(&self, token: &str) -> Result<VerifiedJws, JoseError> {
        let jws = UnverifiedJws::decode(token)?;
        match self {
            Self::One(key) => jws.verify(key, &ALGORITHMS),
            Self::Set(set) => jws.verify_with_set(set, &ALGORITHMS),
        }
    }
}

pub(crate) fn verify(args: &JwsVerifyArgs, json_output: bool) -> Result<Outcome> {
    let keys = PublicKeys::read(&args.public)?;
    let token = io::read_text(&args.input)?;
    let input = args.input.display();
    match keys.verify(token.trim()) {
        Ok(verified) => {
            if let Some(path) = &args.payload_out {
                io::write_atomic(path, verified.payload(), Access::Public, args.force)?;
            }
            let header = verified.header();
            report::verification(
                json_output,
                Outcome::Valid,
                &format!(
                    "{input} signed with {} by key {}",
                    header.alg,
                    header.kid.as_deref().unwrap_or("(no kid)")
                ),
                json!({"alg": header.alg.as_str(), "kid": header.kid, "payload_bytes": verified.payload().len()}),
            );
            Ok(Outcome::Valid)
        }
        Err(reason) => {
            // Without the right key nothing can be said of the signature either way.
            let outcome = match reason {
                JoseError::UnknownKey { .. } | JoseError::KeyMismatch { .. } => {
                    Outcome::Indeterminate
                }
                _ => Outcome::Invalid,
            };
            report::verification(
                json_output,
                outcome,
                &format!("{input}: {reason}"),
                json!({}),
            );
            Ok(outcome)
        }
    }
}
