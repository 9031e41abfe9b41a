//! A time-stamping authority (RFC 3161): answers a request with a token, the
//! request's message imprint and nonce under the authority's policy and time,
//! signed by a key whose certificate is for time-stamping alone. A request it
//! cannot serve gets a rejection that names why, never nothing.

use der::Decode;
use der::asn1::ObjectIdentifier;
use identity_core::cms::DigestAlgorithm;
use identity_core::keys::SecureRandom;
use identity_core::tsp::{self, Failure, TimeStampReq, TokenOptions};
use identity_core::x509::Certificate;
use identity_core::{Signer, TimeStampError};

use crate::error::Error;

/// The accuracy claimed when none is configured: the authority's clock is kept
/// within a second.
pub const DEFAULT_ACCURACY_SECONDS: u32 = 1;

/// A time-stamping authority: its certificate, the certificates that lead to its
/// root, its key and its policy.
pub struct TimeStampAuthority<'a> {
    certificate: Certificate,
    chain: Vec<Certificate>,
    signer: &'a dyn Signer,
    policy: ObjectIdentifier,
    accuracy_seconds: u32,
}

impl std::fmt::Debug for TimeStampAuthority<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeStampAuthority")
            .field("subject", &self.certificate.subject().to_string())
            .field("policy", &self.policy.to_string())
            .finish_non_exhaustive()
    }
}

/// A rejection, as RFC 3161 §2.4.2 has it: the failure and a text for people.
fn rejection(failure: Failure, text: &str) -> Result<Vec<u8>, Error> {
    tsp::rejected(failure, text).map_err(|e| Error::Encoding(e.to_string()))
}

impl<'a> TimeStampAuthority<'a> {
    /// An authority whose certificate is `certificate` (DER) and key `signer`,
    /// sending `chain` (its CA's certificates, DER) with tokens when asked for
    /// certificates, making tokens under `policy` (an OID). Refused: a key that
    /// is not the certificate's, a certificate that is not for time-stamping
    /// alone (critical extended key usage), a policy that is not an OID.
    pub fn new(
        certificate: &[u8],
        chain: &[Vec<u8>],
        signer: &'a dyn Signer,
        policy: &str,
    ) -> Result<Self, Error> {
        let certificate = Certificate::from_der(certificate)?;
        if certificate.public_key_der() != signer.public_key().to_spki_der() {
            return Err(Error::ProfileMismatch {
                profile: "time-stamping",
                problem: "certificate is not the key's: give the authority's own certificate"
                    .into(),
            });
        }
        certificate
            .check_time_stamping_authority()
            .map_err(|problem| Error::ProfileMismatch {
                profile: "time-stamping",
                problem: format!("does not fit: {problem}"),
            })?;
        let chain = chain
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()?;
        let policy = ObjectIdentifier::new(policy).map_err(|e| Error::ProfileMismatch {
            profile: "time-stamping",
            problem: format!("policy {policy:?} is not an object identifier: {e}"),
        })?;
        Ok(Self {
            certificate,
            chain,
            signer,
            policy,
            accuracy_seconds: DEFAULT_ACCURACY_SECONDS,
        })
    }

    /// Claims this accuracy (seconds) instead of the default one second.
    pub fn with_accuracy(mut self, seconds: u32) -> Self {
        self.accuracy_seconds = seconds;
        self
    }

    /// The authority's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The answer to `request` (DER, as sent) at `now`: a TimeStampResp, DER,
    /// granted with a token or rejected with the reason. An error only when even
    /// a rejection could not be encoded, or the key could not sign.
    pub fn respond(
        &self,
        request: &[u8],
        rng: &dyn SecureRandom,
        now: i64,
    ) -> Result<Vec<u8>, Error> {
        let Ok(asked) = TimeStampReq::from_der(request) else {
            return rejection(
                Failure::BadDataFormat,
                "the request is not a DER TimeStampReq (RFC 3161 §2.4.1)",
            );
        };
        if asked.version != 1 {
            return rejection(Failure::BadRequest, "only version 1 requests are served");
        }
        let imprint = &asked.message_imprint;
        let Some(digest) = DigestAlgorithm::from_oid(&imprint.hash_algorithm.oid) else {
            return rejection(
                Failure::BadAlg,
                "hash with SHA-256, SHA-384 or SHA-512 (SHA-1 and others are refused)",
            );
        };
        if imprint.hashed_message.as_bytes().len() != digest.digest(b"").len() {
            return rejection(
                Failure::BadDataFormat,
                "the message imprint's length is not its hash algorithm's",
            );
        }
        if asked.req_policy.is_some_and(|p| p != self.policy) {
            return rejection(
                Failure::UnacceptedPolicy,
                &format!("this authority stamps under policy {} only", self.policy),
            );
        }
        if asked.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            return rejection(
                Failure::UnacceptedExtension,
                "this authority supports no request extensions",
            );
        }
        if asked
            .nonce
            .as_ref()
            .is_some_and(|n| n.as_bytes().len() > 32)
        {
            return rejection(Failure::BadRequest, "a nonce is at most 32 bytes");
        }
        let mut serial = [0u8; 16];
        rng.fill(&mut serial).map_err(|_| Error::Random)?;
        serial[0] = (serial[0] & 0x7f) | 0x01;
        let token = tsp::make_token(
            &asked,
            self.signer,
            &self.certificate,
            &TokenOptions {
                policy: self.policy,
                serial: &serial,
                time: now,
                accuracy_seconds: self.accuracy_seconds,
                chain: &self.chain,
            },
        )
        .map_err(|e| match e {
            TimeStampError::Signing { detail } => Error::Signing(detail),
            other => Error::Encoding(other.to_string()),
        })?;
        tsp::granted(&token).map_err(|e| Error::Encoding(e.to_string()))
    }
}
