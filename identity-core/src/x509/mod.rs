//! X.509: certificates, CRLs, and certification path validation (RFC 5280 §6).
//!
//! [`validate`] builds paths from a certificate through an unordered pool of
//! intermediates to one of several trust anchors, checks each candidate path in full
//! (signatures, validity at the caller's time, basic constraints and path length, key
//! usage, extended key usage, name constraints, certificate policies, critical
//! extensions, revocation from caller-supplied CRLs and OCSP responses) and answers
//! with a [`ValidationReport`] carrying an ETSI EN 319 102-1 verdict and the path used.
//!
//! Trust anchors are inputs, as in RFC 5280 §6.1: their own validity period and
//! extensions (a root's pathLenConstraint, say) are not checked.
//!
//! ```
//! use identity_core::x509::{validate, Certificate, ValidationParams};
//! use identity_core::report::{Indication, SubIndication};
//! # fn certs() -> (Certificate, Certificate) {
//! #     let der = |name: &str| std::fs::read(format!("{}/tests/data/nist-pkits/certs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
//! #     (Certificate::from_der(&der("ValidCertificatePathTest1EE.crt")).unwrap(),
//! #      Certificate::from_der(&der("GoodCACert.crt")).unwrap())
//! # }
//! # let root = Certificate::from_der(&std::fs::read(format!("{}/tests/data/nist-pkits/certs/TrustAnchorRootCertificate.crt", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
//! let (leaf, intermediate) = certs();
//! // 2022-05-01T00:00:00Z, without revocation checking.
//! let report = validate(&leaf, &[intermediate.clone()], &[root.clone()], &ValidationParams::new(1_651_363_200));
//! assert_eq!(report.indication, Indication::TotalPassed);
//! assert_eq!(report.path.len(), 3);
//!
//! // Without the intermediate there is no path.
//! let report = validate(&leaf, &[], &[root], &ValidationParams::new(1_651_363_200));
//! assert_eq!(report.sub_indication, Some(SubIndication::NoCertificateChainFound));
//! ```

pub(crate) mod cert;
mod crl;
mod csr;
mod name;
mod ocsp;
mod path;
mod policy;
pub(crate) mod signature;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

pub use cert::Certificate;
pub use crl::Crl;
pub use csr::CertificationRequest;
pub use name::Name;
pub use ocsp::{
    BasicOcspResponse, CertId, CertStatus, CrlReason, OcspRequest, OcspResponse, OcspResponseInfo,
    OcspResponseStatus, Request, ResponderId, ResponseBytes, ResponseData, RevokedInfo,
    SingleResponse, TbsRequest, request_der as ocsp_request_der,
};
pub use path::validate;
pub use signature::PublicKeyKind;

use crate::error::CertificateError;

/// What the certificate is to be used for: decides the extended key usage and key
/// usage required of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// No particular use: only the path is checked.
    Any,
    /// Signing documents (id-kp-documentSigning, RFC 9336).
    DocumentSigning,
    /// Signing e-mail (id-kp-emailProtection).
    EmailProtection,
    /// Signing code (id-kp-codeSigning).
    CodeSigning,
    /// A TLS server (id-kp-serverAuth); give a DNS name or IP address to match.
    ServerAuth,
    /// A TLS client (id-kp-clientAuth).
    ClientAuth,
    /// Signing OCSP responses (id-kp-OCSPSigning).
    OcspSigning,
    /// Signing time-stamps (id-kp-timeStamping).
    TimeStamping,
}

impl Purpose {
    /// The extended key usage OID the purpose requires, if any.
    pub fn eku_oid(&self) -> Option<&'static str> {
        match self {
            Self::Any => None,
            Self::DocumentSigning => Some("1.3.6.1.5.5.7.3.36"),
            Self::EmailProtection => Some("1.3.6.1.5.5.7.3.4"),
            Self::CodeSigning => Some("1.3.6.1.5.5.7.3.3"),
            Self::ServerAuth => Some("1.3.6.1.5.5.7.3.1"),
            Self::ClientAuth => Some("1.3.6.1.5.5.7.3.2"),
            Self::OcspSigning => Some("1.3.6.1.5.5.7.3.9"),
            Self::TimeStamping => Some("1.3.6.1.5.5.7.3.8"),
        }
    }

    /// The name used on command lines: `any`, `document-signing`, `email-protection`,
    /// `code-signing`, `server-auth`, `client-auth`, `ocsp-signing`, `time-stamping`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::DocumentSigning => "document-signing",
            Self::EmailProtection => "email-protection",
            Self::CodeSigning => "code-signing",
            Self::ServerAuth => "server-auth",
            Self::ClientAuth => "client-auth",
            Self::OcspSigning => "ocsp-signing",
            Self::TimeStamping => "time-stamping",
        }
    }

    /// Every purpose.
    pub const ALL: [Purpose; 8] = [
        Self::Any,
        Self::DocumentSigning,
        Self::EmailProtection,
        Self::CodeSigning,
        Self::ServerAuth,
        Self::ClientAuth,
        Self::OcspSigning,
        Self::TimeStamping,
    ];
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(Purpose::as_str).collect();
                format!("unknown purpose {s:?}: use one of {}", names.join(", "))
            })
    }
}

/// The RFC 5280 §6.1.1 policy inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyParams {
    /// user-initial-policy-set, as dotted OIDs; empty means any-policy.
    pub initial_policy_set: Vec<String>,
    /// initial-explicit-policy: the path must be valid for at least one policy.
    pub explicit_policy: bool,
    /// initial-policy-mapping-inhibit.
    pub inhibit_policy_mapping: bool,
    /// initial-any-policy-inhibit.
    pub inhibit_any_policy: bool,
}

/// Everything a validation depends on besides the certificates.
#[derive(Debug, Clone)]
pub struct ValidationParams<'a> {
    /// The time to validate at, seconds since the Unix epoch.
    pub time: i64,
    /// The use the certificate must allow.
    pub purpose: Purpose,
    /// For [`Purpose::ServerAuth`]: the DNS name the certificate must name.
    pub dns_name: Option<String>,
    /// For [`Purpose::ServerAuth`]: the IP address the certificate must name.
    pub ip_address: Option<IpAddr>,
    /// CRLs to check revocation against (complete and delta).
    pub crls: &'a [Crl],
    /// OCSP responses to check revocation against (consulted before CRLs).
    pub ocsp: &'a [OcspResponseInfo],
    /// Whether every certificate of the path must have usable, fresh revocation
    /// information (also implied by giving any CRL).
    pub require_revocation: bool,
    /// The policy inputs.
    pub policy: PolicyParams,
    /// A proven time the signature being validated existed at (a time-stamp's,
    /// ETSI EN 319 102-1 §5.6.2.4): a certificate of the path that expired, or
    /// was revoked, only after it does not fail the path; one not yet valid at
    /// it does.
    pub proof_of_existence: Option<i64>,
}

impl ValidationParams<'_> {
    /// Validation at `time` for any purpose, without revocation checking.
    pub fn new(time: i64) -> Self {
        Self {
            time,
            purpose: Purpose::Any,
            dns_name: None,
            ip_address: None,
            crls: &[],
            ocsp: &[],
            require_revocation: false,
            policy: PolicyParams::default(),
            proof_of_existence: None,
        }
    }

    pub(crate) fn checks_revocation(&self) -> bool {
        self.require_revocation || !self.crls.is_empty() || !self.ocsp.is_empty()
    }
}

/// OCSP nonces and hashes: the module's constants.
pub mod ocsp_oids {
    pub use super::ocsp::{BASIC_RESPONSE, NONCE, SHA1, SHA256};
}

/// A DER INTEGER's content octets without redundant leading octets (0x00 before a
/// clear top bit, 0xFF before a set one), so that leniently encoded serials compare
/// equal to their minimal form.
pub(crate) fn canonical_integer(bytes: &[u8]) -> Vec<u8> {
    let mut start = 0;
    while let (Some(&b), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) {
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes.get(start..).unwrap_or_default().to_vec()
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Unix time as RFC 3339 (UTC), for people and reports.
pub fn format_rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{t}"))
}

/// Parses an RFC 3339 time into seconds since the Unix epoch.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|d| d.unix_timestamp())
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2026-11-29T09:00:00Z: {e}"))
}

/// The DER objects in `input`: PEM blocks labelled `label` when the input is PEM
/// (every such block; others are ignored), else the input itself as DER.
pub(crate) fn input_blocks(
    input: &[u8],
    label: &str,
    what: &'static str,
) -> Result<Vec<Vec<u8>>, CertificateError> {
    let looks_pem = input.iter().take_while(|b| b.is_ascii_whitespace()).count() < input.len()
        && input.trim_ascii_start().starts_with(b"-----BEGIN ");
    if !looks_pem {
        if input.is_empty() {
            return Err(CertificateError::Empty { what });
        }
        return Ok(vec![input.to_vec()]);
    }
    let text = std::str::from_utf8(input).map_err(|_| CertificateError::Pem {
        what,
        detail: "PEM input is not ASCII text".into(),
    })?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = rest.get(start..).unwrap_or_default();
        let Some(stop) = after.find(&end) else {
            return Err(CertificateError::Pem {
                what,
                detail: format!("a {begin} block has no {end} line"),
            });
        };
        let block = after.get(..stop + end.len()).unwrap_or_default();
        let (_, der) =
            der::pem::decode_vec(block.as_bytes()).map_err(|e| CertificateError::Pem {
                what,
                detail: e.to_string(),
            })?;
        blocks.push(der);
        rest = after.get(stop + end.len()..).unwrap_or_default();
    }
    if blocks.is_empty() {
        return Err(CertificateError::Pem {
            what,
            detail: format!("no {begin} block found"),
        });
    }
    Ok(blocks)
}
