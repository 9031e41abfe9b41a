//! Certificates, read once into the facts path validation needs.

use std::collections::BTreeSet;

use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::name::{GeneralName, Name, NameConstraints};
use super::signature::{PublicKeyInfo, SigAlg, SigError, VerifiedKeys};
use super::{format_rfc3339, hex, input_blocks};
use crate::error::CertificateError;

/// A distribution point of a CRL (RFC 5280 §4.2.1.13), or the scope of an issuing
/// distribution point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DistributionPoint {
    /// The full names of the point, if given as such.
    pub(crate) full_names: Vec<GeneralName>,
    /// The DER RDN of a point named relative to its CRL issuer.
    pub(crate) relative_name: Option<Vec<u8>>,
    /// The reason flags (bit n = reason code n), if the point covers only some reasons.
    pub(crate) reasons: Option<u16>,
    /// The CRL issuer, when it is not the certificate's issuer.
    pub(crate) crl_issuer: Vec<GeneralName>,
}

/// Reads a DistributionPointName (x509-cert's declaration; x509-parser drops
/// relative names).
pub(crate) fn point_name(
    name: Option<&x509_cert::ext::pkix::name::DistributionPointName>,
) -> (Vec<GeneralName>, Option<Vec<u8>>) {
    use der::Encode as _;
    use x509_cert::ext::pkix::name::DistributionPointName as Dpn;
    match name {
        Some(Dpn::FullName(names)) => (
            names
                .iter()
                .map(|n| {
                    n.to_der()
                        .map_or(GeneralName::Other("malformed general name"), |d| {
                            GeneralName::from_der(&d)
                        })
                })
                .collect(),
            None,
        ),
        Some(Dpn::NameRelativeToCRLIssuer(rdn)) => (Vec::new(), rdn.to_der().ok()),
        None => (Vec::new(), None),
    }
}

/// Reads a cRLDistributionPoints extension value.
fn distribution_points(value: &[u8]) -> Result<Vec<DistributionPoint>, String> {
    use der::{Decode as _, Encode as _};
    let points =
        x509_cert::ext::pkix::CrlDistributionPoints::from_der(value).map_err(|e| e.to_string())?;
    Ok(points
        .0
        .iter()
        .map(|p| {
            let (full_names, relative_name) = point_name(p.distribution_point.as_ref());
            DistributionPoint {
                full_names,
                relative_name,
                reasons: p.reasons.map(|r| r.bits()),
                crl_issuer: p
                    .crl_issuer
                    .iter()
                    .flatten()
                    .map(|n| {
                        n.to_der()
                            .map_or(GeneralName::Other("malformed general name"), |d| {
                                GeneralName::from_der(&d)
                            })
                    })
                    .collect(),
            }
        })
        .collect())
}

/// Key usage bits, in x509-parser's order (digitalSignature = bit 0).
pub(crate) mod key_usage {
    pub(crate) const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub(crate) const NON_REPUDIATION: u16 = 1 << 1;
    pub(crate) const KEY_CERT_SIGN: u16 = 1 << 5;
    pub(crate) const CRL_SIGN: u16 = 1 << 6;
}

/// The extensions path validation looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extensions {
    pub(crate) basic_constraints: Option<(bool, Option<u32>)>,
    pub(crate) key_usage: Option<u16>,
    /// Extended key usage OIDs, when present.
    pub(crate) ext_key_usage: Option<BTreeSet<String>>,
    /// Whether the extended key usage extension is critical.
    pub(crate) ext_key_usage_critical: bool,
    pub(crate) subject_alt_names: Vec<GeneralName>,
    pub(crate) name_constraints: Option<NameConstraints>,
    /// Certificate policy OIDs, when the extension is present.
    pub(crate) policies: Option<Vec<String>>,
    pub(crate) policy_mappings: Option<Vec<(String, String)>>,
    /// requireExplicitPolicy, inhibitPolicyMapping.
    pub(crate) policy_constraints: Option<(Option<u32>, Option<u32>)>,
    pub(crate) inhibit_any_policy: Option<u32>,
    pub(crate) subject_key_id: Option<Vec<u8>>,
    pub(crate) authority_key_id: Option<Vec<u8>>,
    pub(crate) crl_distribution_points: Vec<DistributionPoint>,
    /// Delta CRL distribution points (freshestCRL), if any.
    pub(crate) freshest_crl: bool,
    pub(crate) ocsp_no_check: bool,
    /// Authority information access: (method OID, URI) pairs.
    pub(crate) authority_info_access: Vec<(String, String)>,
    /// Critical extensions this crate does not process, by OID.
    pub(crate) unknown_critical: Vec<String>,
    /// A problem that makes the certificate unusable: a repeated or unparsable
    /// extension.
    pub(crate) defect: Option<String>,
}

/// A certificate: its DER and what was read from it.
///
/// It remembers which keys its signature verified with, so a validator that keeps
/// intermediates loaded verifies each of their signatures once.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    pub(crate) tbs: Vec<u8>,
    pub(crate) signature_algorithm: SigAlg,
    pub(crate) signature: Vec<u8>,
    pub(crate) serial: Vec<u8>,
    pub(crate) issuer: Name,
    pub(crate) subject: Name,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) public_key: PublicKeyInfo,
    pub(crate) extensions: Extensions,
    pub(crate) version: u32,
    verified_with: VerifiedKeys,
}

const KNOWN_EXTENSIONS: &[&str] = &[
    "2.5.29.14",            // subjectKeyIdentifier
    "2.5.29.15",            // keyUsage
    "2.5.29.17",            // subjectAltName
    "2.5.29.18",            // issuerAltName
    "2.5.29.19",            // basicConstraints
    "2.5.29.30",            // nameConstraints
    "2.5.29.31",            // cRLDistributionPoints
    "2.5.29.32",            // certificatePolicies
    "2.5.29.33",            // policyMappings
    "2.5.29.35",            // authorityKeyIdentifier
    "2.5.29.36",            // policyConstraints
    "2.5.29.37",            // extKeyUsage
    "2.5.29.46",            // freshestCRL
    "2.5.29.54",            // inhibitAnyPolicy
    "1.3.6.1.5.5.7.1.1",    // authorityInfoAccess
    "1.3.6.1.5.5.7.48.1.5", // id-pkix-ocsp-nocheck
];

impl Certificate {
    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| CertificateError::Malformed {
                what: "certificate",
                detail: e.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(CertificateError::Malformed {
                what: "certificate",
                detail: format!("{} bytes after the certificate", rest.len()),
            });
        }
        let tbs = &cert.tbs_certificate;
        let mut extensions = Extensions::default();
        let mut seen = BTreeSet::new();
        for ext in tbs.extensions() {
            let oid = ext.oid.to_id_string();
            if !seen.insert(oid.clone()) {
                extensions.defect = Some(format!("extension {oid} appears twice"));
            }
            read_extension(&mut extensions, &oid, ext.parsed_extension());
            if oid == "2.5.29.37" {
                extensions.ext_key_usage_critical = ext.critical;
            }
            if oid == "2.5.29.31" {
                match distribution_points(ext.value) {
                    Ok(points) => extensions.crl_distribution_points = points,
                    Err(e) => {
                        extensions.defect = Some(format!("cRLDistributionPoints is malformed: {e}"))
                    }
                }
            }
            if ext.critical && !KNOWN_EXTENSIONS.contains(&oid.as_str()) {
                extensions.unknown_critical.push(oid);
            }
        }
        Ok(Self {
            der: der.to_vec(),
            tbs: tbs.as_ref().to_vec(),
            signature_algorithm: SigAlg::from_parsed(&cert.signature_algorithm),
            signature: cert.signature_value.data.to_vec(),
            serial: super::canonical_integer(tbs.raw_serial()),
            issuer: Name::from_parsed(tbs.issuer()),
            subject: Name::from_parsed(tbs.subject()),
            not_before: tbs.validity().not_before.timestamp(),
            not_after: tbs.validity().not_after.timestamp(),
            public_key: PublicKeyInfo::from_parsed(&tbs.subject_pki),
            extensions,
            version: tbs.version().0,
            verified_with: VerifiedKeys::default(),
        })
    }

    /// Where its issuer's OCSP responder answers for it (authority information
    /// access, id-ad-ocsp URIs), in the certificate's order.
    pub fn ocsp_urls(&self) -> Vec<&str> {
        self.access_urls("1.3.6.1.5.5.7.48.1")
    }

    /// Where its issuer's certificate is published (id-ad-caIssuers URIs).
    pub fn ca_issuers_urls(&self) -> Vec<&str> {
        self.access_urls("1.3.6.1.5.5.7.48.2")
    }

    fn access_urls(&self, method: &str) -> Vec<&str> {
        self.extensions
            .authority_info_access
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, uri)| uri.as_str())
            .collect()
    }

    /// Where CRLs covering it are published: the URIs of its CRL distribution
    /// points' full names.
    pub fn crl_urls(&self) -> Vec<&str> {
        self.extensions
            .crl_distribution_points
            .iter()
            .flat_map(|p| &p.full_names)
            .filter_map(|n| match n {
                GeneralName::Uri(uri) => Some(uri.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Reads every certificate in `input`: DER, or PEM with one or more
    /// `CERTIFICATE` blocks (detected).
    pub fn parse_all(input: &[u8]) -> Result<Vec<Self>, CertificateError> {
        input_blocks(input, "CERTIFICATE", "certificate")?
            .iter()
            .map(|der| Self::from_der(der))
            .collect()
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject name.
    pub fn subject(&self) -> &Name {
        &self.subject
    }

    /// The issuer name.
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// The serial number in hexadecimal, as written (without a leading zero byte).
    pub fn serial_hex(&self) -> String {
        let trimmed = match self.serial.as_slice() {
            [0, rest @ ..] if !rest.is_empty() => rest,
            s => s,
        };
        hex(trimmed)
    }

    /// Start of validity, seconds since the Unix epoch.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of validity, seconds since the Unix epoch.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key.der
    }

    /// The public key's kind and size: `ECDSA P-256`, `RSA-2048`, ….
    pub fn public_key_description(&self) -> String {
        self.public_key.kind.describe()
    }

    /// SHA-256 of the DER, in hexadecimal.
    pub fn sha256_hex(&self) -> String {
        hex(ring::digest::digest(&ring::digest::SHA256, &self.der).as_ref())
    }

    /// Whether `issuer`'s key verifies this certificate's signature (remembered once
    /// it has, so a loaded intermediate is checked once, not on every validation).
    pub(crate) fn signed_by(&self, issuer: &Certificate) -> Result<(), SigError> {
        self.verified_with.verify(
            &issuer.public_key,
            &self.signature_algorithm,
            &self.tbs,
            &self.signature,
        )
    }

    /// Whether `issuer`'s key verifies this certificate's signature.
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        self.signed_by(issuer).is_ok()
    }

    /// Whether the extended key usage allows `purpose` (no extension allows all).
    pub fn allows_purpose(&self, purpose: super::Purpose) -> bool {
        match (&self.extensions.ext_key_usage, purpose.eku_oid()) {
            (Some(eku), Some(oid)) => eku.contains(oid) || eku.contains("2.5.29.37.0"),
            _ => true,
        }
    }

    /// Whether this is a time-stamping authority's certificate (RFC 3161 §2.3): an
    /// extended key usage of timeStamping alone, marked critical, and a key
    /// usage, if any, that allows signing. The error says what is missing.
    pub fn check_time_stamping_authority(&self) -> Result<(), String> {
        let time_stamping = super::Purpose::TimeStamping.eku_oid().unwrap_or_default();
        let alone = self
            .extensions
            .ext_key_usage
            .as_ref()
            .is_some_and(|eku| eku.len() == 1 && eku.contains(time_stamping));
        if !alone || !self.extensions.ext_key_usage_critical {
            return Err(format!(
                "{} is not a time-stamping authority's: its extended key usage must be timeStamping alone, marked critical",
                self.summary()
            ));
        }
        self.check_signing_key_usage()
    }

    /// A key usage, if there is one, that allows signing (digitalSignature or
    /// nonRepudiation).
    pub(crate) fn check_signing_key_usage(&self) -> Result<(), String> {
        use key_usage::{DIGITAL_SIGNATURE, NON_REPUDIATION};
        if self
            .extensions
            .key_usage
            .is_some_and(|ku| ku & (DIGITAL_SIGNATURE | NON_REPUDIATION) == 0)
        {
            return Err(format!(
                "{} may not sign: its key usage lacks digitalSignature and nonRepudiation",
                self.summary()
            ));
        }
        Ok(())
    }

    /// Whether issuer and subject are the same name (RFC 5280's self-issued).
    pub(crate) fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    pub(crate) fn is_ca(&self) -> bool {
        matches!(self.extensions.basic_constraints, Some((true, _)))
    }

    pub(crate) fn summary(&self) -> String {
        format!("{} (serial {})", self.subject, self.serial_hex())
    }

    pub(crate) fn validity_text(&self) -> (String, String) {
        (
            format_rfc3339(self.not_before),
            format_rfc3339(self.not_after),
        )
    }
}

fn read_extension(e: &mut Extensions, oid: &str, parsed: &ParsedExtension<'_>) {
    match parsed {
        ParsedExtension::BasicConstraints(bc) => {
            e.basic_constraints = Some((bc.ca, bc.path_len_constraint))
        }
        ParsedExtension::KeyUsage(ku) => e.key_usage = Some(ku.flags),
        ParsedExtension::ExtendedKeyUsage(eku) => {
            let mut set = BTreeSet::new();
            let known = [
                (eku.any, "2.5.29.37.0"),
                (eku.server_auth, "1.3.6.1.5.5.7.3.1"),
                (eku.client_auth, "1.3.6.1.5.5.7.3.2"),
                (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
                (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
                (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
                (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
            ];
            set.extend(
                known
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, o)| (*o).to_owned()),
            );
            set.extend(eku.other.iter().map(|o| o.to_id_string()));
            e.ext_key_usage = Some(set);
        }
        ParsedExtension::AuthorityInfoAccess(aia) => {
            e.authority_info_access = aia
                .iter()
                .filter_map(|d| match GeneralName::from_parsed(&d.access_location) {
                    GeneralName::Uri(uri) => Some((d.access_method.to_id_string(), uri)),
                    _ => None,
                })
                .collect();
        }
        ParsedExtension::SubjectAlternativeName(san) => {
            e.subject_alt_names = san
                .general_names
                .iter()
                .map(GeneralName::from_parsed)
                .collect();
        }
        ParsedExtension::NameConstraints(nc) => {
            e.name_constraints = Some(NameConstraints::from_parsed(nc))
        }
        ParsedExtension::CertificatePolicies(policies) => {
            let mut ids: Vec<String> = Vec::new();
            for p in policies.iter() {
                let id = p.policy_id.to_id_string();
                if ids.contains(&id) {
                    e.defect = Some(format!("certificate policy {id} appears twice"));
                }
                ids.push(id);
            }
            e.policies = Some(ids);
        }
        ParsedExtension::PolicyMappings(m) => {
            e.policy_mappings = Some(
                m.mappings
                    .iter()
                    .map(|m| {
                        (
                            m.issuer_domain_policy.to_id_string(),
                            m.subject_domain_policy.to_id_string(),
                        )
                    })
                    .collect(),
            );
        }
        ParsedExtension::PolicyConstraints(pc) => {
            e.policy_constraints = Some((pc.require_explicit_policy, pc.inhibit_policy_mapping));
        }
        ParsedExtension::InhibitAnyPolicy(iap) => e.inhibit_any_policy = Some(iap.skip_certs),
        ParsedExtension::SubjectKeyIdentifier(ki) => e.subject_key_id = Some(ki.0.to_vec()),
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            e.authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
        }
        ParsedExtension::ParseError { error } => {
            e.defect = Some(format!("extension {oid} is malformed: {error}"));
        }
        _ => match oid {
            "2.5.29.46" => e.freshest_crl = true,
            "1.3.6.1.5.5.7.48.1.5" => e.ocsp_no_check = true,
            _ => {}
        },
    }
}
