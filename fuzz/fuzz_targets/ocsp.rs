#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = identity_core::x509::OcspResponseInfo::from_der(data);
    let _ = pki::OcspQuery::from_der(data);
});
