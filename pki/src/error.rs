//! The crate's one error type.

/// Everything that can go wrong acting as a certificate authority.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No profile has this name.
    #[error("unknown profile {name:?}: use one of {known}")]
    UnknownProfile {
        /// The name given.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// The profile cannot be used this way (a CA profile for an end entity, an
    /// identity of the wrong kind for the profile).
    #[error("profile {profile} {problem}")]
    ProfileMismatch {
        /// The profile.
        profile: &'static str,
        /// What does not fit.
        problem: String,
    },
    /// The certification request is unusable (malformed, no proof of possession, weak
    /// key).
    #[error(transparent)]
    Request(#[from] identity_core::CertificateError),
    /// The identity is invalid.
    #[error(transparent)]
    Identity(#[from] identity_core::IdentifierError),
    /// The CA's key could not sign.
    #[error("the CA key could not sign: {0}")]
    Signing(String),
    /// A certificate or CRL could not be encoded.
    #[error("encoding failed: {0}")]
    Encoding(String),
    /// The CA's state store failed.
    #[error("CA state: {0}")]
    Store(String),
    /// No certificate with this serial number was issued here.
    #[error("no certificate with serial {serial} was issued by this CA")]
    UnknownSerial {
        /// The serial, in hexadecimal.
        serial: String,
    },
    /// The certificate is already revoked.
    #[error("certificate {serial} is already revoked")]
    AlreadyRevoked {
        /// The serial, in hexadecimal.
        serial: String,
    },
    /// A reason name that RFC 5280 does not define (or that cannot be used to revoke).
    #[error("unknown revocation reason {name:?}: use one of {known}")]
    UnknownReason {
        /// The name given.
        name: String,
        /// The names accepted.
        known: String,
    },
    /// The random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// An OCSP request is malformed or unsupported.
    #[error("OCSP request: {0}")]
    OcspRequest(String),
}
