//! An OCSP responder (RFC 6960), in two phases: parse a request, let the caller look
//! up each certificate's status, then build the signed response.

use der::asn1::{BitString, GeneralizedTime, Null, OctetString};
use der::{Decode as _, Encode as _};
use identity_core::keys::Signer;
use identity_core::x509::ocsp_oids::{BASIC_RESPONSE, NONCE, SHA1};
use identity_core::x509::{
    BasicOcspResponse, CertId, CertStatus, Certificate, CrlReason, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse,
};
use x509_cert::ext::Extension;

use crate::error::Error;
use crate::hex;

/// A parsed OCSP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspQuery {
    /// The certificates asked about.
    pub requests: Vec<CertId>,
    /// The request's nonce extension, echoed in the response.
    nonce: Option<Extension>,
}

impl OcspQuery {
    /// Reads a DER `OCSPRequest`.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let request = OcspRequest::from_der(der).map_err(|e| Error::OcspRequest(e.to_string()))?;
        let tbs = request.tbs_request;
        if tbs.request_list.is_empty() {
            return Err(Error::OcspRequest(
                "the request asks about no certificate".into(),
            ));
        }
        let nonce = tbs
            .request_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == NONCE)
            .cloned();
        if let Some(n) = &nonce
            && n.extn_value.as_bytes().len() > 34
        {
            return Err(Error::OcspRequest(
                "the nonce is longer than 32 bytes (RFC 8954)".into(),
            ));
        }
        Ok(Self {
            requests: tbs.request_list.into_iter().map(|r| r.req_cert).collect(),
            nonce,
        })
    }

    /// The serial number asked about in request `i`, as canonical hexadecimal.
    pub fn serial(&self, i: usize) -> Option<String> {
        self.requests
            .get(i)
            .map(|r| crate::serial_text(r.serial_number.as_bytes()))
    }

    /// Whether the request's nonce was given.
    pub fn has_nonce(&self) -> bool {
        self.nonce.is_some()
    }
}

/// What the CA knows of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertState {
    /// Issued here and not revoked.
    Good,
    /// Revoked at `time` (Unix seconds) for RFC 5280 reason `reason`.
    Revoked {
        /// When.
        time: i64,
        /// The reason code.
        reason: u8,
    },
    /// Not issued by this CA (or not known to it).
    Unknown,
}

fn generalized(t: i64) -> Result<GeneralizedTime, Error> {
    let secs = u64::try_from(t).map_err(|_| Error::Encoding(format!("time {t} is before 1970")))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|e| Error::Encoding(e.to_string()))
}

fn encoding(e: der::Error) -> Error {
    Error::Encoding(e.to_string())
}

/// A delegated OCSP responder for one CA.
pub struct Responder<'a> {
    ca: Certificate,
    responder_der: Vec<u8>,
    responder: Certificate,
    signer: &'a dyn Signer,
}

impl std::fmt::Debug for Responder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("for", &self.ca.subject().to_string())
            .finish_non_exhaustive()
    }
}

impl<'a> Responder<'a> {
    /// A responder answering for `ca_der`'s certificates with the delegated responder
    /// certificate `responder_der` (issued by that CA) and its key.
    pub fn new(ca_der: &[u8], responder_der: &[u8], signer: &'a dyn Signer) -> Result<Self, Error> {
        let ca = Certificate::from_der(ca_der)?;
        let responder = Certificate::from_der(responder_der)?;
        if responder.issuer() != ca.subject() || !responder.is_signed_by(&ca) {
            return Err(Error::Signing(
                "the OCSP responder certificate was not issued by this CA".into(),
            ));
        }
        if !responder.allows_purpose(identity_core::x509::Purpose::OcspSigning) {
            return Err(Error::Signing(
                "the responder certificate is not for OCSP signing (id-kp-OCSPSigning)".into(),
            ));
        }
        if responder.public_key_der() != signer.public_key().to_spki_der() {
            return Err(Error::Signing(
                "the key does not belong to the OCSP responder certificate".into(),
            ));
        }
        Ok(Self {
            ca,
            responder_der: responder_der.to_vec(),
            responder,
            signer,
        })
    }

    /// Whether request `i` of `query` is about a certificate of this CA.
    pub fn answers(&self, query: &OcspQuery, i: usize) -> bool {
        query.requests.get(i).is_some_and(|id| {
            let serial = id.serial_number.as_bytes();
            id.matches(&self.ca, serial)
        })
    }

    /// The signed response: one answer per request, in order, from `statuses`
    /// (requests about another CA's certificates are answered unknown), valid from
    /// `now` for `validity_secs`.
    pub fn respond(
        &self,
        query: &OcspQuery,
        statuses: &[CertState],
        now: i64,
        validity_secs: i64,
    ) -> Result<Vec<u8>, Error> {
        let responder = &self.responder;
        if !(responder.not_before()..=responder.not_after()).contains(&now) {
            return Err(Error::Signing(format!(
                "the OCSP responder certificate {} is not valid now: issue a new one",
                responder.serial_hex()
            )));
        }
        if statuses.len() != query.requests.len() {
            return Err(Error::OcspRequest(format!(
                "{} statuses given for {} requests",
                statuses.len(),
                query.requests.len()
            )));
        }
        let mut responses = Vec::with_capacity(statuses.len());
        for (i, (id, status)) in query.requests.iter().zip(statuses).enumerate() {
            let status = if self.answers(query, i) {
                *status
            } else {
                CertState::Unknown
            };
            let cert_status = match status {
                CertState::Good => CertStatus::Good(Null),
                CertState::Unknown => CertStatus::Unknown(Null),
                CertState::Revoked { time, reason } => CertStatus::Revoked(RevokedInfo {
                    revocation_time: generalized(time)?,
                    revocation_reason: Some(CrlReason::from_code(reason)),
                }),
            };
            responses.push(SingleResponse {
                cert_id: id.clone(),
                cert_status,
                this_update: generalized(now)?,
                next_update: Some(generalized(now + validity_secs)?),
                single_extensions: None,
            });
        }
        let key_hash = ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            self.signer.public_key().as_bytes(),
        );
        let data = ResponseData {
            version: 0,
            responder_id: ResponderId::ByKey(
                OctetString::new(key_hash.as_ref()).map_err(encoding)?,
            ),
            produced_at: generalized(now)?,
            responses,
            response_extensions: self.nonce_extension(query),
        };
        let tbs = data.to_der().map_err(encoding)?;
        let signature = self
            .signer
            .sign(&tbs)
            .map_err(|e| Error::Signing(e.to_string()))?;
        let signature = signature
            .to_der()
            .map_err(|e| Error::Signing(e.to_string()))?;

        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: self.signer.algorithm().signature_algorithm_identifier(),
            signature: BitString::from_bytes(&signature).map_err(encoding)?,
            certs: Some(vec![
                der::Any::from_der(&self.responder_der).map_err(encoding)?,
            ]),
        };
        let response = OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: BASIC_RESPONSE,
                response: OctetString::new(basic.to_der().map_err(encoding)?).map_err(encoding)?,
            }),
        };
        response.to_der().map_err(encoding)
    }

    fn nonce_extension(&self, query: &OcspQuery) -> Option<Vec<Extension>> {
        query.nonce.clone().map(|n| vec![n])
    }

    /// The responder certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.responder
    }
}

/// The response to a request that could not be read (`malformedRequest`, unsigned).
pub fn malformed_request_response() -> Vec<u8> {
    OcspResponse {
        response_status: OcspResponseStatus::MalformedRequest,
        response_bytes: None,
    }
    .to_der()
    .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x01])
}

/// The CertID a client would send for `cert` (SHA-1, as OpenSSL does), for tests.
pub fn describe_request(query: &OcspQuery) -> String {
    query
        .requests
        .iter()
        .map(|r| {
            let alg = if r.hash_algorithm.oid == SHA1 {
                "SHA-1"
            } else {
                "SHA-256"
            };
            format!(
                "serial {} ({alg} CertID, issuer key hash {})",
                crate::serial_text(r.serial_number.as_bytes()),
                hex(r.issuer_key_hash.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
