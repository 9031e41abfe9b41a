#![no_main]
libfuzzer_sys::fuzz_target!(|json: &str| {
    if let Ok(set) = identity_core::jose::JwkSet::from_json(json) {
        for jwk in &set.keys {
            let _ = jwk.thumbprint();
        }
        let _ = identity_core::jose::JwkSet::from_json(&set.to_json())
            .expect("our own output reads back");
    }
});
