//! A hierarchy issued here, judged by identity-core's validator and by OpenSSL.

use identity_core::keys::{SignatureAlgorithm, SystemRandom};
use identity_core::report::{Indication, SubIndication};
use identity_core::x509::{
    Certificate, CertificationRequest, Crl, Purpose, ValidationParams, validate,
};
use pki::{Authority, CaConfig, CaStore, Error, IssueRequest, MemoryStore, Profile, Reason};

use super::support::*;

fn purpose(profile: Profile) -> Purpose {
    match profile {
        Profile::Citizen | Profile::Business | Profile::OfficialSigning => Purpose::DocumentSigning,
        Profile::OcspResponder => Purpose::OcspSigning,
        Profile::TimeStamping => Purpose::TimeStamping,
        Profile::TlsServer => Purpose::ServerAuth,
        _ => Purpose::Any,
    }
}

#[test]
fn every_profile_validates_here_and_in_openssl() {
    let mut h = Hierarchy::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root_path = write(d, "root.pem", pem("CERTIFICATE", &h.root_der));
    let root = Certificate::from_der(&h.root_der).unwrap();
    for profile in [
        Profile::Citizen,
        Profile::Business,
        Profile::OfficialSigning,
        Profile::OcspResponder,
        Profile::TimeStamping,
        Profile::TlsServer,
    ] {
        let leaf_key = key(SignatureAlgorithm::EcdsaP256Sha256);
        let (issued, ca_der) = h.leaf(profile, &leaf_key);
        let leaf = Certificate::from_der(&issued.der).unwrap();
        let ca = Certificate::from_der(&ca_der).unwrap();
        assert_eq!(
            leaf.public_key_der(),
            leaf_key.verifying_key().to_spki_der()
        );

        let mut params = ValidationParams::new(NOW + 60);
        params.purpose = purpose(profile);
        if profile == Profile::TlsServer {
            params.dns_name = Some("id.example.gov.vn".into());
        }
        params.policy.initial_policy_set = config().policy_oids;
        params.policy.explicit_policy = true;
        let report = validate(&leaf, &[ca], std::slice::from_ref(&root), &params);
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "{profile}: {report}"
        );
        assert_eq!(report.path.len(), 3);
        assert_eq!(report.policies, config().policy_oids);

        let leaf_path = write(d, "leaf.pem", pem("CERTIFICATE", &issued.der));
        let ca_path = write(d, "ca.pem", pem("CERTIFICATE", &ca_der));
        let (ok, out) = openssl(&[
            "verify",
            "-x509_strict",
            "-policy_check",
            "-CAfile",
            &root_path,
            "-untrusted",
            &ca_path,
            &leaf_path,
        ]);
        assert!(ok, "OpenSSL refused the {profile} chain: {out}");
        let openssl_purpose = match profile {
            Profile::TlsServer => Some("sslserver"),
            Profile::TimeStamping => Some("timestampsign"),
            _ => None,
        };
        if let Some(p) = openssl_purpose {
            let (ok, out) = openssl(&[
                "verify",
                "-x509_strict",
                "-purpose",
                p,
                "-CAfile",
                &root_path,
                "-untrusted",
                &ca_path,
                &leaf_path,
            ]);
            assert!(ok, "OpenSSL refused the {profile} chain for {p}: {out}");
        }
    }
}

#[test]
fn subjects_follow_the_vietnamese_convention() {
    let mut h = Hierarchy::new();
    let dir = tempfile::tempdir().unwrap();
    let leaf_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (issued, _) = h.leaf(Profile::OfficialSigning, &leaf_key);
    let path = write(dir.path(), "leaf.pem", pem("CERTIFICATE", &issued.der));
    let (ok, text) = openssl(&[
        "x509",
        "-in",
        &path,
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253,utf8,-esc_msb",
        "-text",
    ]);
    assert!(ok, "{text}");
    for expected in [
        "CN=Nguyễn Thị Hoa",
        "UID=CCCD:079190012345",
        "O=Sở Tư pháp TP. Hồ Chí Minh",
        "title=Phó Giám đốc",
        "C=VN",
        "Non Repudiation",
        "URI:http://pki.example.gov.vn/crl/officials.crl",
        "OCSP - URI:http://pki.example.gov.vn/ocsp",
        "CA Issuers - URI:http://pki.example.gov.vn/ca/officials.crt",
        "Policy: 1.3.6.1.4.1.32473.704.1",
        "CA:FALSE",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // OpenSSL 3.0 predates the name of id-kp-documentSigning (RFC 9336).
    assert!(
        text.contains("Document Signing") || text.contains("1.3.6.1.5.5.7.3.36"),
        "{text}"
    );
    // The serial is 128 random bits (16 bytes, or 17 with a leading zero).
    let leaf = Certificate::from_der(&issued.der).unwrap();
    assert!(
        (30..=32).contains(&leaf.serial_hex().len()),
        "{}",
        leaf.serial_hex()
    );
    let (_, text) = openssl(&[
        "x509",
        "-in",
        &write(dir.path(), "ca.pem", pem("CERTIFICATE", &h.root_der)),
        "-noout",
        "-text",
    ]);
    assert!(
        text.contains("NIST CURVE: P-384") && text.contains("pathlen:1"),
        "{text}"
    );

    let (issued, _) = h.leaf(Profile::TimeStamping, &leaf_key);
    let path = write(dir.path(), "tsa.pem", pem("CERTIFICATE", &issued.der));
    let (_, text) = openssl(&["x509", "-in", &path, "-noout", "-ext", "extendedKeyUsage"]);
    assert!(
        text.contains("critical") && text.contains("Time Stamping"),
        "{text}"
    );
}

#[test]
fn revocation_reaches_openssl_and_our_validator() {
    let mut h = Hierarchy::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let leaf_key = key(SignatureAlgorithm::EcdsaP256Sha256);
    let (issued, ca_der) = h.leaf(Profile::OfficialSigning, &leaf_key);
    let (ca_profile, ca_key, _, store) = h
        .cas
        .iter_mut()
        .find(|(p, ..)| *p == Profile::OfficialCa)
        .unwrap();
    let ca = Authority::new(&ca_der, *ca_profile, &*ca_key, config()).unwrap();

    // Before revocation: a CRL naming nothing.
    let root = Authority::new(&h.root_der, Profile::Root, &h.root_key, config()).unwrap();
    let root_crl = root.crl(&mut h.root_store, NOW, 7 * 86_400).unwrap();
    let empty = ca.crl(store, NOW, 86_400).unwrap();
    let leaf = Certificate::from_der(&issued.der).unwrap();
    let intermediates = [Certificate::from_der(&ca_der).unwrap()];
    let anchors = [Certificate::from_der(&h.root_der).unwrap()];
    let crls = [
        Crl::from_der(&root_crl).unwrap(),
        Crl::from_der(&empty).unwrap(),
    ];
    let mut params = ValidationParams::new(NOW + 60);
    params.crls = &crls;
    let report = validate(&leaf, &intermediates, &anchors, &params);
    assert_eq!(report.indication, Indication::TotalPassed, "{report}");

    let serial = leaf.serial_hex();
    ca.revoke(
        store,
        &serial.to_uppercase(),
        "keyCompromise".parse::<Reason>().unwrap(),
        NOW + 100,
    )
    .unwrap();
    assert!(matches!(
        ca.revoke(store, &serial, "superseded".parse().unwrap(), NOW + 200),
        Err(Error::AlreadyRevoked { .. })
    ));
    assert!(matches!(
        ca.revoke(store, "abcdef", "superseded".parse().unwrap(), NOW + 200),
        Err(Error::UnknownSerial { .. })
    ));
    let crl_der = ca.crl(store, NOW + 300, 86_400).unwrap();

    let crl_path = write(d, "ca.crl", pem("X509 CRL", &crl_der));
    let ca_path = write(d, "ca.pem", pem("CERTIFICATE", &ca_der));
    let root_path = write(d, "root.pem", pem("CERTIFICATE", &h.root_der));
    let root_crl_path = write(d, "root.crl", pem("X509 CRL", &root_crl));
    let leaf_path = write(d, "leaf.pem", pem("CERTIFICATE", &issued.der));
    let (ok, out) = openssl(&[
        "crl", "-in", &crl_path, "-CAfile", &ca_path, "-noout", "-verify", "-text",
    ]);
    assert!(ok && out.contains("verify OK"), "{out}");
    assert!(
        out.contains("Key Compromise") && out.contains("X509v3 CRL Number: \n                2"),
        "{out}"
    );
    let (ok, out) = openssl(&[
        "verify",
        "-crl_check_all",
        "-CAfile",
        &root_path,
        "-untrusted",
        &ca_path,
        "-CRLfile",
        &crl_path,
        "-CRLfile",
        &root_crl_path,
        &leaf_path,
    ]);
    assert!(!ok && out.contains("certificate revoked"), "{out}");

    let crls = [
        Crl::from_der(&root_crl).unwrap(),
        Crl::from_der(&crl_der).unwrap(),
    ];
    let mut params = ValidationParams::new(NOW + 400);
    params.crls = &crls;
    let report = validate(&leaf, &intermediates, &anchors, &params);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::RevokedNoPoe),
        "{report}"
    );
    // Before the revocation time the certificate was good.
    params.time = NOW + 50;
    let report = validate(&leaf, &intermediates, &anchors, &params);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::TryLater),
        "the newer CRL was not yet issued then: {report}"
    );
}

#[test]
fn bad_requests_issue_nothing() {
    let h = Hierarchy::new();
    let (ca_profile, ca_key, ca_der, _) = h
        .cas
        .iter()
        .find(|(p, ..)| *p == Profile::CitizenCa)
        .unwrap();
    let ca = Authority::new(ca_der, *ca_profile, ca_key, config()).unwrap();
    let mut store = MemoryStore::new();
    let rng = SystemRandom::new();

    // A request whose key was swapped for another: no proof of possession.
    let a = key(SignatureAlgorithm::EcdsaP256Sha256);
    let b = key(SignatureAlgorithm::EcdsaP256Sha256);
    let mut der = pki::certification_request(&a, "x").unwrap();
    let a_point = a.verifying_key().as_bytes().to_vec();
    let at = der
        .windows(a_point.len())
        .position(|w| w == a_point)
        .unwrap();
    der[at..at + a_point.len()].copy_from_slice(b.verifying_key().as_bytes());
    assert_eq!(
        CertificationRequest::from_der(&der).unwrap_err(),
        identity_core::CertificateError::ProofOfPossession
    );
    // Malformed DER and truncated PEM.
    assert!(CertificationRequest::from_der(&der[..der.len() - 3]).is_err());
    let text = pem("CERTIFICATE REQUEST", &der);
    let truncated = &text[..text.len() - 30];
    let err = CertificationRequest::from_pem_or_der(truncated.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("PEM"), "{err}");
    // An unknown profile names the known ones.
    let err = "citizen-seal".parse::<Profile>().unwrap_err();
    assert!(err.to_string().contains("official-signing"), "{err}");
    // A profile this CA does not issue, and an identity of the wrong kind.
    let subject = subject_for(Profile::Citizen);
    let req = request(&a);
    let err = ca.issue(
        IssueRequest {
            profile: Profile::OfficialSigning,
            subject: &subject,
            request: &req,
        },
        &mut store,
        &rng,
        NOW,
    );
    assert!(matches!(err, Err(Error::ProfileMismatch { .. })), "{err:?}");
    let business = subject_for(Profile::Business);
    let err = ca.issue(
        IssueRequest {
            profile: Profile::Citizen,
            subject: &business,
            request: &req,
        },
        &mut store,
        &rng,
        NOW,
    );
    assert!(matches!(err, Err(Error::ProfileMismatch { .. })), "{err:?}");
    assert_eq!(store.issued_count(), 0);
    assert!(store.revocations().unwrap().is_empty());
}

#[test]
fn weak_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("rsa1024.pem").display().to_string();
    let csr_path = dir.path().join("rsa1024.csr").display().to_string();
    let (ok, out) = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        &key_path,
    ]);
    assert!(ok, "{out}");
    let (ok, out) = openssl(&[
        "req", "-new", "-key", &key_path, "-subj", "/CN=weak", "-outform", "DER", "-out", &csr_path,
    ]);
    assert!(ok, "{out}");
    let err = CertificationRequest::from_der(&std::fs::read(&csr_path).unwrap()).unwrap_err();
    assert!(err.to_string().contains("RSA-1024"), "{err}");
    // RSA-2048 from OpenSSL is accepted.
    let (ok, out) = openssl(&[
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", &key_path, "-subj", "/CN=ok",
        "-outform", "DER", "-out", &csr_path,
    ]);
    assert!(ok, "{out}");
    let csr = CertificationRequest::from_der(&std::fs::read(&csr_path).unwrap()).unwrap();
    assert_eq!(csr.public_key_description(), "RSA-2048");
}

#[test]
fn an_issuing_ca_comes_with_its_responder_and_a_deployment_may_shorten_validity() {
    let rng = SystemRandom::new();
    let root_key = key(SignatureAlgorithm::EcdsaP384Sha384);
    let root_der =
        Authority::self_signed_root(&subject_for(Profile::Root), &root_key, &rng, NOW - 86_400)
            .unwrap();
    let root = Authority::new(&root_der, Profile::Root, &root_key, config()).unwrap();
    let mut root_store = MemoryStore::new();
    let config = CaConfig {
        validity_days: Some(30),
        ..config()
    };
    let made = pki::IssuingCa::make(
        &root,
        &mut root_store,
        Profile::OfficialCa,
        "Officials Signing CA",
        "Cơ quan Chứng thực",
        config.clone(),
        &rng,
        NOW - 3_600,
    )
    .unwrap();
    assert_eq!(root_store.issued_count(), 1);
    assert_eq!(
        made.records.issued_count(),
        1,
        "the responder's certificate"
    );
    // The responder answers for the CA (Responder::new checks issuer, purpose, key).
    pki::Responder::new(
        &made.certificate,
        &made.responder_certificate,
        &made.responder_key,
    )
    .unwrap();
    // Its certificates live the deployment's days, never more than the profile's.
    let lifetime = |config: CaConfig| {
        let ca = Authority::new(&made.certificate, Profile::OfficialCa, &made.key, config).unwrap();
        let leaf = ca
            .issue(
                IssueRequest {
                    profile: Profile::OfficialSigning,
                    subject: &subject_for(Profile::OfficialSigning),
                    request: &request(&key(SignatureAlgorithm::EcdsaP256Sha256)),
                },
                &mut MemoryStore::new(),
                &rng,
                NOW,
            )
            .unwrap();
        let leaf = identity_core::x509::Certificate::from_der(&leaf.der).unwrap();
        leaf.not_after() - leaf.not_before()
    };
    assert_eq!(lifetime(config), 30 * 86_400);
    assert_eq!(
        lifetime(CaConfig {
            validity_days: Some(100_000),
            ..CaConfig::default()
        }),
        i64::from(Profile::OfficialSigning.spec().validity_days) * 86_400
    );
}
