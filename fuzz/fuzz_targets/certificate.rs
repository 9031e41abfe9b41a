#![no_main]
use identity_core::x509::{Certificate, ValidationParams, validate};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Parse, then validate whatever parsed as a chain against itself.
    if let Ok(certs) = Certificate::parse_all(data) {
        if let Some((leaf, rest)) = certs.split_first() {
            let _ = validate(leaf, rest, rest, &ValidationParams::new(1_764_000_000));
        }
    }
});
