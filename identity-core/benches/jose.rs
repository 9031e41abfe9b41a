//! ES256 sign and verify, and a typical ID token signed and then verified.
//!
//! `cargo bench -p identity-core`; compare with `openssl speed -seconds 3 ecdsap256`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use identity_core::jose::{self, Jwk, JwsAlgorithm, JwsHeader, UnverifiedJwt, Validation};
use identity_core::keys::{SignatureAlgorithm, Signer as _, SigningKey, SystemRandom};
use serde_json::json;
use std::hint::black_box;

const NOW: i64 = 1_764_000_000;

fn id_token_claims() -> serde_json::Value {
    json!({
        "iss": "https://id.gov.vn",
        "sub": "b1f0c8e2-6a53-4e0e-9a57-2d1f3f9b7c11",
        "aud": "https://dichvucong.gov.vn",
        "iat": NOW,
        "exp": NOW + 300,
        "auth_time": NOW - 5,
        "nonce": "n-0S6_WzA2Mj",
        "acr": "substantial",
        "amr": ["hwk", "user"],
        "name": "Nguyễn Văn An",
        "birthdate": "1990-05-17",
        "personal_number": "001090012345",
    })
}

fn benches(c: &mut Criterion) {
    let rng = SystemRandom::new();
    for (alg, name) in [
        (SignatureAlgorithm::EcdsaP256Sha256, "es256"),
        (SignatureAlgorithm::Ed25519, "eddsa"),
    ] {
        let key = SigningKey::generate(alg, &rng).unwrap();
        let message = [7u8; 64];
        let signature = key.sign(&message).unwrap();
        let public = key.verifying_key().clone();
        c.bench_function(&format!("{name}_sign"), |b| {
            b.iter(|| key.sign(black_box(&message)).unwrap())
        });
        c.bench_function(&format!("{name}_verify"), |b| {
            b.iter(|| {
                public
                    .verify(black_box(&message), black_box(&signature))
                    .unwrap()
            })
        });

        let jwk = Jwk::new(public.clone()).with_thumbprint_kid();
        let header = JwsHeader::new(JwsAlgorithm::for_key(alg))
            .with_kid(jwk.kid.clone())
            .with_typ("JWT");
        let claims = id_token_claims();
        let rules = Validation::new(NOW, &[JwsAlgorithm::for_key(alg)])
            .issuer("https://id.gov.vn")
            .audience("https://dichvucong.gov.vn");
        c.bench_function(&format!("{name}_id_token_sign_and_verify"), |b| {
            b.iter(|| {
                let token = jose::sign_jwt(&header, black_box(&claims), &key).unwrap();
                UnverifiedJwt::decode(&token)
                    .unwrap()
                    .verify(jwk.key(), &rules)
                    .unwrap()
            })
        });
    }
}

criterion_group!(jose_benches, benches);
criterion_main!(jose_benches);
