#![no_main]
use identity_core::keys::{Passphrase, SigningKey};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = SigningKey::from_pkcs8_der(data);
    let _ = SigningKey::from_encrypted_pkcs8_der(data, &Passphrase::new("fuzz".into()));
    if let Ok(pem) = std::str::from_utf8(data) {
        let _ = SigningKey::from_pkcs8_pem(pem, Some(&Passphrase::new("fuzz".into())));
    }
});
