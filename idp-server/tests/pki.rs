//! The officials' CA over HTTP: enrolment with a device-grant token, the
//! subject from the registry (never the request), what is refused, and the
//! live revocation state at /pki/ocsp and /pki/crl, judged by OpenSSL as an
//! independent client and by identity-core's validator.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use der::Decode as _;
use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::x509::{Certificate, Crl};
use idp_server::clock::Clock;
use idp_server::store::Revocation;
use openidconnect::reqwest;

/// An official of the demo registry (Sở Tư pháp, Chuyên viên), at level substantial.
const BINH: &str = "079185004321";
/// A resident who is not an official.
const AN: &str = "001090012345";

fn new_csr(label: &str) -> (SigningKey, String) {
    let key =
        SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &SystemRandom::new()).unwrap();
    let der = pki::certification_request(&key, label).unwrap();
    let pem =
        der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &der).unwrap();
    (key, pem)
}

async fn enroll(server: &Server, token: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = http()
        .post(format!("{}/pki/enroll", server.issuer))
        .header("content-type", "application/pkcs10")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Bình logs in (device grant) and enrols: the chain answered, DER.
async fn enrolled(server: &Server) -> Vec<Vec<u8>> {
    let tokens = device_tokens(server, BINH, "openid pki:enroll").await;
    let (_, csr) = new_csr("x");
    let response = enroll(server, tokens["access_token"].as_str(), &csr).await;
    assert_eq!(response.status(), 201);
    pem_blocks(&response.text().await.unwrap())
}

/// How many certificates the server recorded.
async fn issued(server: &Server) -> usize {
    server
        .state
        .store
        .certificates(None, 100)
        .await
        .unwrap()
        .len()
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

fn pem_blocks(text: &str) -> Vec<Vec<u8>> {
    Certificate::parse_all(text.as_bytes())
        .unwrap()
        .iter()
        .map(|c| c.der().to_vec())
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn pem(der: &[u8]) -> Vec<u8> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
        .unwrap()
        .into_bytes()
}

async fn get_bytes(url: &str) -> (u16, Vec<u8>) {
    let response = http().get(url).send().await.unwrap();
    (
        response.status().as_u16(),
        response.bytes().await.unwrap().to_vec(),
    )
}

/// `openssl ocsp` against our responder: its whole output.
fn openssl_ocsp(dir: &Path, server: &Server, nonce: bool) -> String {
    let mut args = vec![
        "ocsp".to_owned(),
        "-issuer".into(),
        dir.join("ca.pem").display().to_string(),
        "-cert".into(),
        dir.join("leaf.pem").display().to_string(),
        "-url".into(),
        format!("{}/pki/ocsp", server.issuer),
        "-CAfile".into(),
        dir.join("root.pem").display().to_string(),
        "-resp_text".into(),
    ];
    if !nonce {
        args.push("-no_nonce".into());
    }
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl is installed (scripts/test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

#[tokio::test]
async fn an_official_enrols_and_the_certificate_names_the_registry_identity() {
    let server = start_with_ca(Clock::System, |_| {}).await;
    let tokens = device_tokens(&server, BINH, "openid pki:enroll").await;
    let token = tokens["access_token"].as_str().unwrap();
    // The request's subject is a label only: the certificate's is the registry's.
    let (_key, csr) = new_csr("CN=Somebody Else, O=Anywhere");
    let response = enroll(&server, Some(token), &csr).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["content-type"],
        "application/pem-certificate-chain"
    );
    let chain = pem_blocks(&response.text().await.unwrap());
    assert_eq!(chain.len(), 2, "the certificate and its CA");
    let leaf = Certificate::from_der(&chain[0]).unwrap();
    let subject = leaf.subject().to_string();
    assert!(subject.contains("CCCD:079185004321"), "{subject}");
    assert!(subject.contains("Trần Thị Bình"), "{subject}");
    assert!(subject.contains("Sở Tư pháp"), "{subject}");
    assert!(!subject.contains("Somebody"), "{subject}");
    assert_eq!(leaf.not_after() - leaf.not_before(), 365 * 86_400);
    // Recorded with its owner, and audited.
    let stored = server
        .state
        .store
        .certificates(Some(BINH), 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].der, chain[0]);
    let events = server.state.store.audit_events(BINH).await.unwrap();
    assert!(
        events
            .iter()
            .any(|(_, kind, _)| kind == "certificate_issued")
    );
    // The CA and root certificates are published where the AIA says.
    let (status, ca) = get_bytes(&format!("{}/pki/ca/official-ca.crt", server.issuer)).await;
    assert_eq!((status, ca.as_slice()), (200, chain[1].as_slice()));
    let (status, root) = get_bytes(&format!("{}/pki/ca/root.crt", server.issuer)).await;
    assert_eq!(status, 200);
    let root = Certificate::from_der(&root).unwrap();
    assert!(
        Certificate::from_der(&chain[1])
            .unwrap()
            .is_signed_by(&root)
    );
    // OpenSSL builds the same path and sees the URLs of this server.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "root.pem", &pem(root.der()));
    write(dir.path(), "ca.pem", &pem(&chain[1]));
    write(dir.path(), "leaf.pem", &pem(&chain[0]));
    let out = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(dir.path().join("root.pem"))
        .arg("-untrusted")
        .arg(dir.path().join("ca.pem"))
        .arg(dir.path().join("leaf.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(dir.path().join("leaf.pem"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("{}/pki/ocsp", server.issuer)),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}/pki/crl/official-ca.crl", server.issuer)),
        "{text}"
    );
}

#[tokio::test]
async fn enrolment_refuses_the_unauthenticated_the_unentitled_and_the_malformed() {
    let server = start_with_ca(Clock::System, |config| {
        if let Some(pki) = &mut config.pki {
            pki.enrolments_per_day = 1;
        }
    })
    .await;
    let (_, csr) = new_csr("x");
    // No token, a junk token.
    assert_eq!(
        error_of(enroll(&server, None, &csr).await).await,
        (401, "invalid_token".into())
    );
    assert_eq!(
        error_of(enroll(&server, Some("junk"), &csr).await).await,
        (401, "invalid_token".into())
    );
    // A token without pki:enroll.
    let plain = device_tokens(&server, BINH, "openid").await;
    let plain = plain["access_token"].as_str().unwrap();
    assert_eq!(
        error_of(enroll(&server, Some(plain), &csr).await).await,
        (403, "insufficient_scope".into())
    );
    // A resident who is not an official: refused, audited.
    let an = device_tokens(&server, AN, "openid pki:enroll").await;
    let an = an["access_token"].as_str().unwrap();
    assert_eq!(
        error_of(enroll(&server, Some(an), &csr).await).await,
        (403, "access_denied".into())
    );
    let events = server.state.store.audit_events(AN).await.unwrap();
    assert!(
        events
            .iter()
            .any(|(_, kind, _)| kind == "certificate_refused")
    );
    // A body that is no request, and a request whose signature is broken.
    let binh = device_tokens(&server, BINH, "openid pki:enroll").await;
    let binh = binh["access_token"].as_str().unwrap();
    assert_eq!(
        error_of(enroll(&server, Some(binh), "not a CSR").await).await,
        (400, "invalid_request".into())
    );
    let key =
        SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &SystemRandom::new()).unwrap();
    let mut der = pki::certification_request(&key, "x").unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    let forged =
        der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &der).unwrap();
    assert_eq!(
        error_of(enroll(&server, Some(binh), &forged).await).await,
        (400, "invalid_request".into())
    );
    assert_eq!(issued(&server).await, 0);
    // One a day here: the second is refused, and nothing more is recorded.
    assert_eq!(enroll(&server, Some(binh), &csr).await.status(), 201);
    let second = enroll(&server, Some(binh), &csr).await;
    assert!(second.headers().contains_key("retry-after"));
    assert_eq!(error_of(second).await, (429, "slow_down".into()));
    assert_eq!(issued(&server).await, 1);
}

// OpenSSL, a blocking child process, asks the server: the server needs a
// thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsp_and_crl_answer_the_live_revocation_state() {
    let server = start_with_ca(Clock::System, |_| {}).await;
    let chain = enrolled(&server).await;
    let (_, root) = get_bytes(&format!("{}/pki/ca/root.crt", server.issuer)).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "root.pem", &pem(&root));
    write(dir.path(), "ca.pem", &pem(&chain[1]));
    write(dir.path(), "leaf.pem", &pem(&chain[0]));
    let serial = Certificate::from_der(&chain[0]).unwrap().serial_hex();

    // Good, verified by OpenSSL against the root: with a nonce (signed on
    // demand) and without (signed once, then the same answer).
    let good = openssl_ocsp(dir.path(), &server, true);
    assert!(good.contains("Response verify OK"), "{good}");
    assert!(good.contains("leaf.pem: good"), "{good}");
    let request = Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer"])
        .arg(dir.path().join("ca.pem"))
        .arg("-cert")
        .arg(dir.path().join("leaf.pem"))
        .arg("-reqout")
        .arg(dir.path().join("request.der"))
        .output()
        .unwrap();
    assert!(request.status.success());
    let request = std::fs::read(dir.path().join("request.der")).unwrap();
    let post = |body: Vec<u8>| {
        let url = format!("{}/pki/ocsp", server.issuer);
        async move {
            let response = http()
                .post(url)
                .header("content-type", "application/ocsp-request")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.headers()["content-type"],
                "application/ocsp-response"
            );
            response.bytes().await.unwrap().to_vec()
        }
    };
    let first = post(request.clone()).await;
    assert_eq!(post(request.clone()).await, first, "signed once, kept");
    // The same request by GET (RFC 6960 §A.1).
    use base64ct::Encoding as _;
    let encoded: String =
        url::form_urlencoded::byte_serialize(base64ct::Base64::encode_string(&request).as_bytes())
            .collect();
    let (status, by_get) = get_bytes(&format!("{}/pki/ocsp/{encoded}", server.issuer)).await;
    assert_eq!((status, by_get), (200, first.clone()));
    // The CRL lists nothing yet.
    let crl_url = format!("{}/pki/crl/official-ca.crl", server.issuer);
    let (status, crl) = get_bytes(&crl_url).await;
    assert_eq!(status, 200);
    let crl = Crl::from_der(&crl).unwrap();
    assert!(crl.is_empty());
    let first_number = crl.number_hex();

    // Revoked, as `idp-server cert revoke` does (in the store, from another
    // process): the next answers say so at once.
    assert_eq!(
        server
            .state
            .store
            .revoke_certificate(&serial, server.state.clock.now(), 1, "test")
            .await
            .unwrap(),
        Revocation::Revoked
    );
    assert_ne!(
        post(request.clone()).await,
        first,
        "the kept answer is not served"
    );
    let revoked = openssl_ocsp(dir.path(), &server, false);
    assert!(revoked.contains("Response verify OK"), "{revoked}");
    assert!(revoked.contains("leaf.pem: revoked"), "{revoked}");
    assert!(revoked.contains("keyCompromise"), "{revoked}");
    let (_, crl) = get_bytes(&crl_url).await;
    let crl = Crl::from_der(&crl).unwrap();
    assert_eq!(crl.len(), 1);
    assert_ne!(crl.number_hex(), first_number, "a new CRL, a new number");
    // OpenSSL checks the CRL's signature too.
    write(dir.path(), "crl.der", crl.der());
    let out = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(dir.path().join("crl.der"))
        .arg("-CAfile")
        .arg(dir.path().join("ca.pem"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains(&serial.to_uppercase()), "{text}");

    // A request that is no OCSP request: malformedRequest, not an error page.
    let malformed = post(b"junk".to_vec()).await;
    assert_eq!(malformed, pki::malformed_request_response());
}

/// `idp-server cert …` on the server's database (IDP_* variables, as on a
/// server host).
fn cert_command(database_url: &str, args: &[&str]) -> (bool, String) {
    use base64ct::Encoding as _;
    let out = Command::new(env!("CARGO_BIN_EXE_idp-server"))
        .arg("cert")
        .args(args)
        .env("IDP_DATABASE_URL", database_url)
        .env("IDP_SECRET_KEY", base64ct::Base64::encode_string(&[42; 32]))
        .env("IDP_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cert_commands_list_show_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("idp.sqlite3").display());
    let url = database_url.clone();
    let server = start_with_ca(Clock::System, move |config| config.database_url = url).await;
    let chain = enrolled(&server).await;
    let serial = Certificate::from_der(&chain[0]).unwrap().serial_hex();

    let (ok, list) = cert_command(&database_url, &["list", "--person", BINH]);
    assert!(ok, "{list}");
    assert!(
        list.contains(&serial) && list.contains("valid until"),
        "{list}"
    );
    // The serial as people copy it: upper case, with colons.
    let spaced: String = serial
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(":");
    let (ok, shown) = cert_command(&database_url, &["show", &spaced]);
    assert!(ok, "{shown}");
    assert!(
        shown.contains("Trần Thị Bình") && shown.contains("BEGIN CERTIFICATE"),
        "{shown}"
    );

    // Refused with what to do: a reason that does not exist, a serial never issued.
    let (ok, out) = cert_command(&database_url, &["revoke", &serial, "--reason", "boredom"]);
    assert!(!ok && out.contains("keyCompromise"), "{out}");
    let (ok, out) = cert_command(&database_url, &["revoke", "01", "--reason", "superseded"]);
    assert!(!ok && out.contains("cert list"), "{out}");
    assert_eq!(
        server
            .state
            .store
            .certificate(&serial)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );

    let (ok, out) = cert_command(
        &database_url,
        &["revoke", &serial, "--reason", "affiliationChanged"],
    );
    assert!(ok, "{out}");
    let stored = server
        .state
        .store
        .certificate(&serial)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.reason, Some(3));
    let events = server.state.store.audit_events(BINH).await.unwrap();
    assert!(
        events
            .iter()
            .any(|(_, kind, _)| kind == "certificate_revoked")
    );
    // Once: a second revocation changes nothing and says when the first was.
    let (ok, out) = cert_command(
        &database_url,
        &["revoke", &serial, "--reason", "superseded"],
    );
    assert!(!ok && out.contains("already revoked"), "{out}");
    let (_, list) = cert_command(&database_url, &["list"]);
    assert!(list.contains("affiliationChanged"), "{list}");
    // The running server's OCSP answers it at once (the CLI is another process).
    let dir = tempfile::tempdir().unwrap();
    let (_, root) = get_bytes(&format!("{}/pki/ca/root.crt", server.issuer)).await;
    write(dir.path(), "root.pem", &pem(&root));
    write(dir.path(), "ca.pem", &pem(&chain[1]));
    write(dir.path(), "leaf.pem", &pem(&chain[0]));
    let answer = openssl_ocsp(dir.path(), &server, true);
    assert!(answer.contains("leaf.pem: revoked"), "{answer}");
}

#[tokio::test]
async fn a_refreshed_token_from_an_old_login_enrols_nothing() {
    const T0: i64 = 1_800_000_000;
    let server = start_with_ca(Clock::fixed(T0), |_| {}).await;
    let tokens = device_tokens(&server, BINH, "openid pki:enroll").await;
    // Eleven minutes later the login is old; its refreshed token keeps its time.
    server.state.clock.advance(660);
    let (status, refreshed) = post_form(
        format!("{}/token", server.issuer),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", idp_server::demo::SIGNER_ID),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let (_, csr) = new_csr("x");
    assert_eq!(
        error_of(enroll(&server, refreshed["access_token"].as_str(), &csr).await).await,
        (403, "insufficient_user_authentication".into())
    );
    assert_eq!(issued(&server).await, 0);
}

#[tokio::test]
async fn ocsp_asks_about_a_few_certificates_at_most() {
    let server = start_with_ca(Clock::System, |_| {}).await;
    let chain = enrolled(&server).await;
    let leaf = Certificate::from_der(&chain[0]).unwrap();
    let ca = Certificate::from_der(&chain[1]).unwrap();
    let one = identity_core::x509::ocsp_request_der(&leaf, &ca, None).unwrap();
    let mut request = identity_core::x509::OcspRequest::from_der(&one).unwrap();
    let id = request.tbs_request.request_list[0].clone();
    request.tbs_request.request_list = vec![id; 9];
    let many = der::Encode::to_der(&request).unwrap();
    let post = |body: Vec<u8>| {
        let url = format!("{}/pki/ocsp", server.issuer);
        async move {
            let response = http().post(url).body(body).send().await.unwrap();
            let cache = response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_owned());
            (cache, response.bytes().await.unwrap().to_vec())
        }
    };
    let (_, refused) = post(many).await;
    assert_eq!(refused, pki::malformed_request_response());
    // One certificate: a signed answer HTTP caches may keep five minutes at most.
    let (cache, answer) = post(one).await;
    assert!(answer.len() > 100);
    assert!(cache.unwrap().contains("max-age=300"));
}
