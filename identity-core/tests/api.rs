//! identity-core's integration tests: published vectors and interop with independent
//! implementations (OpenSSL, Python's jwcrypto), which `scripts/test` installs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod api {
    mod cms_openssl;
    mod jwcrypto;
    mod openssl;
    mod openssl_chains;
    mod pades;
    mod pkits;
    mod support;
    mod vectors;
}
