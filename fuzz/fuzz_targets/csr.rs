#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = identity_core::x509::CertificationRequest::from_pem_or_der(data);
});
