//! The certificate authority of the national identity and e-signature infrastructure.
//!
//! This crate will hold the offline root and the online issuing CAs (citizens,
//! businesses, officials' signing, infrastructure), certificate profiles, issuance
//! from PKCS#10 requests and from verified identities, revocation, CRLs, OCSP
//! responses and RFC 3161 time-stamps, with a `pki` binary for the root ceremony.
//!
//! Like `identity-core` it is sans-I/O: no clock, files, network or OS randomness;
//! callers pass `now`, randomness, stored state and a `Signer`.
//!
//! Nothing is implemented yet: see the project's issue "pki: a real certificate
//! authority, and RFC 5280 path validation in identity-core".
