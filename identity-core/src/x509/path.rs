//! Path building and RFC 5280 §6.1 path validation, with revocation from CRLs.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use super::cert::{Certificate, DistributionPoint, key_usage};
use super::crl::{ALL_REASONS, Crl, cmp_numbers, reason_name};
use super::name::{ConstraintState, GeneralName, constrained_names};
use super::ocsp::{CertStatus, OcspResponseInfo, unix};
use super::policy::{ANY_POLICY, PolicyTree};
use super::signature::{self, SigError};
use super::{Purpose, ValidationParams, format_rfc3339};
use crate::report::{Indication, PathElement, RevocationStatus, SubIndication, ValidationReport};

/// How far ahead of the validation time an OCSP response's thisUpdate may be.
const OCSP_CLOCK_SKEW: i64 = 300;
/// How old an OCSP response without nextUpdate may be.
const OCSP_MAX_AGE_WITHOUT_NEXT_UPDATE: i64 = 24 * 3_600;
/// id-kp-OCSPSigning.
const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

/// Most certificates in a path, anchor included.
const MAX_PATH_LEN: usize = 10;
/// Most signature verifications one validation may spend building paths.
const MAX_SIGNATURE_CHECKS: usize = 200;
/// How deep the validation of a separate CRL signer's certificate may nest.
const MAX_NESTING: usize = 2;

/// A failed check: the verdict and what to tell the user.
#[derive(Debug, Clone)]
struct Failure {
    indication: Indication,
    sub: SubIndication,
    message: String,
}

impl Failure {
    fn indeterminate(sub: SubIndication, message: String) -> Self {
        Self {
            indication: Indication::Indeterminate,
            sub,
            message,
        }
    }

    fn failed(sub: SubIndication, message: String) -> Self {
        Self {
            indication: Indication::TotalFailed,
            sub,
            message,
        }
    }

    fn constraint(message: String) -> Self {
        Self::indeterminate(SubIndication::ChainConstraintsFailure, message)
    }
}

/// Validates `leaf` at `params.time`, building a path through `intermediates` (in any
/// order) to one of `anchors`. The report says TOTAL-PASSED with the path used, or
/// why no path passed, with the most promising candidate path.
pub fn validate(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    params: &ValidationParams<'_>,
) -> ValidationReport {
    let ctx = Context {
        intermediates,
        anchors,
        params,
        signature_checks: Rc::new(RefCell::new(0)),
        signers_in_question: Vec::new(),
    };
    let (path, result) = ctx.best_path(leaf, params.purpose, 0);
    let (indication, sub_indication, message, policies) = match result {
        Ok(done) => (Indication::TotalPassed, None, done.message, done.policies),
        Err(f) => (f.indication, Some(f.sub), f.message, Vec::new()),
    };
    ValidationReport {
        indication,
        sub_indication,
        message,
        validation_time: format_rfc3339(params.time),
        path: path.elements,
        policies,
    }
}

/// A path that passed.
#[derive(Debug, Clone)]
struct Passed {
    message: String,
    policies: Vec<String>,
}

/// A candidate path, leaf first, ending with the anchor.
#[derive(Debug, Clone, Default)]
struct Evidence {
    elements: Vec<PathElement>,
}

struct Context<'a> {
    intermediates: &'a [Certificate],
    anchors: &'a [Certificate],
    params: &'a ValidationParams<'a>,
    /// Signature verifications spent, shared with nested validations (of CRL
    /// signers) so the whole validation has one bound.
    signature_checks: Rc<RefCell<usize>>,
    /// CRL signers' certificates whose validation is under way further up (DER): a
    /// CRL one of them signed counts as its own, without validating it again.
    signers_in_question: Vec<Vec<u8>>,
}

fn element(cert: &Certificate, anchor: bool, revocation: RevocationStatus) -> PathElement {
    let (not_before, not_after) = cert.validity_text();
    PathElement {
        subject: cert.subject.to_string(),
        issuer: cert.issuer.to_string(),
        serial: cert.serial_hex(),
        not_before,
        not_after,
        sha256: cert.sha256_hex(),
        trust_anchor: anchor,
        revocation,
    }
}

impl<'a> Context<'a> {
    /// Whether `issuer`'s key verifies `cert`'s signature (counted against the
    /// search limit).
    fn signed_by(&self, cert: &Certificate, issuer: &Certificate) -> Result<(), SigError> {
        self.spend()?;
        cert.signed_by(issuer)
    }

    /// Counts one signature verification against the validation's bound.
    fn spend(&self) -> Result<(), SigError> {
        let mut n = self.signature_checks.borrow_mut();
        if *n >= MAX_SIGNATURE_CHECKS {
            return Err(SigError::Unsupported(
                "too many signatures to check (search limit reached)".into(),
            ));
        }
        *n += 1;
        Ok(())
    }

    /// Candidate issuers of `cert` from a set, those whose key identifier matches
    /// first.
    fn candidates<'c>(cert: &Certificate, set: &'c [Certificate]) -> Vec<&'c Certificate> {
        let mut found: Vec<&Certificate> =
            set.iter().filter(|c| c.subject == cert.issuer).collect();
        let aki = cert.extensions.authority_key_id.as_ref();
        found.sort_by_key(|c| match (aki, c.extensions.subject_key_id.as_ref()) {
            (Some(a), Some(s)) if a == s => 0,
            (Some(_), Some(_)) => 2,
            _ => 1,
        });
        found
    }

    /// Searches paths from `leaf` and returns the first that passes, or the most
    /// informative failure.
    fn best_path(
        &self,
        leaf: &Certificate,
        purpose: Purpose,
        nesting: usize,
    ) -> (Evidence, Result<Passed, Failure>) {
        let mut best: Option<(Evidence, Failure, u8)> = None;
        let mut chain = vec![leaf];
        if let Some(done) = self.search(&mut chain, purpose, nesting, &mut best) {
            return done;
        }
        match best {
            Some((evidence, failure, _)) => (evidence, Err(failure)),
            None => (
                Evidence {
                    elements: vec![element(leaf, false, RevocationStatus::NotChecked)],
                },
                Err(Failure::indeterminate(
                    SubIndication::NoCertificateChainFound,
                    format!(
                        "no path from {} to a trust anchor: no certificate given is named {}",
                        leaf.summary(),
                        chain
                            .last()
                            .map(|c| c.issuer.to_string())
                            .unwrap_or_default()
                    ),
                )),
            ),
        }
    }

    /// Depth-first search. `best` keeps the failure to report, ranked: a complete path
    /// that failed (2) beats a signature that did not verify (1).
    fn search(
        &self,
        chain: &mut Vec<&'a Certificate>,
        purpose: Purpose,
        nesting: usize,
        best: &mut Option<(Evidence, Failure, u8)>,
    ) -> Option<(Evidence, Result<Passed, Failure>)> {
        let last = *chain.last()?;
        let mut remember = |evidence: Evidence, failure: Failure, rank: u8| {
            if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
                *best = Some((evidence, failure, rank));
            }
        };
        let partial = |chain: &[&Certificate], issuer: &Certificate, anchor: bool| Evidence {
            elements: chain
                .iter()
                .map(|c| element(c, false, RevocationStatus::NotChecked))
                .chain(std::iter::once(element(
                    issuer,
                    anchor,
                    RevocationStatus::NotChecked,
                )))
                .collect(),
        };
        for anchor in Self::candidates(last, self.anchors) {
            match self.signed_by(last, anchor) {
                Ok(()) => {
                    let (evidence, result) = self.check_path(chain, anchor, purpose, nesting);
                    match result {
                        Ok(passed) => return Some((evidence, Ok(passed))),
                        Err(f) => remember(evidence, f, 2),
                    }
                }
                Err(e) => remember(
                    partial(chain, anchor, true),
                    signature_failure(last, anchor, e),
                    1,
                ),
            }
        }
        if chain.len() + 1 >= MAX_PATH_LEN {
            return None;
        }
        for issuer in Self::candidates(last, self.intermediates) {
            if chain.iter().any(|c| c.der() == issuer.der()) {
                continue;
            }
            match self.signed_by(last, issuer) {
                Ok(()) => {
                    chain.push(issuer);
                    let found = self.search(chain, purpose, nesting, best);
                    chain.pop();
                    if found.is_some() {
                        return found;
                    }
                }
                Err(e) => {
                    let failure = signature_failure(last, issuer, e);
                    if best.as_ref().is_none_or(|(_, _, r)| 1 > *r) {
                        *best = Some((partial(chain, issuer, false), failure, 1));
                    }
                }
            }
        }
        None
    }

    /// Validates one complete path (`chain` leaf first, then `anchor`).
    fn check_path(
        &self,
        chain: &[&Certificate],
        anchor: &Certificate,
        purpose: Purpose,
        nesting: usize,
    ) -> (Evidence, Result<Passed, Failure>) {
        let mut statuses = vec![RevocationStatus::NotChecked; chain.len()];
        let result = self.check_structure(chain, purpose).and_then(|policies| {
            if self.params.checks_revocation() {
                self.check_revocation(chain, anchor, nesting, &mut statuses)?;
            }
            Ok(Passed {
                message: format!(
                    "{} is valid{}{}",
                    chain.first().map(|c| c.summary()).unwrap_or_default(),
                    if purpose == Purpose::Any {
                        String::new()
                    } else {
                        format!(" for {purpose}")
                    },
                    if self.params.checks_revocation() {
                        " and not revoked"
                    } else {
                        ", revocation not checked"
                    }
                ),
                policies,
            })
        });
        let elements = chain
            .iter()
            .zip(statuses)
            .map(|(c, s)| element(c, false, s))
            .chain(std::iter::once(element(
                anchor,
                true,
                RevocationStatus::NotChecked,
            )))
            .collect();
        (Evidence { elements }, result)
    }

    /// RFC 5280 §6.1.2 to §6.1.5 over the path, then the purpose. Returns the valid
    /// policies.
    fn check_structure(
        &self,
        chain: &[&Certificate],
        purpose: Purpose,
    ) -> Result<Vec<String>, Failure> {
        let params = self.params;
        let certs: Vec<&Certificate> = chain.iter().rev().copied().collect();
        let n = certs.len();
        let initial = |inhibit: bool| if inhibit { 0 } else { n + 1 };
        let mut explicit_policy = initial(params.policy.explicit_policy);
        let mut inhibit_any = initial(params.policy.inhibit_any_policy);
        let mut policy_mapping = initial(params.policy.inhibit_policy_mapping);
        let mut max_path_length = n;
        let mut tree = PolicyTree::new();
        let mut constraints = ConstraintState::default();
        let too_large = |_| {
            Failure::indeterminate(
                SubIndication::CertificateChainGeneralFailure,
                "the certificate policies of the path are too complex to process".into(),
            )
        };

        for (index, cert) in certs.iter().enumerate() {
            let i = index + 1;
            let last = i == n;
            let who = || cert.summary();
            if let Some(defect) = &cert.extensions.defect {
                return Err(Failure::failed(
                    SubIndication::FormatFailure,
                    format!("{}: {defect}", who()),
                ));
            }
            if params.time < cert.not_before {
                return Err(Failure::indeterminate(
                    SubIndication::NotYetValid,
                    format!(
                        "{} is not valid before {}",
                        who(),
                        format_rfc3339(cert.not_before)
                    ),
                ));
            }
            // Expired since, but the signature is proven older: it was made in time.
            let proven_in_time = params
                .proof_of_existence
                .is_some_and(|poe| poe <= cert.not_after);
            if params.time > cert.not_after && !proven_in_time {
                return Err(Failure::indeterminate(
                    SubIndication::OutOfBoundsNoPoe,
                    format!("{} expired at {}", who(), format_rfc3339(cert.not_after)),
                ));
            }
            if let Some(poe) = params.proof_of_existence
                && poe < cert.not_before
            {
                return Err(Failure::indeterminate(
                    SubIndication::NotYetValid,
                    format!(
                        "{} was not yet valid at {}, when the signature is proven to exist",
                        who(),
                        format_rfc3339(poe)
                    ),
                ));
            }
            // (b), (c): name constraints, except for self-issued intermediates.
            if last || !cert.is_self_issued() {
                let names = constrained_names(&cert.subject, &cert.extensions.subject_alt_names);
                constraints.check(&names).map_err(|why| {
                    Failure::constraint(format!("{} breaks a name constraint: {why}", who()))
                })?;
            }
            // (d), (e), (f): policies.
            match &cert.extensions.policies {
                Some(policies) => {
                    let any_allowed = inhibit_any > 0 || (!last && cert.is_self_issued());
                    tree.process(i, policies, any_allowed).map_err(too_large)?;
                }
                None => tree.make_null(),
            }
            if explicit_policy == 0 && tree.is_null() {
                return Err(Failure::constraint(format!(
                    "no certificate policy acceptable to the path is asserted by {}",
                    who()
                )));
            }
            if last {
                break;
            }
            // §6.1.4: preparation for the next certificate.
            let ext = &cert.extensions;
            if let Some(mappings) = &ext.policy_mappings {
                if mappings
                    .iter()
                    .any(|(a, b)| a == ANY_POLICY || b == ANY_POLICY)
                {
                    return Err(Failure::constraint(format!(
                        "{} maps anyPolicy, which is forbidden",
                        who()
                    )));
                }
                tree.map(i, mappings, policy_mapping > 0)
                    .map_err(too_large)?;
            }
            if let Some(nc) = &ext.name_constraints {
                constraints.add(nc);
            }
            if !cert.is_self_issued() {
                explicit_policy = explicit_policy.saturating_sub(1);
                policy_mapping = policy_mapping.saturating_sub(1);
                inhibit_any = inhibit_any.saturating_sub(1);
            }
            if let Some((require, inhibit_mapping)) = ext.policy_constraints {
                if let Some(r) = require {
                    explicit_policy = explicit_policy.min(r as usize);
                }
                if let Some(m) = inhibit_mapping {
                    policy_mapping = policy_mapping.min(m as usize);
                }
            }
            if let Some(skip) = ext.inhibit_any_policy {
                inhibit_any = inhibit_any.min(skip as usize);
            }
            // (k)
            if cert.version < 2 {
                return Err(Failure::constraint(format!(
                    "{} is a version {} certificate, which cannot be a CA",
                    who(),
                    cert.version + 1
                )));
            }
            match ext.basic_constraints {
                Some((true, path_len)) => {
                    // (l)
                    if !cert.is_self_issued() {
                        if max_path_length == 0 {
                            return Err(Failure::constraint(format!(
                                "{} is beyond the path length a CA above it allows",
                                chain
                                    .get(n - i - 1)
                                    .map(|c| c.summary())
                                    .unwrap_or_else(who)
                            )));
                        }
                        max_path_length -= 1;
                    }
                    // (m)
                    if let Some(p) = path_len {
                        max_path_length = max_path_length.min(p as usize);
                    }
                }
                _ => {
                    return Err(Failure::constraint(format!(
                        "{} issued a certificate but is not a CA (basicConstraints cA is not set)",
                        who()
                    )));
                }
            }
            // (n)
            if ext
                .key_usage
                .is_some_and(|ku| ku & key_usage::KEY_CERT_SIGN == 0)
            {
                return Err(Failure::constraint(format!(
                    "{} issued a certificate but its key usage lacks keyCertSign",
                    who()
                )));
            }
            // (o)
            if let Some(oid) = ext.unknown_critical.first() {
                return Err(Failure::constraint(format!(
                    "{} has an unsupported critical extension {oid}",
                    who()
                )));
            }
            if let Some(eku) = &ext.ext_key_usage
                && let Some(needed) = purpose.eku_oid()
                && !eku.contains(needed)
                && !eku.contains("2.5.29.37.0")
            {
                return Err(Failure::constraint(format!(
                    "{} may only issue for other extended key usages than {purpose}",
                    who()
                )));
            }
        }

        // §6.1.5: wrap-up with the end-entity certificate.
        let leaf = certs
            .last()
            .copied()
            .ok_or_else(|| Failure::constraint("empty path".into()))?;
        explicit_policy = explicit_policy.saturating_sub(1);
        if let Some((Some(0), _)) = leaf.extensions.policy_constraints {
            explicit_policy = 0;
        }
        if let Some(oid) = leaf.extensions.unknown_critical.first() {
            return Err(Failure::constraint(format!(
                "{} has an unsupported critical extension {oid}",
                leaf.summary()
            )));
        }
        let valid = tree
            .intersect(n, &params.policy.initial_policy_set)
            .map_err(too_large)?;
        if explicit_policy == 0 && valid.as_ref().is_none_or(BTreeSet::is_empty) {
            return Err(Failure::constraint(format!(
                "the path of {} is valid for none of the certificate policies required",
                leaf.summary()
            )));
        }
        self.check_purpose(leaf, purpose)?;
        // The name asked for, not only the (possibly wildcard) names certified, must
        // satisfy the name constraints.
        let mut asked = Vec::new();
        if let Some(dns) = &params.dns_name {
            asked.push(GeneralName::Dns(dns.clone()));
        }
        if let Some(ip) = params.ip_address {
            asked.push(GeneralName::Ip(match ip {
                std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
            }));
        }
        if purpose == Purpose::ServerAuth {
            constraints.check(&asked).map_err(|why| {
                Failure::constraint(format!(
                    "the name asked for breaks a name constraint: {why}"
                ))
            })?;
        }
        Ok(valid.map(|v| v.into_iter().collect()).unwrap_or_default())
    }

    /// Extended key usage, key usage, and the name a TLS server must carry.
    fn check_purpose(&self, leaf: &Certificate, purpose: Purpose) -> Result<(), Failure> {
        let who = leaf.summary();
        if let (Some(needed), Some(eku)) = (purpose.eku_oid(), &leaf.extensions.ext_key_usage)
            && !eku.contains(needed)
            && !eku.contains("2.5.29.37.0")
        {
            return Err(Failure::constraint(format!(
                "{who} is not for {purpose}: its extended key usage lacks {needed}"
            )));
        }
        let signing = key_usage::DIGITAL_SIGNATURE | key_usage::NON_REPUDIATION;
        let needed_ku = match purpose {
            Purpose::Any => None,
            Purpose::DocumentSigning
            | Purpose::EmailProtection
            | Purpose::TimeStamping
            | Purpose::OcspSigning => Some(signing),
            Purpose::CodeSigning | Purpose::ClientAuth => Some(key_usage::DIGITAL_SIGNATURE),
            // keyEncipherment (bit 2) and keyAgreement (bit 4) serve RSA and ECDH TLS.
            Purpose::ServerAuth => Some(key_usage::DIGITAL_SIGNATURE | (1 << 2) | (1 << 4)),
        };
        if let (Some(needed), Some(ku)) = (needed_ku, leaf.extensions.key_usage)
            && ku & needed == 0
        {
            return Err(Failure::constraint(format!(
                "{who} is not for {purpose}: its key usage does not allow it"
            )));
        }
        if purpose == Purpose::ServerAuth {
            let sans = &leaf.extensions.subject_alt_names;
            if let Some(dns) = &self.params.dns_name {
                let ok = sans
                    .iter()
                    .any(|n| matches!(n, GeneralName::Dns(pattern) if dns_matches(pattern, dns)));
                if !ok {
                    return Err(Failure::constraint(format!(
                        "{who} does not name {dns} in its subjectAltName"
                    )));
                }
            }
            if let Some(ip) = self.params.ip_address {
                let bytes: Vec<u8> = match ip {
                    std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                    std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
                };
                if !sans
                    .iter()
                    .any(|n| matches!(n, GeneralName::Ip(b) if *b == bytes))
                {
                    return Err(Failure::constraint(format!(
                        "{who} does not name {ip} in its subjectAltName"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether revocation information of `this_update` was issued at or after
    /// the signature's proof of existence: then, however old it is now, it tells
    /// the status when the signature was made (ETSI EN 319 102-1 §5.6.2.4).
    fn issued_after_proof(&self, this_update: i64) -> bool {
        self.params
            .proof_of_existence
            .is_some_and(|poe| this_update >= poe)
    }

    /// Revocation of every certificate of the path from the CRLs given.
    fn check_revocation(
        &self,
        chain: &[&Certificate],
        anchor: &Certificate,
        nesting: usize,
        statuses: &mut [RevocationStatus],
    ) -> Result<(), Failure> {
        for (index, cert) in chain.iter().enumerate() {
            let issuer = chain.get(index + 1).copied().unwrap_or(anchor);
            let mut problems = Vec::new();
            // OCSP and CRLs are both consulted when both are given: a revocation in
            // either wins over a "good" from the other.
            let status = match self.ocsp_status(cert, issuer, &mut problems) {
                Some(RevocationStatus::Good { source }) if !self.params.crls.is_empty() => {
                    match self.crl_status(cert, issuer, anchor, nesting, Vec::new()) {
                        revoked @ RevocationStatus::Revoked { .. } => revoked,
                        _ => RevocationStatus::Good { source },
                    }
                }
                Some(status) => status,
                None => self.crl_status(cert, issuer, anchor, nesting, problems),
            };
            statuses[index] = status;
        }
        // A revocation outranks missing information about another certificate.
        // One revoked only after the signature's proof of existence does not
        // fail it (its status still says revoked, and when).
        let after_proof = |time: &str| {
            self.params
                .proof_of_existence
                .is_some_and(|poe| super::parse_rfc3339(time).is_ok_and(|when| poe < when))
        };
        let revoked = statuses.iter().enumerate().find_map(|(i, s)| match s {
            RevocationStatus::Revoked { time, reason, .. } if !after_proof(time) => {
                Some((i, time, reason))
            }
            _ => None,
        });
        if let Some((index, time, reason)) = revoked {
            return Err(Failure::indeterminate(
                if index == 0 {
                    SubIndication::RevokedNoPoe
                } else {
                    SubIndication::RevokedCaNoPoe
                },
                format!(
                    "{} was revoked at {time}{}",
                    chain[index].summary(),
                    reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
            ));
        }
        let unknown = statuses.iter().enumerate().find_map(|(i, s)| match s {
            RevocationStatus::Unknown { reason } => Some((i, reason)),
            _ => None,
        });
        match unknown {
            Some((index, reason)) => Err(Failure::indeterminate(
                SubIndication::TryLater,
                format!(
                    "the revocation status of {} is unknown: {reason}",
                    chain[index].summary()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Whether a CRL is signed by a key entitled to sign CRLs for `issuer`: the
    /// issuer's own, or a certificate of the same name that validates to `anchor`
    /// (RFC 5280 §6.3.3 (f)).
    fn crl_signer_ok(
        &self,
        crl: &Crl,
        issuer: &Certificate,
        anchor: &Certificate,
        nesting: usize,
    ) -> Result<(), String> {
        let may_sign = |c: &Certificate| {
            c.extensions
                .key_usage
                .is_none_or(|ku| ku & key_usage::CRL_SIGN != 0)
        };
        if self.spend().is_err() {
            return Err("too many signatures to check (search limit reached)".into());
        }
        if crl.issuer == issuer.subject && crl.signed_by(&issuer.public_key) {
            return if may_sign(issuer) {
                Ok(())
            } else {
                Err(format!(
                    "{} is signed by a key without the cRLSign key usage",
                    crl.describe()
                ))
            };
        }
        if nesting >= MAX_NESTING {
            return Err(format!(
                "{} is not signed by its issuer's key",
                crl.describe()
            ));
        }
        let others = self
            .intermediates
            .iter()
            .chain(self.anchors)
            .filter(|c| c.subject == crl.issuer && c.der() != issuer.der());
        for signer in others {
            if self.spend().is_err() || !crl.signed_by(&signer.public_key) {
                continue;
            }
            if !may_sign(signer) {
                continue;
            }
            if signer.der() == anchor.der()
                || self.signers_in_question.iter().any(|d| d == signer.der())
            {
                return Ok(());
            }
            // The CRL signer's own certificate must validate to the same anchor.
            let anchors = std::slice::from_ref(anchor);
            let mut signers_in_question = self.signers_in_question.clone();
            signers_in_question.push(signer.der().to_vec());
            let nested = Context {
                intermediates: self.intermediates,
                anchors,
                params: self.params,
                signature_checks: Rc::clone(&self.signature_checks),
                signers_in_question,
            };
            let (_, result) = nested.best_path(signer, Purpose::Any, nesting + 1);
            match result {
                Ok(_) => return Ok(()),
                Err(f) => {
                    return Err(format!(
                        "the certificate that signed {} is not valid: {}",
                        crl.describe(),
                        f.message
                    ));
                }
            }
        }
        Err(format!(
            "{} is not signed by a key entitled to sign it",
            crl.describe()
        ))
    }

    /// RFC 5280 §6.3 over the CRLs given.
    fn crl_status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        anchor: &Certificate,
        nesting: usize,
        mut problems: Vec<String>,
    ) -> RevocationStatus {
        let params = self.params;
        let time = params.time;
        let implicit = [DistributionPoint::default()];
        let points: &[DistributionPoint] = if cert.extensions.crl_distribution_points.is_empty() {
            &implicit
        } else {
            &cert.extensions.crl_distribution_points
        };
        let mut reasons_mask = 0u16;
        let mut sources: Vec<String> = Vec::new();
        for dp in points {
            for crl in params.crls.iter().filter(|c| !c.is_delta()) {
                if reasons_mask == ALL_REASONS {
                    break;
                }
                if let Err(why) = crl.covers(dp, &cert.issuer, cert.is_ca()) {
                    problems.push(format!("{}: {why}", crl.describe()));
                    continue;
                }
                let interim = crl.reasons_for(dp);
                if interim & !reasons_mask == 0 {
                    continue;
                }
                if let Some(defect) = &crl.defect {
                    problems.push(format!("{}: {defect}", crl.describe()));
                    continue;
                }
                if let Some(oid) = crl.unknown_critical.first() {
                    problems.push(format!(
                        "{} has an unsupported critical extension {oid}",
                        crl.describe()
                    ));
                    continue;
                }
                if let Err(why) = self.crl_signer_ok(crl, issuer, anchor, nesting) {
                    problems.push(why);
                    continue;
                }
                if crl.this_update > time {
                    problems.push(format!(
                        "{} was issued after the validation time",
                        crl.describe()
                    ));
                    continue;
                }
                match crl.next_update {
                    None => {
                        problems.push(format!(
                            "{} has no nextUpdate, so its freshness cannot be judged",
                            crl.describe()
                        ));
                        continue;
                    }
                    // Stale now, but issued after the signature is proven to
                    // exist: it says the certificate was not revoked then.
                    Some(next) if next < time && !self.issued_after_proof(crl.this_update) => {
                        problems.push(format!(
                            "{} is stale: its next update was due at {}",
                            crl.describe(),
                            format_rfc3339(next)
                        ));
                        continue;
                    }
                    Some(_) => {}
                }
                // A delta CRL for this base, when one is given, is consulted first.
                let delta = self.delta_for(crl, issuer, anchor, nesting);
                let lists: Vec<&Crl> = delta.iter().copied().chain(std::iter::once(crl)).collect();
                let mut unusable = None;
                for list in lists {
                    let Some(entry) = list.entry(&cert.serial, &cert.issuer) else {
                        continue;
                    };
                    if entry.unknown_critical {
                        unusable = Some(format!(
                            "{} lists the certificate with an unsupported critical entry extension",
                            list.describe()
                        ));
                    } else if entry.reason != Some(8) && entry.time <= time {
                        return RevocationStatus::Revoked {
                            time: format_rfc3339(entry.time),
                            reason: entry.reason.map(|r| reason_name(r).to_owned()),
                            source: list.describe(),
                        };
                    }
                    // Listed with removeFromCRL (released from hold), or revoked only
                    // after the validation time: not revoked then. The newest list decides.
                    break;
                }
                if let Some(why) = unusable {
                    problems.push(why);
                    continue;
                }
                sources.push(crl.describe());
                reasons_mask |= interim;
            }
        }
        if reasons_mask == ALL_REASONS {
            return RevocationStatus::Good {
                source: sources.join(", "),
            };
        }
        let reason = if params.crls.is_empty() && params.ocsp.is_empty() {
            "no CRL or OCSP response was given".to_owned()
        } else if problems.is_empty() {
            "no CRL or OCSP response given covers it".to_owned()
        } else {
            problems.join("; ")
        };
        RevocationStatus::Unknown { reason }
    }

    /// RFC 6960: the status from an OCSP response for this certificate, signed by its
    /// issuer or by a responder the issuer authorised, and fresh at the validation
    /// time. Problems with responses that name the certificate are collected.
    fn ocsp_status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        problems: &mut Vec<String>,
    ) -> Option<RevocationStatus> {
        let time = self.params.time;
        for response in self.params.ocsp {
            let data = &response.basic.tbs_response_data;
            let Some(single) = data
                .responses
                .iter()
                .find(|r| r.cert_id.matches(issuer, &cert.serial))
            else {
                continue;
            };
            let responder = match self.ocsp_responder(response, issuer) {
                Ok(name) => name,
                Err(why) => {
                    problems.push(why);
                    continue;
                }
            };
            let this_update = unix(&single.this_update);
            if this_update > time + OCSP_CLOCK_SKEW {
                problems.push(format!(
                    "the OCSP response from {responder} was made after the validation time"
                ));
                continue;
            }
            let stale = match single.next_update.as_ref().map(unix) {
                Some(next) => next < time,
                None => time - this_update > OCSP_MAX_AGE_WITHOUT_NEXT_UPDATE,
            } && !self.issued_after_proof(this_update);
            if stale {
                problems.push(format!(
                    "the OCSP response from {responder} is stale (this update {})",
                    format_rfc3339(this_update)
                ));
                continue;
            }
            let source = format!("OCSP from {responder}");
            match &single.cert_status {
                CertStatus::Good(_) => return Some(RevocationStatus::Good { source }),
                CertStatus::Revoked(info) => {
                    let when = unix(&info.revocation_time);
                    if when <= time {
                        return Some(RevocationStatus::Revoked {
                            time: format_rfc3339(when),
                            reason: info
                                .revocation_reason
                                .map(|r| reason_name(r as u8).to_owned()),
                            source,
                        });
                    }
                    return Some(RevocationStatus::Good { source });
                }
                CertStatus::Unknown(_) => {
                    problems.push(format!("{responder} does not know the certificate"))
                }
            }
        }
        None
    }

    /// Who signed an OCSP response, if entitled to: the issuer itself, or a responder
    /// certificate in the response issued by the issuer for id-kp-OCSPSigning and valid
    /// at the validation time.
    fn ocsp_responder(
        &self,
        response: &OcspResponseInfo,
        issuer: &Certificate,
    ) -> Result<String, String> {
        let signature = response.basic.signature.raw_bytes();
        let verifies = |key: &Certificate| {
            self.spend().is_ok()
                && signature::verify(
                    &key.public_key,
                    &response.signature_algorithm,
                    &response.tbs,
                    signature,
                )
                .is_ok()
        };
        if verifies(issuer) {
            return Ok(issuer.subject.to_string());
        }
        for responder in &response.certs {
            let authorised = responder.issuer == issuer.subject
                && responder.signed_by(issuer).is_ok()
                && responder
                    .extensions
                    .ext_key_usage
                    .as_ref()
                    .is_some_and(|eku| eku.contains(OCSP_SIGNING))
                && (responder.not_before..=responder.not_after).contains(&self.params.time)
                && responder.extensions.defect.is_none()
                && responder.extensions.unknown_critical.is_empty()
                // Its own status is not checked: RFC 6960 §4.2.2.2.1 has the CA vouch
                // for it with id-pkix-ocsp-nocheck, which is required here.
                && responder.extensions.ocsp_no_check;
            if authorised && verifies(responder) {
                return Ok(responder.subject.to_string());
            }
        }
        Err(format!(
            "an OCSP response for a certificate of {} is signed neither by it nor by a responder it authorised",
            issuer.subject
        ))
    }

    /// A usable delta CRL for `base`: same issuer and scope, based on a CRL no newer
    /// than `base`, fresh, and correctly signed.
    fn delta_for(
        &self,
        base: &Crl,
        issuer: &Certificate,
        anchor: &Certificate,
        nesting: usize,
    ) -> Option<&'a Crl> {
        let number = base.number.as_ref()?;
        let usable = self
            .params
            .crls
            .iter()
            .filter(|d| d.is_delta())
            .filter(|d| {
                d.issuer == base.issuer
                    && d.defect.is_none()
                    && d.idp == base.idp
                    && d.delta_base
                        .as_ref()
                        .is_some_and(|b| cmp_numbers(b, number).is_le())
                    && d.number
                        .as_ref()
                        .is_some_and(|dn| cmp_numbers(dn, number).is_gt())
                    && d.unknown_critical.is_empty()
                    && d.this_update <= self.params.time
                    && d.next_update.is_some_and(|n| n >= self.params.time)
                    && self.crl_signer_ok(d, issuer, anchor, nesting).is_ok()
            });
        // The newest delta wins: an older one must not hide a newer revocation.
        usable.max_by(|a, b| {
            cmp_numbers(
                a.number.as_deref().unwrap_or_default(),
                b.number.as_deref().unwrap_or_default(),
            )
        })
    }
}

fn signature_failure(cert: &Certificate, issuer: &Certificate, e: SigError) -> Failure {
    match e {
        SigError::Invalid => Failure::failed(
            SubIndication::SigCryptoFailure,
            format!(
                "the signature on {} does not verify with the key of {}",
                cert.summary(),
                issuer.subject
            ),
        ),
        SigError::Unsupported(why) => Failure::indeterminate(
            SubIndication::CryptoConstraintsFailureNoPoe,
            format!(
                "the signature on {} cannot be checked: {why}",
                cert.summary()
            ),
        ),
    }
}

/// A DNS name against a certificate's dNSName: equal (ignoring case and a final
/// dot), or a `*.` wildcard standing for exactly one left-most label.
fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => name.split_once('.').is_some_and(|(label, rest)| {
            !label.is_empty() && rest == suffix && suffix.contains('.')
        }),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(dns_matches("*.gov.vn", "dichvucong.gov.vn"));
        assert!(!dns_matches("*.gov.vn", "a.b.gov.vn"));
        assert!(!dns_matches("*.gov.vn", "gov.vn"));
        assert!(!dns_matches("*.vn", "gov.vn"));
        assert!(dns_matches("ID.gov.vn.", "id.GOV.vn"));
    }
}
