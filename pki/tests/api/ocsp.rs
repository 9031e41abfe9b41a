//! The OCSP responder, checked by OpenSSL's client and by identity-core's validator.

use der::Decode as _;
use identity_core::keys::{SignatureAlgorithm, SystemRandom};
use identity_core::report::{Indication, SubIndication};
use identity_core::x509::{Certificate, Crl, OcspResponseInfo, ValidationParams, validate};
use pki::{Authority, CertState, IssueRequest, OcspQuery, Profile, Responder};

use super::support::*;

struct Setup {
    dir: tempfile::TempDir,
    h: Hierarchy,
    leaf_der: Vec<u8>,
    ca_der: Vec<u8>,
    responder_key: identity_core::keys::SigningKey,
    responder_der: Vec<u8>,
}

fn setup() -> Setup {
    let mut h = Hierarchy::new();
    let leaf_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (issued, ca_der) = h.leaf(Profile::OfficialSigning, &leaf_key);
    let responder_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (ca_profile, ca_key, _, store) = h
        .cas
        .iter_mut()
        .find(|(p, ..)| *p == Profile::OfficialCa)
        .unwrap();
    let ca = Authority::new(&ca_der, *ca_profile, &*ca_key, config()).unwrap();
    let subject = subject_for(Profile::OcspResponder);
    let responder = ca
        .issue(
            IssueRequest {
                profile: Profile::OcspResponder,
                subject: &subject,
                request: &request(&responder_key),
            },
            store,
            &SystemRandom::new(),
            NOW - 60,
        )
        .unwrap();
    Setup {
        dir: tempfile::tempdir().unwrap(),
        h,
        leaf_der: issued.der,
        ca_der,
        responder_key,
        responder_der: responder.der,
    }
}

impl Setup {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// An OCSP request made by OpenSSL's client for the leaf.
    fn openssl_request(&self, nonce: bool) -> Vec<u8> {
        let leaf = write(
            self.dir.path(),
            "leaf.pem",
            pem("CERTIFICATE", &self.leaf_der),
        );
        let ca = write(self.dir.path(), "ca.pem", pem("CERTIFICATE", &self.ca_der));
        let req = self.path("req.der");
        let mut args = vec!["ocsp", "-issuer", &ca, "-cert", &leaf];
        if !nonce {
            args.push("-no_nonce");
        }
        args.extend(["-reqout", &req]);
        let (ok, out) = openssl(&args);
        assert!(ok, "{out}");
        std::fs::read(&req).unwrap()
    }

    /// OpenSSL's client checks a response against the request (nonce included).
    fn openssl_check(&self, response: &[u8]) -> (bool, String) {
        write(self.dir.path(), "resp.der", response);
        write(
            self.dir.path(),
            "root.pem",
            pem("CERTIFICATE", &self.h.root_der),
        );
        openssl(&[
            "ocsp",
            "-reqin",
            &self.path("req.der"),
            "-respin",
            &self.path("resp.der"),
            "-CAfile",
            &self.path("root.pem"),
            "-verify_other",
            &self.path("ca.pem"),
            "-resp_text",
        ])
    }

    fn validate_with(&self, response: &[u8]) -> identity_core::report::ValidationReport {
        self.validate_with_crls(response, Vec::new())
    }

    fn validate_with_crls(
        &self,
        response: &[u8],
        mut crls: Vec<Crl>,
    ) -> identity_core::report::ValidationReport {
        let root =
            Authority::new(&self.h.root_der, Profile::Root, &self.h.root_key, config()).unwrap();
        let mut root_store = self.h.root_store.clone();
        let root_crl = Crl::from_der(&root.crl(&mut root_store, NOW, 86_400).unwrap()).unwrap();
        let ocsp = [OcspResponseInfo::from_der(response).unwrap()];
        crls.push(root_crl);
        let mut params = ValidationParams::new(NOW + 120);
        params.crls = &crls;
        params.ocsp = &ocsp;
        let leaf = Certificate::from_der(&self.leaf_der).unwrap();
        validate(
            &leaf,
            &[Certificate::from_der(&self.ca_der).unwrap()],
            &[Certificate::from_der(&self.h.root_der).unwrap()],
            &params,
        )
    }
}

#[test]
fn good_and_revoked_answers_satisfy_openssl_and_our_validator() {
    let s = setup();
    let responder = Responder::new(&s.ca_der, &s.responder_der, &s.responder_key).unwrap();
    let query = OcspQuery::from_der(&s.openssl_request(true)).unwrap();
    assert!(query.has_nonce());
    assert!(responder.answers(&query, 0));
    let leaf = Certificate::from_der(&s.leaf_der).unwrap();
    assert_eq!(query.serial(0).unwrap(), leaf.serial_hex());

    let good = responder
        .respond(&query, &[CertState::Good], NOW + 60, 3_600)
        .unwrap();
    let (ok, out) = s.openssl_check(&good);
    assert!(
        ok && out.contains("Response verify OK") && out.contains("Cert Status: good"),
        "{out}"
    );
    // The request's nonce is echoed.
    let request_nonce = {
        let req =
            identity_core::x509::OcspRequest::from_der(&std::fs::read(s.path("req.der")).unwrap())
                .unwrap();
        req.tbs_request.request_extensions.unwrap()[0]
            .extn_value
            .as_bytes()
            .to_vec()
    };
    assert_eq!(
        OcspResponseInfo::from_der(&good).unwrap().nonce().unwrap(),
        request_nonce[2..]
    );
    let report = s.validate_with(&good);
    assert_eq!(report.indication, Indication::TotalPassed, "{report}");
    assert!(
        matches!(&report.path[0].revocation, identity_core::report::RevocationStatus::Good { source } if source.contains("OCSP"))
    );

    let revoked = responder
        .respond(
            &query,
            &[CertState::Revoked {
                time: NOW + 30,
                reason: 1,
            }],
            NOW + 60,
            3_600,
        )
        .unwrap();
    let (ok, out) = s.openssl_check(&revoked);
    assert!(
        ok && out.contains("Cert Status: revoked") && out.contains("keyCompromise"),
        "{out}"
    );
    let report = s.validate_with(&revoked);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::RevokedNoPoe),
        "{report}"
    );

    let unknown = responder
        .respond(&query, &[CertState::Unknown], NOW + 60, 3_600)
        .unwrap();
    let report = s.validate_with(&unknown);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::TryLater),
        "{report}"
    );
}

#[test]
fn forged_stale_and_unauthorised_answers_are_not_trusted() {
    let s = setup();
    let query = OcspQuery::from_der(&s.openssl_request(false)).unwrap();
    let responder = Responder::new(&s.ca_der, &s.responder_der, &s.responder_key).unwrap();
    let mut tampered = responder
        .respond(&query, &[CertState::Good], NOW + 60, 3_600)
        .unwrap();
    // One bit of the signed response data (a digit of producedAt, the first
    // GeneralizedTime), then one bit near the end (in the responder's own
    // certificate): both are refused, by OpenSSL and by us.
    let untouched = tampered.clone();
    let produced_at = untouched
        .windows(2)
        .position(|w| w == [0x18, 0x0f])
        .expect("a GeneralizedTime in the response");
    tampered[produced_at + 2 + 13] ^= 1;
    let (ok, out) = s.openssl_check(&tampered);
    assert!(!ok || !out.contains("Response verify OK"), "{out}");
    assert_eq!(
        s.validate_with(&tampered).sub_indication,
        Some(SubIndication::TryLater)
    );
    let mut tampered = untouched;
    let at = tampered.len() - 5;
    tampered[at] ^= 1;
    let (ok, out) = s.openssl_check(&tampered);
    assert!(!ok || !out.contains("Response verify OK"), "{out}");
    assert_eq!(
        s.validate_with(&tampered).sub_indication,
        Some(SubIndication::TryLater)
    );

    // Made at NOW - 30 and valid for a minute: stale when validating at NOW + 120.
    let stale = responder
        .respond(&query, &[CertState::Good], NOW - 30, 60)
        .unwrap();
    // A responder whose certificate is not valid yet refuses to answer.
    assert!(
        responder
            .respond(&query, &[CertState::Good], NOW - 7_200, 3_600)
            .is_err()
    );
    let report = s.validate_with(&stale);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::TryLater),
        "{report}"
    );
    assert!(report.message.contains("stale"), "{report}");

    // A responder certificate from another CA is not authorised for this one.
    let mut h2 = Hierarchy::new();
    let stranger_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (stranger, stranger_ca) = h2.leaf(Profile::OcspResponder, &stranger_key);
    let foreign = Responder::new(&stranger_ca, &stranger.der, &stranger_key).unwrap();
    assert!(!foreign.answers(&query, 0));
    assert!(Responder::new(&s.ca_der, &stranger.der, &stranger_key).is_err());
    // Even forced to answer "good", a foreign responder's word does not count.
    let forced = foreign
        .respond(&query, &[CertState::Good], NOW + 60, 3_600)
        .unwrap();
    assert_eq!(
        s.validate_with(&forced).sub_indication,
        Some(SubIndication::TryLater)
    );

    // Malformed requests are refused with a reason.
    assert!(OcspQuery::from_der(b"\x30\x03\x02\x01\x01").is_err());
    // OCSPResponse { responseStatus malformedRequest (1) }, no responseBytes.
    assert_eq!(
        pki::malformed_request_response(),
        [0x30, 0x03, 0x0a, 0x01, 0x01]
    );
}

#[test]
fn a_crl_revocation_beats_a_stale_minded_good_answer() {
    let mut s = setup();
    let responder = Responder::new(&s.ca_der, &s.responder_der, &s.responder_key).unwrap();
    let query = OcspQuery::from_der(&s.openssl_request(false)).unwrap();
    let good = responder
        .respond(&query, &[CertState::Good], NOW + 60, 86_400)
        .unwrap();
    // The CA revoked the certificate after the responder said "good".
    let leaf = Certificate::from_der(&s.leaf_der).unwrap();
    let (ca_profile, ca_key, ca_der, store) =
        s.h.cas
            .iter_mut()
            .find(|(p, ..)| *p == Profile::OfficialCa)
            .unwrap();
    let ca = Authority::new(ca_der, *ca_profile, &*ca_key, config()).unwrap();
    ca.revoke(
        store,
        &leaf.serial_hex(),
        "keyCompromise".parse().unwrap(),
        NOW + 90,
    )
    .unwrap();
    let crl = Crl::from_der(&ca.crl(store, NOW + 100, 86_400).unwrap()).unwrap();
    let report = s.validate_with_crls(&good, vec![crl]);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::RevokedNoPoe),
        "{report}"
    );
}

#[test]
fn a_client_finds_where_to_ask_and_asks_as_openssl_would() {
    let s = setup();
    let leaf = Certificate::from_der(&s.leaf_der).unwrap();
    let ca = Certificate::from_der(&s.ca_der).unwrap();
    // The URLs the CA's configuration put in the certificate.
    assert_eq!(leaf.ocsp_urls(), ["http://pki.example.gov.vn/ocsp"]);
    assert_eq!(
        leaf.crl_urls(),
        ["http://pki.example.gov.vn/crl/officials.crl"]
    );
    assert_eq!(
        leaf.ca_issuers_urls(),
        ["http://pki.example.gov.vn/ca/officials.crt"]
    );
    // Our request is OpenSSL's request (without a nonce, byte for byte), and a
    // nonce is carried to the answer.
    let ours = identity_core::x509::ocsp_request_der(&leaf, &ca, None).unwrap();
    assert_eq!(ours, s.openssl_request(false));
    let with_nonce = identity_core::x509::ocsp_request_der(&leaf, &ca, Some(&[7; 16])).unwrap();
    let query = OcspQuery::from_der(&with_nonce).unwrap();
    assert!(query.has_nonce());
    assert_eq!(query.serial(0), Some(leaf.serial_hex()));
    let responder = Responder::new(&s.ca_der, &s.responder_der, &s.responder_key).unwrap();
    let answer = responder
        .respond(&query, &[CertState::Good], NOW, 3_600)
        .unwrap();
    assert_eq!(
        OcspResponseInfo::from_der(&answer).unwrap().nonce(),
        Some(vec![7; 16])
    );
    assert!(identity_core::x509::ocsp_request_der(&leaf, &ca, Some(&[0; 33])).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// What we build reads back: a request with any allowed nonce is the same
    /// request to our responder, whose answer carries the nonce back; a CRL of
    /// any revocations lists each of them once.
    #[test]
    fn requests_answers_and_crls_read_back(
        nonce in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..=32),
        revocations in proptest::collection::btree_map(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 1..=20),
            proptest::prop_oneof![
                proptest::prelude::Just("unspecified"),
                proptest::prelude::Just("keyCompromise"),
                proptest::prelude::Just("superseded"),
                proptest::prelude::Just("privilegeWithdrawn"),
            ],
            0..12,
        ),
    ) {
        static SETUP: std::sync::OnceLock<Setup> = std::sync::OnceLock::new();
        let s = SETUP.get_or_init(setup);
        let leaf = Certificate::from_der(&s.leaf_der).unwrap();
        let ca_cert = Certificate::from_der(&s.ca_der).unwrap();
        let request = identity_core::x509::ocsp_request_der(&leaf, &ca_cert, Some(&nonce)).unwrap();
        let query = OcspQuery::from_der(&request).unwrap();
        proptest::prop_assert_eq!(query.serial(0), Some(leaf.serial_hex()));
        let responder = Responder::new(&s.ca_der, &s.responder_der, &s.responder_key).unwrap();
        let answer = responder.respond(&query, &[CertState::Good], NOW, 3_600).unwrap();
        proptest::prop_assert_eq!(OcspResponseInfo::from_der(&answer).unwrap().nonce(), Some(nonce));

        // A CRL of these revocations (serials as a CA would have them: positive, canonical).
        let (ca_profile, ca_key) = s
            .h
            .cas
            .iter()
            .find(|(p, ..)| *p == Profile::OfficialCa)
            .map(|(p, k, ..)| (*p, k))
            .unwrap();
        let ca = Authority::new(&s.ca_der, ca_profile, ca_key, config()).unwrap();
        let mut store = pki::MemoryStore::new();
        let mut listed = std::collections::BTreeSet::new();
        for (serial, reason) in &revocations {
            let mut serial = serial.clone();
            serial[0] |= 0x01; // not all zero
            serial[0] &= 0x7f; // positive
            let text = pki::serial_text(&serial);
            if !listed.insert(text.clone()) {
                continue;
            }
            pki::CaStore::record_issued(&mut store, pki::IssuedRecord {
                serial: text.clone(),
                profile: "official-signing".into(),
                subject: "CN=x".into(),
                issued_at: NOW,
                not_after: NOW + 1,
                der: vec![],
            }).unwrap();
            ca.revoke(&mut store, &text, reason.parse().unwrap(), NOW).unwrap();
        }
        let crl = Crl::from_der(&ca.crl(&mut store, NOW, 86_400).unwrap()).unwrap();
        proptest::prop_assert_eq!(crl.len(), listed.len());
    }
}
