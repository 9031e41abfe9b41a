#![no_main]
//! PDFs: any file as `signer verify` reads its signatures, and as `signer sign`
//! prepares an update of it; a prepared update keeps the input's bytes and
//! frames its signature's room.

use identity_core::cms::VerifyOptions;
use identity_core::pades::{self, PdfSignOptions};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pades::signatures(data);
    let _ = pades::verify(data, &[], &[], &VerifyOptions::at(1_800_000_000));
    let options = PdfSignOptions {
        reserve: 256,
        ..PdfSignOptions::at(1_800_000_000)
    };
    if let Ok(prepared) = pades::prepare(data, &options) {
        let signed = prepared.signed_bytes();
        assert!(signed.starts_with(data), "the input's bytes stay first");
        let finished = prepared
            .finish(&[0x30, 0x00])
            .expect("a tiny signature fits");
        assert!(finished.starts_with(data));
        // What was made reads back with its one new signature.
        assert!(!pades::signatures(&finished).unwrap_or_default().is_empty());
    }
});
