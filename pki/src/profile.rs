//! Certificate profiles: everything a certificate holds besides its subject and key.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// id-kp-documentSigning (RFC 9336).
pub(crate) const DOCUMENT_SIGNING: &str = "1.3.6.1.5.5.7.3.36";
/// id-kp-emailProtection.
pub(crate) const EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
/// id-kp-clientAuth.
pub(crate) const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// id-kp-serverAuth.
pub(crate) const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
/// id-kp-OCSPSigning.
pub(crate) const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
/// id-kp-timeStamping.
pub(crate) const TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";

/// A key usage bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// digitalSignature.
    DigitalSignature,
    /// nonRepudiation / contentCommitment.
    NonRepudiation,
    /// keyEncipherment.
    KeyEncipherment,
    /// keyCertSign.
    KeyCertSign,
    /// cRLSign.
    CrlSign,
}

/// What kind of subject a profile certifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// A certification authority.
    Authority,
    /// A resident.
    Citizen,
    /// A business.
    Business,
    /// A public official.
    Official,
    /// A service of the infrastructure (OCSP responder, TSA, TLS server).
    Service,
}

/// A certificate profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// The offline root: P-384, 20 years, self-signed.
    Root,
    /// The issuing CA for residents' certificates.
    CitizenCa,
    /// The issuing CA for businesses' certificates.
    BusinessCa,
    /// The issuing CA for officials' signing certificates.
    OfficialCa,
    /// The issuing CA for the infrastructure (OCSP, time-stamping, TLS).
    InfrastructureCa,
    /// A resident's authentication and signing certificate.
    Citizen,
    /// A business's signing certificate (its seal).
    Business,
    /// An official's document-signing certificate.
    OfficialSigning,
    /// A delegated OCSP responder.
    OcspResponder,
    /// A time-stamping authority.
    TimeStamping,
    /// A TLS server.
    TlsServer,
}

/// What a profile puts in a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSpec {
    /// How long certificates live, in days (cut to the issuer's own end).
    pub validity_days: u32,
    /// `Some(path length)` for a CA (`None` inside = unlimited), `None` for an end
    /// entity.
    pub ca_path_len: Option<Option<u8>>,
    /// Key usage bits (the extension is always critical).
    pub key_usage: &'static [KeyUsage],
    /// Extended key usage OIDs.
    pub extended_key_usage: &'static [&'static str],
    /// Whether the extended key usage extension is critical (a TSA's must be).
    pub extended_key_usage_critical: bool,
    /// Whether to add id-pkix-ocsp-nocheck (delegated OCSP responders).
    pub ocsp_no_check: bool,
    /// Whether revocation pointers (CRL distribution point, OCSP) are added: not on
    /// the root, nor on the OCSP responder (which carries nocheck instead of OCSP).
    pub revocation_pointers: bool,
    /// Who the profile is for.
    pub subject: SubjectKind,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 11] = [
        Self::Root,
        Self::CitizenCa,
        Self::BusinessCa,
        Self::OfficialCa,
        Self::InfrastructureCa,
        Self::Citizen,
        Self::Business,
        Self::OfficialSigning,
        Self::OcspResponder,
        Self::TimeStamping,
        Self::TlsServer,
    ];

    /// The profile's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::CitizenCa => "citizen-ca",
            Self::BusinessCa => "business-ca",
            Self::OfficialCa => "official-ca",
            Self::InfrastructureCa => "infrastructure-ca",
            Self::Citizen => "citizen",
            Self::Business => "business",
            Self::OfficialSigning => "official-signing",
            Self::OcspResponder => "ocsp-responder",
            Self::TimeStamping => "time-stamping",
            Self::TlsServer => "tls-server",
        }
    }

    /// Whether the profile makes a CA certificate.
    pub fn is_ca(&self) -> bool {
        self.spec().ca_path_len.is_some()
    }

    /// The profiles a CA of this profile issues: issuing-CA profiles for the root,
    /// end-entity profiles (and its own OCSP responder) for an issuing CA.
    pub fn issues(&self) -> &'static [Profile] {
        match self {
            Self::Root => &[
                Self::CitizenCa,
                Self::BusinessCa,
                Self::OfficialCa,
                Self::InfrastructureCa,
            ],
            // Every issuing CA delegates OCSP to a responder of its own (RFC 6960 §4.2.2.2).
            Self::CitizenCa => &[Self::Citizen, Self::OcspResponder],
            Self::BusinessCa => &[Self::Business, Self::OcspResponder],
            Self::OfficialCa => &[Self::OfficialSigning, Self::OcspResponder],
            Self::InfrastructureCa => &[Self::OcspResponder, Self::TimeStamping, Self::TlsServer],
            _ => &[],
        }
    }

    /// What the profile puts in a certificate.
    pub fn spec(&self) -> ProfileSpec {
        use KeyUsage::*;
        let ca = |days| ProfileSpec {
            validity_days: days,
            ca_path_len: Some(Some(0)),
            key_usage: &[KeyCertSign, CrlSign, DigitalSignature],
            extended_key_usage: &[],
            extended_key_usage_critical: false,
            ocsp_no_check: false,
            revocation_pointers: true,
            subject: SubjectKind::Authority,
        };
        match self {
            Self::Root => ProfileSpec {
                ca_path_len: Some(Some(1)),
                revocation_pointers: false,
                ..ca(20 * 365 + 5)
            },
            Self::CitizenCa | Self::BusinessCa | Self::OfficialCa | Self::InfrastructureCa => {
                ca(10 * 365 + 2)
            }
            Self::Citizen => ProfileSpec {
                validity_days: 2 * 365,
                ca_path_len: None,
                key_usage: &[DigitalSignature, NonRepudiation],
                extended_key_usage: &[CLIENT_AUTH, DOCUMENT_SIGNING, EMAIL_PROTECTION],
                extended_key_usage_critical: false,
                ocsp_no_check: false,
                revocation_pointers: true,
                subject: SubjectKind::Citizen,
            },
            Self::Business => ProfileSpec {
                validity_days: 3 * 365,
                ca_path_len: None,
                key_usage: &[DigitalSignature, NonRepudiation],
                extended_key_usage: &[DOCUMENT_SIGNING, EMAIL_PROTECTION, CLIENT_AUTH],
                extended_key_usage_critical: false,
                ocsp_no_check: false,
                revocation_pointers: true,
                subject: SubjectKind::Business,
            },
            Self::OfficialSigning => ProfileSpec {
                validity_days: 3 * 365,
                ca_path_len: None,
                key_usage: &[DigitalSignature, NonRepudiation],
                extended_key_usage: &[DOCUMENT_SIGNING, EMAIL_PROTECTION],
                extended_key_usage_critical: false,
                ocsp_no_check: false,
                revocation_pointers: true,
                subject: SubjectKind::Official,
            },
            Self::OcspResponder => ProfileSpec {
                validity_days: 90,
                ca_path_len: None,
                key_usage: &[DigitalSignature],
                extended_key_usage: &[OCSP_SIGNING],
                extended_key_usage_critical: false,
                ocsp_no_check: true,
                revocation_pointers: false,
                subject: SubjectKind::Service,
            },
            Self::TimeStamping => ProfileSpec {
                validity_days: 6 * 365,
                ca_path_len: None,
                key_usage: &[DigitalSignature, NonRepudiation],
                extended_key_usage: &[TIME_STAMPING],
                extended_key_usage_critical: true,
                ocsp_no_check: false,
                revocation_pointers: true,
                subject: SubjectKind::Service,
            },
            Self::TlsServer => ProfileSpec {
                validity_days: 90,
                ca_path_len: None,
                key_usage: &[DigitalSignature, KeyEncipherment],
                extended_key_usage: &[SERVER_AUTH],
                extended_key_usage_critical: false,
                ocsp_no_check: false,
                revocation_pointers: true,
                subject: SubjectKind::Service,
            },
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| Error::UnknownProfile {
                name: s.to_owned(),
                known: Self::ALL
                    .iter()
                    .map(Profile::name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>().unwrap(), p);
        }
        let err = "citizen-signing".parse::<Profile>().unwrap_err();
        assert!(err.to_string().contains("official-signing"), "{err}");
    }

    #[test]
    fn only_the_tsa_has_a_critical_eku_and_only_cas_sign_certificates() {
        for p in Profile::ALL {
            let s = p.spec();
            assert_eq!(s.extended_key_usage_critical, p == Profile::TimeStamping);
            assert_eq!(s.key_usage.contains(&KeyUsage::KeyCertSign), p.is_ca());
        }
    }
}
