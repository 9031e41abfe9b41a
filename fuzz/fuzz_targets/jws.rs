#![no_main]
use identity_core::jose::{JwsAlgorithm, UnverifiedJwt, Validation};

libfuzzer_sys::fuzz_target!(|token: &str| {
    // A fixed key: decoding, header checks and claim checks run whatever the signature.
    let key = identity_core::VerifyingKey::from_bytes(
        identity_core::keys::SignatureAlgorithm::Ed25519,
        &[0x11; 32],
    )
    .ok();
    if let (Ok(jwt), Some(key)) = (UnverifiedJwt::decode(token), key) {
        let rules = Validation::new(1_764_000_000, &[JwsAlgorithm::Es256, JwsAlgorithm::EdDsa]);
        let _ = jwt.verify(&key, &rules);
    }
});
