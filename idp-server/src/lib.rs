//! The identity provider daemon of the national identity and e-signature infrastructure.
//!
//! This crate will hold the OpenID Connect provider that government portals delegate
//! login to, passkey (WebAuthn) enrolment and login, the citizen and business registry,
//! and the HTTP face of the PKI (enrolment, CRL, OCSP, time-stamping), on SQLite by
//! default and PostgreSQL for replicated deployments.
//!
//! Nothing is implemented yet: see the project's issue "idp-server: an OpenID Connect
//! provider that portals delegate login to".
