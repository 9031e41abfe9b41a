//! The whole mission with real processes: `idp-server demo` on a fresh SQLite;
//! a resident activates a passkey (a software authenticator, over HTTP); an
//! official logs `signer` in by the device grant, approving in a "browser"
//! with that passkey; `signer enroll` gets a certificate naming the verified
//! identity; `signer sign`; `signer verify --online` (OCSP from the
//! certificate's AIA) passes; `idp-server cert revoke`; verify fails, saying
//! when and why; and OpenSSL's OCSP client gets a verified answer from our
//! responder.
//!
//! Both binaries are built by `cargo nextest run --workspace` (the README's
//! test command); this test finds idp-server beside signer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use identity_core::x509::Certificate;
use openidconnect::reqwest::blocking::{Client, Response};
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

/// An official of the demo registry.
const BINH: &str = "079185004321";

fn idp_server() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_signer")).with_file_name("idp-server");
    assert!(
        path.exists(),
        "{} is missing: build the workspace (cargo nextest run --workspace builds it)",
        path.display()
    );
    path
}

/// A process killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `program`: its exit code, stdout and stderr.
fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env("IDP_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A browser: keeps the provider's cookies, follows no redirect, reads English.
#[derive(Clone, Default)]
struct Browser {
    cookies: Arc<Mutex<HashMap<String, String>>>,
}

impl Browser {
    fn client() -> Client {
        Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    fn send(&self, request: openidconnect::reqwest::blocking::RequestBuilder) -> Response {
        let jar: Vec<String> = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut request = request.header("accept-language", "en");
        if !jar.is_empty() {
            request = request.header("cookie", jar.join("; "));
        }
        let response = request.send().unwrap();
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if text.to_ascii_lowercase().contains("max-age=0") {
                self.cookies.lock().unwrap().remove(name);
            } else {
                self.cookies
                    .lock()
                    .unwrap()
                    .insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }

    fn get(&self, url: &str) -> Response {
        self.send(Self::client().get(url))
    }

    fn post(&self, url: &str, form: &[(&str, &str)]) -> Response {
        self.send(Self::client().post(url).form(form))
    }
}

fn field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        + marker.len();
    page[at..].split('"').next().unwrap().replace("&amp;", "&")
}

fn options(page: &str) -> serde_json::Value {
    let start = "id=\"webauthn-options\">";
    let at = page.find(start).unwrap() + start.len();
    let end = page[at..].find("</script>").unwrap() + at;
    serde_json::from_str(&page[at..end]).unwrap()
}

fn location(response: &Response) -> String {
    assert_eq!(response.status(), 303, "{response:?}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[test]
fn an_official_logs_in_enrols_signs_and_anyone_checks_it_even_after_revocation() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("idp");
    let home = work.path().join("signer");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = format!("http://localhost:{port}");
    let idp = idp_server();
    let data_arg = data.display().to_string();
    let _server = Killed(
        Command::new(&idp)
            .args([
                "demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data",
                &data_arg,
            ])
            .env("IDP_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while Browser::client()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // An operator proofs Bình in person and issues an activation code; she
    // registers a passkey at /activate.
    let (code, out, err) = run(
        &idp,
        &["registry", "activate", BINH, "--data", &data_arg],
        &[],
    );
    assert_eq!(code, Some(0), "{err}");
    let code = out
        .split_whitespace()
        .find(|w| w.len() == 14 && w.matches('-').count() == 2)
        .unwrap_or_else(|| panic!("no code in {out}"))
        .to_owned();
    let origin = url::Url::parse(&issuer).unwrap();
    let mut phone = SoftPasskey::new(true);
    let browser = Browser::default();
    let form = browser.get(&format!("{issuer}/activate")).text().unwrap();
    let page = browser
        .post(
            &format!("{issuer}/activate"),
            &[
                ("csrf", &field(&form, "csrf")),
                ("personal_number", BINH),
                ("code", &code),
            ],
        )
        .text()
        .unwrap();
    let credential = phone
        .do_registration(
            origin.clone(),
            serde_json::from_value(options(&page)).unwrap(),
        )
        .unwrap();
    let done = browser.post(
        &format!("{issuer}/activate/finish"),
        &[
            ("csrf", &field(&page, "csrf")),
            ("enrolment", &field(&page, "enrolment")),
            ("credential", &serde_json::to_string(&credential).unwrap()),
            ("name", "phone"),
        ],
    );
    assert_eq!(done.status(), 200);

    // `signer login`: it shows a code; Bình approves it in her browser.
    let signer = Path::new(env!("CARGO_BIN_EXE_signer"));
    let home_arg = home.display().to_string();
    let mut login = Killed(
        Command::new(signer)
            .args(["login", "--issuer", &issuer, "--home", &home_arg])
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(login.0.stderr.take().unwrap()).lines();
    let user_code = loop {
        let line = lines.next().expect("signer login showed no code").unwrap();
        let word = line.trim();
        if word.len() == 9 && word.as_bytes()[4] == b'-' {
            break word.to_owned();
        }
    };
    let browser = Browser::default();
    let to_login = location(&browser.get(&format!("{issuer}/device?user_code={user_code}")));
    let login_page = browser.get(&to_login).text().unwrap();
    let login_id = field(&login_page, "login_id");
    let step = browser
        .post(
            &format!("{issuer}/authorize/login"),
            &[("login_id", &login_id), ("personal_number", BINH)],
        )
        .text()
        .unwrap();
    let assertion = phone
        .do_authentication(
            origin.clone(),
            serde_json::from_value(options(&step)).unwrap(),
        )
        .unwrap();
    let back = location(&browser.post(
        &format!("{issuer}/authorize/login"),
        &[
            ("login_id", &login_id),
            ("credential", &serde_json::to_string(&assertion).unwrap()),
        ],
    ));
    let entry = browser.get(&back).text().unwrap();
    assert_eq!(field(&entry, "user_code"), user_code);
    let approval = browser
        .post(
            &format!("{issuer}/device"),
            &[
                ("csrf", &field(&entry, "csrf")),
                ("owner", &field(&entry, "owner")),
                ("user_code", &user_code),
            ],
        )
        .text()
        .unwrap();
    assert!(approval.contains("Get a signing certificate"), "{approval}");
    let approved = browser.post(
        &format!("{issuer}/device/decide"),
        &[
            ("csrf", &field(&approval, "csrf")),
            ("owner", &field(&approval, "owner")),
            ("user_code", &user_code),
            ("decision", "approve"),
        ],
    );
    assert_eq!(approved.status(), 200);
    let status = login.0.wait().unwrap();
    assert!(status.success(), "signer login failed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(home.join("session.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the tokens are the owner's alone");
    }

    // Enrol: a new key (encrypted), a request, the certificate in her name.
    let pass = [("SIGNER_PASSPHRASE", "a long passphrase for the key")];
    let (code, out, err) = run(signer, &["enroll", "--home", &home_arg], &pass);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("CCCD:079185004321"), "{out}");
    let key = home.join("key.pem").display().to_string();
    let cert = home.join("certificate.pem").display().to_string();
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY")
    );

    // Sign a decision; anyone verifies it online against the root.
    let document = work.path().join("decision.txt");
    std::fs::write(&document, "Quyết định số 1/2026\n").unwrap();
    let doc = document.display().to_string();
    let (code, out, err) = run(
        signer,
        &["sign", "--key", &key, "--cert", &cert, &doc],
        &pass,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let root = Browser::client()
        .get(format!("{issuer}/pki/ca/root.crt"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let root_path = work.path().join("root.der");
    std::fs::write(&root_path, &root).unwrap();
    let root_arg = root_path.display().to_string();
    let verify = || {
        run(
            signer,
            &["verify", &doc, "--trust", &root_arg, "--online"],
            &[],
        )
    };
    let (code, out, err) = verify();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("TOTAL-PASSED"), "{out}");
    assert!(
        out.contains("Trần Thị Bình") && out.contains("079185004321"),
        "{out}"
    );

    // The same decision signed again, time-stamped by the provider's authority
    // (CAdES-B-T): proof of when it was signed.
    let stamped = work.path().join("decision-stamped.txt");
    std::fs::write(&stamped, "Quyết định số 1/2026\n").unwrap();
    let stamped_arg = stamped.display().to_string();
    let tsa_url = format!("{issuer}/pki/tsa");
    let (code, out, err) = run(
        signer,
        &[
            "sign",
            "--key",
            &key,
            "--cert",
            &cert,
            "--tsa",
            &tsa_url,
            &stamped_arg,
        ],
        &pass,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("time-stamped"), "{out}");
    let verify_stamped = || {
        run(
            signer,
            &["verify", &stamped_arg, "--trust", &root_arg, "--online"],
            &[],
        )
    };
    let (code, out, err) = verify_stamped();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("TOTAL-PASSED")
            && out.contains("time-stamp by Development Time-Stamping Authority"),
        "{out}"
    );

    // OpenSSL's time-stamp client asks our authority, and verifies the answer.
    let query = work.path().join("decision.tsq");
    let made = Command::new("openssl")
        .args(["ts", "-query", "-data", &doc, "-sha256", "-cert", "-out"])
        .arg(&query)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let reply = Browser::client()
        .post(&tsa_url)
        .header("content-type", "application/timestamp-query")
        .body(std::fs::read(&query).unwrap())
        .send()
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers()["content-type"],
        "application/timestamp-reply"
    );
    let reply_path = work.path().join("decision.tsr");
    std::fs::write(&reply_path, reply.bytes().unwrap()).unwrap();
    let root_pem = work.path().join("root-ts.pem");
    std::fs::write(
        &root_pem,
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &root).unwrap(),
    )
    .unwrap();
    let checked = Command::new("openssl")
        .args(["ts", "-verify", "-in"])
        .arg(&reply_path)
        .arg("-queryfile")
        .arg(&query)
        .arg("-CAfile")
        .arg(&root_pem)
        .output()
        .unwrap();
    let checked_text = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && checked_text.contains("Verification: OK"),
        "{checked:?}"
    );

    // A PDF, signed inside (PAdES) and time-stamped (B-T); pyHanko agrees.
    let pdf = work.path().join("decision.pdf");
    std::fs::write(
        &pdf,
        identity_core::pades::sample(&["Quyet dinh so 2/2026"]),
    )
    .unwrap();
    let pdf_arg = pdf.display().to_string();
    let (code, out, err) = run(
        signer,
        &[
            "sign", "--key", &key, "--cert", &cert, "--tsa", &tsa_url, &pdf_arg,
        ],
        &pass,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let signed_pdf = work.path().join("decision.signed.pdf");
    let signed_pdf_arg = signed_pdf.display().to_string();
    let verify_pdf = || {
        run(
            signer,
            &["verify", &signed_pdf_arg, "--trust", &root_arg, "--online"],
            &[],
        )
    };
    let (code, out, err) = verify_pdf();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("ETSI.CAdES.detached): TOTAL-PASSED")
            && out.contains("time-stamp by Development Time-Stamping Authority")
            && out.contains("the whole document"),
        "{out}"
    );
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let checked = Command::new(&python)
        .args([
            "-m",
            "pyhanko",
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
        ])
        .arg("--trust-replace")
        .arg("--trust")
        .arg(&root_pem)
        .arg(&signed_pdf)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success()
            && said.contains("The signature is judged VALID")
            && said.contains("timestamp"),
        "pyHanko: {said}{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    // B-LT: the validation data goes into the PDF; it then verifies offline,
    // revocation required and nothing fetched.
    let lt_pdf = work.path().join("decision-lt.pdf");
    std::fs::write(
        &lt_pdf,
        identity_core::pades::sample(&["Quyet dinh so 3/2026"]),
    )
    .unwrap();
    let lt_arg = lt_pdf.display().to_string();
    let (code, out, err) = run(
        signer,
        &[
            "sign", "--key", &key, "--cert", &cert, "--tsa", &tsa_url, "--level", "b-lt", &lt_arg,
        ],
        &pass,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let lt_signed = work.path().join("decision-lt.signed.pdf");
    let data = identity_core::pades::validation_data(&std::fs::read(&lt_signed).unwrap()).unwrap();
    assert!(
        data.certificates.len() >= 3 && !data.ocsp.is_empty() && !data.crls.is_empty(),
        "{} certificates, {} OCSP responses, {} CRLs",
        data.certificates.len(),
        data.ocsp.len(),
        data.crls.len()
    );
    let lt_signed_arg = lt_signed.display().to_string();
    let verify_offline = || {
        run(
            signer,
            &[
                "verify",
                &lt_signed_arg,
                "--trust",
                &root_arg,
                "--require-revocation",
            ],
            &[],
        )
    };
    let (code, out, err) = verify_offline();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("certificate valid and not revoked"), "{out}");
    assert!(out.contains("validation data (DSS)"), "{out}");
    let checked = Command::new(&python)
        .args(["-m", "pyhanko", "sign", "validate", "--pretty-print"])
        .arg("--trust-replace")
        .arg("--trust")
        .arg(&root_pem)
        .arg(&lt_signed)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && said.contains("The signature is judged VALID"),
        "pyHanko: {said}{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    // OpenSSL's OCSP client asks our responder, and verifies the answer.
    let chain = Certificate::parse_all(&std::fs::read(&cert).unwrap()).unwrap();
    let as_pem =
        |der: &[u8]| der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap();
    std::fs::write(work.path().join("leaf.pem"), as_pem(chain[0].der())).unwrap();
    std::fs::write(work.path().join("ca.pem"), as_pem(chain[1].der())).unwrap();
    std::fs::write(work.path().join("root.pem"), as_pem(&root)).unwrap();
    let ocsp = || {
        let out = Command::new("openssl")
            .args(["ocsp", "-issuer"])
            .arg(work.path().join("ca.pem"))
            .arg("-cert")
            .arg(work.path().join("leaf.pem"))
            .args([
                "-url",
                &format!("http://127.0.0.1:{port}/pki/ocsp"),
                "-CAfile",
            ])
            .arg(work.path().join("root.pem"))
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let answer = ocsp();
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert!(answer.contains("leaf.pem: good"), "{answer}");

    // Revoked by the CA's operator (in a later second than the time-stamp, which
    // counts whole seconds): verification now fails, saying when and why.
    std::thread::sleep(Duration::from_millis(1_100));
    let (code, list, err) = run(&idp, &["cert", "list", "--data", &data_arg], &[]);
    assert_eq!(code, Some(0), "{err}");
    let serial = list.split_whitespace().next().unwrap().to_owned();
    let (code, out, err) = run(
        &idp,
        &[
            "cert",
            "revoke",
            &serial,
            "--reason",
            "keyCompromise",
            "--data",
            &data_arg,
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    // Without a time-stamp nothing proves the signature came before the
    // revocation: ETSI EN 319 102-1 says INDETERMINATE/REVOKED_NO_POE (exit
    // 2), with when and why it was revoked.
    let (code, out, _) = verify();
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("INDETERMINATE/REVOKED_NO_POE"), "{out}");
    assert!(
        out.contains("was revoked at 20") && out.contains("(keyCompromise)"),
        "{out}"
    );
    let answer = ocsp();
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert!(answer.contains("leaf.pem: revoked"), "{answer}");
    // The time-stamped signatures are proven older than the revocation: still valid.
    let (code, out, err) = verify_stamped();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("TOTAL-PASSED"), "{out}");
    let (code, out, err) = verify_pdf();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("TOTAL-PASSED"), "{out}");
}
