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
