//! Interop with Python's jwcrypto: tokens we sign verify there, tokens it signs
//! verify here, and RFC 7638 thumbprints agree.

use identity_core::jose::{self, Jwk, JwkSet, JwsAlgorithm, JwsHeader, UnverifiedJwt, Validation};
use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::{Error, JoseError};
use serde_json::{Value, json};

use super::support::{python, run, workspace_root};

fn script() -> String {
    workspace_root()
        .join("identity-core/tests/interop/jwcrypto_interop.py")
        .display()
        .to_string()
}

/// The tests' fixed time, passed to the Python side too.
const NOW: i64 = 1_764_000_000;

#[test]
fn our_tokens_verify_in_jwcrypto() {
    for alg in [
        SignatureAlgorithm::EcdsaP256Sha256,
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::RsaPkcs1Sha256,
    ] {
        let key = SigningKey::generate(alg, &SystemRandom::new()).unwrap();
        let jwk = Jwk::new(key.verifying_key().clone()).with_thumbprint_kid();
        let now = NOW;
        let claims = json!({"iss": "https://id.gov.vn", "sub": "079203001234", "aud": "portal",
                            "iat": now, "exp": now + 300, "name": "Trần Thị Bình"});
        let header = JwsHeader::new(JwsAlgorithm::for_key(alg))
            .with_kid(jwk.kid.clone())
            .with_typ("JWT");
        let token = jose::sign_jwt(&header, &claims, &key).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let jwk_path = dir.path().join("key.jwk");
        let token_path = dir.path().join("token.jwt");
        std::fs::write(&jwk_path, serde_json::to_string(&jwk).unwrap()).unwrap();
        std::fs::write(&token_path, &token).unwrap();
        let out = run(python()
            .arg(script())
            .arg("verify")
            .arg(&jwk_path)
            .arg(&token_path));
        let out: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["claims"], claims, "{alg}");
        assert_eq!(out["header"]["kid"], json!(jwk.kid), "{alg}");
        assert_eq!(out["thumbprint"], json!(jwk.thumbprint()), "{alg}");

        // A token whose payload was swapped must fail there too.
        let parts: Vec<&str> = token.split('.').collect();
        let other = jose::sign_jwt(
            &header,
            &json!({"sub": "someone else", "exp": now + 300}),
            &key,
        )
        .unwrap();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            other.split('.').nth(1).unwrap(),
            parts[2]
        );
        std::fs::write(&token_path, &forged).unwrap();
        let status = python()
            .arg(script())
            .arg("verify")
            .arg(&jwk_path)
            .arg(&token_path)
            .output()
            .unwrap();
        assert!(
            !status.status.success(),
            "jwcrypto accepted a forged {alg} token"
        );
        // It failed on the signature, not on anything else.
        let said = String::from_utf8_lossy(&status.stdout);
        assert!(said.starts_with("InvalidJWSSignature"), "{said}");
    }
}

#[test]
fn jwcrypto_tokens_verify_here() {
    for kty in ["EC", "OKP", "RSA"] {
        let out: Value = serde_json::from_str(&run(python()
            .arg(script())
            .arg("sign")
            .arg(kty)
            .arg(NOW.to_string())))
        .unwrap();
        let jwk: Jwk = serde_json::from_value(out["jwk"].clone()).unwrap();
        assert_eq!(json!(jwk.thumbprint()), out["thumbprint"], "{kty}");
        let set = JwkSet {
            keys: vec![jwk.with_thumbprint_kid()],
        };
        let token = out["token"].as_str().unwrap();
        let algorithms = [
            JwsAlgorithm::Es256,
            JwsAlgorithm::EdDsa,
            JwsAlgorithm::Rs256,
        ];
        let rules = Validation::new(NOW, &algorithms)
            .issuer("https://python.example")
            .audience("rust");
        let verified = UnverifiedJwt::decode(token)
            .unwrap()
            .verify_with_set(&set, &rules)
            .unwrap();
        assert_eq!(
            &Value::Object(verified.claims().clone()),
            &out["claims"],
            "{kty}"
        );
        assert_eq!(verified.subject(), Some("079203001234"));

        // And a flipped bit in the signature fails.
        let (rest, sig) = token.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') {
            sig.replacen('A', "B", 1)
        } else {
            format!("A{}", &sig[1..])
        };
        let forged = format!("{rest}.{flipped}");
        assert_eq!(
            UnverifiedJwt::decode(&forged)
                .unwrap()
                .verify_with_set(&set, &rules)
                .unwrap_err(),
            Error::Jose(JoseError::BadSignature)
        );
    }
}
