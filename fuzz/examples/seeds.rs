//! Writes the fuzz targets' seed corpora from the project's own test vectors:
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (again after a
//! format changes). Each seed is `fuzz/corpus/<target>/seed-<name>`; the
//! fuzzer's own finds beside them are not committed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a generator: a failure stops it"
)]

use std::path::Path;

use identity_core::cms::{self, SignOptions};
use identity_core::jose::{JwkSet, JwsAlgorithm};
use identity_core::keys::{Passphrase, SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::tsp;
use identity_core::x509::CertificationRequest;
use pki::{
    Authority, CaConfig, CertState, IssueRequest, MemoryStore, OcspQuery, Profile, Reason,
    Responder, Subject,
};

const NOW: i64 = 1_764_000_000;

fn seed(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

fn pem(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap()
}

fn main() {
    let rng = SystemRandom::new();
    let es256 = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng).unwrap();
    let ed = SigningKey::generate(SignatureAlgorithm::Ed25519, &rng).unwrap();

    // Identifiers and identities.
    seed("identifiers", "personal-number", "001090012345");
    seed("identifiers", "enterprise-code", "0314409058");
    seed("identifiers", "date", "1990-05-17");
    seed(
        "identifiers",
        "official",
        r#"{"citizen":{"full_name":"Lê Thị Mai","personal_number":"048195000321"},"agency":"UBND TP. Đà Nẵng","position":"Chuyên viên"}"#,
    );
    seed(
        "identifiers",
        "business",
        r#"{"enterprise_code":"0314409058","registered_name":"Công ty TNHH Ví Dụ","legal_representatives":["001090012345"]}"#,
    );

    // Keys.
    seed("private_key", "p256.der", &*es256.secret_pkcs8_der());
    seed(
        "private_key",
        "ed25519.pem",
        ed.secret_pkcs8_pem().as_bytes(),
    );
    seed(
        "private_key",
        "encrypted.pem",
        es256
            .to_encrypted_pkcs8_pem(&Passphrase::new("fuzz".into()), &rng)
            .unwrap(),
    );
    seed(
        "public_key",
        "p256.der",
        es256.verifying_key().to_spki_der(),
    );
    seed(
        "public_key",
        "ed25519.pem",
        ed.verifying_key().to_spki_pem(),
    );

    // JOSE.
    let jwt = identity_core::jose::sign_jwt(
        &identity_core::jose::JwsHeader::new(JwsAlgorithm::Es256).with_kid("a".to_owned()),
        &serde_json::json!({"iss": "https://id.example.gov.vn", "sub": "x", "aud": "portal", "exp": NOW + 300, "iat": NOW}),
        &es256,
    )
    .unwrap();
    seed("jws", "es256", &jwt);
    let set = JwkSet {
        keys: vec![
            identity_core::jose::Jwk::new(es256.verifying_key().clone()),
            identity_core::jose::Jwk::new(ed.verifying_key().clone()),
        ],
    };
    seed("jwk_set", "es256-eddsa", set.to_json());

    // A hierarchy: root, officials' CA, responder, a leaf; its CRL and OCSP.
    let authority = |name: &str| Subject::Authority {
        name: name.into(),
        organization: "Cơ quan Chứng thực".into(),
    };
    let root_key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384, &rng).unwrap();
    let root_der =
        Authority::self_signed_root(&authority("Root CA"), &root_key, &rng, NOW - 86_400).unwrap();
    let root = Authority::new(&root_der, Profile::Root, &root_key, CaConfig::default()).unwrap();
    let made = pki::IssuingCa::make(
        &root,
        &mut MemoryStore::new(),
        Profile::OfficialCa,
        "Officials CA",
        "Cơ quan Chứng thực",
        CaConfig {
            crl_url: Some("http://pki.example.gov.vn/official-ca.crl".into()),
            ocsp_url: Some("http://pki.example.gov.vn/ocsp".into()),
            ..CaConfig::default()
        },
        &rng,
        NOW - 3_600,
    )
    .unwrap();
    let ca = Authority::new(
        &made.certificate,
        Profile::OfficialCa,
        &made.key,
        CaConfig {
            crl_url: Some("http://pki.example.gov.vn/official-ca.crl".into()),
            ocsp_url: Some("http://pki.example.gov.vn/ocsp".into()),
            ..CaConfig::default()
        },
    )
    .unwrap();
    let csr = pki::certification_request(&es256, "seed").unwrap();
    seed("csr", "p256.der", &csr);
    seed("csr", "p256.pem", pem("CERTIFICATE REQUEST", &csr));
    let citizen: identity_core::Citizen =
        serde_json::from_str(r#"{"full_name":"Lê Thị Mai","personal_number":"048195000321"}"#)
            .unwrap();
    let official =
        identity_core::Official::new(citizen, "UBND TP. Đà Nẵng", "Chuyên viên").unwrap();
    let mut store = MemoryStore::new();
    let leaf = ca
        .issue(
            IssueRequest {
                profile: Profile::OfficialSigning,
                subject: &Subject::Official(official),
                request: &CertificationRequest::from_der(&csr).unwrap(),
            },
            &mut store,
            &rng,
            NOW,
        )
        .unwrap();
    seed("certificate", "leaf.der", &leaf.der);
    seed(
        "certificate",
        "chain.pem",
        pem("CERTIFICATE", &leaf.der)
            + &pem("CERTIFICATE", &made.certificate)
            + &pem("CERTIFICATE", &root_der),
    );
    ca.revoke(
        &mut store,
        &leaf.serial,
        "keyCompromise".parse::<Reason>().unwrap(),
        NOW,
    )
    .unwrap();
    let crl = ca.crl(&mut store, NOW, 86_400).unwrap();
    seed("crl", "one-revoked.der", &crl);
    seed("crl", "one-revoked.pem", pem("X509 CRL", &crl));
    let leaf_cert = identity_core::x509::Certificate::from_der(&leaf.der).unwrap();
    let ca_cert = identity_core::x509::Certificate::from_der(&made.certificate).unwrap();
    let request =
        identity_core::x509::ocsp_request_der(&leaf_cert, &ca_cert, Some(&[7; 16])).unwrap();
    seed("ocsp", "request.der", &request);
    let responder = Responder::new(
        &made.certificate,
        &made.responder_certificate,
        &made.responder_key,
    )
    .unwrap();
    let query = OcspQuery::from_der(&request).unwrap();
    let good = responder
        .respond(&query, &[CertState::Good], NOW, 3_600)
        .unwrap();
    seed("ocsp", "good.der", &good);
    let revoked = responder
        .respond(
            &query,
            &[CertState::Revoked {
                time: NOW,
                reason: 1,
            }],
            NOW,
            3_600,
        )
        .unwrap();
    seed("ocsp", "revoked.der", &revoked);

    // CMS: detached and attached CAdES signatures over "document".
    let detached = cms::sign(
        b"document",
        &es256,
        &leaf_cert,
        &[ca_cert.clone()],
        &SignOptions::detached(NOW),
    )
    .unwrap();
    seed("cms", "detached.der", &detached);

    // Time-stamps: a request, a granted answer, its token, a rejection, and a
    // signature with a signature time-stamp (CAdES-B-T).
    let infrastructure = pki::IssuingCa::make(
        &root,
        &mut MemoryStore::new(),
        Profile::InfrastructureCa,
        "Infrastructure CA",
        "Cơ quan Chứng thực",
        CaConfig::default(),
        &rng,
        NOW - 3_600,
    )
    .unwrap();
    let tsa_key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng).unwrap();
    let tsa_cert = Authority::new(
        &infrastructure.certificate,
        Profile::InfrastructureCa,
        &infrastructure.key,
        CaConfig::default(),
    )
    .unwrap()
    .issue(
        IssueRequest {
            profile: Profile::TimeStamping,
            subject: &Subject::Service {
                name: "TSA".into(),
                organization: "Cơ quan Chứng thực".into(),
                dns_names: vec![],
            },
            request: &CertificationRequest::from_der(
                &pki::certification_request(&tsa_key, "tsa").unwrap(),
            )
            .unwrap(),
        },
        &mut MemoryStore::new(),
        &rng,
        NOW - 3_600,
    )
    .unwrap();
    let tsa = pki::TimeStampAuthority::new(
        &tsa_cert.der,
        std::slice::from_ref(&infrastructure.certificate),
        &tsa_key,
        "1.3.6.1.4.1.32473.704.2",
    )
    .unwrap();
    let value = tsp::unstamped_signature_values(&detached)
        .unwrap()
        .remove(0);
    let ts_request = tsp::request(cms::DigestAlgorithm::Sha256, &value, &[9; 8], None).unwrap();
    seed("tsp", "request.der", &ts_request);
    let answer = tsa.respond(&ts_request, &rng, NOW).unwrap();
    seed("tsp", "granted.der", &answer);
    let token = tsp::token_from_response(&answer, &ts_request).unwrap();
    seed("tsp", "token.der", &token);
    seed(
        "tsp",
        "rejected.der",
        tsa.respond(b"not a request", &rng, NOW).unwrap(),
    );
    let stamped = tsp::add_signature_time_stamps(&detached, &[token]).unwrap();
    seed("tsp", "stamped-signature.der", &stamped);
    seed("cms", "stamped.der", &stamped);

    // PDFs: one unsigned, one signed (PAdES).
    let pdf = identity_core::pades::sample(&["Quyet dinh so 1", "Trang 2"]);
    seed("pdf", "unsigned.pdf", &pdf);
    let signed_pdf = identity_core::pades::sign(
        &pdf,
        &es256,
        &leaf_cert,
        std::slice::from_ref(&ca_cert),
        &identity_core::pades::PdfSignOptions::at(NOW),
    )
    .unwrap();
    seed("pdf", "signed.pdf", &signed_pdf);

    // The provider: an authorization request, and requests to its endpoints.
    seed(
        "authorize_request",
        "code-flow",
        "client_id=portal&redirect_uri=https%3A%2F%2Fportal.example%2Fcb&response_type=code&scope=openid%20profile&state=s&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
    );
    // Token requests: the first line is the Authorization header, if any.
    for (name, request) in [
        (
            "code-basic",
            "Basic ZGVtby1wb3J0YWw6c2VjcmV0\ngrant_type=authorization_code&code=abc\
             &redirect_uri=https%3A%2F%2Fportal.example%2Fcb&code_verifier=dBjftJeZ4CVP",
        ),
        (
            "refresh-post",
            "grant_type=refresh_token&refresh_token=r&scope=openid&client_id=demo-portal\
             &client_secret=secret",
        ),
        (
            "client-credentials",
            "Basic ZGVtby1wb3J0YWw6c2VjcmV0\ngrant_type=client_credentials&scope=registry.read\
             &resource=https%3A%2F%2Fregistry.example",
        ),
        (
            "device-public",
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=d\
             &client_id=signer",
        ),
        (
            "assertion",
            "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth\
             %3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJFUzI1NiJ9.\
             eyJzdWIiOiJwb3J0YWwifQ.c2ln",
        ),
    ] {
        seed("token_request", name, request);
    }
    let endpoint = |n: u8, form: &str, auth: &str| {
        let mut input = vec![n];
        input.extend_from_slice(form.as_bytes());
        input.extend_from_slice(b"\0\0");
        input.extend_from_slice(auth.as_bytes());
        input
    };
    seed(
        "provider_http",
        "authorize",
        endpoint(
            0,
            "client_id=demo-portal&response_type=code&scope=openid",
            "",
        ),
    );
    seed(
        "provider_http",
        "token",
        endpoint(
            2,
            "grant_type=client_credentials&scope=registry.read",
            "Basic ZGVtby1zZXJ2aWNlOng=",
        ),
    );
    seed(
        "provider_http",
        "device",
        endpoint(17, "client_id=signer&scope=openid%20pki%3Aenroll", ""),
    );
    seed(
        "provider_http",
        "enroll",
        endpoint(21, "", &format!("Bearer {jwt}")),
    );

    // The registry's exports.
    seed(
        "registry",
        "residents.csv",
        "personal_number,full_name,birth_date\n001090012345,Nguyễn Văn An,1990-05-17\n079185004321,\"Trần, Thị Bình\",\n",
    );
    seed(
        "registry",
        "businesses.csv",
        "enterprise_code,registered_name,legal_representatives\n0314409058,Công ty TNHH Ví Dụ,001090012345;079185004321\n",
    );
    seed(
        "registry",
        "officials.csv",
        "personal_number,agency,position\n079185004321,Sở Tư pháp,Chuyên viên\n",
    );
    seed(
        "registry",
        "mixed.jsonl",
        "{\"type\":\"resident\",\"personal_number\":\"001090012345\",\"full_name\":\"Nguyễn Văn An\"}\n\n{\"type\":\"official\",\"personal_number\":\"001090012345\",\"agency\":\"Sở\",\"position\":\"Chuyên viên\"}\n",
    );
    println!("seeds written under {}/corpus", env!("CARGO_MANIFEST_DIR"));
}
