//! CMS SignedData (RFC 5652) as CAdES baseline B-B (ETSI EN 319 122-1): signatures
//! with content-type, message-digest, signing-time and signing-certificate-v2
//! attributes, detached (the default) or enveloping, one or several signers; and
//! their verification, which gives an ETSI report for each signer.
//!
//! The ASN.1 types are the `cms` crate's; signing goes through a [`Signer`], so the
//! key may be in memory or on a token.
//!
//! ```
//! use identity_core::cms::{self, SignOptions, VerifyOptions};
//! # use identity_core::x509::Certificate;
//! # let read = |name: &str| std::fs::read(format!("{}/tests/data/cms/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
//! # let key = identity_core::SigningKey::from_pkcs8_pem(&String::from_utf8(read("signer.key.pem")).unwrap(), None)?;
//! # let cert = Certificate::parse_all(&read("signer.pem"))?.remove(0);
//! # let anchors = Certificate::parse_all(&read("root.pem"))?;
//! # let intermediates = Certificate::parse_all(&read("ca.pem"))?;
//! let document = "Quyết định số 42/QĐ-UBND".as_bytes();
//! let signature = cms::sign(document, &key, &cert, &intermediates, &SignOptions::detached(1_800_000_000))?;
//! let signers = cms::verify(&signature, Some(document), &anchors, &[], &VerifyOptions::at(1_800_000_100))?;
//! assert_eq!(signers.len(), 1);
//! assert!(signers[0].report.passed(), "{}", signers[0].report);
//! // A changed document fails.
//! let changed = cms::verify(&signature, Some(b"Quyet dinh so 43"), &anchors, &[], &VerifyOptions::at(1_800_000_100))?;
//! assert!(!changed[0].report.passed());
//! # Ok::<(), identity_core::Error>(())
//! ```

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName as X509GeneralName;
use x509_cert::serial_number::SerialNumber;

use crate::error::CmsError;
use crate::keys::{SignatureAlgorithm, Signer};
use crate::report::{Indication, PathElement, RevocationStatus, SubIndication, ValidationReport};
use crate::x509::{self, Certificate, Crl, OcspResponseInfo, Purpose, ValidationParams};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A digest algorithm for the signed content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => SHA256,
            Self::Sha384 => SHA384,
            Self::Sha512 => SHA512,
        }
    }

    /// The algorithm an object identifier names, if it is one of these.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            SHA256 => Some(Self::Sha256),
            SHA384 => Some(Self::Sha384),
            SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn ring(self) -> &'static ring::digest::Algorithm {
        match self {
            Self::Sha256 => &ring::digest::SHA256,
            Self::Sha384 => &ring::digest::SHA384,
            Self::Sha512 => &ring::digest::SHA512,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        ring::digest::digest(self.ring(), data).as_ref().to_vec()
    }

    /// The digest a key signs with: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for
    /// Ed25519 (RFC 8419). CMS hashes the signed attributes with the same digest as
    /// the content, so the content digest follows the key.
    pub fn for_key(algorithm: SignatureAlgorithm) -> Self {
        match algorithm {
            SignatureAlgorithm::EcdsaP384Sha384 => Self::Sha384,
            SignatureAlgorithm::Ed25519 => Self::Sha512,
            _ => Self::Sha256,
        }
    }

    /// The name: `SHA-256`, `SHA-384`, `SHA-512`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }
}

/// How to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOptions {
    /// The signing time put in the signing-time attribute (Unix seconds).
    pub signing_time: i64,
    /// Whether the document goes inside the signature (enveloping) rather than beside it.
    pub attached: bool,
}

impl SignOptions {
    /// A detached signature made at `signing_time`.
    pub fn detached(signing_time: i64) -> Self {
        Self {
            signing_time,
            attached: false,
        }
    }
}

/// ESS `SigningCertificateV2` (RFC 5035).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

/// ESS `ESSCertIDv2`. `hashAlgorithm` is DEFAULT id-sha256: absent here means that.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// ESS `SigningCertificate` (RFC 2634), whose `ESSCertID` hashes with SHA-1.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct SigningCertificateV1 {
    certs: Vec<EssCertIdV1>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct EssCertIdV1 {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// ESS `IssuerSerial`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct IssuerSerial {
    issuer: Vec<X509GeneralName>,
    serial_number: SerialNumber,
}

fn encoding(e: der::Error) -> CmsError {
    CmsError::Encoding {
        detail: e.to_string(),
    }
}

fn attribute(oid: ObjectIdentifier, value: impl Encode) -> Result<Attribute, CmsError> {
    let any = Any::from_der(&value.to_der().map_err(encoding)?).map_err(encoding)?;
    let mut values = SetOfVec::new();
    values.insert(any).map_err(encoding)?;
    Ok(Attribute { oid, values })
}

/// A time as CMS writes it: UTCTime from 1950 to 2049, GeneralizedTime otherwise.
fn cms_time(t: i64) -> Result<Any, CmsError> {
    let secs = u64::try_from(t).map_err(|_| CmsError::Encoding {
        detail: "signing time before 1970".into(),
    })?;
    let duration = std::time::Duration::from_secs(secs);
    let der = if t < 2_524_608_000 {
        UtcTime::from_unix_duration(duration)
            .map_err(encoding)?
            .to_der()
    } else {
        GeneralizedTime::from_unix_duration(duration)
            .map_err(encoding)?
            .to_der()
    }
    .map_err(encoding)?;
    Any::from_der(&der).map_err(encoding)
}

fn x509_cert_of(cert: &Certificate) -> Result<x509_cert::Certificate, CmsError> {
    x509_cert::Certificate::from_der(cert.der()).map_err(encoding)
}

/// Makes one SignerInfo over `content` (CAdES B-B attributes).
fn signer_info(
    content: &[u8],
    content_type: ObjectIdentifier,
    signer: &dyn Signer,
    cert: &Certificate,
    signing_time: Option<i64>,
) -> Result<(SignerInfo, DigestAlgorithm), CmsError> {
    if cert.public_key_der() != signer.public_key().to_spki_der() {
        return Err(CmsError::KeyMismatch {
            certificate: cert.subject().to_string(),
        });
    }
    let digest = DigestAlgorithm::for_key(signer.algorithm());
    let x509 = x509_cert_of(cert)?;
    let tbs = &x509.tbs_certificate();
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(DigestAlgorithm::Sha256.digest(cert.der()))
                .map_err(encoding)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![X509GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            }),
        }],
        policies: None,
    };
    let mut signed_attrs = SetOfVec::new();
    for attr in [
        attribute(CONTENT_TYPE, content_type)?,
        attribute(
            MESSAGE_DIGEST,
            OctetString::new(digest.digest(content)).map_err(encoding)?,
        )?,
        attribute(SIGNING_CERTIFICATE_V2, ess)?,
    ]
    .into_iter()
    .chain(
        signing_time
            .map(|t| attribute(SIGNING_TIME, cms_time(t)?))
            .transpose()?,
    ) {
        signed_attrs.insert(attr).map_err(encoding)?;
    }
    // The signature covers the attributes' DER as a SET OF (RFC 5652 §5.4).
    let to_sign = signed_attrs.to_der().map_err(encoding)?;
    let signature = signer.sign(&to_sign).map_err(|e| CmsError::Signing {
        detail: e.to_string(),
    })?;
    let signature = signature.to_der().map_err(|e| CmsError::Signing {
        detail: e.to_string(),
    })?;
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: AlgorithmIdentifierOwned {
            oid: digest.oid(),
            parameters: None,
        },
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signer.algorithm().signature_algorithm_identifier(),
        signature: OctetString::new(signature).map_err(encoding)?,
        unsigned_attrs: None,
    };
    Ok((info, digest))
}

/// Signs `content`: a CAdES B-B SignedData, DER, carrying `certificate` and `chain`
/// (intermediates; self-signed certificates in it are left out). The certificate must
/// be the signer's: a mismatch is refused before anything is signed.
pub fn sign(
    content: &[u8],
    signer: &dyn Signer,
    certificate: &Certificate,
    chain: &[Certificate],
    options: &SignOptions,
) -> Result<Vec<u8>, CmsError> {
    let econtent = options.attached.then_some(content);
    encapsulate_as(
        content,
        econtent,
        ID_DATA,
        signer,
        certificate,
        Some(chain),
        Some(options.signing_time),
    )
}

/// A detached signature without the signing-time attribute: PAdES (ETSI EN 319
/// 142-1 §5.3) claims the time in the PDF's signature dictionary instead.
pub(crate) fn sign_detached_untimed(
    content: &[u8],
    signer: &dyn Signer,
    certificate: &Certificate,
    chain: &[Certificate],
) -> Result<Vec<u8>, CmsError> {
    encapsulate_as(
        content,
        None,
        ID_DATA,
        signer,
        certificate,
        Some(chain),
        None,
    )
}

/// A SignedData carrying `content` of `content_type` inside (a time-stamp
/// token's TSTInfo). `chain`: the certificates to carry besides the signer's, or
/// none at all, the signer's included.
pub(crate) fn encapsulate(
    content: &[u8],
    content_type: ObjectIdentifier,
    signer: &dyn Signer,
    certificate: &Certificate,
    chain: Option<&[Certificate]>,
    signing_time: i64,
) -> Result<Vec<u8>, CmsError> {
    encapsulate_as(
        content,
        Some(content),
        content_type,
        signer,
        certificate,
        chain,
        Some(signing_time),
    )
}

fn encapsulate_as(
    content: &[u8],
    econtent: Option<&[u8]>,
    content_type: ObjectIdentifier,
    signer: &dyn Signer,
    certificate: &Certificate,
    chain: Option<&[Certificate]>,
    signing_time: Option<i64>,
) -> Result<Vec<u8>, CmsError> {
    let (info, digest) = signer_info(content, content_type, signer, certificate, signing_time)?;
    let mut certificates = SetOfVec::new();
    if let Some(chain) = chain {
        for cert in
            std::iter::once(certificate).chain(chain.iter().filter(|c| c.issuer() != c.subject()))
        {
            let choice = CertificateChoices::Certificate(x509_cert_of(cert)?);
            if !certificates.iter().any(|c| c == &choice) {
                certificates.insert(choice).map_err(encoding)?;
            }
        }
    }
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(AlgorithmIdentifierOwned {
            oid: digest.oid(),
            parameters: None,
        })
        .map_err(encoding)?;
    let econtent = econtent
        .map(|inside| {
            Any::from_der(
                &OctetString::new(inside)
                    .map_err(encoding)?
                    .to_der()
                    .map_err(encoding)?,
            )
            .map_err(encoding)
        })
        .transpose()?;
    let mut infos = SetOfVec::new();
    infos.insert(info).map_err(encoding)?;
    let signed = SignedData {
        version: if content_type == ID_DATA {
            CmsVersion::V1
        } else {
            // RFC 5652 §5.1: another content type makes it version 3.
            CmsVersion::V3
        },
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent,
        },
        certificates: chain.map(|_| CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(infos),
    };
    wrap(&signed)
}

pub(crate) fn wrap(signed: &SignedData) -> Result<Vec<u8>, CmsError> {
    let content = Any::from_der(&signed.to_der().map_err(encoding)?).map_err(encoding)?;
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content,
    }
    .to_der()
    .map_err(encoding)
}

/// The SignedData of a ContentInfo.
pub(crate) fn signed_data_of(cms: &[u8]) -> Result<SignedData, CmsError> {
    let info = ContentInfo::from_der(cms).map_err(|e| CmsError::Malformed {
        detail: e.to_string(),
    })?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CmsError::Malformed {
            detail: format!("content type {} is not signed-data", info.content_type),
        });
    }
    info.content
        .decode_as::<SignedData>()
        .map_err(|e| CmsError::Malformed {
            detail: e.to_string(),
        })
}

/// Adds a signature by another signer to an existing SignedData (co-signing the
/// same document). For a detached signature the document must be given, and must be
/// the one the existing signatures cover. An existing signature that is not in
/// canonical DER is refused rather than re-encoded (which could break it).
pub fn cosign(
    existing: &[u8],
    detached_content: Option<&[u8]>,
    signer: &dyn Signer,
    certificate: &Certificate,
    chain: &[Certificate],
    signing_time: i64,
) -> Result<Vec<u8>, CmsError> {
    let mut signed = signed_data_of(existing)?;
    if wrap(&signed)? != existing {
        return Err(CmsError::Malformed {
            detail: "the existing signature is not canonical DER: adding a signature would re-encode it and could break the others".into(),
        });
    }
    let content = content_of(&signed, detached_content)?;
    let covers = signed.signer_infos.0.iter().any(|info| {
        let digest = DigestAlgorithm::from_oid(&info.digest_alg.oid);
        let signed_digest = single_value(info, MESSAGE_DIGEST)
            .ok()
            .flatten()
            .and_then(|v| v.decode_as::<OctetString>().ok());
        matches!((digest, signed_digest), (Some(d), Some(sd)) if sd.as_bytes() == d.digest(&content))
    });
    if !covers {
        return Err(CmsError::ContentMismatch);
    }
    let content_type = signed.encap_content_info.econtent_type;
    let (info, digest) = signer_info(
        &content,
        content_type,
        signer,
        certificate,
        Some(signing_time),
    )?;
    let mut certificates = signed.certificates.take().map(|c| c.0).unwrap_or_default();
    for cert in
        std::iter::once(certificate).chain(chain.iter().filter(|c| c.issuer() != c.subject()))
    {
        let choice = CertificateChoices::Certificate(x509_cert_of(cert)?);
        if !certificates.iter().any(|c| c == &choice) {
            certificates.insert(choice).map_err(encoding)?;
        }
    }
    signed.certificates = Some(CertificateSet(certificates));
    let alg = AlgorithmIdentifierOwned {
        oid: digest.oid(),
        parameters: None,
    };
    if !signed.digest_algorithms.iter().any(|a| a.oid == alg.oid) {
        signed.digest_algorithms.insert(alg).map_err(encoding)?;
    }
    signed.signer_infos.0.insert(info).map_err(encoding)?;
    wrap(&signed)
}

/// The signed content: the one inside, or the detached one given. Both at once must
/// be the same bytes.
fn content_of(signed: &SignedData, detached: Option<&[u8]>) -> Result<Vec<u8>, CmsError> {
    let inside = match &signed.encap_content_info.econtent {
        Some(econtent) => Some(
            econtent
                .decode_as::<OctetString>()
                .map_err(|e| CmsError::Malformed {
                    detail: e.to_string(),
                })?
                .as_bytes()
                .to_vec(),
        ),
        None => None,
    };
    match (inside, detached) {
        (Some(inside), Some(given)) if inside != given => Err(CmsError::ContentMismatch),
        (Some(inside), _) => Ok(inside),
        (None, Some(given)) => Ok(given.to_vec()),
        (None, None) => Err(CmsError::ContentMissing),
    }
}

/// Whether a signature is detached (the document travels beside it).
pub fn is_detached(cms: &[u8]) -> Result<bool, CmsError> {
    Ok(signed_data_of(cms)?.encap_content_info.econtent.is_none())
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    /// Validate the certificates at this time, chosen by the caller, instead of now.
    pub at: Option<i64>,
    /// The time now.
    pub now: i64,
    /// CRLs for revocation checking.
    pub crls: &'a [Crl],
    /// OCSP responses for revocation checking.
    pub ocsp: &'a [OcspResponseInfo],
    /// Whether revocation information is required.
    pub require_revocation: bool,
}

impl VerifyOptions<'_> {
    /// Verification now, without revocation checking.
    pub fn at(now: i64) -> Self {
        Self {
            at: None,
            now,
            crls: &[],
            ocsp: &[],
            require_revocation: false,
        }
    }
}

/// How far in the future a claimed signing time may be (clock skew).
const SIGNING_TIME_SKEW: i64 = 300;

/// One signer's verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignerReport {
    /// The signer's common name, as the certificate gives it.
    pub name: Option<String>,
    /// The signer's identifier (the UID attribute: `CCCD:…` or `MST:…`).
    pub identifier: Option<String>,
    /// The organisation (an official's agency), if any.
    pub organization: Option<String>,
    /// The signing time the signer claims, RFC 3339.
    pub signing_time: Option<String>,
    /// The content digest algorithm.
    pub digest_algorithm: Option<String>,
    /// The signature time-stamp (CAdES-B-T) that proves when the signature
    /// existed, when there is one that verifies.
    pub time_stamp: Option<crate::tsp::TimeStamp>,
    /// The verdict, with the path used.
    pub report: ValidationReport,
}

/// A SignerInfo as it appears in the input: decoded, and its signed attributes'
/// original bytes (as a SET OF, what the signature covers), since decoding a SET OF
/// sorts it.
struct RawSigner {
    info: SignerInfo,
    signed_attrs: Option<Vec<u8>>,
}

/// The elements of a constructed TLV, each as its own DER.
fn elements(value: &[u8]) -> Result<Vec<Vec<u8>>, CmsError> {
    use der::Reader as _;
    let malformed = |e: der::Error| CmsError::Malformed {
        detail: e.to_string(),
    };
    let mut reader = der::SliceReader::new(value).map_err(malformed)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        let any: der::asn1::AnyRef<'_> = reader.decode().map_err(malformed)?;
        out.push(any.to_der().map_err(malformed)?);
    }
    Ok(out)
}

/// The certificates a signature carries (the signers' and their chains), as
/// they came: what a verifier fetches revocation information for.
pub fn certificates(cms: &[u8]) -> Result<Vec<Certificate>, CmsError> {
    raw_parts(cms).map(|(certificates, _)| certificates)
}

/// The certificates and signers of a SignedData, read from the input bytes.
fn raw_parts(cms: &[u8]) -> Result<(Vec<Certificate>, Vec<RawSigner>), CmsError> {
    let malformed = |e: der::Error| CmsError::Malformed {
        detail: e.to_string(),
    };
    let content_info = der::asn1::AnyRef::from_der(cms).map_err(malformed)?;
    let parts = elements(content_info.value())?;
    let explicit = parts.get(1).ok_or_else(|| CmsError::Malformed {
        detail: "no content".into(),
    })?;
    let signed_data = der::asn1::AnyRef::from_der(explicit).map_err(malformed)?;
    let inner = elements(signed_data.value())?;
    let sequence = inner.first().ok_or_else(|| CmsError::Malformed {
        detail: "empty content".into(),
    })?;
    let fields = elements(
        der::asn1::AnyRef::from_der(sequence)
            .map_err(malformed)?
            .value(),
    )?;
    let mut certificates = Vec::new();
    let mut signers = Vec::new();
    for field in fields.iter().skip(3) {
        let any = der::asn1::AnyRef::from_der(field).map_err(malformed)?;
        let tag = der::Tagged::tag(&any);
        if tag.is_context_specific() && tag.number() == der::TagNumber(0) {
            // [0] IMPLICIT CertificateSet: certificates as they came; others skipped.
            for cert in elements(any.value())? {
                if let Ok(c) = Certificate::from_der(&cert) {
                    certificates.push(c);
                }
            }
        } else if tag == der::Tag::Set {
            for raw in elements(any.value())? {
                let info = SignerInfo::from_der(&raw).map_err(malformed)?;
                let mut signed_attrs = None;
                for part in elements(
                    der::asn1::AnyRef::from_der(&raw)
                        .map_err(malformed)?
                        .value(),
                )? {
                    let first = part.first().copied();
                    if first == Some(0xA0) {
                        // [0] IMPLICIT SET OF Attribute: the signature is over it as a SET.
                        let mut set = part.clone();
                        set[0] = 0x31;
                        signed_attrs = Some(set);
                    }
                }
                signers.push(RawSigner { info, signed_attrs });
            }
        }
    }
    Ok((certificates, signers))
}

/// Verifies every signature of a SignedData: the signature math, the CAdES B-B
/// attributes, and the signer certificate's path (RFC 5280) to one of `anchors`.
///
/// Certificates are judged now (or at `options.at`). Without a time-stamp nothing
/// proves when a signature was made, so a certificate that expired or was revoked
/// after the time the signer claims gives INDETERMINATE (OUT_OF_BOUNDS_NO_POE,
/// REVOKED_NO_POE), as ETSI EN 319 102-1 has it, not TOTAL-PASSED. An error means the
/// input is not a usable CMS signature at all; each signer's failure is in its report.
///
/// A signer's signature time-stamp (CAdES-B-T), when it verifies, proves the
/// signature existed at its time: a certificate that expired or was revoked only
/// after it does not fail the signature; one revoked before it does.
pub fn verify(
    cms: &[u8],
    detached_content: Option<&[u8]>,
    anchors: &[Certificate],
    intermediates: &[Certificate],
    options: &VerifyOptions<'_>,
) -> Result<Vec<SignerReport>, CmsError> {
    verify_as(
        cms,
        detached_content,
        anchors,
        intermediates,
        options,
        Role::Document,
    )
}

/// What a SignedData is: decides what its signer's certificate must allow, and
/// whether time-stamps are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A document's signature.
    Document,
    /// A time-stamp token (RFC 3161).
    TimeStamp,
}

pub(crate) fn verify_as(
    cms: &[u8],
    detached_content: Option<&[u8]>,
    anchors: &[Certificate],
    intermediates: &[Certificate],
    options: &VerifyOptions<'_>,
    role: Role,
) -> Result<Vec<SignerReport>, CmsError> {
    let signed = signed_data_of(cms)?;
    let content = content_of(&signed, detached_content)?;
    let (embedded, signers) = raw_parts(cms)?;
    let pool: Vec<Certificate> = embedded.iter().chain(intermediates).cloned().collect();
    let reports: Vec<SignerReport> = signers
        .iter()
        .map(|raw| verify_signer(raw, &signed, &content, &pool, anchors, options, role))
        .collect();
    if reports.is_empty() {
        return Err(CmsError::Malformed {
            detail: "the SignedData has no signer".into(),
        });
    }
    Ok(reports)
}

fn failed(
    indication: Indication,
    sub: SubIndication,
    message: String,
    time: i64,
    path: Vec<PathElement>,
) -> ValidationReport {
    ValidationReport {
        indication,
        sub_indication: Some(sub),
        message,
        validation_time: x509::format_rfc3339(time),
        path,
        policies: Vec::new(),
    }
}

/// The certificates a SignerInfo's identifier names.
fn find_signers<'c>(info: &SignerInfo, pool: &'c [Certificate]) -> Vec<&'c Certificate> {
    pool.iter()
        .filter(|cert| match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                isn.issuer.to_der().ok().as_deref() == Some(cert.issuer().der())
                    && x509::canonical_integer(isn.serial_number.as_bytes()) == cert.serial
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                cert.extensions.subject_key_id.as_deref() == Some(ski.0.as_bytes())
            }
        })
        .collect()
}

/// The single value of a signed attribute.
fn single_value(info: &SignerInfo, oid: ObjectIdentifier) -> Result<Option<&Any>, String> {
    let mut found = info
        .signed_attrs
        .iter()
        .flat_map(|a| a.iter())
        .filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(format!("the signed attribute {oid} appears twice"));
    }
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(v), None) => Ok(Some(v)),
        _ => Err(format!(
            "the signed attribute {oid} must have exactly one value"
        )),
    }
}

fn signing_time_of(info: &SignerInfo) -> Result<Option<i64>, String> {
    let Some(value) = single_value(info, SIGNING_TIME)? else {
        return Ok(None);
    };
    let secs = if let Ok(t) = value.decode_as::<UtcTime>() {
        t.to_unix_duration().as_secs()
    } else if let Ok(t) = value.decode_as::<GeneralizedTime>() {
        t.to_unix_duration().as_secs()
    } else {
        return Err("the signing-time attribute is not a time".into());
    };
    Ok(Some(i64::try_from(secs).unwrap_or(i64::MAX)))
}

/// What the signing-certificate(-v2) attribute says of `cert`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Binding {
    /// The attribute names this certificate.
    Named,
    /// No attribute (plain CMS): only the unsigned SignerInfo identifier binds.
    Absent,
}

fn check_signing_certificate(
    info: &SignerInfo,
    cert: &Certificate,
) -> Result<Binding, (SubIndication, String)> {
    let format = |why: String| (SubIndication::FormatFailure, why);
    let other = |v: &str| {
        (
            SubIndication::NoSigningCertificateFound,
            format!("the {v} attribute names another certificate than the one that signed"),
        )
    };
    if let Some(v2) = single_value(info, SIGNING_CERTIFICATE_V2).map_err(format)? {
        let ess = v2
            .decode_as::<SigningCertificateV2>()
            .map_err(|e| format(format!("signing-certificate-v2: {e}")))?;
        let first = ess
            .certs
            .first()
            .ok_or_else(|| format("signing-certificate-v2 names no certificate".into()))?;
        let hash_oid = first.hash_algorithm.as_ref().map_or(SHA256, |a| a.oid);
        let digest = DigestAlgorithm::from_oid(&hash_oid)
            .ok_or_else(|| format(format!("signing-certificate-v2 hashes with {hash_oid}")))?;
        if digest.digest(cert.der()) != first.cert_hash.as_bytes() {
            return Err(other("signing-certificate-v2"));
        }
        if let Some(issuer_serial) = &first.issuer_serial {
            let serial_ok =
                x509::canonical_integer(issuer_serial.serial_number.as_bytes()) == cert.serial;
            if !serial_ok {
                return Err(other("signing-certificate-v2"));
            }
        }
        return Ok(Binding::Named);
    }
    if let Some(v1) = single_value(info, SIGNING_CERTIFICATE).map_err(format)? {
        let ess = v1
            .decode_as::<SigningCertificateV1>()
            .map_err(|e| format(format!("signing-certificate: {e}")))?;
        let first = ess
            .certs
            .first()
            .ok_or_else(|| format("signing-certificate names no certificate".into()))?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.der());
        if sha1.as_ref() != first.cert_hash.as_bytes() {
            return Err(other("signing-certificate"));
        }
        return Ok(Binding::Named);
    }
    Ok(Binding::Absent)
}

fn verify_signer(
    raw: &RawSigner,
    signed: &SignedData,
    content: &[u8],
    pool: &[Certificate],
    anchors: &[Certificate],
    options: &VerifyOptions<'_>,
    role: Role,
) -> SignerReport {
    let info = &raw.info;
    let signing_time = signing_time_of(info).ok().flatten();
    let time = options.at.unwrap_or(options.now);
    let digest = DigestAlgorithm::from_oid(&info.digest_alg.oid);
    let mut out = SignerReport {
        name: None,
        identifier: None,
        organization: None,
        signing_time: signing_time.map(x509::format_rfc3339),
        digest_algorithm: digest.map(|d| d.name().to_owned()),
        time_stamp: None,
        report: failed(
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
            String::new(),
            time,
            Vec::new(),
        ),
    };
    let element = |c: &Certificate| {
        let (not_before, not_after) = c.validity_text();
        PathElement {
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            serial: c.serial_hex(),
            not_before,
            not_after,
            sha256: c.sha256_hex(),
            trust_anchor: false,
            revocation: RevocationStatus::NotChecked,
        }
    };
    if let Err((sub, why)) = signed_attributes_check(info, signed, content, digest) {
        let indication = if matches!(
            sub,
            SubIndication::HashFailure | SubIndication::FormatFailure
        ) {
            Indication::TotalFailed
        } else {
            Indication::Indeterminate
        };
        out.report = failed(indication, sub, why, time, Vec::new());
        return out;
    }
    if signing_time.is_some_and(|t| t > options.now + SIGNING_TIME_SKEW) {
        out.report = failed(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "the claimed signing time is in the future".into(),
            time,
            Vec::new(),
        );
        return out;
    }
    let Some(message) = raw.signed_attrs.as_deref() else {
        out.report = failed(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "no signed attributes".into(),
            time,
            Vec::new(),
        );
        return out;
    };
    let alg = signature_algorithm_of(info, digest);
    // The candidates the identifier names; the one whose key made the signature (and
    // that the signing-certificate attribute names, when present) is the signer's.
    let candidates = find_signers(info, pool);
    if candidates.is_empty() {
        out.report.message =
            "the signer's certificate is not in the signature nor among those given".into();
        return out;
    }
    let mut signature_failure = None;
    let mut chosen = None;
    for cert in &candidates {
        match x509::signature::verify(&cert.public_key, &alg, message, info.signature.as_bytes()) {
            Ok(()) => {
                chosen = Some(*cert);
                if matches!(check_signing_certificate(info, cert), Ok(Binding::Named)) {
                    break;
                }
            }
            Err(e) => signature_failure = Some((*cert, e)),
        }
    }
    let Some(cert) = chosen else {
        let Some((cert, e)) = signature_failure else {
            return out;
        };
        out.name = cert.subject().common_name().map(str::to_owned);
        out.identifier = cert.subject().user_id().map(str::to_owned);
        out.report = match e {
            x509::signature::SigError::Invalid => failed(
                Indication::TotalFailed,
                SubIndication::SigCryptoFailure,
                format!("the signature of {} does not verify", cert.summary()),
                time,
                vec![element(cert)],
            ),
            x509::signature::SigError::Unsupported(why) => failed(
                Indication::Indeterminate,
                SubIndication::CryptoConstraintsFailureNoPoe,
                why,
                time,
                vec![element(cert)],
            ),
        };
        return out;
    };
    out.name = cert.subject().common_name().map(str::to_owned);
    out.identifier = cert.subject().user_id().map(str::to_owned);
    out.organization = cert.subject().attribute("2.5.4.10").map(str::to_owned);
    let note = match check_signing_certificate(info, cert) {
        Ok(Binding::Named) => None,
        Ok(Binding::Absent) => {
            // Plain CMS: the identifier is not signed, so it must not be ambiguous.
            let same_key = pool
                .iter()
                .filter(|c| c.public_key_der() == cert.public_key_der())
                .count();
            if candidates.len() > 1 || same_key > 1 {
                out.report = failed(
                    Indication::Indeterminate,
                    SubIndication::NoSigningCertificateFound,
                    "plain CMS without a signing-certificate attribute, and several certificates could be the signer's".into(),
                    time,
                    vec![element(cert)],
                );
                return out;
            }
            if role == Role::TimeStamp {
                out.report = failed(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    "a time-stamp token must name its authority's certificate in a signing-certificate attribute".into(),
                    time,
                    vec![element(cert)],
                );
                return out;
            }
            Some("plain CMS, not CAdES: no signing-certificate-v2 attribute binds the certificate")
        }
        Err((sub, why)) => {
            let indication = if sub == SubIndication::FormatFailure {
                Indication::TotalFailed
            } else {
                Indication::Indeterminate
            };
            out.report = failed(indication, sub, why, time, vec![element(cert)]);
            return out;
        }
    };
    // A signature time-stamp proves when the signature existed; one that does
    // not verify proves nothing (and is said so).
    let mut stamp_note = None;
    if role == Role::Document {
        for token in crate::tsp::signature_time_stamps(info) {
            match crate::tsp::verify_token(
                &token,
                info.signature.as_bytes(),
                anchors,
                pool,
                options,
            ) {
                Ok(stamp) => {
                    out.time_stamp = Some(stamp);
                    break;
                }
                Err(why) => stamp_note = Some(format!("its time-stamp proves nothing: {why}")),
            }
        }
    }
    if let (Some(stamp), Some(claimed)) = (&out.time_stamp, signing_time)
        && claimed > stamp.time + SIGNING_TIME_SKEW
    {
        out.report = failed(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!(
                "the signer claims to have signed at {}, after the signature's time-stamp ({})",
                x509::format_rfc3339(claimed),
                x509::format_rfc3339(stamp.time)
            ),
            time,
            vec![element(cert)],
        );
        return out;
    }
    // The certificate's path, judged now (or when the caller says).
    let mut params = ValidationParams::new(time);
    params.purpose = Purpose::Any;
    params.crls = options.crls;
    params.ocsp = options.ocsp;
    params.require_revocation = options.require_revocation;
    params.proof_of_existence = out.time_stamp.as_ref().map(|s| s.time);
    let mut report = x509::validate(cert, pool, anchors, &params);
    let usable = match role {
        Role::Document => usable_for_signing(cert),
        Role::TimeStamp => cert.check_time_stamping_authority(),
    };
    if report.passed()
        && let Err(why) = usable
    {
        report = ValidationReport {
            indication: Indication::Indeterminate,
            sub_indication: Some(SubIndication::ChainConstraintsFailure),
            message: why,
            ..report
        };
    }
    // Expired or revoked now, but fine at the time the signer claims: without a
    // time-stamp nothing proves the signature is older, so INDETERMINATE.
    let after_the_fact = matches!(
        report.sub_indication,
        Some(
            SubIndication::OutOfBoundsNoPoe
                | SubIndication::RevokedNoPoe
                | SubIndication::RevokedCaNoPoe
        )
    );
    if after_the_fact
        && options.at.is_none()
        && let Some(claimed) = signing_time
    {
        let mut then = params.clone();
        then.time = claimed;
        if x509::validate(cert, pool, anchors, &then).passed() {
            report.message = format!(
                "{}; it was valid at the signing time the signer claims ({}), which nothing proves without a time-stamp",
                report.message,
                x509::format_rfc3339(claimed)
            );
        }
    }
    if report.passed() {
        let when = match (&out.time_stamp, signing_time) {
            (Some(stamp), _) => format!(
                ", time-stamped at {} by {}",
                x509::format_rfc3339(stamp.time),
                stamp.authority
            ),
            (None, Some(t)) => format!(
                " at {} (time claimed by the signer)",
                x509::format_rfc3339(t)
            ),
            (None, None) => String::new(),
        };
        report.message = format!(
            "signed by {}{when}; certificate valid{}",
            cert.summary(),
            if params.checks_revocation() {
                " and not revoked"
            } else {
                ", revocation not checked"
            }
        );
        if let Some(note) = note {
            report.message = format!("{}; {note}", report.message);
        }
    }
    if let Some(note) = stamp_note
        && out.time_stamp.is_none()
    {
        report.message = format!("{}; {note}", report.message);
    }
    out.report = report;
    out
}

/// The signature algorithm of a SignerInfo. OpenSSL's CMS names RSA PKCS#1 v1.5 by
/// the key algorithm (rsaEncryption); the hash is then the SignerInfo's digest.
fn signature_algorithm_of(
    info: &SignerInfo,
    digest: Option<DigestAlgorithm>,
) -> x509::signature::SigAlg {
    use x509::signature::{Hash, SigAlg};
    if info.signature_algorithm.oid == RSA_ENCRYPTION {
        return match digest {
            Some(DigestAlgorithm::Sha256) => SigAlg::RsaPkcs1(Hash::Sha256),
            Some(DigestAlgorithm::Sha384) => SigAlg::RsaPkcs1(Hash::Sha384),
            Some(DigestAlgorithm::Sha512) => SigAlg::RsaPkcs1(Hash::Sha512),
            None => SigAlg::Unsupported("unsupported digest".into()),
        };
    }
    match info.signature_algorithm.to_der() {
        Ok(der) => SigAlg::from_der(&der),
        Err(_) => SigAlg::Unsupported("malformed signature algorithm".into()),
    }
}

/// A signing certificate must allow signing: keyUsage digitalSignature or
/// nonRepudiation, and an extended key usage (if any) that fits documents.
fn usable_for_signing(cert: &Certificate) -> Result<(), String> {
    cert.check_signing_key_usage()?;
    if !(cert.allows_purpose(Purpose::DocumentSigning)
        || cert.allows_purpose(Purpose::EmailProtection))
    {
        return Err(format!(
            "{} is not for signing documents: its extended key usage lacks documentSigning and emailProtection",
            cert.summary()
        ));
    }
    Ok(())
}

/// content-type and message-digest (RFC 5652 §11).
fn signed_attributes_check(
    info: &SignerInfo,
    signed: &SignedData,
    content: &[u8],
    digest: Option<DigestAlgorithm>,
) -> Result<(), (SubIndication, String)> {
    let format = |why: String| (SubIndication::FormatFailure, why);
    let Some(digest) = digest else {
        return Err((
            SubIndication::CryptoConstraintsFailureNoPoe,
            format!(
                "digest algorithm {} is not accepted (SHA-256, SHA-384, SHA-512 are)",
                info.digest_alg.oid
            ),
        ));
    };
    if info.signed_attrs.is_none() {
        return Err(format("no signed attributes: CAdES requires them".into()));
    }
    let content_type = single_value(info, CONTENT_TYPE)
        .map_err(format)?
        .ok_or_else(|| format("no content-type attribute".into()))?
        .decode_as::<ObjectIdentifier>()
        .map_err(|e| format(format!("content-type: {e}")))?;
    if content_type != signed.encap_content_info.econtent_type {
        return Err(format(
            "the content-type attribute does not match the content".into(),
        ));
    }
    let message_digest = single_value(info, MESSAGE_DIGEST)
        .map_err(format)?
        .ok_or_else(|| format("no message-digest attribute".into()))?
        .decode_as::<OctetString>()
        .map_err(|e| format(format!("message-digest: {e}")))?;
    if message_digest.as_bytes() != digest.digest(content) {
        return Err((
            SubIndication::HashFailure,
            "the document's digest does not match the signed message-digest: the document was changed".into(),
        ));
    }
    signing_time_of(info).map_err(format)?;
    Ok(())
}
