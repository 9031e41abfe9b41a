//! The time-stamping authority: its tokens verify here and in OpenSSL
//! (`openssl ts -verify`), requests it cannot serve are rejected with the
//! reason, and a certificate that is not a TSA's is refused.

use identity_core::cms::{DigestAlgorithm, VerifyOptions};
use identity_core::keys::{SignatureAlgorithm, SystemRandom};
use identity_core::x509::Certificate;
use identity_core::{TimeStampError, tsp};
use pki::{Profile, TimeStampAuthority};

use super::support::*;

const POLICY: &str = "1.3.6.1.4.1.32473.704.2";

#[test]
fn tokens_verify_here_and_in_openssl() {
    let mut h = Hierarchy::new();
    let tsa_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (issued, ca_der) = h.leaf(Profile::TimeStamping, &tsa_key);
    let tsa = TimeStampAuthority::new(&issued.der, std::slice::from_ref(&ca_der), &tsa_key, POLICY)
        .unwrap();
    let rng = SystemRandom::new();
    let root = Certificate::from_der(&h.root_der).unwrap();
    let data = "Quyết định số 42/QĐ-UBND".as_bytes();

    // Our client's request, our authority's answer, our verifier.
    let request = tsp::request(DigestAlgorithm::Sha256, data, &[7; 12], Some(POLICY)).unwrap();
    let response = tsa.respond(&request, &rng, NOW).unwrap();
    let token = tsp::token_from_response(&response, &request).unwrap();
    let stamp = tsp::verify_token(
        &token,
        data,
        std::slice::from_ref(&root),
        &[],
        &VerifyOptions::at(NOW + 60),
    )
    .unwrap();
    assert_eq!(stamp.time, NOW);
    assert_eq!(stamp.policy, POLICY);
    assert_eq!(stamp.accuracy_ms, Some(1_000));
    let other = tsp::verify_token(
        &token,
        b"another document",
        std::slice::from_ref(&root),
        &[],
        &VerifyOptions::at(NOW + 60),
    )
    .unwrap_err();
    assert!(other.contains("message imprint"), "{other}");
    // An answer to another request is not taken for this one's.
    let again = tsp::request(DigestAlgorithm::Sha256, data, &[8; 12], None).unwrap();
    assert_eq!(
        tsp::token_from_response(&response, &again).unwrap_err(),
        TimeStampError::Mismatch { what: "nonce" }
    );

    // OpenSSL's request, our answer, OpenSSL's verification.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data_path = write(d, "data.txt", data);
    let root_path = write(d, "root.pem", pem("CERTIFICATE", &h.root_der));
    let ca_path = write(d, "ca.pem", pem("CERTIFICATE", &ca_der));
    for (query, certs) in [("with-cert.tsq", "-cert"), ("no-cert.tsq", "-no_nonce")] {
        let query_path = d.join(query).display().to_string();
        let (ok, out) = openssl(&[
            "ts",
            "-query",
            "-data",
            &data_path,
            "-sha256",
            certs,
            "-out",
            &query_path,
        ]);
        assert!(ok, "{out}");
        let answer = tsa
            .respond(&std::fs::read(&query_path).unwrap(), &rng, NOW)
            .unwrap();
        let reply_path = write(d, &format!("{query}.tsr"), &answer);
        let (ok, text) = openssl(&["ts", "-reply", "-in", &reply_path, "-text"]);
        assert!(ok, "{text}");
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(text.contains(POLICY), "{text}");
        assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");
        // Without -cert the token carries no certificate: OpenSSL needs it given.
        let untrusted = if certs == "-cert" {
            ca_path.clone()
        } else {
            write(
                d,
                "chain.pem",
                pem("CERTIFICATE", &issued.der) + &pem("CERTIFICATE", &ca_der),
            )
        };
        let (ok, out) = openssl(&[
            "ts",
            "-verify",
            "-in",
            &reply_path,
            "-queryfile",
            &query_path,
            "-CAfile",
            &root_path,
            "-untrusted",
            &untrusted,
        ]);
        assert!(ok && out.contains("Verification: OK"), "{query}: {out}");
    }
    // A changed document fails OpenSSL's check too.
    let reply_path = d.join("with-cert.tsq.tsr").display().to_string();
    let other_path = write(d, "other.txt", b"another document");
    let (ok, out) = openssl(&[
        "ts",
        "-verify",
        "-in",
        &reply_path,
        "-data",
        &other_path,
        "-CAfile",
        &root_path,
        "-untrusted",
        &ca_path,
    ]);
    assert!(!ok, "{out}");
}

#[test]
fn requests_it_cannot_serve_are_rejected_with_the_reason() {
    let mut h = Hierarchy::new();
    let tsa_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (issued, ca_der) = h.leaf(Profile::TimeStamping, &tsa_key);
    let tsa = TimeStampAuthority::new(&issued.der, &[ca_der], &tsa_key, POLICY).unwrap();
    let rng = SystemRandom::new();
    let refused = |request: &[u8]| {
        let response = tsa.respond(request, &rng, NOW).unwrap();
        let asked = tsp::request(DigestAlgorithm::Sha256, b"x", &[1], None).unwrap();
        match tsp::token_from_response(&response, &asked).unwrap_err() {
            TimeStampError::Refused {
                status,
                text,
                failure,
            } => {
                assert_eq!(status, "rejection");
                assert!(text.is_some_and(|t| !t.is_empty()));
                failure.unwrap()
            }
            other => panic!("expected a refusal, got {other}"),
        }
    };
    assert_eq!(refused(b"not a request"), "badDataFormat");
    let other_policy = tsp::request(DigestAlgorithm::Sha256, b"x", &[1], Some("1.2.3.4")).unwrap();
    assert_eq!(refused(&other_policy), "unacceptedPolicy");

    // SHA-1, as OpenSSL can still ask.
    let dir = tempfile::tempdir().unwrap();
    let data_path = write(dir.path(), "data.txt", b"x");
    let query_path = dir.path().join("sha1.tsq").display().to_string();
    let (ok, out) = openssl(&[
        "ts",
        "-query",
        "-data",
        &data_path,
        "-sha1",
        "-out",
        &query_path,
    ]);
    assert!(ok, "{out}");
    assert_eq!(refused(&std::fs::read(&query_path).unwrap()), "badAlg");
}

#[test]
fn only_a_time_stamping_certificate_and_its_own_key_make_an_authority() {
    let mut h = Hierarchy::new();
    let signing_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (official, _) = h.leaf(Profile::OfficialSigning, &signing_key);
    let err = TimeStampAuthority::new(&official.der, &[], &signing_key, POLICY).unwrap_err();
    assert!(err.to_string().contains("timeStamping alone"), "{err}");
    let tsa_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (issued, _) = h.leaf(Profile::TimeStamping, &tsa_key);
    let err = TimeStampAuthority::new(&issued.der, &[], &signing_key, POLICY).unwrap_err();
    assert!(err.to_string().contains("not the key's"), "{err}");
    let err = TimeStampAuthority::new(&issued.der, &[], &tsa_key, "policy").unwrap_err();
    assert!(
        err.to_string().contains("not an object identifier"),
        "{err}"
    );
}

/// A hierarchy with a time-stamping authority, an official's short-lived
/// certificate (one day), and what revoking it and listing CRLs needs.
struct Stamped {
    h: Hierarchy,
    tsa_key: identity_core::SigningKey,
    tsa_der: Vec<u8>,
    infrastructure_der: Vec<u8>,
    official_key: identity_core::SigningKey,
    official: Certificate,
    official_ca: Certificate,
    official_store: pki::MemoryStore,
}

impl Stamped {
    fn new() -> Self {
        let mut h = Hierarchy::new();
        let tsa_key = key(SignatureAlgorithm::EcdsaP256Sha256);
        let (issued, infrastructure_der) = h.leaf(Profile::TimeStamping, &tsa_key);
        let official_key = key(SignatureAlgorithm::EcdsaP256Sha256);
        let (_, ca_key, ca_der, _) = h
            .cas
            .iter()
            .find(|(p, ..)| *p == Profile::OfficialCa)
            .unwrap();
        let short = pki::CaConfig {
            validity_days: Some(1),
            ..config()
        };
        let ca = pki::Authority::new(ca_der, Profile::OfficialCa, ca_key, short).unwrap();
        let mut official_store = pki::MemoryStore::new();
        let official = ca
            .issue(
                pki::IssueRequest {
                    profile: Profile::OfficialSigning,
                    subject: &subject_for(Profile::OfficialSigning),
                    request: &request(&official_key),
                },
                &mut official_store,
                &SystemRandom::new(),
                NOW,
            )
            .unwrap();
        let official = Certificate::from_der(&official.der).unwrap();
        let official_ca = Certificate::from_der(ca_der).unwrap();
        Self {
            h,
            tsa_key,
            tsa_der: issued.der,
            infrastructure_der,
            official_key,
            official,
            official_ca,
            official_store,
        }
    }

    /// A detached signature over `content`, claiming `signed_at`, no time-stamp.
    fn plain(&self, content: &[u8], signed_at: i64) -> Vec<u8> {
        identity_core::cms::sign(
            content,
            &self.official_key,
            &self.official,
            std::slice::from_ref(&self.official_ca),
            &identity_core::cms::SignOptions::detached(signed_at),
        )
        .unwrap()
    }

    /// The same, stamped at `stamped_at`.
    fn sign(&self, content: &[u8], signed_at: i64, stamped_at: i64) -> Vec<u8> {
        let signature = self.plain(content, signed_at);
        let tokens: Vec<Vec<u8>> = tsp::unstamped_signature_values(&signature)
            .unwrap()
            .iter()
            .map(|value| self.token(value, stamped_at))
            .collect();
        tsp::add_signature_time_stamps(&signature, &tokens).unwrap()
    }

    /// A time-stamp token over `data` at `at`.
    fn token(&self, data: &[u8], at: i64) -> Vec<u8> {
        let tsa = TimeStampAuthority::new(
            &self.tsa_der,
            std::slice::from_ref(&self.infrastructure_der),
            &self.tsa_key,
            POLICY,
        )
        .unwrap();
        let request = tsp::request(DigestAlgorithm::Sha256, data, &[3; 8], None).unwrap();
        let response = tsa.respond(&request, &SystemRandom::new(), at).unwrap();
        tsp::token_from_response(&response, &request).unwrap()
    }

    /// Every CA's CRL at `at` (the officials' CA's lists what was revoked).
    fn crls(&mut self, at: i64) -> Vec<identity_core::x509::Crl> {
        let mut crls = Vec::new();
        let root = pki::Authority::new(&self.h.root_der, Profile::Root, &self.h.root_key, config())
            .unwrap();
        crls.push(root.crl(&mut self.h.root_store, at, 86_400).unwrap());
        for (profile, ca_key, ca_der, store) in &mut self.h.cas {
            let ca = pki::Authority::new(ca_der, *profile, &*ca_key, config()).unwrap();
            let store: &mut dyn pki::CaStore = if *profile == Profile::OfficialCa {
                &mut self.official_store
            } else {
                store
            };
            crls.push(ca.crl(store, at, 86_400).unwrap());
        }
        crls.iter()
            .map(|der| identity_core::x509::Crl::from_der(der).unwrap())
            .collect()
    }

    fn revoke(&mut self, at: i64) {
        let (_, ca_key, ca_der, _) = self
            .h
            .cas
            .iter()
            .find(|(p, ..)| *p == Profile::OfficialCa)
            .unwrap();
        pki::Authority::new(ca_der, Profile::OfficialCa, ca_key, config())
            .unwrap()
            .revoke(
                &mut self.official_store,
                &self.official.serial_hex(),
                "keyCompromise".parse().unwrap(),
                at,
            )
            .unwrap();
    }

    fn verify(
        &self,
        signature: &[u8],
        content: &[u8],
        now: i64,
        crls: &[identity_core::x509::Crl],
    ) -> identity_core::cms::SignerReport {
        let root = Certificate::from_der(&self.h.root_der).unwrap();
        let options = VerifyOptions {
            crls,
            ..VerifyOptions::at(now)
        };
        identity_core::cms::verify(signature, Some(content), &[root], &[], &options)
            .unwrap()
            .remove(0)
    }
}

#[test]
fn a_time_stamp_proves_a_signature_older_than_its_certificate_s_end() {
    use identity_core::report::{Indication, SubIndication};
    let s = Stamped::new();
    let content = b"Cong van so 7";
    let stamped = s.sign(content, NOW + 60, NOW + 120);
    let three_days_later = NOW + 3 * 86_400;
    let report = s.verify(&stamped, content, three_days_later, &[]);
    assert_eq!(
        report.report.indication,
        Indication::TotalPassed,
        "{}",
        report.report
    );
    assert_eq!(report.time_stamp.as_ref().map(|t| t.time), Some(NOW + 120));
    assert!(
        report.report.message.contains("time-stamped at"),
        "{}",
        report.report
    );

    // Without the time-stamp nothing proves it: INDETERMINATE.
    let plain = s.plain(content, NOW + 60);
    let report = s.verify(&plain, content, three_days_later, &[]);
    assert_eq!(
        report.report.sub_indication,
        Some(SubIndication::OutOfBoundsNoPoe)
    );

    // A time-stamp made after the certificate's end proves nothing useful.
    let late = s.sign(content, NOW + 60, NOW + 2 * 86_400);
    let report = s.verify(&late, content, three_days_later, &[]);
    assert_eq!(
        report.report.sub_indication,
        Some(SubIndication::OutOfBoundsNoPoe)
    );

    // A signer claiming a time after the time-stamp is caught.
    let backdated = s.sign(content, NOW + 3_600, NOW + 120);
    let report = s.verify(&backdated, content, NOW + 7_200, &[]);
    assert_eq!(
        report.report.indication,
        Indication::TotalFailed,
        "{}",
        report.report
    );

    // A token over another signature is not put in this one.
    let token = s.token(b"another signature value", NOW + 120);
    assert_eq!(
        tsp::add_signature_time_stamps(&plain, std::slice::from_ref(&token)).unwrap_err(),
        TimeStampError::Mismatch {
            what: "message imprint"
        }
    );
    assert!(
        tsp::unstamped_signature_values(&stamped)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_revocation_before_the_time_stamp_fails_one_after_does_not() {
    use identity_core::report::{Indication, SubIndication};
    let content = b"Quyet dinh so 12";

    // Revoked after the time-stamp: the signature was made while it was good.
    let mut s = Stamped::new();
    let stamped = s.sign(content, NOW + 60, NOW + 120);
    s.revoke(NOW + 500);
    let crls = s.crls(NOW + 600);
    let report = s.verify(&stamped, content, NOW + 700, &crls);
    assert_eq!(
        report.report.indication,
        Indication::TotalPassed,
        "{}",
        report.report
    );
    // Without the time-stamp, the same revocation leaves it open.
    let plain = s.plain(content, NOW + 60);
    let report = s.verify(&plain, content, NOW + 700, &crls);
    assert_eq!(
        report.report.sub_indication,
        Some(SubIndication::RevokedNoPoe)
    );

    // Revoked before the time-stamp: not valid.
    let mut s = Stamped::new();
    let stamped = s.sign(content, NOW + 60, NOW + 120);
    s.revoke(NOW + 90);
    let crls = s.crls(NOW + 600);
    let report = s.verify(&stamped, content, NOW + 700, &crls);
    assert!(!report.report.passed(), "{}", report.report);
    assert_eq!(
        report.report.sub_indication,
        Some(SubIndication::RevokedNoPoe)
    );
}
