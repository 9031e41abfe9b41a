//! Signing and verifying keys: ECDSA P-256 (the default), P-384, Ed25519 and RSA
//! (PKCS#1 v1.5 with SHA-256, for relying parties that only know `RS256`), on ring.
//! ring cannot generate RSA keys; the `rsa` crate makes them, ring signs with them.
//!
//! A private key lives in a [`SigningKey`] (in memory, read from PKCS#8) or behind
//! any other [`Signer`] (a token, an HSM). Public keys are [`VerifyingKey`]s, read
//! and written as SubjectPublicKeyInfo.
//!
//! Secrets: the PKCS#8 bytes a `SigningKey` holds are zeroized on drop, exports of
//! them come back as [`Zeroizing`] values named `secret_*`, and `Debug` never shows
//! them. Two copies are ring's and outside our reach without `unsafe` (which the
//! workspace forbids): the expanded private key inside ring's key pair types, and the
//! PKCS#8 document ring's generator returns, which is dropped as soon as it is read.
//! Neither is zeroized by ring; neither is ever exposed.
//!
//! Randomness: ring's [`SecureRandom`] is a sealed trait, so the only source a caller
//! can pass is ring's [`SystemRandom`] (the operating system's generator). Functions
//! that need randomness still take it as an argument, so the dependency is visible.

use std::fmt;

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, UintRef};
use der::{Decode, Encode, SecretDocument};
use pkcs8::pkcs5::pbes2;
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use ring::signature::{self as ring_sig, KeyPair as _};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use zeroize::{Zeroize, Zeroizing};

use crate::error::KeyError;

pub use ring::rand::{SecureRandom, SystemRandom};

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 / prime256v1 (RFC 5480).
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1 (RFC 5480).
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// id-Ed25519 (RFC 8410).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// ecdsa-with-SHA256 and ecdsa-with-SHA384 (RFC 5758).
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// sha256WithRSAEncryption (RFC 4055).
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// rsaEncryption (RFC 8017).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The RSA modulus sizes this crate reads, in bits (ring's range for PKCS#1 v1.5).
pub const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;
/// The modulus size of RSA keys this crate generates: what `RS256` relying parties
/// expect (NIST SP 800-57 allows it through 2030; tokens it signs live minutes).
pub const RSA_GENERATED_BITS: usize = 2048;

/// PBKDF2-HMAC-SHA256 rounds for keys we encrypt (OWASP's 2023 figure).
pub const PBKDF2_ROUNDS: u32 = 600_000;

/// A signature algorithm this crate can sign and verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA over P-256 with SHA-256 (JOSE `ES256`).
    EcdsaP256Sha256,
    /// ECDSA over P-384 with SHA-384 (JOSE `ES384`): for root CAs.
    EcdsaP384Sha384,
    /// Ed25519 (JOSE `EdDSA`).
    Ed25519,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (JOSE `RS256`), 2048 to 8192 bits: only for
    /// relying parties that know nothing else.
    RsaPkcs1Sha256,
}

impl SignatureAlgorithm {
    /// A short human name: `ECDSA P-256 SHA-256`, `Ed25519`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256 => "ECDSA P-256 SHA-256",
            Self::EcdsaP384Sha384 => "ECDSA P-384 SHA-384",
            Self::Ed25519 => "Ed25519",
            Self::RsaPkcs1Sha256 => "RSA PKCS#1 v1.5 SHA-256",
        }
    }

    /// The length of a fixed-size signature (`r ‖ s`, or Ed25519's 64 bytes);
    /// `None` for RSA, whose signatures are as long as the key's modulus.
    pub fn signature_len(&self) -> Option<usize> {
        match self {
            Self::EcdsaP256Sha256 | Self::Ed25519 => Some(64),
            Self::EcdsaP384Sha384 => Some(96),
            Self::RsaPkcs1Sha256 => None,
        }
    }

    /// The length of a public key: an uncompressed point, or Ed25519's 32 bytes;
    /// `None` for RSA (a DER RSAPublicKey).
    fn public_key_len(&self) -> Option<usize> {
        match self {
            Self::EcdsaP256Sha256 => Some(65),
            Self::EcdsaP384Sha384 => Some(97),
            Self::Ed25519 => Some(32),
            Self::RsaPkcs1Sha256 => None,
        }
    }

    /// The AlgorithmIdentifier that names signatures of this algorithm in X.509
    /// and CMS (RFC 5758, RFC 8410, RFC 4055: sha256WithRSAEncryption with NULL).
    pub fn signature_algorithm_identifier(&self) -> spki::AlgorithmIdentifierOwned {
        let (oid, parameters) = match self {
            Self::EcdsaP256Sha256 => (ECDSA_WITH_SHA256, None),
            Self::EcdsaP384Sha384 => (ECDSA_WITH_SHA384, None),
            Self::Ed25519 => (ED25519, None),
            Self::RsaPkcs1Sha256 => (SHA256_WITH_RSA, Some(AnyRef::NULL.into())),
        };
        spki::AlgorithmIdentifierOwned { oid, parameters }
    }

    fn is_ecdsa(&self) -> bool {
        matches!(self, Self::EcdsaP256Sha256 | Self::EcdsaP384Sha384)
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A passphrase that protects a private key at rest. Zeroized on drop; `Debug`
/// elides it.
#[derive(Clone, Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Wraps a passphrase. The `String` given is moved, not copied.
    pub fn new(passphrase: String) -> Self {
        Self(passphrase)
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<String> for Passphrase {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([secret elided])")
    }
}

/// A signature with the algorithm that made it.
///
/// ECDSA signatures are held in the fixed-size form (`r ‖ s`, 64 bytes), which JOSE
/// and PKCS#11 use; [`Signature::to_der`] gives the DER form X.509 and CMS use.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    algorithm: SignatureAlgorithm,
    bytes: Vec<u8>,
}

#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// PKCS#1 `RSAPublicKey` (RFC 8017 appendix A.1.1).
#[derive(der::Sequence)]
struct RsaPublicKeyDer<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

impl RsaPublicKeyDer<'_> {
    fn modulus_bits(&self) -> usize {
        let n = self.modulus.as_bytes();
        let leading = n.first().map_or(8, |b| b.leading_zeros() as usize);
        (n.len() * 8).saturating_sub(leading)
    }
}

impl Signature {
    /// Wraps raw signature bytes: `r ‖ s` for ECDSA (64 bytes for P-256, 96 for
    /// P-384), 64 bytes for Ed25519, the modulus-sized integer for RSA. Used by
    /// [`Signer`]s whose key lives elsewhere (a token returns `r ‖ s`).
    pub fn from_fixed(algorithm: SignatureAlgorithm, bytes: Vec<u8>) -> Result<Self, KeyError> {
        let expected = match algorithm.signature_len() {
            Some(len) if bytes.len() != len => Some(format!("{len} bytes")),
            None if !RSA_BITS.contains(&(bytes.len() * 8)) => Some(format!(
                "{} to {} bytes",
                RSA_BITS.start() / 8,
                RSA_BITS.end() / 8
            )),
            _ => None,
        };
        if let Some(expected) = expected {
            return Err(KeyError::Malformed {
                what: "signature",
                detail: format!(
                    "{algorithm} signatures are {expected}, found {}",
                    bytes.len()
                ),
            });
        }
        Ok(Self { algorithm, bytes })
    }

    /// Reads a DER-encoded ECDSA signature (`ECDSA-Sig-Value`); Ed25519 and RSA
    /// signatures have no DER form and are taken as they are.
    pub fn from_der(algorithm: SignatureAlgorithm, der: &[u8]) -> Result<Self, KeyError> {
        if !algorithm.is_ecdsa() {
            return Self::from_fixed(algorithm, der.to_vec());
        }
        let malformed = |detail: String| KeyError::Malformed {
            what: "ECDSA signature",
            detail,
        };
        let v = EcdsaSigValue::from_der(der).map_err(|e| malformed(e.to_string()))?;
        let len = algorithm.signature_len().unwrap_or_default();
        let mut bytes = vec![0u8; len];
        for (half, int) in bytes.chunks_mut(len / 2).zip([v.r, v.s]) {
            let n = int.as_bytes();
            let dst = half
                .len()
                .checked_sub(n.len())
                .and_then(|at| half.get_mut(at..))
                .ok_or_else(|| malformed(format!("integer longer than {} bytes", len / 2)))?;
            dst.copy_from_slice(n);
        }
        Ok(Self { algorithm, bytes })
    }

    /// The algorithm that made the signature.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The raw form: `r ‖ s` for ECDSA, the 64 bytes of Ed25519, RSA's integer.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The form X.509 and CMS carry: a DER `ECDSA-Sig-Value` for ECDSA, the raw
    /// bytes for Ed25519 and RSA.
    pub fn to_der(&self) -> Result<Vec<u8>, KeyError> {
        if !self.algorithm.is_ecdsa() {
            return Ok(self.bytes.clone());
        }
        let (r, s) = self.bytes.split_at(self.bytes.len() / 2);
        let int = |b| UintRef::new(b).map_err(|_| KeyError::Sign);
        EcdsaSigValue {
            r: int(r)?,
            s: int(s)?,
        }
        .to_der()
        .map_err(|_| KeyError::Sign)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signature({}, {} bytes)",
            self.algorithm,
            self.bytes.len()
        )
    }
}

/// A public key that checks signatures.
///
/// ```
/// use identity_core::keys::{SigningKey, SignatureAlgorithm, Signer, SystemRandom, VerifyingKey};
/// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &SystemRandom::new())?;
/// let public = VerifyingKey::from_spki_der(&key.verifying_key().to_spki_der())?;
/// let signature = key.sign(b"decision 42/QD")?;
/// assert!(public.verify(b"decision 42/QD", &signature).is_ok());
/// assert!(public.verify(b"decision 43/QD", &signature).is_err());
/// # Ok::<(), identity_core::KeyError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifyingKey {
    algorithm: SignatureAlgorithm,
    /// SEC1 uncompressed point for ECDSA (65 or 97 bytes), the 32 bytes for Ed25519,
    /// the DER `RSAPublicKey` for RSA.
    bytes: Vec<u8>,
}

impl VerifyingKey {
    /// Makes a key from its raw public bytes: an uncompressed SEC1 point (`04 ‖ x ‖ y`)
    /// for P-256 and P-384, 32 bytes for Ed25519, a DER `RSAPublicKey` of 2048 to 8192
    /// bits for RSA. The length and form are checked here; that a point lies on the
    /// curve is checked by every verification.
    pub fn from_bytes(algorithm: SignatureAlgorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        let Some(len) = algorithm.public_key_len() else {
            return Self::from_rsa_public_key_der(bytes);
        };
        let ok = bytes.len() == len && (!algorithm.is_ecdsa() || bytes.first() == Some(&4));
        if !ok {
            let form = if algorithm.is_ecdsa() {
                "uncompressed points"
            } else {
                "keys"
            };
            return Err(KeyError::Malformed {
                what: "public key",
                detail: format!(
                    "{algorithm} public keys are {len}-byte {form}, found {} bytes",
                    bytes.len()
                ),
            });
        }
        Ok(Self {
            algorithm,
            bytes: bytes.to_vec(),
        })
    }

    fn from_rsa_public_key_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = RsaPublicKeyDer::from_der(der).map_err(|e| KeyError::Malformed {
            what: "RSA public key",
            detail: e.to_string(),
        })?;
        let bits = key.modulus_bits();
        let e = key.public_exponent.as_bytes();
        let problem = if !RSA_BITS.contains(&bits) {
            Some(format!(
                "the modulus has {bits} bits; {} to {} are accepted",
                RSA_BITS.start(),
                RSA_BITS.end()
            ))
        } else if e.last().is_none_or(|last| last & 1 == 0) || e == [1] {
            Some("the public exponent must be odd and at least 3".into())
        } else {
            None
        };
        if let Some(reason) = problem {
            return Err(KeyError::Rejected { reason });
        }
        Ok(Self {
            algorithm: SignatureAlgorithm::RsaPkcs1Sha256,
            bytes: der.to_vec(),
        })
    }

    /// Makes an RSA key from its modulus and public exponent (big-endian unsigned
    /// integers, as JWK's `n` and `e` carry them).
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        let malformed = |e: der::Error| KeyError::Malformed {
            what: "RSA public key",
            detail: e.to_string(),
        };
        let der = RsaPublicKeyDer {
            modulus: UintRef::new(modulus).map_err(malformed)?,
            public_exponent: UintRef::new(exponent).map_err(malformed)?,
        }
        .to_der()
        .map_err(malformed)?;
        Self::from_rsa_public_key_der(&der)
    }

    /// An RSA key's modulus and public exponent (big-endian, no leading zeros);
    /// `None` for other keys.
    pub fn rsa_components(&self) -> Option<(&[u8], &[u8])> {
        if self.algorithm != SignatureAlgorithm::RsaPkcs1Sha256 {
            return None;
        }
        let key = RsaPublicKeyDer::from_der(&self.bytes).ok()?;
        Some((key.modulus.as_bytes(), key.public_exponent.as_bytes()))
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| KeyError::Malformed {
            what: "SubjectPublicKeyInfo",
            detail: e.to_string(),
        })?;
        let algorithm = algorithm_of(&spki.algorithm)?;
        let bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| KeyError::Malformed {
                what: "SubjectPublicKeyInfo",
                detail: "public key bit string has unused bits".into(),
            })?;
        Self::from_bytes(algorithm, bytes)
    }

    /// Reads a PEM `PUBLIC KEY` block.
    pub fn from_spki_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = der::Document::from_pem(pem).map_err(|e| KeyError::Malformed {
            what: "PEM",
            detail: e.to_string(),
        })?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::PemLabel {
                expected: "PUBLIC KEY",
                found: label.to_owned(),
            });
        }
        Self::from_spki_der(der.as_bytes())
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let (p256, p384) = (P256, P384);
        let algorithm = match self.algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierRef {
                oid: EC_PUBLIC_KEY,
                parameters: Some(AnyRef::from(&p256)),
            },
            SignatureAlgorithm::EcdsaP384Sha384 => AlgorithmIdentifierRef {
                oid: EC_PUBLIC_KEY,
                parameters: Some(AnyRef::from(&p384)),
            },
            SignatureAlgorithm::Ed25519 => AlgorithmIdentifierRef {
                oid: ED25519,
                parameters: None,
            },
            SignatureAlgorithm::RsaPkcs1Sha256 => AlgorithmIdentifierRef {
                oid: RSA_ENCRYPTION,
                parameters: Some(AnyRef::NULL),
            },
        };
        let encoded = BitStringRef::from_bytes(&self.bytes).and_then(|subject_public_key| {
            SubjectPublicKeyInfoRef {
                algorithm,
                subject_public_key,
            }
            .to_der()
        });
        // Encoding a key of at most a few kilobytes cannot exceed any DER limit.
        encoded.unwrap_or_default()
    }

    /// The PEM `PUBLIC KEY` block.
    pub fn to_spki_pem(&self) -> String {
        der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &self.to_spki_der())
            .unwrap_or_default()
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The raw public bytes (uncompressed point, Ed25519 key, DER RSAPublicKey).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks a signature made by the matching private key. Any failure, including a
    /// signature by another algorithm, is the same opaque [`KeyError::BadSignature`].
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        if signature.algorithm != self.algorithm {
            return Err(KeyError::BadSignature);
        }
        let alg: &dyn ring_sig::VerificationAlgorithm = match self.algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => &ring_sig::ECDSA_P256_SHA256_FIXED,
            SignatureAlgorithm::EcdsaP384Sha384 => &ring_sig::ECDSA_P384_SHA384_FIXED,
            SignatureAlgorithm::Ed25519 => &ring_sig::ED25519,
            SignatureAlgorithm::RsaPkcs1Sha256 => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
        };
        ring_sig::UnparsedPublicKey::new(alg, &self.bytes)
            .verify(message, &signature.bytes)
            .map_err(|_| KeyError::BadSignature)
    }

    /// Checks a signature in the form X.509 and CMS carry (DER for ECDSA, raw for
    /// Ed25519 and RSA).
    pub fn verify_der(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let alg: &dyn ring_sig::VerificationAlgorithm = match self.algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => &ring_sig::ECDSA_P256_SHA256_ASN1,
            SignatureAlgorithm::EcdsaP384Sha384 => &ring_sig::ECDSA_P384_SHA384_ASN1,
            SignatureAlgorithm::Ed25519 => &ring_sig::ED25519,
            SignatureAlgorithm::RsaPkcs1Sha256 => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
        };
        ring_sig::UnparsedPublicKey::new(alg, &self.bytes)
            .verify(message, signature)
            .map_err(|_| KeyError::BadSignature)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({}, ", self.algorithm)?;
        self.bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        f.write_str(")")
    }
}

fn algorithm_of(alg: &AlgorithmIdentifierRef<'_>) -> Result<SignatureAlgorithm, KeyError> {
    if alg.oid == ED25519 {
        if alg.parameters.is_some() {
            return Err(KeyError::Malformed {
                what: "algorithm identifier",
                detail: "Ed25519 takes no parameters".into(),
            });
        }
        return Ok(SignatureAlgorithm::Ed25519);
    }
    if alg.oid == RSA_ENCRYPTION {
        // RFC 8017 asks for NULL parameters; some encoders leave them out.
        if alg.parameters.is_some_and(|p| p.is_null()) || alg.parameters.is_none() {
            return Ok(SignatureAlgorithm::RsaPkcs1Sha256);
        }
        return Err(KeyError::Malformed {
            what: "algorithm identifier",
            detail: "rsaEncryption takes NULL parameters".into(),
        });
    }
    if alg.oid == EC_PUBLIC_KEY {
        let curve = alg
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or_else(|| KeyError::Malformed {
                what: "algorithm identifier",
                detail: "an EC key must name its curve".into(),
            })?;
        return match curve {
            P256 => Ok(SignatureAlgorithm::EcdsaP256Sha256),
            P384 => Ok(SignatureAlgorithm::EcdsaP384Sha384),
            other => Err(KeyError::UnsupportedAlgorithm {
                oid: format!("EC curve {other}"),
            }),
        };
    }
    Err(KeyError::UnsupportedAlgorithm {
        oid: alg.oid.to_string(),
    })
}

/// Anything that can sign with a private key: a [`SigningKey`] in memory, and later a
/// key on a PKCS#11 token or in an HSM.
pub trait Signer {
    /// The algorithm the key signs with.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The matching public key.
    fn public_key(&self) -> &VerifyingKey;
    /// Signs `message` (the implementation hashes it as the algorithm requires).
    fn sign(&self, message: &[u8]) -> Result<Signature, KeyError>;
}

enum KeyPair {
    Ecdsa(SignatureAlgorithm, ring_sig::EcdsaKeyPair),
    Ed25519(ring_sig::Ed25519KeyPair),
    Rsa(ring_sig::RsaKeyPair),
}

/// ring's generator as the `rsa` crate's random source. That crate wants a source
/// that cannot fail; a failure of ring's is remembered here instead, and the key
/// made from the zeros it left is thrown away.
struct RingRandom<'a> {
    rng: &'a dyn SecureRandom,
    failed: bool,
}

impl rsa::rand_core::TryRng for RingRandom<'_> {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if self.rng.fill(dst).is_err() {
            self.failed = true;
            dst.fill(0);
        }
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for RingRandom<'_> {}

/// A new RSA key of `bits` bits (e = 65537) as PKCS#8 DER, made by the `rsa` crate.
fn generate_rsa_pkcs8(bits: usize, rng: &dyn SecureRandom) -> Result<SecretDocument, KeyError> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let mut random = RingRandom { rng, failed: false };
    let key = rsa::RsaPrivateKey::new(&mut random, bits).map_err(|e| KeyError::Rejected {
        reason: e.to_string(),
    })?;
    if random.failed {
        return Err(KeyError::Random);
    }
    key.to_pkcs8_der().map_err(|e| KeyError::Malformed {
        what: "PKCS#8",
        detail: e.to_string(),
    })
}

/// A private key held in memory.
///
/// ```
/// use identity_core::keys::{Passphrase, SigningKey, SignatureAlgorithm, SystemRandom};
/// let rng = SystemRandom::new();
/// let key = SigningKey::generate(SignatureAlgorithm::Ed25519, &rng)?;
/// // Plain PKCS#8 comes back wrapped so that it is wiped when dropped.
/// let pem = key.secret_pkcs8_pem();
/// assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
/// // Encrypted PKCS#8 (PBES2, PBKDF2-SHA256, AES-256-CBC) is safe to store.
/// let pass = Passphrase::new("correct horse battery staple".into());
/// let encrypted = key.to_encrypted_pkcs8_pem(&pass, &rng)?;
/// let again = SigningKey::from_pkcs8_pem(&encrypted, Some(&pass))?;
/// assert_eq!(again.verifying_key(), key.verifying_key());
/// // Debug never shows the secret.
/// assert!(format!("{key:?}").contains("[secret elided]"));
/// # Ok::<(), identity_core::KeyError>(())
/// ```
pub struct SigningKey {
    pair: KeyPair,
    public: VerifyingKey,
    pkcs8: Zeroizing<Vec<u8>>,
    rng: SystemRandom,
}

impl SigningKey {
    /// Generates a new key (RSA keys have [`RSA_GENERATED_BITS`] bits; making one
    /// takes tens to hundreds of milliseconds).
    pub fn generate(
        algorithm: SignatureAlgorithm,
        rng: &dyn SecureRandom,
    ) -> Result<Self, KeyError> {
        let document = match algorithm {
            SignatureAlgorithm::RsaPkcs1Sha256 => {
                let document = generate_rsa_pkcs8(RSA_GENERATED_BITS, rng)?;
                return Self::from_pkcs8_der(document.as_bytes());
            }
            SignatureAlgorithm::EcdsaP256Sha256 => ring_sig::EcdsaKeyPair::generate_pkcs8(
                &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                rng,
            ),
            SignatureAlgorithm::EcdsaP384Sha384 => ring_sig::EcdsaKeyPair::generate_pkcs8(
                &ring_sig::ECDSA_P384_SHA384_FIXED_SIGNING,
                rng,
            ),
            SignatureAlgorithm::Ed25519 => ring_sig::Ed25519KeyPair::generate_pkcs8(rng),
        }
        .map_err(|_| KeyError::Random)?;
        Self::from_pkcs8_der(document.as_ref())
    }

    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` (v1 or v2) in DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| KeyError::Malformed {
            what: "PKCS#8",
            detail: e.to_string(),
        })?;
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected {
            reason: e.to_string(),
        };
        let rng = SystemRandom::new();
        let pair = match algorithm_of(&info.algorithm)? {
            alg @ (SignatureAlgorithm::EcdsaP256Sha256 | SignatureAlgorithm::EcdsaP384Sha384) => {
                let signing = if alg == SignatureAlgorithm::EcdsaP256Sha256 {
                    &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING
                } else {
                    &ring_sig::ECDSA_P384_SHA384_FIXED_SIGNING
                };
                KeyPair::Ecdsa(
                    alg,
                    ring_sig::EcdsaKeyPair::from_pkcs8(signing, der, &rng).map_err(rejected)?,
                )
            }
            SignatureAlgorithm::Ed25519 => {
                // OpenSSL writes v1 (no public key); ring's generator writes v2 (with
                // one, which this call then checks).
                KeyPair::Ed25519(
                    ring_sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?,
                )
            }
            SignatureAlgorithm::RsaPkcs1Sha256 => {
                KeyPair::Rsa(ring_sig::RsaKeyPair::from_pkcs8(der).map_err(rejected)?)
            }
        };
        let (algorithm, public) = match &pair {
            KeyPair::Ecdsa(alg, p) => (*alg, p.public_key().as_ref()),
            KeyPair::Ed25519(p) => (SignatureAlgorithm::Ed25519, p.public_key().as_ref()),
            KeyPair::Rsa(p) => (SignatureAlgorithm::RsaPkcs1Sha256, p.public().as_ref()),
        };
        let public = VerifyingKey::from_bytes(algorithm, public)?;
        let pkcs8 = match algorithm {
            // Keep Ed25519 keys as PKCS#8 v1 (RFC 8410 without the optional public
            // key): OpenSSL 3.0 cannot read v2, which ring's generator writes.
            SignatureAlgorithm::Ed25519 if info.public_key.is_some() => {
                let v1 = PrivateKeyInfoRef::new(info.algorithm, info.private_key);
                Zeroizing::new(v1.to_der().map_err(|e| KeyError::Malformed {
                    what: "PKCS#8",
                    detail: e.to_string(),
                })?)
            }
            _ => Zeroizing::new(der.to_vec()),
        };
        Ok(Self {
            pair,
            public,
            pkcs8,
            rng,
        })
    }

    /// Reads an encrypted PKCS#8 `EncryptedPrivateKeyInfo` (PBES2 with PBKDF2 or
    /// scrypt, AES-CBC or AES-GCM) in DER, as `openssl pkcs8 -topk8 -v2 aes256` and
    /// `openssl genpkey -aes256` write.
    pub fn from_encrypted_pkcs8_der(der: &[u8], passphrase: &Passphrase) -> Result<Self, KeyError> {
        let info = EncryptedPrivateKeyInfoRef::from_der(der).map_err(|e| KeyError::Malformed {
            what: "encrypted PKCS#8",
            detail: e.to_string(),
        })?;
        let plain = info.decrypt(passphrase.as_bytes()).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) => {
                KeyError::Decrypt
            }
            pkcs8::Error::EncryptedPrivateKey(other) => KeyError::UnsupportedEncryption {
                detail: other.to_string(),
            },
            // The plaintext did not decode: a wrong passphrase that happened to leave
            // valid padding, or a damaged file.
            _ => KeyError::Decrypt,
        })?;
        Self::from_pkcs8_der(plain.as_bytes()).map_err(|e| match e {
            KeyError::Malformed { .. } => KeyError::Decrypt,
            other => other,
        })
    }

    /// Reads a PEM `PRIVATE KEY` block, or an `ENCRYPTED PRIVATE KEY` block with the
    /// passphrase. Any other label is refused with the label named.
    pub fn from_pkcs8_pem(pem: &str, passphrase: Option<&Passphrase>) -> Result<Self, KeyError> {
        let (label, document) = SecretDocument::from_pem(pem).map_err(|e| KeyError::Malformed {
            what: "PEM",
            detail: e.to_string(),
        })?;
        match (label, passphrase) {
            ("PRIVATE KEY", _) => Self::from_pkcs8_der(document.as_bytes()),
            ("ENCRYPTED PRIVATE KEY", Some(pass)) => {
                Self::from_encrypted_pkcs8_der(document.as_bytes(), pass)
            }
            ("ENCRYPTED PRIVATE KEY", None) => Err(KeyError::PassphraseRequired),
            (other, _) => Err(KeyError::PemLabel {
                expected: "PRIVATE KEY or ENCRYPTED PRIVATE KEY (convert others with `openssl pkcs8 -topk8`)",
                found: other.to_owned(),
            }),
        }
    }

    /// Whether a PEM text holds an encrypted private key (so a caller knows to ask for
    /// a passphrase before reading it).
    pub fn pem_is_encrypted(pem: &str) -> bool {
        pem.trim_start()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// The unencrypted PKCS#8 DER. Wiped when the returned value is dropped.
    pub fn secret_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        self.pkcs8.clone()
    }

    /// The unencrypted PKCS#8 as a PEM `PRIVATE KEY` block. Wiped when dropped.
    pub fn secret_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(
            der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &self.pkcs8)
                .unwrap_or_default(),
        )
    }

    /// The key encrypted under `passphrase` as PKCS#8 `EncryptedPrivateKeyInfo` DER:
    /// PBES2 with PBKDF2-HMAC-SHA256 ([`PBKDF2_ROUNDS`] rounds, 16-byte salt) and
    /// AES-256-CBC, which OpenSSL reads with `openssl pkey -passin`.
    pub fn to_encrypted_pkcs8_der(
        &self,
        passphrase: &Passphrase,
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, KeyError> {
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        rng.fill(&mut salt).map_err(|_| KeyError::Random)?;
        rng.fill(&mut iv).map_err(|_| KeyError::Random)?;
        let params = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(PBKDF2_ROUNDS, &salt, iv)
            .map_err(|e| KeyError::UnsupportedEncryption {
                detail: e.to_string(),
            })?;
        let info = PrivateKeyInfoRef::from_der(&self.pkcs8).map_err(|e| KeyError::Malformed {
            what: "PKCS#8",
            detail: e.to_string(),
        })?;
        let encrypted = info
            .encrypt_with_params(params, passphrase.as_bytes())
            .map_err(|e| KeyError::UnsupportedEncryption {
                detail: e.to_string(),
            })?;
        Ok(encrypted.as_bytes().to_vec())
    }

    /// The key encrypted as by [`SigningKey::to_encrypted_pkcs8_der`], in a PEM
    /// `ENCRYPTED PRIVATE KEY` block.
    pub fn to_encrypted_pkcs8_pem(
        &self,
        passphrase: &Passphrase,
        rng: &dyn SecureRandom,
    ) -> Result<String, KeyError> {
        let der = self.to_encrypted_pkcs8_der(passphrase, rng)?;
        der::pem::encode_string("ENCRYPTED PRIVATE KEY", der::pem::LineEnding::LF, &der).map_err(
            |e| KeyError::Malformed {
                what: "PEM",
                detail: e.to_string(),
            },
        )
    }
}

impl Signer for SigningKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.public.algorithm
    }

    fn public_key(&self) -> &VerifyingKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, KeyError> {
        let bytes = match &self.pair {
            KeyPair::Ecdsa(_, p) => p
                .sign(&self.rng, message)
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec(),
            KeyPair::Ed25519(p) => p.sign(message).as_ref().to_vec(),
            KeyPair::Rsa(p) => {
                let mut signature = vec![0; p.public().modulus_len()];
                p.sign(
                    &ring_sig::RSA_PKCS1_SHA256,
                    &self.rng,
                    message,
                    &mut signature,
                )
                .map_err(|_| KeyError::Sign)?;
                signature
            }
        };
        Ok(Signature {
            algorithm: self.public.algorithm,
            bytes,
        })
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .field("secret", &format_args!("[secret elided]"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: SignatureAlgorithm) -> SigningKey {
        SigningKey::generate(alg, &SystemRandom::new()).unwrap()
    }

    #[test]
    fn sign_verify_both_algorithms_and_forms() {
        for alg in [
            SignatureAlgorithm::EcdsaP256Sha256,
            SignatureAlgorithm::EcdsaP384Sha384,
            SignatureAlgorithm::Ed25519,
        ] {
            let k = key(alg);
            let sig = k.sign(b"msg").unwrap();
            assert_eq!(Some(sig.as_bytes().len()), alg.signature_len());
            k.verifying_key().verify(b"msg", &sig).unwrap();
            assert_eq!(
                k.verifying_key().verify(b"msh", &sig),
                Err(KeyError::BadSignature)
            );
            let der = sig.to_der().unwrap();
            k.verifying_key().verify_der(b"msg", &der).unwrap();
            assert_eq!(Signature::from_der(alg, &der).unwrap(), sig);
            let mut tampered = der.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 1;
            assert!(k.verifying_key().verify_der(b"msg", &tampered).is_err());
        }
    }

    #[test]
    fn rsa_keys_sign_verify_and_round_trip() {
        let k = key(SignatureAlgorithm::RsaPkcs1Sha256);
        let public = k.verifying_key();
        let (n, e) = public.rsa_components().unwrap();
        assert_eq!((n.len() * 8, e), (RSA_GENERATED_BITS, &[1, 0, 1][..]));
        let sig = k.sign(b"msg").unwrap();
        assert_eq!(sig.as_bytes().len(), RSA_GENERATED_BITS / 8);
        public.verify(b"msg", &sig).unwrap();
        public.verify_der(b"msg", &sig.to_der().unwrap()).unwrap();
        assert_eq!(public.verify(b"msh", &sig), Err(KeyError::BadSignature));
        // Through PKCS#8 (plain and encrypted), SPKI and the JWK components.
        let again = SigningKey::from_pkcs8_der(&k.secret_pkcs8_der()).unwrap();
        assert_eq!(again.verifying_key(), public);
        let spki = VerifyingKey::from_spki_der(&public.to_spki_der()).unwrap();
        assert_eq!(&spki, public);
        assert_eq!(&VerifyingKey::from_rsa_components(n, e).unwrap(), public);
        // A signature of the wrong size is refused before any arithmetic.
        assert!(matches!(
            Signature::from_fixed(SignatureAlgorithm::RsaPkcs1Sha256, vec![1; 100]),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn weak_or_malformed_rsa_keys_are_refused() {
        let n1024 = [0xc1u8; 128];
        assert!(matches!(
            VerifyingKey::from_rsa_components(&n1024, &[1, 0, 1]),
            Err(KeyError::Rejected { reason }) if reason.contains("1024 bits")
        ));
        let n2048 = [0xc1u8; 256];
        for e in [&[2u8][..], &[1], &[]] {
            assert!(
                VerifyingKey::from_rsa_components(&n2048, e).is_err(),
                "exponent {e:?}"
            );
        }
        assert!(VerifyingKey::from_rsa_components(&n2048, &[3]).is_ok());
        assert!(matches!(
            VerifyingKey::from_bytes(SignatureAlgorithm::RsaPkcs1Sha256, b"\x30\x00"),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn signature_of_other_algorithm_is_refused() {
        let ec = key(SignatureAlgorithm::EcdsaP256Sha256);
        let ed = key(SignatureAlgorithm::Ed25519);
        let sig = ed.sign(b"m").unwrap();
        assert_eq!(
            ec.verifying_key().verify(b"m", &sig),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn pkcs8_and_spki_round_trip() {
        for alg in [
            SignatureAlgorithm::EcdsaP256Sha256,
            SignatureAlgorithm::EcdsaP384Sha384,
            SignatureAlgorithm::Ed25519,
        ] {
            let k = key(alg);
            let again = SigningKey::from_pkcs8_pem(&k.secret_pkcs8_pem(), None).unwrap();
            assert_eq!(again.verifying_key(), k.verifying_key());
            let spki = k.verifying_key().to_spki_pem();
            assert_eq!(
                &VerifyingKey::from_spki_pem(&spki).unwrap(),
                k.verifying_key()
            );
        }
    }

    #[test]
    fn encrypted_pkcs8_needs_the_right_passphrase() {
        let rng = SystemRandom::new();
        let k = key(SignatureAlgorithm::EcdsaP256Sha256);
        let pem = k
            .to_encrypted_pkcs8_pem(&Passphrase::new("right".into()), &rng)
            .unwrap();
        assert!(SigningKey::pem_is_encrypted(&pem));
        assert_eq!(
            SigningKey::from_pkcs8_pem(&pem, None).unwrap_err(),
            KeyError::PassphraseRequired
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem(&pem, Some(&Passphrase::new("wrong".into()))).unwrap_err(),
            KeyError::Decrypt
        );
    }

    #[test]
    fn bad_input_gets_named_errors() {
        assert!(matches!(
            SigningKey::from_pkcs8_der(b"\x30\x03\x02\x01"),
            Err(KeyError::Malformed { .. })
        ));
        let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            SigningKey::from_pkcs8_pem(cert, None),
            Err(KeyError::PemLabel { .. })
        ));
        assert!(matches!(
            VerifyingKey::from_spki_pem(cert),
            Err(KeyError::PemLabel { .. })
        ));
        assert!(matches!(
            VerifyingKey::from_bytes(SignatureAlgorithm::EcdsaP256Sha256, &[2; 33]),
            Err(KeyError::Malformed { .. })
        ));
        assert!(matches!(
            Signature::from_der(SignatureAlgorithm::EcdsaP256Sha256, b"\x30"),
            Err(KeyError::Malformed { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn der_signatures_round_trip(fixed in proptest::collection::vec(proptest::num::u8::ANY, 64)) {
            // Any r and s (leading zeros included) survive fixed -> DER -> fixed.
            let alg = SignatureAlgorithm::EcdsaP256Sha256;
            let sig = Signature::from_fixed(alg, fixed).unwrap();
            let der = sig.to_der().unwrap();
            proptest::prop_assert_eq!(Signature::from_der(alg, &der).unwrap(), sig);
        }

        #[test]
        fn spki_round_trips(ed in proptest::bool::ANY, bytes in proptest::collection::vec(proptest::num::u8::ANY, 64)) {
            let (alg, raw) = if ed {
                (SignatureAlgorithm::Ed25519, bytes[..32].to_vec())
            } else {
                (SignatureAlgorithm::EcdsaP256Sha256, [&[4u8][..], &bytes].concat())
            };
            let key = VerifyingKey::from_bytes(alg, &raw).unwrap();
            proptest::prop_assert_eq!(&VerifyingKey::from_spki_der(&key.to_spki_der()).unwrap(), &key);
            proptest::prop_assert_eq!(&VerifyingKey::from_spki_pem(&key.to_spki_pem()).unwrap(), &key);
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let k = key(SignatureAlgorithm::Ed25519);
        let pkcs8 = k.secret_pkcs8_der();
        let shown = format!("{k:?}");
        assert!(shown.contains("[secret elided]"));
        // No run of 8 secret bytes, in hex, appears in the output.
        let hex: String = pkcs8.iter().map(|b| format!("{b:02x}")).collect();
        let public: String = k
            .verifying_key()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        for window in hex.as_bytes().chunks(16) {
            let w = std::str::from_utf8(window).unwrap();
            if !public.contains(w) && w.len() == 16 {
                assert!(!shown.contains(w));
            }
        }
        assert_eq!(
            format!("{:?}", Passphrase::new("hunter2".into())),
            "Passphrase([secret elided])"
        );
    }
}
