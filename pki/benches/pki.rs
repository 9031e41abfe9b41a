//! Benchmarks of the CA.
//! Certificates issued per second, and path validations per second of a
//! 3-certificate chain against a CRL of 10,000 entries.
//!
//! `cargo bench -p pki`

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark set-up")]

use criterion::{Criterion, criterion_group, criterion_main};
use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::x509::{Certificate, CertificationRequest, Crl, ValidationParams, validate};
use identity_core::{Citizen, Official};
use pki::{
    Authority, CaConfig, CaStore, IssueRequest, IssuedRecord, MemoryStore, Profile,
    RevocationRecord, Subject,
};
use std::hint::black_box;

const NOW: i64 = 1_795_910_400;

fn authority_subject(name: &str) -> Subject {
    Subject::Authority {
        name: name.into(),
        organization: "Benchmark".into(),
    }
}

fn benches(c: &mut Criterion) {
    let rng = SystemRandom::new();
    for root_alg in [
        SignatureAlgorithm::EcdsaP384Sha384,
        SignatureAlgorithm::EcdsaP256Sha256,
    ] {
        let label = if root_alg == SignatureAlgorithm::EcdsaP384Sha384 {
            "p384_root"
        } else {
            "p256_root"
        };
        let root_key = SigningKey::generate(root_alg, &rng).unwrap();
        let root_der =
            Authority::self_signed_root(&authority_subject("Root"), &root_key, &rng, NOW - 86_400)
                .unwrap();
        let root =
            Authority::new(&root_der, Profile::Root, &root_key, CaConfig::default()).unwrap();
        let mut root_store = MemoryStore::new();
        let ca_key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng).unwrap();
        let ca_csr =
            CertificationRequest::from_der(&pki::certification_request(&ca_key, "ca").unwrap())
                .unwrap();
        let ca_subject = authority_subject("Officials CA");
        let ca_der = root
            .issue(
                IssueRequest {
                    profile: Profile::OfficialCa,
                    subject: &ca_subject,
                    request: &ca_csr,
                },
                &mut root_store,
                &rng,
                NOW - 3_600,
            )
            .unwrap()
            .der;
        let config = CaConfig {
            crl_url: Some("http://pki.example/crl".into()),
            ..CaConfig::default()
        };
        let ca = Authority::new(&ca_der, Profile::OfficialCa, &ca_key, config).unwrap();
        let leaf_key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng).unwrap();
        let csr =
            CertificationRequest::from_der(&pki::certification_request(&leaf_key, "leaf").unwrap())
                .unwrap();
        let subject = Subject::Official(
            Official::new(
                Citizen::new("Nguyễn Văn An", "001090012345".parse().unwrap(), None).unwrap(),
                "Bộ Tư pháp",
                "Chuyên viên",
            )
            .unwrap(),
        );

        if root_alg == SignatureAlgorithm::EcdsaP384Sha384 {
            let mut store = MemoryStore::new();
            c.bench_function("issue_official_certificate", |b| {
                b.iter(|| {
                    ca.issue(
                        IssueRequest {
                            profile: Profile::OfficialSigning,
                            subject: &subject,
                            request: &csr,
                        },
                        &mut store,
                        &rng,
                        NOW,
                    )
                    .unwrap()
                })
            });
        }

        // A CRL with 10,000 revoked serials, the leaf not among them.
        let mut store = MemoryStore::new();
        let leaf_der = ca
            .issue(
                IssueRequest {
                    profile: Profile::OfficialSigning,
                    subject: &subject,
                    request: &csr,
                },
                &mut store,
                &rng,
                NOW,
            )
            .unwrap()
            .der;
        for i in 0..10_000u32 {
            let serial = format!("7f{i:08x}");
            store
                .record_issued(IssuedRecord {
                    serial: serial.clone(),
                    profile: "official-signing".into(),
                    subject: String::new(),
                    issued_at: NOW,
                    not_after: NOW + 1,
                    der: Vec::new(),
                })
                .unwrap();
            store
                .record_revocation(RevocationRecord {
                    serial,
                    time: NOW,
                    reason: 1,
                })
                .unwrap();
        }
        let crl = Crl::from_der(&ca.crl(&mut store, NOW + 10, 86_400).unwrap()).unwrap();
        assert_eq!(crl.len(), 10_000);
        let root_crl =
            Crl::from_der(&root.crl(&mut root_store, NOW + 10, 86_400).unwrap()).unwrap();
        let crls = [root_crl, crl];
        let leaf = Certificate::from_der(&leaf_der).unwrap();
        let intermediates = [Certificate::from_der(&ca_der).unwrap()];
        let anchors = [Certificate::from_der(&root_der).unwrap()];
        let mut params = ValidationParams::new(NOW + 60);
        params.crls = &crls;
        assert!(validate(&leaf, &intermediates, &anchors, &params).passed());
        // Warm: the validator keeps its anchors, intermediates and CRLs loaded, so their
        // signatures are verified once; each validation verifies the leaf's.
        c.bench_function(&format!("validate_3_chain_crl_10000_{label}_warm"), |b| {
            b.iter(|| {
                let leaf = Certificate::from_der(black_box(&leaf_der)).unwrap();
                let report = validate(&leaf, &intermediates, &anchors, &params);
                assert!(report.passed());
            })
        });
        // Cold: every certificate parsed and every signature verified again (the CRLs,
        // once loaded, keep their verified signature).
        c.bench_function(&format!("validate_3_chain_crl_10000_{label}_cold"), |b| {
            b.iter(|| {
                let leaf = Certificate::from_der(black_box(&leaf_der)).unwrap();
                let intermediates = [Certificate::from_der(&ca_der).unwrap()];
                let anchors = [Certificate::from_der(&root_der).unwrap()];
                let report = validate(&leaf, &intermediates, &anchors, &params);
                assert!(report.passed());
            })
        });
    }
}

criterion_group!(pki_benches, benches);
criterion_main!(pki_benches);
