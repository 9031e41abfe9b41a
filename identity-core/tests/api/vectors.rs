//! Published JOSE examples, each with a tampered twin that must fail.

use identity_core::jose::{Jwk, JwsAlgorithm, UnverifiedJws, UnverifiedJwt, Validation};
use identity_core::{ClaimsError, Error, JoseError};

use super::support::data;

fn jwk(name: &str) -> Jwk {
    serde_json::from_str(&data(name)).unwrap()
}

#[test]
fn rfc7515_a3_es256_verifies_with_its_published_key() {
    let key = jwk("rfc7515-a3-es256.jwk.json");
    let token = data("rfc7515-a3-es256.jws");
    let verified = UnverifiedJws::decode(token.trim())
        .unwrap()
        .verify(key.key(), &[JwsAlgorithm::Es256])
        .unwrap();
    assert_eq!(
        verified.payload(),
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
    );

    // As a JWT: valid just before its exp of 1300819380, expired after it.
    let rules = |now| {
        Validation::new(now, &[JwsAlgorithm::Es256])
            .leeway(0)
            .issuer("joe")
    };
    let claims = UnverifiedJwt::decode(token.trim())
        .unwrap()
        .verify(key.key(), &rules(1_300_819_379))
        .unwrap();
    assert_eq!(
        claims.get("http://example.com/is_root"),
        Some(&serde_json::Value::Bool(true))
    );
    let late = UnverifiedJwt::decode(token.trim())
        .unwrap()
        .verify(key.key(), &rules(1_300_819_380));
    assert!(matches!(
        late,
        Err(Error::Claims(ClaimsError::Expired { .. }))
    ));
}

#[test]
fn rfc7515_a3_tampered_twin_fails() {
    let key = jwk("rfc7515-a3-es256.jwk.json");
    let token = data("rfc7515-a3-es256-tampered.jws");
    let r = UnverifiedJws::decode(token.trim())
        .unwrap()
        .verify(key.key(), &[JwsAlgorithm::Es256]);
    assert_eq!(r.unwrap_err(), JoseError::BadSignature);
}

#[test]
fn rfc8037_a4_eddsa_verifies_and_its_twin_fails() {
    let key = jwk("rfc8037-a4-eddsa.jwk.json");
    let good = data("rfc8037-a4-eddsa.jws");
    let verified = UnverifiedJws::decode(good.trim())
        .unwrap()
        .verify(key.key(), &[JwsAlgorithm::EdDsa])
        .unwrap();
    assert_eq!(verified.payload(), b"Example of Ed25519 signing");
    let bad = data("rfc8037-a4-eddsa-tampered.jws");
    let r = UnverifiedJws::decode(bad.trim())
        .unwrap()
        .verify(key.key(), &[JwsAlgorithm::EdDsa]);
    assert_eq!(r.unwrap_err(), JoseError::BadSignature);
}
