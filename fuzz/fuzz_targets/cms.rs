#![no_main]
use identity_core::cms::{self, VerifyOptions};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Detached and attached readings of the same bytes.
    let _ = cms::verify(
        data,
        Some(b"document"),
        &[],
        &[],
        &VerifyOptions::at(1_800_000_000),
    );
    let _ = cms::verify(data, None, &[], &[], &VerifyOptions::at(1_800_000_000));
});
