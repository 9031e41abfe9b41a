#![no_main]
//! Time-stamps (RFC 3161): any request as the authority reads it (its answer
//! must read back, and a granted one must answer that request); any answer as a
//! client reads it against a fixed request; any token as a verifier reads it;
//! any signature as `sign --tsa` and `verify --online` read it.

use std::sync::OnceLock;

use identity_core::cms::{DigestAlgorithm, VerifyOptions};
use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::x509::{Certificate, CertificationRequest};
use identity_core::{TimeStampError, tsp};
use pki::{Authority, CaConfig, IssueRequest, MemoryStore, Profile, Subject, TimeStampAuthority};

const NOW: i64 = 1_764_000_000;
const POLICY: &str = "1.3.6.1.4.1.32473.704.2";

struct Setup {
    root: Certificate,
    tsa_key: SigningKey,
    tsa_der: Vec<u8>,
    ca_der: Vec<u8>,
    request: Vec<u8>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rng = SystemRandom::new();
        let key = || SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng).unwrap();
        let authority = |name: &str| Subject::Authority {
            name: name.into(),
            organization: "Fuzz".into(),
        };
        let root_key = key();
        let root_der =
            Authority::self_signed_root(&authority("Root"), &root_key, &rng, NOW - 86_400).unwrap();
        let root =
            Authority::new(&root_der, Profile::Root, &root_key, CaConfig::default()).unwrap();
        let made = pki::IssuingCa::make(
            &root,
            &mut MemoryStore::new(),
            Profile::InfrastructureCa,
            "Infrastructure",
            "Fuzz",
            CaConfig::default(),
            &rng,
            NOW - 3_600,
        )
        .unwrap();
        let ca = Authority::new(
            &made.certificate,
            Profile::InfrastructureCa,
            &made.key,
            CaConfig::default(),
        )
        .unwrap();
        let tsa_key = key();
        let csr = pki::certification_request(&tsa_key, "tsa").unwrap();
        let issued = ca
            .issue(
                IssueRequest {
                    profile: Profile::TimeStamping,
                    subject: &Subject::Service {
                        name: "TSA".into(),
                        organization: "Fuzz".into(),
                        dns_names: vec![],
                    },
                    request: &CertificationRequest::from_der(&csr).unwrap(),
                },
                &mut MemoryStore::new(),
                &rng,
                NOW - 3_600,
            )
            .unwrap();
        Setup {
            root: Certificate::from_der(&root_der).unwrap(),
            tsa_key,
            tsa_der: issued.der,
            ca_der: made.certificate,
            request: tsp::request(DigestAlgorithm::Sha256, b"document", &[9; 8], None).unwrap(),
        }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let s = setup();
    let tsa = TimeStampAuthority::new(
        &s.tsa_der,
        std::slice::from_ref(&s.ca_der),
        &s.tsa_key,
        POLICY,
    )
    .unwrap();
    let answer = tsa
        .respond(data, &SystemRandom::new(), NOW)
        .expect("every request gets an answer");
    match tsp::token_from_response(&answer, data) {
        Ok(token) => {
            tsp::tst_info(&token).expect("a granted token reads back");
        }
        // Refused with a reason, or not a request at all (refused as such).
        Err(
            TimeStampError::Refused { .. }
            | TimeStampError::Malformed {
                what: "request", ..
            },
        ) => {}
        Err(e) => panic!("the authority's answer does not answer the request: {e}"),
    }
    // A client, a verifier, a signer and an online verifier.
    let _ = tsp::token_from_response(data, &s.request);
    let _ = tsp::verify_token(
        data,
        b"document",
        std::slice::from_ref(&s.root),
        &[],
        &VerifyOptions::at(NOW),
    );
    let _ = tsp::unstamped_signature_values(data);
    let _ = tsp::time_stamp_certificates(data);
    let _ = tsp::add_signature_time_stamps(data, &[]);
});
