//! Time-stamps (RFC 3161, with RFC 5816's ESSCertIDv2): the ASN.1 types, declared
//! with `der`'s derive macros on the crate's `der` 0.8 line (x509-tsp lives on the
//! older 0.7 line); requests and the checks a client makes of an answer; tokens,
//! made for a time-stamping authority and verified for a relying party; and the
//! signature time-stamps of CAdES-B-T (ETSI EN 319 122-1 §5.3).
//!
//! Nothing here talks to a network: a client builds a request with
//! [`request`], sends it however it likes, and reads the answer with
//! [`token_from_response`]; [`add_signature_time_stamps`] then puts the token
//! in the signature.

use ::cms::content_info::ContentInfo;
use ::cms::signed_data::{SignerInfo, SignerInfos};
use der::asn1::{Any, BitString, GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extensions;

use crate::cms::{DigestAlgorithm, Role, VerifyOptions};
use crate::error::TimeStampError;
use crate::keys::Signer;
use crate::x509::{self, Certificate};

/// id-ct-TSTInfo: the content type of a time-stamp token.
pub const ID_CT_TSTINFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-aa-signatureTimeStampToken: the unsigned attribute of CAdES-B-T.
pub const SIGNATURE_TIME_STAMP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// `TimeStampReq`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct TimeStampReq {
    pub version: u8,
    pub message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// `MessageImprint`: the hash of what is time-stamped.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct MessageImprint {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub hashed_message: OctetString,
}

/// `TimeStampResp`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct TimeStampResp {
    pub status: PkiStatusInfo,
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<ContentInfo>,
}

/// `PKIStatusInfo` (RFC 4210).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct PkiStatusInfo {
    pub status: u32,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// `TSTInfo`: what the authority signs. `gen_time` is kept as it came: RFC 3161
/// allows fractions of a second, which `der`'s GeneralizedTime does not read.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct TstInfo {
    pub version: u8,
    pub policy: ObjectIdentifier,
    pub message_imprint: MessageImprint,
    pub serial_number: Int,
    pub gen_time: Any,
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// `Accuracy`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct Accuracy {
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

/// The PKIStatus values (RFC 4210 §5.2.3).
pub mod status {
    /// The token is there.
    pub const GRANTED: u32 = 0;
    /// The token is there, changed from what was asked.
    pub const GRANTED_WITH_MODS: u32 = 1;
    /// No token: see the failure.
    pub const REJECTION: u32 = 2;

    /// The status's name.
    pub fn name(status: u32) -> &'static str {
        match status {
            0 => "granted",
            1 => "grantedWithMods",
            2 => "rejection",
            3 => "waiting",
            4 => "revocationWarning",
            5 => "revocationNotification",
            _ => "an unknown status",
        }
    }
}

/// The PKIFailureInfo bits RFC 3161 §2.4.2 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Unrecognized or unsupported algorithm.
    BadAlg = 0,
    /// Transaction not permitted or supported.
    BadRequest = 2,
    /// The data submitted has the wrong format.
    BadDataFormat = 5,
    /// The TSA's time source is not available.
    TimeNotAvailable = 14,
    /// The requested TSA policy is not supported.
    UnacceptedPolicy = 15,
    /// The requested extension is not supported.
    UnacceptedExtension = 16,
    /// The request cannot be handled due to system failure.
    SystemFailure = 25,
}

impl Failure {
    const ALL: [Failure; 7] = [
        Self::BadAlg,
        Self::BadRequest,
        Self::BadDataFormat,
        Self::TimeNotAvailable,
        Self::UnacceptedPolicy,
        Self::UnacceptedExtension,
        Self::SystemFailure,
    ];

    /// The name RFC 3161 gives it.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadRequest => "badRequest",
            Self::BadDataFormat => "badDataFormat",
            Self::TimeNotAvailable => "timeNotAvailable",
            Self::UnacceptedPolicy => "unacceptedPolicy",
            Self::UnacceptedExtension => "unacceptedExtension",
            Self::SystemFailure => "systemFailure",
        }
    }

    /// As a PKIFailureInfo BIT STRING: this bit alone, trailing zero bits
    /// removed (DER for a named bit list).
    pub fn bit_string(self) -> Result<BitString, der::Error> {
        let bit = self as usize;
        let mut bytes = vec![0u8; bit / 8 + 1];
        bytes[bit / 8] = 0x80 >> (bit % 8);
        BitString::new(7 - (bit % 8) as u8, bytes)
    }

    fn from_bit_string(bits: &BitString) -> Option<Self> {
        let bytes = bits.raw_bytes();
        Self::ALL.into_iter().find(|f| {
            let bit = *f as usize;
            bytes
                .get(bit / 8)
                .is_some_and(|b| b & (0x80 >> (bit % 8)) != 0)
        })
    }
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimeStampError {
    move |e| TimeStampError::Malformed {
        what,
        detail: e.to_string(),
    }
}

/// A positive INTEGER from big-endian bytes (a leading zero added where the top
/// bit is set).
fn positive_int(bytes: &[u8]) -> Result<Int, der::Error> {
    let trimmed: &[u8] = {
        let start = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len().saturating_sub(1));
        &bytes[start..]
    };
    let mut value = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        value.push(0);
    }
    value.extend_from_slice(trimmed);
    Int::new(&value)
}

/// A request for a time-stamp over `data` (hashed here with `digest`), with a
/// nonce (random, at most 16 bytes, from the caller) and, if given, the policy
/// the token must be made under. The authority is asked for its certificate, so
/// the token can be verified alone.
pub fn request(
    digest: DigestAlgorithm,
    data: &[u8],
    nonce: &[u8],
    policy: Option<&str>,
) -> Result<Vec<u8>, TimeStampError> {
    let encoding = |e: der::Error| TimeStampError::Signing {
        detail: e.to_string(),
    };
    let req_policy = policy
        .map(|p| {
            ObjectIdentifier::new(p).map_err(|e| TimeStampError::Malformed {
                what: "request",
                detail: format!("policy {p:?} is not an object identifier: {e}"),
            })
        })
        .transpose()?;
    TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: digest.oid(),
                parameters: None,
            },
            hashed_message: OctetString::new(digest.digest(data)).map_err(encoding)?,
        },
        req_policy,
        nonce: Some(positive_int(nonce).map_err(encoding)?),
        cert_req: true,
        extensions: None,
    }
    .to_der()
    .map_err(encoding)
}

/// The token of an authority's answer to `request` (both DER), checked to answer
/// it: granted, the same message imprint and nonce, and the policy asked for if
/// one was. The token's signature is checked when the signature it stamps is
/// verified, against the verifier's trust anchors.
pub fn token_from_response(response: &[u8], request: &[u8]) -> Result<Vec<u8>, TimeStampError> {
    let asked = TimeStampReq::from_der(request).map_err(malformed("request"))?;
    let answer = TimeStampResp::from_der(response).map_err(malformed("response"))?;
    let granted = matches!(
        answer.status.status,
        status::GRANTED | status::GRANTED_WITH_MODS
    );
    let token = match (granted, answer.time_stamp_token) {
        (true, Some(token)) => token,
        (true, None) => {
            return Err(TimeStampError::Malformed {
                what: "response",
                detail: "granted, but without a token".into(),
            });
        }
        (false, _) => {
            return Err(TimeStampError::Refused {
                status: status::name(answer.status.status).to_owned(),
                text: answer.status.status_string.map(|t| t.join("; ")),
                failure: answer
                    .status
                    .fail_info
                    .as_ref()
                    .and_then(Failure::from_bit_string)
                    .map(|f| f.name().to_owned()),
            });
        }
    };
    let token = token.to_der().map_err(malformed("token"))?;
    let info = tst_info(&token)?;
    if info.message_imprint != asked.message_imprint {
        return Err(TimeStampError::Mismatch {
            what: "message imprint",
        });
    }
    if info.nonce != asked.nonce {
        return Err(TimeStampError::Mismatch { what: "nonce" });
    }
    if asked.req_policy.is_some_and(|p| p != info.policy) {
        return Err(TimeStampError::Mismatch { what: "policy" });
    }
    Ok(token)
}

/// The TSTInfo a token (a ContentInfo, DER) carries; nothing is verified.
pub fn tst_info(token: &[u8]) -> Result<TstInfo, TimeStampError> {
    let signed = crate::cms::signed_data_of(token).map_err(|e| TimeStampError::Malformed {
        what: "token",
        detail: e.to_string(),
    })?;
    let encap = &signed.encap_content_info;
    if encap.econtent_type != ID_CT_TSTINFO {
        return Err(TimeStampError::Malformed {
            what: "token",
            detail: format!("content type {} is not id-ct-TSTInfo", encap.econtent_type),
        });
    }
    let content = encap
        .econtent
        .as_ref()
        .ok_or_else(|| TimeStampError::Malformed {
            what: "token",
            detail: "no TSTInfo inside".into(),
        })?
        .decode_as::<OctetString>()
        .map_err(malformed("token"))?;
    TstInfo::from_der(content.as_bytes()).map_err(malformed("TSTInfo"))
}

/// A GeneralizedTime as RFC 3161 allows it (`YYYYMMDDhhmmss[.f…]Z`), in whole
/// seconds since the Unix epoch (the fraction is dropped: it only makes the
/// time later).
pub fn generalized_time(any: &Any) -> Result<i64, TimeStampError> {
    let bad = |detail: &str| TimeStampError::Malformed {
        what: "TSTInfo",
        detail: format!("genTime {detail}"),
    };
    if any.tag() != der::Tag::GeneralizedTime {
        return Err(bad("is not a GeneralizedTime"));
    }
    let text = std::str::from_utf8(any.value()).map_err(|_| bad("is not text"))?;
    let body = text
        .strip_suffix('Z')
        .ok_or_else(|| bad("is not in UTC (no Z)"))?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let fraction_ok = fraction.is_empty()
        || (fraction.bytes().all(|b| b.is_ascii_digit()) && !fraction.ends_with('0'));
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction_ok {
        return Err(bad("is not YYYYMMDDhhmmss[.fff]Z"));
    }
    let field = |range: std::ops::Range<usize>| whole[range].parse::<u16>().unwrap_or(u16::MAX);
    let time = GeneralizedTime::from_date_time(
        der::DateTime::new(
            field(0..4),
            field(4..6) as u8,
            field(6..8) as u8,
            field(8..10) as u8,
            field(10..12) as u8,
            field(12..14) as u8,
        )
        .map_err(|_| bad("is not a valid date and time"))?,
    );
    i64::try_from(time.to_unix_duration().as_secs()).map_err(|_| bad("is out of range"))
}

/// A time-stamp that verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimeStamp {
    /// When the authority says the data existed (genTime), Unix seconds.
    pub time: i64,
    /// The accuracy the authority claims, in milliseconds.
    pub accuracy_ms: Option<u64>,
    /// The authority's policy.
    pub policy: String,
    /// The token's serial number, in hexadecimal.
    pub serial: String,
    /// The authority, as its certificate names it.
    pub authority: String,
}

/// Verifies a time-stamp token over `stamped` (the data whose hash it carries):
/// the authority's CMS signature, its certificate (a critical extended key usage
/// of timeStamping alone, named by the ESS signing-certificate attribute) and that
/// certificate's path to one of `anchors` at `options`' time; then the message
/// imprint. Why it does not verify is the error's text.
pub fn verify_token(
    token: &[u8],
    stamped: &[u8],
    anchors: &[Certificate],
    intermediates: &[Certificate],
    options: &VerifyOptions<'_>,
) -> Result<TimeStamp, String> {
    let info = tst_info(token).map_err(|e| e.to_string())?;
    let reports = crate::cms::verify_as(
        token,
        None,
        anchors,
        intermediates,
        options,
        Role::TimeStamp,
    )
    .map_err(|e| e.to_string())?;
    let [signer] = reports.as_slice() else {
        return Err(format!(
            "a time-stamp token has one signer, this one {}",
            reports.len()
        ));
    };
    if !signer.report.passed() {
        return Err(format!(
            "its authority's signature does not verify: {}",
            signer.report
        ));
    }
    let imprint = &info.message_imprint;
    let digest = DigestAlgorithm::from_oid(&imprint.hash_algorithm.oid).ok_or_else(|| {
        format!(
            "it hashes with {}, not SHA-256, SHA-384 or SHA-512",
            imprint.hash_algorithm.oid
        )
    })?;
    if digest.digest(stamped) != imprint.hashed_message.as_bytes() {
        return Err("it stamps other data (its message imprint differs)".into());
    }
    let time = generalized_time(&info.gen_time).map_err(|e| e.to_string())?;
    let accuracy_ms = info.accuracy.as_ref().map(|a| {
        u64::from(a.seconds.unwrap_or(0)) * 1_000
            + u64::from(a.millis.unwrap_or(0))
            + u64::from(a.micros.unwrap_or(0)).div_ceil(1_000)
    });
    Ok(TimeStamp {
        time,
        accuracy_ms,
        policy: info.policy.to_string(),
        serial: x509::hex(info.serial_number.as_bytes()),
        authority: signer.name.clone().unwrap_or_default(),
    })
}

/// How a token is made.
#[derive(Debug, Clone)]
pub struct TokenOptions<'a> {
    /// The authority's policy.
    pub policy: ObjectIdentifier,
    /// The serial number (unique to the authority, at most 20 bytes).
    pub serial: &'a [u8],
    /// The time, Unix seconds.
    pub time: i64,
    /// The accuracy claimed, seconds.
    pub accuracy_seconds: u32,
    /// Certificates to carry besides the authority's (when the request asks
    /// for certificates).
    pub chain: &'a [Certificate],
}

/// Makes the token answering `request` (a TSTInfo signed by the authority's
/// `signer`, whose certificate is `certificate`), for an authority: the request
/// has been read and accepted by the caller.
pub fn make_token(
    request: &TimeStampReq,
    signer: &dyn Signer,
    certificate: &Certificate,
    options: &TokenOptions<'_>,
) -> Result<Vec<u8>, TimeStampError> {
    let encoding = |e: der::Error| TimeStampError::Signing {
        detail: e.to_string(),
    };
    let time = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
        u64::try_from(options.time).map_err(|_| TimeStampError::Signing {
            detail: "the time is before 1970".into(),
        })?,
    ))
    .map_err(encoding)?;
    let info = TstInfo {
        version: 1,
        policy: options.policy,
        message_imprint: request.message_imprint.clone(),
        serial_number: positive_int(options.serial).map_err(encoding)?,
        gen_time: Any::encode_from(&time).map_err(encoding)?,
        accuracy: Some(Accuracy {
            seconds: Some(options.accuracy_seconds),
            ..Accuracy::default()
        }),
        ordering: false,
        nonce: request.nonce.clone(),
        tsa: None,
        extensions: None,
    }
    .to_der()
    .map_err(encoding)?;
    let chain = request.cert_req.then_some(options.chain);
    crate::cms::encapsulate(
        &info,
        ID_CT_TSTINFO,
        signer,
        certificate,
        chain,
        options.time,
    )
    .map_err(|e| TimeStampError::Signing {
        detail: e.to_string(),
    })
}

/// A TimeStampResp granting `token` (a ContentInfo, DER).
pub fn granted(token: &[u8]) -> Result<Vec<u8>, TimeStampError> {
    let encoding = |e: der::Error| TimeStampError::Signing {
        detail: e.to_string(),
    };
    TimeStampResp {
        status: PkiStatusInfo {
            status: status::GRANTED,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: Some(ContentInfo::from_der(token).map_err(malformed("token"))?),
    }
    .to_der()
    .map_err(encoding)
}

/// A TimeStampResp rejecting a request (RFC 3161 §2.4.2): the failure, and a
/// text for people.
pub fn rejected(failure: Failure, text: &str) -> Result<Vec<u8>, TimeStampError> {
    let encoding = |e: der::Error| TimeStampError::Signing {
        detail: e.to_string(),
    };
    TimeStampResp {
        status: PkiStatusInfo {
            status: status::REJECTION,
            status_string: Some(vec![text.to_owned()]),
            fail_info: Some(failure.bit_string().map_err(encoding)?),
        },
        time_stamp_token: None,
    }
    .to_der()
    .map_err(encoding)
}

/// The signature values of a SignedData's signers that carry no signature
/// time-stamp yet, in order: what each one's time-stamp must cover (ETSI EN
/// 319 122-1 §5.3).
pub fn unstamped_signature_values(signature: &[u8]) -> Result<Vec<Vec<u8>>, TimeStampError> {
    let signed = crate::cms::signed_data_of(signature).map_err(|e| TimeStampError::Malformed {
        what: "signature",
        detail: e.to_string(),
    })?;
    Ok(signed
        .signer_infos
        .0
        .iter()
        .filter(|info| signature_time_stamps(info).is_empty())
        .map(|info| info.signature.as_bytes().to_vec())
        .collect())
}

/// Adds signature time-stamp tokens (CAdES-B-T) to a SignedData: each token goes
/// to the signer whose signature value it stamps, as an unsigned attribute. The
/// signatures are not touched; a signature not in canonical DER is refused
/// rather than re-encoded.
pub fn add_signature_time_stamps(
    signature: &[u8],
    tokens: &[Vec<u8>],
) -> Result<Vec<u8>, TimeStampError> {
    let failed = |detail: String| TimeStampError::Malformed {
        what: "signature",
        detail,
    };
    let mut signed = crate::cms::signed_data_of(signature).map_err(|e| failed(e.to_string()))?;
    if crate::cms::wrap(&signed).map_err(|e| failed(e.to_string()))? != signature {
        return Err(failed(
            "not canonical DER: adding a time-stamp would re-encode it and could break it".into(),
        ));
    }
    let mut infos: Vec<SignerInfo> = signed.signer_infos.0.into_vec();
    for token in tokens {
        let imprint = tst_info(token)?.message_imprint;
        let digest = DigestAlgorithm::from_oid(&imprint.hash_algorithm.oid).ok_or(
            TimeStampError::Mismatch {
                what: "message imprint",
            },
        )?;
        let info = infos
            .iter_mut()
            .find(|i| digest.digest(i.signature.as_bytes()) == imprint.hashed_message.as_bytes())
            .ok_or(TimeStampError::Mismatch {
                what: "message imprint",
            })?;
        let value = Any::from_der(token).map_err(malformed("token"))?;
        let mut attrs = info.unsigned_attrs.take().unwrap_or_default();
        let mut values = der::asn1::SetOfVec::new();
        values.insert(value).map_err(malformed("token"))?;
        attrs
            .insert(Attribute {
                oid: SIGNATURE_TIME_STAMP,
                values,
            })
            .map_err(malformed("token"))?;
        info.unsigned_attrs = Some(attrs);
    }
    let mut set = der::asn1::SetOfVec::new();
    for info in infos {
        set.insert(info).map_err(malformed("signature"))?;
    }
    signed.signer_infos = SignerInfos(set);
    crate::cms::wrap(&signed).map_err(|e| failed(e.to_string()))
}

/// The certificates the signature time-stamps of a SignedData carry (their
/// authorities' and those above): what a verifier fetches revocation
/// information for, besides the signers'.
pub fn time_stamp_certificates(signature: &[u8]) -> Result<Vec<Certificate>, TimeStampError> {
    let signed = crate::cms::signed_data_of(signature).map_err(|e| TimeStampError::Malformed {
        what: "signature",
        detail: e.to_string(),
    })?;
    let mut found: Vec<Certificate> = Vec::new();
    for token in signed.signer_infos.0.iter().flat_map(signature_time_stamps) {
        for cert in crate::cms::certificates(&token).unwrap_or_default() {
            if !found.iter().any(|c| c.der() == cert.der()) {
                found.push(cert);
            }
        }
    }
    Ok(found)
}

/// The signature time-stamp tokens of a SignerInfo, as DER.
pub(crate) fn signature_time_stamps(info: &SignerInfo) -> Vec<Vec<u8>> {
    info.unsigned_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .filter(|a| a.oid == SIGNATURE_TIME_STAMP)
        .flat_map(|a| a.values.iter())
        .filter_map(|v| v.to_der().ok())
        .collect()
}
