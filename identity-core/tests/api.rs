//! identity-core's integration tests: published vectors and interop with independent
//! implementations (OpenSSL, Python's jwcrypto), which `scripts/test` installs.

mod api {
    mod jwcrypto;
    mod openssl;
    mod support;
    mod vectors;
}
