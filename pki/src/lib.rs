//! The certificate authority of the national identity and e-signature
//! infrastructure: an offline root, online issuing CAs for citizens, businesses,
//! officials and the infrastructure, certificate profiles, issuance from PKCS#10
//! requests for verified identities, revocation, CRLs and OCSP responses.
//!
//! Like `identity-core` it is sans-I/O: no clock, files, network or OS randomness of
//! its own; callers pass `now`, a random source, the CA's state (a [`CaStore`]) and
//! its key (a [`identity_core::Signer`]).
//!
//! ```
//! use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
//! use pki::{Authority, CaConfig, MemoryStore, Profile, Subject};
//!
//! let rng = SystemRandom::new();
//! let now = 1_764_000_000;
//! let root_key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384, &rng)?;
//! let subject = Subject::Authority { name: "Root CA".into(), organization: "Example".into() };
//! let root_der = Authority::self_signed_root(&subject, &root_key, &rng, now)?;
//! let root = Authority::new(&root_der, Profile::Root, &root_key, CaConfig::default())?;
//! let mut store = MemoryStore::new();
//! let crl = root.crl(&mut store, now, 86_400)?;
//! assert!(!crl.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ca;
mod error;
mod hierarchy;
mod ocsp;
mod profile;
mod store;
mod subject;
mod tsa;

// The public interface
pub use ca::{
    Authority, CaConfig, IssueRequest, Issued, Reason, certification_request, normalize_serial,
    serial_text,
};
pub use error::Error;
pub use hierarchy::{IssuingCa, ocsp_responder};
pub use ocsp::{CertState, OcspQuery, Responder, describe_request, malformed_request_response};
pub use profile::{KeyUsage, Profile, ProfileSpec, SubjectKind};
pub use store::{CaStore, IssuedRecord, MemoryStore, RevocationRecord};
pub use subject::Subject;
pub use tsa::{DEFAULT_ACCURACY_SECONDS, TimeStampAuthority};

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads hexadecimal (either case); `None` if it is not.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}
