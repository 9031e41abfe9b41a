//! Certificate revocation lists (RFC 5280 §5) and the revocation checks of §6.3.

use std::collections::{BTreeSet, HashMap};

use der::Decode as _;
use x509_parser::extensions::{ParsedExtension, SubjectAlternativeName};
use x509_parser::prelude::{CertificateRevocationList, FromDer};

use super::cert::{DistributionPoint, point_name};
use super::name::{GeneralName, Name};
use super::signature::{PublicKeyInfo, SigAlg, VerifiedKeys};
use super::{hex, input_blocks};
use crate::error::CertificateError;

/// Every reason of RFC 5280 §5.3.1 that a partition can cover (bits 1 to 8).
pub(crate) const ALL_REASONS: u16 = 0x1FE;

/// The RFC 5280 name of a CRL reason code.
pub(crate) fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown",
    }
}

/// A revoked certificate's entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) time: i64,
    pub(crate) reason: Option<u8>,
    /// For an indirect CRL, the issuer of the revoked certificate when it is not the
    /// CRL's issuer.
    pub(crate) certificate_issuer: Option<Name>,
    pub(crate) unknown_critical: bool,
}

/// The issuing distribution point extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IssuingDistributionPoint {
    pub(crate) full_names: Vec<GeneralName>,
    pub(crate) relative_name: Option<Vec<u8>>,
    pub(crate) only_user: bool,
    pub(crate) only_ca: bool,
    pub(crate) only_attribute: bool,
    pub(crate) only_some_reasons: Option<u16>,
    pub(crate) indirect: bool,
}

/// A certificate revocation list.
///
/// A CRL remembers which keys its signature verified with, so that a validator that
/// keeps it loaded hashes a large CRL once, not on every validation.
#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    pub(crate) tbs: Vec<u8>,
    pub(crate) signature_algorithm: SigAlg,
    pub(crate) signature: Vec<u8>,
    pub(crate) issuer: Name,
    pub(crate) this_update: i64,
    pub(crate) next_update: Option<i64>,
    /// The CRL number, big-endian without leading zeros.
    pub(crate) number: Option<Vec<u8>>,
    /// For a delta CRL, the number of its base CRL.
    pub(crate) delta_base: Option<Vec<u8>>,
    pub(crate) idp: Option<IssuingDistributionPoint>,
    /// Entries by serial number (the DER INTEGER's content octets, so that 255 and -1
    /// differ); several when an indirect CRL lists a serial for different issuers.
    entries: HashMap<Vec<u8>, Vec<Entry>>,
    pub(crate) unknown_critical: Vec<String>,
    pub(crate) defect: Option<String>,
    verified_with: VerifiedKeys,
}

/// The names of a distribution point: its full names, or its relative name appended
/// to `base`.
fn resolve(full: &[GeneralName], relative: Option<&[u8]>, base: &Name) -> Vec<GeneralName> {
    match relative.and_then(|rdn| base.with_relative(rdn)) {
        Some(name) => vec![GeneralName::Directory(name)],
        None => full.to_vec(),
    }
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default().to_vec()
}

/// Orders two unsigned big-endian integers.
pub(crate) fn cmp_numbers(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
}

const KNOWN_CRL_EXTENSIONS: &[&str] = &[
    "2.5.29.20", // cRLNumber
    "2.5.29.27", // deltaCRLIndicator
    "2.5.29.28", // issuingDistributionPoint
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.18", // issuerAltName
    "2.5.29.46", // freshestCRL
];

const KNOWN_ENTRY_EXTENSIONS: &[&str] = &[
    "2.5.29.21", // reasonCode
    "2.5.29.24", // invalidityDate
    "2.5.29.29", // certificateIssuer
];

impl Crl {
    /// Reads a DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let malformed = |detail: String| CertificateError::Malformed {
            what: "CRL",
            detail,
        };
        let (rest, crl) =
            CertificateRevocationList::from_der(der).map_err(|e| malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(malformed(format!("{} bytes after the CRL", rest.len())));
        }
        let tbs = &crl.tbs_cert_list;
        let issuer = Name::from_parsed(&tbs.issuer);
        let mut out = Self {
            der: der.to_vec(),
            tbs: tbs.as_ref().to_vec(),
            signature_algorithm: SigAlg::from_parsed(&crl.signature_algorithm),
            signature: crl.signature_value.data.to_vec(),
            issuer,
            this_update: tbs.this_update.timestamp(),
            next_update: tbs.next_update.map(|t| t.timestamp()),
            number: None,
            delta_base: None,
            idp: None,
            entries: HashMap::new(),
            unknown_critical: Vec::new(),
            defect: None,
            verified_with: VerifiedKeys::default(),
        };
        let mut seen = BTreeSet::new();
        for ext in tbs.extensions() {
            let oid = ext.oid.to_id_string();
            if !seen.insert(oid.clone()) {
                out.defect = Some(format!("CRL extension {oid} appears twice"));
            }
            match ext.parsed_extension() {
                ParsedExtension::CRLNumber(n) => out.number = Some(strip_zeros(&n.to_bytes_be())),
                ParsedExtension::ParseError { error } => {
                    out.defect = Some(format!("CRL extension {oid} is malformed: {error}"));
                }
                _ if oid == "2.5.29.28" => {
                    match x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint::from_der(
                        ext.value,
                    ) {
                        Ok(idp) => {
                            let (full_names, relative_name) =
                                point_name(idp.distribution_point.as_ref());
                            out.idp = Some(IssuingDistributionPoint {
                                full_names,
                                relative_name,
                                only_user: idp.only_contains_user_certs,
                                only_ca: idp.only_contains_ca_certs,
                                only_attribute: idp.only_contains_attribute_certs,
                                only_some_reasons: idp.only_some_reasons.map(|r| r.bits()),
                                indirect: idp.indirect_crl,
                            });
                        }
                        Err(e) => {
                            out.defect = Some(format!("issuingDistributionPoint is malformed: {e}"))
                        }
                    }
                }
                _ if oid == "2.5.29.27" => match der::asn1::UintRef::from_der(ext.value) {
                    Ok(n) => out.delta_base = Some(strip_zeros(n.as_bytes())),
                    Err(e) => out.defect = Some(format!("deltaCRLIndicator is malformed: {e}")),
                },
                _ => {}
            }
            if ext.critical && !KNOWN_CRL_EXTENSIONS.contains(&oid.as_str()) {
                out.unknown_critical.push(oid);
            }
        }
        let mut current_issuer: Option<Name> = None;
        for revoked in tbs.revoked_certificates.iter() {
            let mut entry = Entry {
                time: revoked.revocation_date.timestamp(),
                reason: None,
                certificate_issuer: None,
                unknown_critical: false,
            };
            for ext in revoked.extensions() {
                let oid = ext.oid.to_id_string();
                match ext.parsed_extension() {
                    ParsedExtension::ReasonCode(code) => entry.reason = Some(code.0),
                    _ if oid == "2.5.29.29" => {
                        // certificateIssuer: GeneralNames, like a subjectAltName.
                        let names = SubjectAlternativeName::from_der(ext.value)
                            .map_err(|e| {
                                malformed(format!("certificateIssuer entry extension: {e}"))
                            })?
                            .1;
                        current_issuer =
                            names.general_names.iter().find_map(
                                |n| match GeneralName::from_parsed(n) {
                                    GeneralName::Directory(name) => Some(name),
                                    _ => None,
                                },
                            );
                    }
                    _ => {}
                }
                if ext.critical && !KNOWN_ENTRY_EXTENSIONS.contains(&oid.as_str()) {
                    entry.unknown_critical = true;
                }
            }
            entry.certificate_issuer = current_issuer.clone();
            out.entries
                .entry(super::canonical_integer(revoked.raw_serial()))
                .or_default()
                .push(entry);
        }
        Ok(out)
    }

    /// Reads every CRL in `input`: DER, or PEM with one or more `X509 CRL` blocks.
    pub fn parse_all(input: &[u8]) -> Result<Vec<Self>, CertificateError> {
        input_blocks(input, "X509 CRL", "CRL")?
            .iter()
            .map(|der| Self::from_der(der))
            .collect()
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The issuer's name.
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// thisUpdate, seconds since the Unix epoch.
    pub fn this_update(&self) -> i64 {
        self.this_update
    }

    /// nextUpdate, seconds since the Unix epoch.
    pub fn next_update(&self) -> Option<i64> {
        self.next_update
    }

    /// The CRL number in hexadecimal.
    pub fn number_hex(&self) -> Option<String> {
        self.number.as_deref().map(hex)
    }

    /// How many certificates the CRL lists.
    pub fn len(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    /// Whether the CRL lists no certificate.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the CRL's signature verifies with `key` (remembered once it has).
    pub(crate) fn signed_by(&self, key: &PublicKeyInfo) -> bool {
        self.verified_with
            .verify(key, &self.signature_algorithm, &self.tbs, &self.signature)
            .is_ok()
    }

    pub(crate) fn is_delta(&self) -> bool {
        self.delta_base.is_some()
    }

    /// The entry for a certificate of `cert_issuer` with this serial, if listed.
    pub(crate) fn entry(&self, serial: &[u8], cert_issuer: &Name) -> Option<&Entry> {
        self.entries
            .get(&super::canonical_integer(serial))?
            .iter()
            .find(|e| match &e.certificate_issuer {
                Some(issuer) => issuer == cert_issuer,
                None => &self.issuer == cert_issuer,
            })
    }

    /// Whether this CRL's scope can cover a certificate with distribution point `dp`
    /// (RFC 5280 §6.3.3 (b)): issuer, indirectness, names and certificate kinds.
    pub(crate) fn covers(
        &self,
        dp: &DistributionPoint,
        cert_issuer: &Name,
        cert_is_ca: bool,
    ) -> Result<(), String> {
        let idp = self.idp.clone().unwrap_or_default();
        let dp_crl_issuer = dp.crl_issuer.iter().find_map(|n| match n {
            GeneralName::Directory(d) => Some(d),
            _ => None,
        });
        if dp.crl_issuer.is_empty() {
            if &self.issuer != cert_issuer {
                return Err("issued by another CA".into());
            }
        } else {
            if dp_crl_issuer != Some(&self.issuer) {
                return Err("not from the CRL issuer the certificate names".into());
            }
            if !idp.indirect {
                return Err("not marked as an indirect CRL".into());
            }
        }
        let idp_names = resolve(&idp.full_names, idp.relative_name.as_deref(), &self.issuer);
        if !idp_names.is_empty() {
            // The point's names; a point that gives none is named by its CRL issuer.
            let base = dp_crl_issuer.unwrap_or(cert_issuer);
            let mut dp_names = resolve(&dp.full_names, dp.relative_name.as_deref(), base);
            if dp_names.is_empty() {
                dp_names = dp.crl_issuer.clone();
            }
            if !idp_names.iter().any(|n| dp_names.contains(n)) {
                return Err("its distribution point is not the certificate's".into());
            }
        }
        if idp.only_user && cert_is_ca {
            return Err("covers end-entity certificates only".into());
        }
        if idp.only_ca && !cert_is_ca {
            return Err("covers CA certificates only".into());
        }
        if idp.only_attribute {
            return Err("covers attribute certificates only".into());
        }
        Ok(())
    }

    /// The reasons this CRL covers for a certificate with distribution point `dp`.
    pub(crate) fn reasons_for(&self, dp: &DistributionPoint) -> u16 {
        let idp_reasons = self
            .idp
            .as_ref()
            .and_then(|i| i.only_some_reasons)
            .unwrap_or(ALL_REASONS);
        dp.reasons.unwrap_or(ALL_REASONS) & idp_reasons & ALL_REASONS
    }

    pub(crate) fn describe(&self) -> String {
        match self.number_hex() {
            Some(n) => format!("CRL {n} of {}", self.issuer),
            None => format!("CRL of {}", self.issuer),
        }
    }
}
