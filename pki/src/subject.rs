//! Subjects built from verified identities, in the Vietnamese convention: CN = full
//! name, UID = `CCCD:<personal number>` or `MST:<enterprise code>`, O for a
//! business's or an official's agency, the official's position as title (X.520),
//! C = VN. Never copied from a CSR.

use identity_core::{Business, Citizen, IdentifierError, Official};
use rcgen::{DistinguishedName, DnType, DnValue};
use serde::{Deserialize, Serialize};

use crate::profile::SubjectKind;

/// userId (RFC 4519), where Vietnamese certificates carry the identifier.
const UID: &[u64] = &[0, 9, 2342, 19_200_300, 100, 1, 1];
/// title (X.520).
const TITLE: &[u64] = &[2, 5, 4, 12];

/// Who a certificate is for, as established by identity proofing (not as asserted
/// in a request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Subject {
    /// A certification authority of the infrastructure.
    Authority {
        /// Its name (CN).
        name: String,
        /// Its organisation (O).
        organization: String,
    },
    /// A resident.
    Citizen(Citizen),
    /// A business.
    Business(Business),
    /// A public official.
    Official(Official),
    /// A service of the infrastructure.
    Service {
        /// Its name (CN).
        name: String,
        /// Its organisation (O).
        organization: String,
        /// DNS names, for TLS servers.
        #[serde(default)]
        dns_names: Vec<String>,
    },
}

/// A host name of letters, digits and hyphens in labels of 1 to 63 characters, at
/// least two labels, optionally `*.` before at least two more (no wildcard for a
/// top-level domain alone), no IP literal.
fn dns_name_ok(name: &str) -> bool {
    let host = name.strip_prefix("*.").unwrap_or(name);
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && !labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
}

impl Subject {
    /// The kind of subject, to match against a profile.
    pub fn kind(&self) -> SubjectKind {
        match self {
            Self::Authority { .. } => SubjectKind::Authority,
            Self::Citizen(_) => SubjectKind::Citizen,
            Self::Business(_) => SubjectKind::Business,
            Self::Official(_) => SubjectKind::Official,
            Self::Service { .. } => SubjectKind::Service,
        }
    }

    /// Checks the free-text fields of authorities and services (identities check
    /// themselves when they are made).
    pub fn validate(&self) -> Result<(), IdentifierError> {
        let text = |field: &'static str, value: &str| {
            if value.trim().is_empty() || value.chars().any(char::is_control) {
                Err(IdentifierError::Text { field })
            } else {
                Ok(())
            }
        };
        match self {
            Self::Authority { name, organization } => {
                text("name", name)?;
                text("organization", organization)
            }
            Self::Service {
                name,
                organization,
                dns_names,
            } => {
                text("name", name)?;
                text("organization", organization)?;
                dns_names.iter().try_for_each(|d| {
                    if dns_name_ok(d) {
                        Ok(())
                    } else {
                        Err(IdentifierError::Text {
                            field: "DNS name (letters, digits, hyphens; a wildcard only as *.domain.tld)",
                        })
                    }
                })
            }
            _ => Ok(()),
        }
    }

    /// The DNS names to put in subjectAltName.
    pub fn dns_names(&self) -> &[String] {
        match self {
            Self::Service { dns_names, .. } => dns_names,
            _ => &[],
        }
    }

    /// The distinguished name: C, O, title, UID, CN, in that order.
    pub fn distinguished_name(&self) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        let utf8 = |s: &str| DnValue::Utf8String(s.to_owned());
        // CountryName is a PrintableString (RFC 5280 appendix A); "VN" always is one.
        if let Ok(vn) = rcgen::string::PrintableString::try_from("VN") {
            dn.push(DnType::CountryName, DnValue::PrintableString(vn));
        }
        match self {
            Self::Authority { name, organization }
            | Self::Service {
                name, organization, ..
            } => {
                dn.push(DnType::OrganizationName, utf8(organization));
                dn.push(DnType::CommonName, utf8(name));
            }
            Self::Citizen(c) => {
                dn.push(
                    DnType::CustomDnType(UID.to_vec()),
                    utf8(&format!("CCCD:{}", c.personal_number())),
                );
                dn.push(DnType::CommonName, utf8(c.full_name()));
            }
            Self::Business(b) => {
                dn.push(DnType::OrganizationName, utf8(b.registered_name()));
                dn.push(
                    DnType::CustomDnType(UID.to_vec()),
                    utf8(&format!("MST:{}", b.enterprise_code())),
                );
                dn.push(DnType::CommonName, utf8(b.registered_name()));
            }
            Self::Official(o) => {
                dn.push(DnType::OrganizationName, utf8(o.agency()));
                dn.push(DnType::CustomDnType(TITLE.to_vec()), utf8(o.position()));
                dn.push(
                    DnType::CustomDnType(UID.to_vec()),
                    utf8(&format!("CCCD:{}", o.citizen().personal_number())),
                );
                dn.push(DnType::CommonName, utf8(o.citizen().full_name()));
            }
        }
        dn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_host_names() {
        for ok in ["id.gov.vn", "*.dichvucong.gov.vn", "a-b.example.com"] {
            assert!(dns_name_ok(ok), "{ok}");
        }
        for bad in [
            "*",
            "*.vn",
            "vn",
            "a..b",
            "-a.b",
            "a b.c",
            "192.0.2.1",
            "x.*.vn",
            "a_b.vn",
            "",
        ] {
            assert!(!dns_name_ok(bad), "{bad}");
        }
    }
}
