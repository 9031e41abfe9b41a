//! Signature algorithms of certificates, CRLs and OCSP responses, verified with ring.

use std::sync::Mutex;

use ring::signature as ring_sig;
use x509_parser::signature_algorithm::SignatureAlgorithm as ParsedSignatureAlgorithm;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// Smallest RSA modulus accepted, in bits.
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits.
pub(crate) const RSA_MAX_BITS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &str) -> Option<Self> {
        match oid {
            "2.16.840.1.101.3.4.2.1" => Some(Self::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(Self::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn len(self) -> u32 {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// The kind of a subject public key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKeyKind {
    /// ECDSA on P-256.
    EcP256,
    /// ECDSA on P-384.
    EcP384,
    /// Ed25519.
    Ed25519,
    /// RSA.
    Rsa {
        /// The modulus size.
        bits: usize,
    },
    /// Anything else, by algorithm OID (and curve, for EC keys).
    Other(String),
}

impl PublicKeyKind {
    /// `ECDSA P-256`, `RSA-2048`, ….
    pub fn describe(&self) -> String {
        match self {
            Self::EcP256 => "ECDSA P-256".into(),
            Self::EcP384 => "ECDSA P-384".into(),
            Self::Ed25519 => "Ed25519".into(),
            Self::Rsa { bits } => format!("RSA-{bits}"),
            Self::Other(oid) => format!("unsupported key {oid}"),
        }
    }
}

/// A subject public key, ready for ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKeyInfo {
    pub(crate) kind: PublicKeyKind,
    /// The subjectPublicKey bits: an EC point, an Ed25519 key, or an RSAPublicKey.
    pub(crate) bytes: Vec<u8>,
    /// The whole SubjectPublicKeyInfo DER.
    pub(crate) der: Vec<u8>,
}

impl PublicKeyInfo {
    pub(crate) fn from_parsed(spki: &SubjectPublicKeyInfo<'_>) -> Self {
        let oid = spki.algorithm.algorithm.to_id_string();
        let kind = match oid.as_str() {
            "1.2.840.10045.2.1" => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.clone().oid().ok())
                    .map(|o| o.to_id_string())
                    .unwrap_or_default();
                match curve.as_str() {
                    "1.2.840.10045.3.1.7" => PublicKeyKind::EcP256,
                    "1.3.132.0.34" => PublicKeyKind::EcP384,
                    other => PublicKeyKind::Other(format!("EC curve {other}")),
                }
            }
            "1.3.101.112" => PublicKeyKind::Ed25519,
            "1.2.840.113549.1.1.1" => match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => PublicKeyKind::Rsa {
                    bits: rsa.key_size(),
                },
                _ => PublicKeyKind::Other("malformed RSA key".into()),
            },
            "1.2.840.10040.4.1" => PublicKeyKind::Other("DSA".into()),
            other => PublicKeyKind::Other(other.to_owned()),
        };
        Self {
            kind,
            bytes: spki.subject_public_key.data.to_vec(),
            der: spki.raw.to_vec(),
        }
    }

    /// Whether the key is strong enough to be certified: P-256 or better, RSA-2048 or
    /// better, Ed25519.
    pub(crate) fn strength_problem(&self) -> Option<String> {
        match &self.kind {
            PublicKeyKind::EcP256 | PublicKeyKind::EcP384 | PublicKeyKind::Ed25519 => None,
            PublicKeyKind::Rsa { bits } if (RSA_MIN_BITS..=RSA_MAX_BITS).contains(bits) => None,
            PublicKeyKind::Rsa { bits } => Some(format!(
                "RSA-{bits} is outside the accepted {RSA_MIN_BITS} to {RSA_MAX_BITS} bits"
            )),
            PublicKeyKind::Other(what) => Some(format!("{what} keys are not supported")),
        }
    }
}

/// A signature algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SigAlg {
    Ecdsa(Hash),
    Ed25519,
    RsaPkcs1(Hash),
    RsaPss(Hash),
    /// Not supported, with the reason.
    Unsupported(String),
}

impl SigAlg {
    pub(crate) fn from_parsed(ai: &AlgorithmIdentifier<'_>) -> Self {
        let oid = ai.algorithm.to_id_string();
        match oid.as_str() {
            "1.2.840.10045.4.3.2" => Self::Ecdsa(Hash::Sha256),
            "1.2.840.10045.4.3.3" => Self::Ecdsa(Hash::Sha384),
            "1.2.840.10045.4.3.4" => Self::Ecdsa(Hash::Sha512),
            "1.3.101.112" => Self::Ed25519,
            "1.2.840.113549.1.1.11" => Self::RsaPkcs1(Hash::Sha256),
            "1.2.840.113549.1.1.12" => Self::RsaPkcs1(Hash::Sha384),
            "1.2.840.113549.1.1.13" => Self::RsaPkcs1(Hash::Sha512),
            "1.2.840.113549.1.1.10" => Self::pss(ai),
            "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => {
                Self::Unsupported("SHA-1 signatures are not accepted".into())
            }
            "1.2.840.10040.4.3" | "2.16.840.1.101.3.4.3.2" => {
                Self::Unsupported("DSA signatures are not supported".into())
            }
            "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.2" => {
                Self::Unsupported("MD5 and MD2 signatures are not accepted".into())
            }
            other => Self::Unsupported(format!("signature algorithm {other} is not supported")),
        }
    }

    /// Reads a DER AlgorithmIdentifier.
    pub(crate) fn from_der(der: &[u8]) -> Self {
        use x509_parser::prelude::FromDer as _;
        match AlgorithmIdentifier::from_der(der) {
            Ok((_, ai)) => Self::from_parsed(&ai),
            Err(_) => Self::Unsupported("malformed signature algorithm".into()),
        }
    }

    fn pss(ai: &AlgorithmIdentifier<'_>) -> Self {
        let Ok(ParsedSignatureAlgorithm::RSASSA_PSS(params)) =
            ParsedSignatureAlgorithm::try_from(ai)
        else {
            return Self::Unsupported("malformed RSASSA-PSS parameters".into());
        };
        let Some(hash) = Hash::from_oid(&params.hash_algorithm_oid().to_id_string()) else {
            return Self::Unsupported("RSASSA-PSS with SHA-1 is not accepted".into());
        };
        let mgf_ok = params
            .mask_gen_algorithm()
            .is_ok_and(|m| Hash::from_oid(&m.hash.to_id_string()) == Some(hash));
        if !mgf_ok || params.salt_length() != hash.len() || params.trailer_field() != 1 {
            return Self::Unsupported(
                "RSASSA-PSS is supported with MGF1 over the same hash and a salt as long as the hash".into(),
            );
        }
        Self::RsaPss(hash)
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SigError {
    /// The signature is wrong (or made for another key or algorithm).
    Invalid,
    /// The algorithm or key is not supported or too weak; the reason says which.
    Unsupported(String),
}

/// The keys a signed object (a certificate, a CRL) was found to be signed by.
/// Signed objects are immutable, so a validator that keeps them loaded (issuing CAs,
/// CRLs) verifies each signature once rather than on every validation. Clones of
/// an object share the memory (the bytes are the same), so what a validation learns
/// about a clone — `cms::verify` clones the intermediates it is given — is kept.
#[derive(Debug, Default, Clone)]
pub(crate) struct VerifiedKeys(std::sync::Arc<Mutex<Vec<Vec<u8>>>>);

impl VerifiedKeys {
    /// Verifies as [`verify`] does, answering from memory for a key that verified before.
    pub(crate) fn verify(
        &self,
        key: &PublicKeyInfo,
        alg: &SigAlg,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SigError> {
        if self.0.lock().is_ok_and(|v| v.contains(&key.der)) {
            return Ok(());
        }
        verify(key, alg, message, signature)?;
        if let Ok(mut v) = self.0.lock() {
            v.push(key.der.clone());
        }
        Ok(())
    }
}

/// Verifies `signature` over `message` with `key` under `alg`.
pub(crate) fn verify(
    key: &PublicKeyInfo,
    alg: &SigAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    use Hash::{Sha256, Sha384, Sha512};
    let ring_alg: &dyn ring_sig::VerificationAlgorithm = match (&key.kind, alg) {
        (_, SigAlg::Unsupported(why)) => return Err(SigError::Unsupported(why.clone())),
        (PublicKeyKind::Other(what), _) => {
            return Err(SigError::Unsupported(format!(
                "{what} keys are not supported"
            )));
        }
        (PublicKeyKind::Rsa { bits }, _) if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(bits) => {
            return Err(SigError::Unsupported(format!(
                "RSA-{bits} keys are outside the accepted {RSA_MIN_BITS} to {RSA_MAX_BITS} bits"
            )));
        }
        (PublicKeyKind::EcP256, SigAlg::Ecdsa(Sha256)) => &ring_sig::ECDSA_P256_SHA256_ASN1,
        (PublicKeyKind::EcP256, SigAlg::Ecdsa(Sha384)) => &ring_sig::ECDSA_P256_SHA384_ASN1,
        (PublicKeyKind::EcP384, SigAlg::Ecdsa(Sha256)) => &ring_sig::ECDSA_P384_SHA256_ASN1,
        (PublicKeyKind::EcP384, SigAlg::Ecdsa(Sha384)) => &ring_sig::ECDSA_P384_SHA384_ASN1,
        (PublicKeyKind::EcP256 | PublicKeyKind::EcP384, SigAlg::Ecdsa(Sha512)) => {
            return Err(SigError::Unsupported(
                "ECDSA with SHA-512 is not supported".into(),
            ));
        }
        (PublicKeyKind::Ed25519, SigAlg::Ed25519) => &ring_sig::ED25519,
        (PublicKeyKind::Rsa { .. }, SigAlg::RsaPkcs1(Sha256)) => {
            &ring_sig::RSA_PKCS1_2048_8192_SHA256
        }
        (PublicKeyKind::Rsa { .. }, SigAlg::RsaPkcs1(Sha384)) => {
            &ring_sig::RSA_PKCS1_2048_8192_SHA384
        }
        (PublicKeyKind::Rsa { .. }, SigAlg::RsaPkcs1(Sha512)) => {
            &ring_sig::RSA_PKCS1_2048_8192_SHA512
        }
        (PublicKeyKind::Rsa { .. }, SigAlg::RsaPss(Sha256)) => &ring_sig::RSA_PSS_2048_8192_SHA256,
        (PublicKeyKind::Rsa { .. }, SigAlg::RsaPss(Sha384)) => &ring_sig::RSA_PSS_2048_8192_SHA384,
        (PublicKeyKind::Rsa { .. }, SigAlg::RsaPss(Sha512)) => &ring_sig::RSA_PSS_2048_8192_SHA512,
        // A key of one kind with an algorithm of another can never verify.
        _ => return Err(SigError::Invalid),
    };
    ring_sig::UnparsedPublicKey::new(ring_alg, &key.bytes)
        .verify(message, signature)
        .map_err(|_| SigError::Invalid)
}
