//! Making CAs: an issuing CA under a root, with the delegated OCSP responder it
//! answers for its certificates with. `pki init` makes the whole hierarchy this
//! way; `idp-server demo` makes a development one.

use identity_core::keys::{SecureRandom, SignatureAlgorithm, SigningKey};
use identity_core::x509::CertificationRequest;

use crate::ca::{Authority, CaConfig, IssueRequest, certification_request};
use crate::error::Error;
use crate::profile::Profile;
use crate::store::{CaStore, MemoryStore};
use crate::subject::Subject;

/// An issuing CA: its certificate and key, its OCSP responder's, and the
/// records of what it issued so far (the responder's certificate).
pub struct IssuingCa {
    /// The CA certificate, DER.
    pub certificate: Vec<u8>,
    /// The CA's key.
    pub key: SigningKey,
    /// The delegated OCSP responder's certificate, DER (issued by this CA).
    pub responder_certificate: Vec<u8>,
    /// The responder's key.
    pub responder_key: SigningKey,
    /// What the CA issued: the responder certificate.
    pub records: MemoryStore,
}

impl std::fmt::Debug for IssuingCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuingCa").finish_non_exhaustive()
    }
}

fn key(rng: &dyn SecureRandom) -> Result<SigningKey, Error> {
    SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, rng)
        .map_err(|e| Error::Signing(format!("making a key: {e}")))
}

impl IssuingCa {
    /// Makes an issuing CA of `profile` named `name` under `root` (recording it
    /// in `root_store`), P-256 keys, and its OCSP responder. `config` holds the
    /// URLs and policies of the certificates the new CA will issue.
    #[allow(
        clippy::too_many_arguments,
        reason = "a ceremony's inputs, each distinct"
    )]
    pub fn make(
        root: &Authority<'_>,
        root_store: &mut dyn CaStore,
        profile: Profile,
        name: &str,
        organization: &str,
        config: CaConfig,
        rng: &dyn SecureRandom,
        now: i64,
    ) -> Result<Self, Error> {
        let ca_key = key(rng)?;
        let request = CertificationRequest::from_der(&certification_request(&ca_key, name)?)?;
        let issued = root.issue(
            IssueRequest {
                profile,
                subject: &Subject::Authority {
                    name: name.to_owned(),
                    organization: organization.to_owned(),
                },
                request: &request,
            },
            root_store,
            rng,
            now,
        )?;
        let mut records = MemoryStore::new();
        let issuing = Authority::new(&issued.der, profile, &ca_key, config)?;
        let (responder_certificate, responder_key) =
            ocsp_responder(&issuing, &mut records, name, organization, rng, now)?;
        drop(issuing);
        Ok(Self {
            certificate: issued.der,
            key: ca_key,
            responder_certificate,
            responder_key,
            records,
        })
    }
}

/// A new delegated OCSP responder for `ca` (named after the CA's `name`): its
/// certificate (DER, recorded in `store`) and key. Responder certificates are
/// short-lived; a CA makes a new one before the old one ends.
pub fn ocsp_responder(
    ca: &Authority<'_>,
    store: &mut dyn CaStore,
    name: &str,
    organization: &str,
    rng: &dyn SecureRandom,
    now: i64,
) -> Result<(Vec<u8>, SigningKey), Error> {
    let responder_key = key(rng)?;
    let request = CertificationRequest::from_der(&certification_request(&responder_key, "ocsp")?)?;
    let issued = ca.issue(
        IssueRequest {
            profile: Profile::OcspResponder,
            subject: &Subject::Service {
                name: format!("{name} OCSP Responder"),
                organization: organization.to_owned(),
                dns_names: Vec::new(),
            },
            request: &request,
        },
        store,
        rng,
        now,
    )?;
    Ok((issued.der, responder_key))
}
