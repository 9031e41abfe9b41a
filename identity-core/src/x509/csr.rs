//! PKCS#10 certification requests (RFC 2986): read, and the proof of possession
//! checked.

use x509_parser::prelude::{FromDer, X509CertificationRequest};

use super::input_blocks;
use super::name::Name;
use super::signature::{self, PublicKeyInfo, PublicKeyKind, SigAlg, SigError};
use crate::error::CertificateError;

/// A certification request whose signature (the requester's proof that it holds the
/// private key) has been verified, and whose key is strong enough to certify: ECDSA
/// P-256 or P-384, Ed25519, or RSA of 2048 to 4096 bits.
#[derive(Debug, Clone)]
pub struct CertificationRequest {
    der: Vec<u8>,
    subject: Name,
    public_key: PublicKeyInfo,
}

impl CertificationRequest {
    /// Makes a request for `signer`'s key, signed by it (the proof of possession a CA
    /// checks), with `common_name` as its subject's CN: a suggestion only, since a CA
    /// builds the real subject from the verified identity.
    pub fn create(
        signer: &dyn crate::keys::Signer,
        common_name: &str,
    ) -> Result<Vec<u8>, CertificateError> {
        use der::Encode as _;
        let encoding = |detail: String| CertificateError::Malformed {
            what: "certification request",
            detail,
        };
        let value =
            der::asn1::Utf8StringRef::new(common_name).map_err(|e| encoding(e.to_string()))?;
        let atv = x509_cert::attr::AttributeTypeAndValue {
            oid: der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3"),
            value: der::Any::encode_from(&value).map_err(|e| encoding(e.to_string()))?,
        };
        let rdn = x509_cert::name::RelativeDistinguishedName::try_from(vec![atv])
            .map_err(|e| encoding(e.to_string()))?;
        let mut sequence = x509_cert::name::RdnSequence::default();
        sequence.push(rdn);
        let der = sequence.to_der().map_err(|e| encoding(e.to_string()))?;
        let subject = <x509_cert::name::Name as der::Decode>::from_der(&der)
            .map_err(|e| encoding(e.to_string()))?;
        Self::create_for(signer, subject)
    }

    /// As [`CertificationRequest::create`], with a whole distinguished name in RFC
    /// 4514 form (`CN=…,UID=…,O=…,C=VN`).
    pub fn create_with_dn(
        signer: &dyn crate::keys::Signer,
        dn: &str,
    ) -> Result<Vec<u8>, CertificateError> {
        use std::str::FromStr as _;
        let subject =
            x509_cert::name::Name::from_str(dn).map_err(|e| CertificateError::Malformed {
                what: "certification request",
                detail: format!("{dn:?} is not a distinguished name: {e}"),
            })?;
        Self::create_for(signer, subject)
    }

    fn create_for(
        signer: &dyn crate::keys::Signer,
        subject: x509_cert::name::Name,
    ) -> Result<Vec<u8>, CertificateError> {
        use der::Encode as _;
        let encoding = |detail: String| CertificateError::Malformed {
            what: "certification request",
            detail,
        };
        let public_key = der::Decode::from_der(&signer.public_key().to_spki_der())
            .map_err(|e: der::Error| encoding(e.to_string()))?;
        let info = x509_cert::request::CertReqInfo {
            version: x509_cert::request::Version::V1,
            subject,
            public_key,
            attributes: Default::default(),
        };
        let tbs = info.to_der().map_err(|e| encoding(e.to_string()))?;
        let signature = signer
            .sign(&tbs)
            .and_then(|s| s.to_der())
            .map_err(|e| encoding(e.to_string()))?;

        let request = x509_cert::request::CertReq {
            info,
            algorithm: signer.algorithm().signature_algorithm_identifier(),
            signature: der::asn1::BitString::from_bytes(&signature)
                .map_err(|e| encoding(e.to_string()))?,
        };
        request.to_der().map_err(|e| encoding(e.to_string()))
    }

    /// Reads a DER request and checks its signature and key.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let malformed = |detail: String| CertificateError::Malformed {
            what: "certification request",
            detail,
        };
        let (rest, csr) =
            X509CertificationRequest::from_der(der).map_err(|e| malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(malformed(format!("{} bytes after the request", rest.len())));
        }
        let info = &csr.certification_request_info;
        let public_key = PublicKeyInfo::from_parsed(&info.subject_pki);
        if let Some(problem) = public_key.strength_problem() {
            return Err(CertificateError::WeakKey { detail: problem });
        }
        let alg = SigAlg::from_parsed(&csr.signature_algorithm);
        match signature::verify(&public_key, &alg, info.raw, &csr.signature_value.data) {
            Ok(()) => {}
            Err(SigError::Invalid) => return Err(CertificateError::ProofOfPossession),
            Err(SigError::Unsupported(why)) => {
                return Err(CertificateError::WeakKey { detail: why });
            }
        }
        Ok(Self {
            der: der.to_vec(),
            subject: Name::from_parsed(&info.subject),
            public_key,
        })
    }

    /// Reads a request given as DER or as a PEM `CERTIFICATE REQUEST` block.
    pub fn from_pem_or_der(input: &[u8]) -> Result<Self, CertificateError> {
        let blocks = input_blocks(input, "CERTIFICATE REQUEST", "certification request")?;
        match blocks.as_slice() {
            [der] => Self::from_der(der),
            _ => Err(CertificateError::Pem {
                what: "certification request",
                detail: format!("{} requests found where one was expected", blocks.len()),
            }),
        }
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject the requester asked for (a CA builds its own from a verified
    /// identity instead).
    pub fn subject(&self) -> &Name {
        &self.subject
    }

    /// The DER SubjectPublicKeyInfo to certify.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key.der
    }

    /// The key's kind and size: `ECDSA P-256`, `RSA-3072`, ….
    pub fn public_key_description(&self) -> String {
        self.public_key.kind.describe()
    }

    /// The key's kind.
    pub fn public_key_kind(&self) -> &PublicKeyKind {
        &self.public_key.kind
    }

    /// The subjectPublicKey bits: the EC point, the Ed25519 key or the DER RSAPublicKey.
    pub fn public_key_bits(&self) -> &[u8] {
        &self.public_key.bytes
    }
}
