//! OCSP (RFC 6960): the ASN.1 types, declared with `der`'s derive macros on the same
//! `der` 0.8 line as the rest of the crate (x509-ocsp lives on the older 0.7 line),
//! and the checks a relying party makes of a response.

use der::asn1::{BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
use der::{Choice, Decode, Encode, Enumerated, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;
use x509_cert::name::Name as X509Name;

use super::cert::Certificate;
use super::signature::SigAlg;
use crate::error::CertificateError;

/// id-pkix-ocsp-basic.
pub const BASIC_RESPONSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nonce.
pub const NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// id-sha1, as CertIDs use (a name hash, not a signature).
pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
/// id-sha256.
pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// `OCSPRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct OcspRequest {
    pub tbs_request: TbsRequest,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub optional_signature: Option<der::Any>,
}

/// `TBSRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct TbsRequest {
    #[asn1(
        context_specific = "0",
        tag_mode = "EXPLICIT",
        default = "Default::default"
    )]
    pub version: u8,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub requestor_name: Option<der::Any>,
    pub request_list: Vec<Request>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub request_extensions: Option<Extensions>,
}

/// `Request`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct Request {
    pub req_cert: CertId,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub single_request_extensions: Option<Extensions>,
}

/// `CertID`: which certificate, by its issuer's name and key hashes and its serial.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct CertId {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub issuer_name_hash: OctetString,
    pub issuer_key_hash: OctetString,
    pub serial_number: Int,
}

/// `OCSPResponseStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enumerated)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum OcspResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

/// `OCSPResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct OcspResponse {
    pub response_status: OcspResponseStatus,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub response_bytes: Option<ResponseBytes>,
}

/// `ResponseBytes`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct ResponseBytes {
    pub response_type: ObjectIdentifier,
    pub response: OctetString,
}

/// `BasicOCSPResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct BasicOcspResponse {
    pub tbs_response_data: ResponseData,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<der::Any>>,
}

/// `ResponseData`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct ResponseData {
    #[asn1(
        context_specific = "0",
        tag_mode = "EXPLICIT",
        default = "Default::default"
    )]
    pub version: u8,
    pub responder_id: ResponderId,
    pub produced_at: GeneralizedTime,
    pub responses: Vec<SingleResponse>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub response_extensions: Option<Extensions>,
}

/// `ResponderID`.
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(missing_docs)]
pub enum ResponderId {
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(X509Name),
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

/// `SingleResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct SingleResponse {
    pub cert_id: CertId,
    pub cert_status: CertStatus,
    pub this_update: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub next_update: Option<GeneralizedTime>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub single_extensions: Option<Extensions>,
}

/// `CertStatus`.
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(missing_docs)]
pub enum CertStatus {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

/// `RevokedInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct RevokedInfo {
    pub revocation_time: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub revocation_reason: Option<CrlReason>,
}

/// `CRLReason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enumerated)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum CrlReason {
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AaCompromise = 10,
}

impl CrlReason {
    /// The reason for an RFC 5280 code.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::KeyCompromise,
            2 => Self::CaCompromise,
            3 => Self::AffiliationChanged,
            4 => Self::Superseded,
            5 => Self::CessationOfOperation,
            6 => Self::CertificateHold,
            8 => Self::RemoveFromCrl,
            9 => Self::PrivilegeWithdrawn,
            10 => Self::AaCompromise,
            _ => Self::Unspecified,
        }
    }
}

/// Hashes for a CertID.
pub(crate) fn cert_id_hash(algorithm: &ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    let alg = match *algorithm {
        SHA1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        SHA256 => &ring::digest::SHA256,
        _ => return None,
    };
    Some(ring::digest::digest(alg, data).as_ref().to_vec())
}

impl CertId {
    /// Whether this CertID names a certificate with `serial` (DER INTEGER content)
    /// issued by `issuer`.
    pub fn matches(&self, issuer: &Certificate, serial: &[u8]) -> bool {
        let alg = &self.hash_algorithm.oid;
        let name_hash = cert_id_hash(alg, issuer.subject().der());
        let key_hash = cert_id_hash(alg, &issuer.public_key.bytes);
        name_hash.as_deref() == Some(self.issuer_name_hash.as_bytes())
            && key_hash.as_deref() == Some(self.issuer_key_hash.as_bytes())
            && super::canonical_integer(self.serial_number.as_bytes())
                == super::canonical_integer(serial)
    }

    /// The CertID (SHA-1, as OpenSSL and most clients send) of `cert` issued by
    /// `issuer`.
    pub fn for_certificate(
        cert: &Certificate,
        issuer: &Certificate,
    ) -> Result<Self, CertificateError> {
        let encoding = |e: der::Error| CertificateError::Malformed {
            what: "OCSP CertID",
            detail: e.to_string(),
        };
        Ok(Self {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: SHA1,
                parameters: Some(der::Any::from(Null)),
            },
            issuer_name_hash: OctetString::new(
                cert_id_hash(&SHA1, issuer.subject().der()).unwrap_or_default(),
            )
            .map_err(encoding)?,
            issuer_key_hash: OctetString::new(
                cert_id_hash(&SHA1, &issuer.public_key.bytes).unwrap_or_default(),
            )
            .map_err(encoding)?,
            serial_number: Int::new(&cert.serial).map_err(encoding)?,
        })
    }
}

/// A DER `OCSPRequest` for `cert` (issued by `issuer`), with a nonce when one
/// is given (RFC 8954: 1 to 32 bytes; it then comes back in the response).
pub fn request_der(
    cert: &Certificate,
    issuer: &Certificate,
    nonce: Option<&[u8]>,
) -> Result<Vec<u8>, CertificateError> {
    let encoding = |e: der::Error| CertificateError::Malformed {
        what: "OCSP request",
        detail: e.to_string(),
    };
    let request_extensions = match nonce {
        Some(nonce) if (1..=32).contains(&nonce.len()) => Some(vec![x509_cert::ext::Extension {
            extn_id: NONCE,
            critical: false,
            extn_value: OctetString::new(
                OctetString::new(nonce)
                    .map_err(encoding)?
                    .to_der()
                    .map_err(encoding)?,
            )
            .map_err(encoding)?,
        }]),
        Some(_) => {
            return Err(CertificateError::Malformed {
                what: "OCSP nonce",
                detail: "a nonce has 1 to 32 bytes".into(),
            });
        }
        None => None,
    };
    OcspRequest {
        tbs_request: TbsRequest {
            version: 0,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: CertId::for_certificate(cert, issuer)?,
                single_request_extensions: None,
            }],
            request_extensions,
        },
        optional_signature: None,
    }
    .to_der()
    .map_err(encoding)
}

/// An OCSP response, read and ready to be checked by path validation.
#[derive(Debug, Clone)]
pub struct OcspResponseInfo {
    der: Vec<u8>,
    pub(crate) basic: BasicOcspResponse,
    pub(crate) tbs: Vec<u8>,
    pub(crate) signature_algorithm: SigAlg,
    pub(crate) certs: Vec<Certificate>,
}

impl OcspResponseInfo {
    /// Reads a DER `OCSPResponse`; it must be successful and basic.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let malformed = |detail: String| CertificateError::Malformed {
            what: "OCSP response",
            detail,
        };
        let response = OcspResponse::from_der(der).map_err(|e| malformed(e.to_string()))?;
        if response.response_status != OcspResponseStatus::Successful {
            return Err(malformed(format!(
                "the responder answered {:?}, not a status",
                response.response_status
            )));
        }
        let bytes = response
            .response_bytes
            .ok_or_else(|| malformed("no responseBytes".into()))?;
        if bytes.response_type != BASIC_RESPONSE {
            return Err(malformed(format!(
                "response type {} is not id-pkix-ocsp-basic",
                bytes.response_type
            )));
        }
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
            .map_err(|e| malformed(e.to_string()))?;
        let tbs = basic
            .tbs_response_data
            .to_der()
            .map_err(|e| malformed(e.to_string()))?;
        let algorithm_der = basic
            .signature_algorithm
            .to_der()
            .map_err(|e| malformed(e.to_string()))?;
        let signature_algorithm = SigAlg::from_der(&algorithm_der);
        let mut certs = Vec::new();
        for any in basic.certs.iter().flatten() {
            let cert_der = any.to_der().map_err(|e| malformed(e.to_string()))?;
            certs.push(Certificate::from_der(&cert_der)?);
        }
        Ok(Self {
            der: der.to_vec(),
            basic,
            tbs,
            signature_algorithm,
            certs,
        })
    }

    /// Reads every OCSP response of `input` (DER, or PEM blocks labelled `OCSP RESPONSE`).
    pub fn parse_all(input: &[u8]) -> Result<Vec<Self>, CertificateError> {
        super::input_blocks(input, "OCSP RESPONSE", "OCSP response")?
            .iter()
            .map(|d| Self::from_der(d))
            .collect()
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The nonce the response carries, if any.
    pub fn nonce(&self) -> Option<Vec<u8>> {
        self.basic
            .tbs_response_data
            .response_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == NONCE)
            .map(|e| {
                OctetString::from_der(e.extn_value.as_bytes()).map_or_else(
                    |_| e.extn_value.as_bytes().to_vec(),
                    |o| o.as_bytes().to_vec(),
                )
            })
    }
}

/// Seconds since the Unix epoch of a GeneralizedTime.
pub(crate) fn unix(t: &GeneralizedTime) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}
