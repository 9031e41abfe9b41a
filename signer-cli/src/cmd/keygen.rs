//! `signer keygen`: a new key pair on disk.

use std::path::PathBuf;

use anyhow::{Context, Result};
use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use serde_json::json;

use super::Outcome;
use crate::cli::{Algorithm, KeygenArgs, PassphraseArgs};
use crate::io::{self, Access};
use crate::report;

pub(crate) fn algorithm(a: Algorithm) -> SignatureAlgorithm {
    match a {
        Algorithm::P256 => SignatureAlgorithm::EcdsaP256Sha256,
        Algorithm::P384 => SignatureAlgorithm::EcdsaP384Sha384,
        Algorithm::Ed25519 => SignatureAlgorithm::Ed25519,
    }
}

/// A new key and its PKCS#8 PEM: encrypted (PBES2) under a passphrase asked
/// with `prompt` when `encrypt` names where it comes from, else plain. The PEM
/// is wiped when dropped.
pub(crate) fn new_key(
    algorithm: SignatureAlgorithm,
    encrypt: Option<(&PassphraseArgs, &str)>,
) -> Result<(SigningKey, zeroize::Zeroizing<String>)> {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(algorithm, &rng).context("generating the key")?;
    let pem = match encrypt {
        Some((args, prompt)) => {
            let pass = io::passphrase(args, prompt, true)?;
            zeroize::Zeroizing::new(
                key.to_encrypted_pkcs8_pem(&pass, &rng)
                    .context("encrypting the key")?,
            )
        }
        None => key.secret_pkcs8_pem(),
    };
    Ok((key, pem))
}

pub(crate) fn run(args: &KeygenArgs, json_output: bool) -> Result<Outcome> {
    let public_out = args
        .public_out
        .clone()
        .unwrap_or_else(|| default_public_path(&args.out));
    if public_out == args.out {
        anyhow::bail!(
            "--public-out must differ from --out ({})",
            args.out.display()
        );
    }
    // Check both destinations before making anything, so a refusal leaves no file.
    for path in [&args.out, &public_out] {
        if !args.force && path.exists() {
            anyhow::bail!(
                "{} already exists: choose another path or pass --force",
                path.display()
            );
        }
    }
    let (key, private_pem) = new_key(
        algorithm(args.algorithm),
        args.encrypt
            .then_some((&args.passphrase, "Passphrase for the new key: ")),
    )?;
    io::write_atomic(
        &args.out,
        private_pem.as_bytes(),
        Access::Private,
        args.force,
    )?;
    io::write_atomic(
        &public_out,
        key.verifying_key().to_spki_pem().as_bytes(),
        Access::Public,
        args.force,
    )?;
    let jwk = identity_core::jose::Jwk::new(key.verifying_key().clone()).with_thumbprint_kid();
    report::done(
        json_output,
        &format!(
            "wrote {} key {} ({}) and its public key {}; key id {}",
            key.verifying_key().algorithm(),
            args.out.display(),
            if args.encrypt {
                "encrypted"
            } else {
                "unencrypted"
            },
            public_out.display(),
            jwk.kid.as_deref().unwrap_or_default()
        ),
        json!({
            "private_key": args.out.display().to_string(),
            "public_key": public_out.display().to_string(),
            "encrypted": args.encrypt,
            "algorithm": key.verifying_key().algorithm().name(),
            "kid": jwk.kid,
        }),
    );
    Ok(Outcome::Valid)
}

/// `key.pem` → `key.pub.pem`.
fn default_public_path(private: &std::path::Path) -> PathBuf {
    private.with_extension("pub.pem")
}
