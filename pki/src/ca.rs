//! A certification authority: issuance, revocation and CRLs, over rcgen, with the
//! key behind identity-core's `Signer` (in memory today, on an HSM later).

use der::asn1::{Ia5String, ObjectIdentifier};
use identity_core::keys::{SecureRandom, SignatureAlgorithm, Signer};
use identity_core::x509::{Certificate, CertificationRequest, PublicKeyKind};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose,
    RevokedCertParams, SanType, SerialNumber,
};
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::GeneralName;

use crate::error::Error;
use crate::profile::{KeyUsage, Profile, SubjectKind};
use crate::store::{CaStore, IssuedRecord, RevocationRecord};
use crate::subject::Subject;
use crate::{hex, unhex};

/// Where relying parties find revocation information and the issuer's certificate,
/// and which policy the CA's certificates assert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaConfig {
    /// The URL of this CA's CRL (cRLDistributionPoints).
    pub crl_url: Option<String>,
    /// The URL of the OCSP responder (authorityInfoAccess).
    pub ocsp_url: Option<String>,
    /// The URL of this CA's certificate (authorityInfoAccess caIssuers).
    pub ca_issuers_url: Option<String>,
    /// Certificate policy OIDs asserted in issued certificates (the deployment's CPS).
    /// Issuing CA certificates assert anyPolicy when this is empty.
    pub policy_oids: Vec<String>,
    /// Days the certificates it issues live, when shorter than their
    /// profile's (a deployment's choice; never longer than the profile allows).
    pub validity_days: Option<u32>,
}

/// The rcgen signature algorithm for a key.
fn rcgen_algorithm(kind: &PublicKeyKind) -> Result<&'static rcgen::SignatureAlgorithm, Error> {
    match kind {
        PublicKeyKind::EcP256 => Ok(&rcgen::PKCS_ECDSA_P256_SHA256),
        PublicKeyKind::EcP384 => Ok(&rcgen::PKCS_ECDSA_P384_SHA384),
        PublicKeyKind::Ed25519 => Ok(&rcgen::PKCS_ED25519),
        PublicKeyKind::Rsa { .. } => Ok(&rcgen::PKCS_RSA_SHA256),
        other => Err(Error::Encoding(format!(
            "cannot certify a {} key",
            other.describe()
        ))),
    }
}

/// A public key to certify, as rcgen wants it.
struct SubjectKey {
    bits: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
}

impl rcgen::PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

/// Our `Signer` as rcgen's signing key.
struct CaKey<'a> {
    signer: &'a dyn Signer,
    algorithm: &'static rcgen::SignatureAlgorithm,
}

impl<'a> CaKey<'a> {
    fn new(signer: &'a dyn Signer) -> Result<Self, Error> {
        let algorithm = match signer.algorithm() {
            SignatureAlgorithm::EcdsaP256Sha256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            SignatureAlgorithm::EcdsaP384Sha384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            SignatureAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
            other => {
                return Err(Error::Signing(format!(
                    "{other} keys cannot sign certificates here"
                )));
            }
        };
        Ok(Self { signer, algorithm })
    }
}

impl rcgen::PublicKeyData for CaKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.signer.public_key().as_bytes()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

impl rcgen::SigningKey for CaKey<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature = self
            .signer
            .sign(msg)
            .map_err(|_| rcgen::Error::RemoteKeyError)?;
        signature.to_der().map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn datetime(t: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(t).map_err(|e| Error::Encoding(format!("time {t}: {e}")))
}

/// Dotted OID text to rcgen's integer form.
fn arcs(oid: &str) -> Result<Vec<u64>, Error> {
    oid.split('.')
        .map(|a| {
            a.parse::<u64>()
                .map_err(|_| Error::Encoding(format!("{oid:?} is not an OID")))
        })
        .collect()
}

fn oid(text: &str) -> Result<ObjectIdentifier, Error> {
    ObjectIdentifier::new(text).map_err(|e| Error::Encoding(format!("{text:?} is not an OID: {e}")))
}

fn extension(
    oid_text: &str,
    critical: bool,
    value: impl der::Encode,
) -> Result<CustomExtension, Error> {
    let content = value.to_der().map_err(|e| Error::Encoding(e.to_string()))?;
    let mut ext = CustomExtension::from_oid_content(&arcs(oid_text)?, content);
    ext.set_criticality(critical);
    Ok(ext)
}

fn uri(url: &str) -> Result<GeneralName, Error> {
    Ia5String::new(url)
        .map(GeneralName::UniformResourceIdentifier)
        .map_err(|e| Error::Encoding(format!("URL {url:?}: {e}")))
}

/// A new serial number: 128 random bits as an unsigned magnitude without leading
/// zero bytes, never zero. RFC 5280 wants positive serials: rcgen writes them
/// unsigned, adding a zero byte when the top bit is set.
fn random_serial(rng: &dyn SecureRandom) -> Result<Vec<u8>, Error> {
    let mut serial = [0u8; 16];
    loop {
        rng.fill(&mut serial).map_err(|_| Error::Random)?;
        let first = serial.iter().position(|&b| b != 0);
        if let Some(first) = first {
            return Ok(serial.get(first..).unwrap_or_default().to_vec());
        }
    }
}

/// A serial number's canonical text: lower-case hexadecimal of its magnitude, no
/// leading zeros (as `Certificate::serial_hex` shows it).
pub fn serial_text(serial: &[u8]) -> String {
    let first = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
    hex(serial.get(first..).unwrap_or_default())
}

/// Normalises a serial typed by a person: `0x` prefix, colons, case and leading
/// zeros do not matter.
pub fn normalize_serial(text: &str) -> Option<String> {
    let cleaned: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    let bytes = unhex(&if !cleaned.len().is_multiple_of(2) {
        format!("0{cleaned}")
    } else {
        cleaned
    })?;
    let normal = serial_text(&bytes);
    (!normal.is_empty()).then_some(normal)
}

/// A certificate the CA issued, recorded in its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The serial number, hexadecimal (as in the store).
    pub serial: String,
}

/// What to certify: a profile, a verified identity, and the requester's key.
#[derive(Debug, Clone, Copy)]
pub struct IssueRequest<'a> {
    /// The profile deciding the certificate's content.
    pub profile: Profile,
    /// The verified identity (never the request's subject).
    pub subject: &'a Subject,
    /// The request carrying the key, its proof of possession already checked.
    pub request: &'a CertificationRequest,
}

/// An RFC 5280 revocation reason usable to revoke (not removeFromCRL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason(u8);

impl Reason {
    const NAMES: [(&'static str, u8); 9] = [
        ("unspecified", 0),
        ("keyCompromise", 1),
        ("cACompromise", 2),
        ("affiliationChanged", 3),
        ("superseded", 4),
        ("cessationOfOperation", 5),
        ("certificateHold", 6),
        ("privilegeWithdrawn", 9),
        ("aACompromise", 10),
    ];

    /// The reason of an RFC 5280 code, if it is one a CA revokes with.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::NAMES
            .iter()
            .any(|(_, c)| *c == code)
            .then_some(Self(code))
    }

    /// The RFC 5280 code.
    pub fn code(&self) -> u8 {
        self.0
    }

    /// The RFC 5280 name.
    pub fn name(&self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, c)| *c == self.0)
            .map_or("unspecified", |(n, _)| n)
    }
}

impl std::str::FromStr for Reason {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(n, _)| {
                n.eq_ignore_ascii_case(s)
                    || n.to_ascii_lowercase().replace('-', "")
                        == s.replace('-', "").to_ascii_lowercase()
            })
            .map(|(_, c)| Self(*c))
            .ok_or_else(|| Error::UnknownReason {
                name: s.to_owned(),
                known: Self::NAMES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

fn rcgen_reason(code: u8) -> rcgen::RevocationReason {
    use rcgen::RevocationReason as R;
    match code {
        1 => R::KeyCompromise,
        2 => R::CaCompromise,
        3 => R::AffiliationChanged,
        4 => R::Superseded,
        5 => R::CessationOfOperation,
        6 => R::CertificateHold,
        9 => R::PrivilegeWithdrawn,
        10 => R::AaCompromise,
        _ => R::Unspecified,
    }
}

/// A certification authority: its certificate, its key and its configuration.
pub struct Authority<'a> {
    certificate: Certificate,
    /// rcgen's view of the CA (its certificate read once, its key), for signing.
    issuer: Issuer<'static, CaKey<'a>>,
    profile: Profile,
    config: CaConfig,
}

impl std::fmt::Debug for Authority<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("subject", &self.certificate.subject().to_string())
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl<'a> Authority<'a> {
    /// A CA from its certificate, profile and key. The key must be the certificate's.
    pub fn new(
        certificate_der: &[u8],
        profile: Profile,
        signer: &'a dyn Signer,
        config: CaConfig,
    ) -> Result<Self, Error> {
        let certificate = Certificate::from_der(certificate_der)?;
        if !profile.is_ca() {
            return Err(Error::ProfileMismatch {
                profile: profile.name(),
                problem: "is not a CA profile".into(),
            });
        }
        if certificate.public_key_der() != signer.public_key().to_spki_der() {
            return Err(Error::Signing(
                "the key does not belong to the CA certificate".into(),
            ));
        }
        let issuer =
            Issuer::from_ca_cert_der(&certificate_der.to_vec().into(), CaKey::new(signer)?)
                .map_err(|e| Error::Encoding(format!("reading the CA certificate: {e}")))?;
        Ok(Self {
            certificate,
            issuer,
            profile,
            config,
        })
    }

    /// The CA's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The CA's certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        self.certificate.der()
    }

    /// The CA's profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Makes a self-signed root certificate for `signer`'s key (the offline ceremony).
    pub fn self_signed_root(
        subject: &Subject,
        signer: &dyn Signer,
        rng: &dyn SecureRandom,
        now: i64,
    ) -> Result<Vec<u8>, Error> {
        if subject.kind() != SubjectKind::Authority {
            return Err(Error::ProfileMismatch {
                profile: "root",
                problem: "needs an authority subject".into(),
            });
        }
        subject.validate()?;
        let key = CaKey::new(signer)?;
        let serial = random_serial(rng)?;
        let params = params_for(
            Profile::Root,
            subject,
            &serial,
            now,
            None,
            &CaConfig::default(),
        )?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| Error::Signing(e.to_string()))?;
        Ok(cert.der().to_vec())
    }

    /// Issues a certificate and records it in `store`. The certificate is returned
    /// only once it is recorded: a failure leaves nothing issued.
    pub fn issue(
        &self,
        request: IssueRequest<'_>,
        store: &mut dyn CaStore,
        rng: &dyn SecureRandom,
        now: i64,
    ) -> Result<Issued, Error> {
        let profile = request.profile;
        if !self.profile.issues().contains(&profile) {
            return Err(Error::ProfileMismatch {
                profile: profile.name(),
                problem: format!(
                    "cannot be issued by a {} (it issues {})",
                    self.profile.name(),
                    self.profile
                        .issues()
                        .iter()
                        .map(Profile::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let spec = profile.spec();
        if request.subject.kind() != spec.subject {
            return Err(Error::ProfileMismatch {
                profile: profile.name(),
                problem: format!(
                    "is for a {:?} subject, not a {:?}",
                    spec.subject,
                    request.subject.kind()
                ),
            });
        }
        request.subject.validate()?;
        if !(self.certificate.not_before()..=self.certificate.not_after()).contains(&now) {
            return Err(Error::ProfileMismatch {
                profile: self.profile.name(),
                problem: "CA certificate is not valid now: renew the CA before issuing".into(),
            });
        }
        if profile == Profile::TlsServer && request.subject.dns_names().is_empty() {
            return Err(Error::ProfileMismatch {
                profile: profile.name(),
                problem: "needs at least one DNS name".into(),
            });
        }
        let subject_key = SubjectKey {
            bits: request.request.public_key_bits().to_vec(),
            algorithm: rcgen_algorithm(request.request.public_key_kind())?,
        };
        let mut serial = random_serial(rng)?;
        for _ in 0..8 {
            if !store.serial_exists(&serial_text(&serial))? {
                break;
            }
            serial = random_serial(rng)?;
        }
        let text = serial_text(&serial);
        if store.serial_exists(&text)? {
            return Err(Error::Store(
                "could not find an unused serial number".into(),
            ));
        }
        let params = params_for(
            profile,
            request.subject,
            &serial,
            now,
            Some(self.certificate.not_after()),
            &self.config,
        )?;
        let cert = params
            .signed_by(&subject_key, &self.issuer)
            .map_err(|e| Error::Signing(e.to_string()))?;
        let der = cert.der().to_vec();
        // Read back what was made, so that nothing unreadable is ever handed out.
        let parsed = Certificate::from_der(&der)?;
        store.record_issued(IssuedRecord {
            serial: text.clone(),
            profile: profile.name().to_owned(),
            subject: parsed.subject().to_string(),
            issued_at: now,
            not_after: parsed.not_after(),
            der: der.clone(),
        })?;
        Ok(Issued { der, serial: text })
    }

    /// Revokes a certificate this CA issued.
    pub fn revoke(
        &self,
        store: &mut dyn CaStore,
        serial: &str,
        reason: Reason,
        now: i64,
    ) -> Result<RevocationRecord, Error> {
        let serial = normalize_serial(serial).ok_or_else(|| Error::UnknownSerial {
            serial: serial.to_owned(),
        })?;
        if store.issued(&serial)?.is_none() {
            return Err(Error::UnknownSerial { serial });
        }
        if store.revocation(&serial)?.is_some() {
            return Err(Error::AlreadyRevoked { serial });
        }
        let record = RevocationRecord {
            serial,
            time: now,
            reason: reason.code(),
        };
        store.record_revocation(record.clone())?;
        Ok(record)
    }

    /// A v2 CRL of every revocation, numbered from the store, valid until
    /// `now + validity_secs`.
    pub fn crl(
        &self,
        store: &mut dyn CaStore,
        now: i64,
        validity_secs: i64,
    ) -> Result<Vec<u8>, Error> {
        let revocations = store.revocations()?;
        let mut revoked_certs = Vec::with_capacity(revocations.len());
        for r in &revocations {
            let bytes = unhex(&r.serial)
                .ok_or_else(|| Error::Store(format!("serial {:?} is not hexadecimal", r.serial)))?;
            revoked_certs.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&bytes),
                revocation_time: datetime(r.time)?,
                // RFC 5280 §5.3.1: reasonCode unspecified SHOULD be absent.
                reason_code: (r.reason != 0).then(|| rcgen_reason(r.reason)),
                invalidity_date: None,
            });
        }
        let number = store.next_crl_number()?;
        let params = CertificateRevocationListParams {
            this_update: datetime(now)?,
            next_update: datetime(now + validity_secs)?,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params
            .signed_by(&self.issuer)
            .map_err(|e| Error::Signing(e.to_string()))?;
        Ok(crl.der().to_vec())
    }
}

/// A PKCS#10 request for `signer`'s key, signed by it (the proof of possession a CA
/// checks). The subject is only a label: a CA builds the real one from the verified
/// identity.
pub fn certification_request(signer: &dyn Signer, label: &str) -> Result<Vec<u8>, Error> {
    Ok(CertificationRequest::create(signer, label)?)
}

/// The rcgen parameters a profile and subject decide.
fn params_for(
    profile: Profile,
    subject: &Subject,
    serial: &[u8],
    now: i64,
    issuer_not_after: Option<i64>,
    config: &CaConfig,
) -> Result<CertificateParams, Error> {
    let spec = profile.spec();
    let mut params = CertificateParams::default();
    params.distinguished_name = subject.distinguished_name();
    params.serial_number = Some(SerialNumber::from_slice(serial));
    params.not_before = datetime(now)?;
    let days = config
        .validity_days
        .map_or(spec.validity_days, |d| d.clamp(1, spec.validity_days));
    let end = now + i64::from(days) * 86_400;
    params.not_after = datetime(issuer_not_after.map_or(end, |limit| end.min(limit)))?;
    params.is_ca = match spec.ca_path_len {
        Some(Some(n)) => IsCa::Ca(BasicConstraints::Constrained(n)),
        Some(None) => IsCa::Ca(BasicConstraints::Unconstrained),
        None => IsCa::ExplicitNoCa,
    };
    params.use_authority_key_identifier_extension = profile != Profile::Root;
    params.key_identifier_method = KeyIdMethod::Sha256;
    params.key_usages = spec
        .key_usage
        .iter()
        .map(|k| match k {
            KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
            KeyUsage::NonRepudiation => KeyUsagePurpose::ContentCommitment,
            KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
            KeyUsage::KeyCertSign => KeyUsagePurpose::KeyCertSign,
            KeyUsage::CrlSign => KeyUsagePurpose::CrlSign,
        })
        .collect();
    if spec.extended_key_usage_critical {
        let oids = spec
            .extended_key_usage
            .iter()
            .map(|o| oid(o))
            .collect::<Result<Vec<_>, _>>()?;
        params.custom_extensions.push(extension(
            "2.5.29.37",
            true,
            x509_cert::ext::pkix::ExtendedKeyUsage(oids),
        )?);
    } else {
        for o in spec.extended_key_usage {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::Other(arcs(o)?));
        }
    }
    params.subject_alt_names = subject
        .dns_names()
        .iter()
        .map(|d| d.as_str().try_into().map(SanType::DnsName))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Encoding(format!("DNS name: {e}")))?;
    if spec.revocation_pointers {
        if let Some(url) = &config.crl_url {
            params.crl_distribution_points.push(CrlDistributionPoint {
                uris: vec![url.clone()],
            });
        }
        let mut access = Vec::new();
        if let Some(url) = &config.ocsp_url {
            access.push(x509_cert::ext::pkix::AccessDescription {
                access_method: oid("1.3.6.1.5.5.7.48.1")?,
                access_location: uri(url)?,
            });
        }
        if let Some(url) = &config.ca_issuers_url {
            access.push(x509_cert::ext::pkix::AccessDescription {
                access_method: oid("1.3.6.1.5.5.7.48.2")?,
                access_location: uri(url)?,
            });
        }
        if !access.is_empty() {
            params.custom_extensions.push(extension(
                "1.3.6.1.5.5.7.1.1",
                false,
                x509_cert::ext::pkix::AuthorityInfoAccessSyntax(access),
            )?);
        }
    }
    if spec.ocsp_no_check {
        params
            .custom_extensions
            .push(extension("1.3.6.1.5.5.7.48.1.5", false, der::asn1::Null)?);
    }
    let policies: Vec<&str> = if profile == Profile::Root {
        Vec::new()
    } else if config.policy_oids.is_empty() && profile.is_ca() {
        vec!["2.5.29.32.0"]
    } else {
        config.policy_oids.iter().map(String::as_str).collect()
    };
    if !policies.is_empty() {
        let info = policies
            .iter()
            .map(|p| {
                Ok(x509_cert::ext::pkix::certpolicy::PolicyInformation {
                    policy_identifier: oid(p)?,
                    policy_qualifiers: None,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        params.custom_extensions.push(extension(
            "2.5.29.32",
            false,
            x509_cert::ext::pkix::CertificatePolicies(info),
        )?);
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_parse_by_rfc_name() {
        assert_eq!("keyCompromise".parse::<Reason>().unwrap().code(), 1);
        assert_eq!("key-compromise".parse::<Reason>().unwrap().code(), 1);
        assert_eq!("certificatehold".parse::<Reason>().unwrap().code(), 6);
        assert!("removeFromCRL".parse::<Reason>().is_err());
        assert!(matches!(
            "stolen".parse::<Reason>(),
            Err(Error::UnknownReason { .. })
        ));
    }

    #[test]
    fn serials_are_canonical_text() {
        assert_eq!(serial_text(&[0, 0x80, 1]), "8001");
        assert_eq!(normalize_serial("0x00:80:01").as_deref(), Some("8001"));
        assert_eq!(normalize_serial("ABC").as_deref(), Some("0abc"));
        assert_eq!(normalize_serial("zz"), None);
        assert_eq!(normalize_serial("00"), None);
    }
}
