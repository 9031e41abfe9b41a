#![no_main]
use identity_core::keys::{Signature, SignatureAlgorithm, VerifyingKey};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(key) = VerifyingKey::from_spki_der(data) {
        assert_eq!(
            VerifyingKey::from_spki_der(&key.to_spki_der()).as_ref(),
            Ok(&key)
        );
    }
    if let Ok(pem) = std::str::from_utf8(data) {
        let _ = VerifyingKey::from_spki_pem(pem);
    }
    let _ = Signature::from_der(SignatureAlgorithm::EcdsaP256Sha256, data);
});
