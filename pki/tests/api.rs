//! pki's integration tests: a whole hierarchy, checked by our validator and by
//! OpenSSL (installed by scripts/test).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod api {
    mod hierarchy;
    mod ocsp;
    mod round_trip;
    mod support;
    mod tsa;
}
