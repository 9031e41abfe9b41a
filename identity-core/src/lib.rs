//! Identities, keys and signed tokens for a national identity and e-signature
//! infrastructure: validated citizen and business identifiers, ECDSA P-256 and
//! Ed25519 keys, and JOSE (JWS, JWT, JWK).
//!
//! The crate is sans-I/O: it never reads the clock, files, the network or the
//! environment. Callers pass `now`, randomness (where a key is made or encrypted) and
//! a [`Signer`]. ECDSA signing draws its nonce inside ring, which mixes the key and
//! message with the operating system's randomness; ring offers no other way.
//!
//! ```
//! use identity_core::{Citizen, PersonalNumber};
//! use identity_core::jose::{self, JwsAlgorithm, JwsHeader, UnverifiedJws};
//! use identity_core::keys::{SigningKey, SignatureAlgorithm, SystemRandom};
//!
//! let citizen = Citizen::new("Nguyễn Văn An", "001090012345".parse::<PersonalNumber>()?, None)?;
//! let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &SystemRandom::new())?;
//! let payload = serde_json::to_vec(&citizen).expect("a citizen serialises");
//! let jws = jose::sign_compact(&JwsHeader::new(JwsAlgorithm::Es256), &payload, &key)?;
//! let verified = UnverifiedJws::decode(&jws)?.verify(key.verifying_key(), &[JwsAlgorithm::Es256])?;
//! assert_eq!(verified.payload(), payload);
//! # Ok::<(), identity_core::Error>(())
//! ```

pub mod cms;
mod error;
mod identity;
pub mod jose;
pub mod keys;
pub mod pades;
pub mod report;
pub mod tsp;
pub mod x509;

// The public interface
pub use error::{
    CertificateError, ClaimsError, CmsError, Error, IdentifierError, IdentifierKind, JoseError,
    KeyError, PdfError, TimeStampError,
};
pub use identity::{
    AssuranceLevel, Business, CalendarDate, Citizen, EnterpriseCode, Official, PersonalNumber,
    Province, Sex,
};
pub use keys::{Signer, SigningKey, VerifyingKey};
