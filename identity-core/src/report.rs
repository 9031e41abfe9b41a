//! Validation reports: the verdict of ETSI EN 319 102-1 (an indication and, unless
//! the check passed, a sub-indication), why, and the evidence (the certification
//! path that was used and the revocation status of each certificate).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The main verdict (ETSI EN 319 102-1 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Indication {
    /// Every check passed.
    TotalPassed,
    /// A check failed in a way no further information can change.
    TotalFailed,
    /// The checks could not conclude: information is missing, or a failure might be
    /// overcome with proof of existence or fresher revocation data.
    Indeterminate,
}

impl Indication {
    /// The exit status a command should give: 0 passed, 1 failed, 2 indeterminate.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::TotalPassed => 0,
            Self::TotalFailed => 1,
            Self::Indeterminate => 2,
        }
    }
}

impl fmt::Display for Indication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TotalPassed => "TOTAL-PASSED",
            Self::TotalFailed => "TOTAL-FAILED",
            Self::Indeterminate => "INDETERMINATE",
        })
    }
}

/// Why a validation did not pass (ETSI EN 319 102-1 §5.1.3, tables 5 and 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubIndication {
    /// A certificate, CRL or OCSP response could not be parsed.
    FormatFailure,
    /// A signature does not verify.
    SigCryptoFailure,
    /// The signed document does not match the digest the signature covers.
    HashFailure,
    /// The signer's certificate cannot be found, or is not the one the signature
    /// binds.
    NoSigningCertificateFound,
    /// The certificate was revoked (used where revocation is final).
    Revoked,
    /// No path leads from the certificate to a trust anchor.
    NoCertificateChainFound,
    /// A path was found but breaks a constraint: basic constraints, path length, key
    /// usage, extended key usage, name constraints, policies, critical extensions.
    ChainConstraintsFailure,
    /// The path could not be processed for another reason.
    CertificateChainGeneralFailure,
    /// An algorithm or key size is not accepted.
    CryptoConstraintsFailureNoPoe,
    /// A certificate had expired at the validation time.
    OutOfBoundsNoPoe,
    /// A certificate was not yet valid at the validation time.
    NotYetValid,
    /// The certificate was revoked at the validation time.
    RevokedNoPoe,
    /// A CA certificate of the path was revoked at the validation time.
    RevokedCaNoPoe,
    /// Revocation information is missing or not fresh enough: try again later.
    TryLater,
}

impl fmt::Display for SubIndication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = serde_json::to_value(self).ok();
        f.write_str(v.as_ref().and_then(|v| v.as_str()).unwrap_or("UNKNOWN"))
    }
}

/// What is known of one certificate's revocation status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RevocationStatus {
    /// Revocation was not checked: the caller did not ask for it, or the path failed
    /// before revocation was looked at.
    NotChecked,
    /// Not revoked, according to the named sources.
    Good {
        /// What said so: `CRL <number> from <issuer>`, `OCSP from <responder>`.
        source: String,
    },
    /// Revoked.
    Revoked {
        /// When, as RFC 3339.
        time: String,
        /// The RFC 5280 reason, when given (`keyCompromise`, …).
        reason: Option<String>,
        /// What said so.
        source: String,
    },
    /// No usable information: none given, none covering the certificate, none fresh,
    /// or none correctly signed.
    Unknown {
        /// Why each source given could not be used.
        reason: String,
    },
}

/// One certificate of the path, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathElement {
    /// The subject distinguished name.
    pub subject: String,
    /// The issuer distinguished name.
    pub issuer: String,
    /// The serial number in hexadecimal.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// SHA-256 of the certificate's DER, in hexadecimal.
    pub sha256: String,
    /// Whether this is the trust anchor.
    pub trust_anchor: bool,
    /// Revocation status (the trust anchor is never checked).
    pub revocation: RevocationStatus,
}

/// The outcome of validating a certificate: verdict, reason and evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// The verdict.
    pub indication: Indication,
    /// Why it is not TOTAL-PASSED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<SubIndication>,
    /// A sentence for people: what was checked or what went wrong, naming the
    /// certificate.
    pub message: String,
    /// The time the validation was made for, RFC 3339.
    pub validation_time: String,
    /// The path used (or the best candidate, when none passed), from the certificate
    /// being validated to the trust anchor.
    pub path: Vec<PathElement>,
    /// The certificate policies the path is valid for among those the caller
    /// accepts (RFC 5280 §6.1.6's user-constrained policy set), as dotted OIDs;
    /// `2.5.29.32.0` is anyPolicy.
    pub policies: Vec<String>,
}

impl ValidationReport {
    /// Whether the verdict is TOTAL-PASSED.
    pub fn passed(&self) -> bool {
        self.indication == Indication::TotalPassed
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.indication)?;
        if let Some(sub) = self.sub_indication {
            write!(f, "/{sub}")?;
        }
        writeln!(f, ": {}", self.message)?;
        writeln!(f, "validation time: {}", self.validation_time)?;
        for (i, e) in self.path.iter().enumerate() {
            let role = if e.trust_anchor {
                " (trust anchor)"
            } else {
                ""
            };
            writeln!(f, "[{i}] {}{role}", e.subject)?;
            writeln!(f, "    issuer {}, serial {}", e.issuer, e.serial)?;
            writeln!(
                f,
                "    valid {} to {}, sha256 {}",
                e.not_before, e.not_after, e.sha256
            )?;
            match &e.revocation {
                RevocationStatus::NotChecked => {}
                RevocationStatus::Good { source } => writeln!(f, "    not revoked ({source})")?,
                RevocationStatus::Revoked {
                    time,
                    reason,
                    source,
                } => writeln!(
                    f,
                    "    REVOKED at {time}{} ({source})",
                    reason
                        .as_deref()
                        .map(|r| format!(", {r}"))
                        .unwrap_or_default()
                )?,
                RevocationStatus::Unknown { reason } => {
                    writeln!(f, "    revocation unknown: {reason}")?
                }
            }
        }
        if !self.policies.is_empty() {
            writeln!(f, "policies: {}", self.policies.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_etsi_spelling() {
        assert_eq!(
            serde_json::to_value(Indication::TotalPassed).unwrap(),
            "TOTAL-PASSED"
        );
        assert_eq!(
            serde_json::to_value(Indication::Indeterminate).unwrap(),
            "INDETERMINATE"
        );
        assert_eq!(
            SubIndication::NoCertificateChainFound.to_string(),
            "NO_CERTIFICATE_CHAIN_FOUND"
        );
        assert_eq!(
            SubIndication::OutOfBoundsNoPoe.to_string(),
            "OUT_OF_BOUNDS_NO_POE"
        );
        assert_eq!(
            SubIndication::RevokedCaNoPoe.to_string(),
            "REVOKED_CA_NO_POE"
        );
        assert_eq!(Indication::TotalFailed.exit_code(), 1);
    }
}
