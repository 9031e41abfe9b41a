//! `signer demo`: a tour, in a temporary folder, of making a key, signing and verifying.

use anyhow::{Context, Result};
use identity_core::jose::{self, Jwk, JwsAlgorithm, JwsHeader, UnverifiedJwt, Validation};
use identity_core::keys::{Passphrase, SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::{Citizen, Official};
use serde_json::json;

use super::Outcome;
use crate::io::{self, Access};
use crate::report;

pub(crate) fn run(json_output: bool) -> Result<Outcome> {
    let dir = tempfile::tempdir().context("creating a temporary folder")?;
    let rng = SystemRandom::new();

    let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng)?;
    let pass = Passphrase::new("demo passphrase, not for real keys".into());
    let key_path = dir.path().join("official.key.pem");
    io::write_atomic(
        &key_path,
        key.to_encrypted_pkcs8_pem(&pass, &rng)?.as_bytes(),
        Access::Private,
        false,
    )?;
    let reread = SigningKey::from_pkcs8_pem(&io::read_text(&key_path)?, Some(&pass))?;
    report::step(
        json_output,
        1,
        &format!(
            "made an ECDSA P-256 key and stored it encrypted (PBES2, mode 0600) at {}",
            key_path.display()
        ),
    );

    let official = Official::new(
        Citizen::new(
            "Nguyễn Văn An",
            "001090012345".parse()?,
            Some("1990-05-17".parse()?),
        )?,
        "Ủy ban nhân dân thành phố Hà Nội",
        "Phó Chủ tịch",
    )?;
    let jwk = Jwk::new(reread.verifying_key().clone()).with_thumbprint_kid();
    let now = crate::cmd::cades::now()?;
    let claims = json!({
        "iss": "https://id.example.gov.vn",
        "sub": official.citizen().personal_number(),
        "iat": now,
        "exp": now + 600,
        "official": official,
        "document": {"number": "42/QĐ-UBND", "title": "Quyết định phê duyệt"},
    });
    let header = JwsHeader::new(JwsAlgorithm::Es256)
        .with_kid(jwk.kid.clone())
        .with_typ("JWT");
    let token = jose::sign_jwt(&header, &claims, &reread)?;
    report::step(
        json_output,
        2,
        &format!(
            "{} signed decision 42/QĐ-UBND as a JWT ({} bytes)",
            official.citizen().full_name(),
            token.len()
        ),
    );

    let rules = Validation::new(now, &[JwsAlgorithm::Es256]).issuer("https://id.example.gov.vn");
    let verified = UnverifiedJwt::decode(&token)?
        .verify(jwk.key(), &rules)
        .context("verifying the demo token")?;
    report::step(
        json_output,
        3,
        &format!(
            "verified with the public JWK (kid {}): signer {}",
            jwk.kid.as_deref().unwrap_or(""),
            verified.subject().unwrap_or("")
        ),
    );

    let (head, rest) = token.split_once('.').context("a JWS has dots")?;
    let (_, signature) = rest.split_once('.').context("a JWS has two dots")?;
    let forged_claims =
        json!({"iss": "https://id.example.gov.vn", "sub": "079203001234", "exp": now + 600});
    let forged_payload = jose::sign_jwt(
        &header,
        &forged_claims,
        &SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng)?,
    )?;
    let forged_body = forged_payload
        .split('.')
        .nth(1)
        .context("a JWS has three parts")?;
    let forged = format!("{head}.{forged_body}.{signature}");
    let refused = UnverifiedJwt::decode(&forged)?.verify(jwk.key(), &rules);
    let refused_ok = refused.is_err();
    report::step(
        json_output,
        4,
        &format!(
            "a copy naming another signer is refused: {}",
            refused
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "ACCEPTED (this is a bug)".into())
        ),
    );

    let outcome = if refused_ok {
        Outcome::Valid
    } else {
        Outcome::Invalid
    };
    report::verification(
        json_output,
        outcome,
        "demo complete: key made, decision signed and verified, forgery refused",
        json!({"jwk": jwk, "token": token}),
    );
    Ok(outcome)
}
