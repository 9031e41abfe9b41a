//! The provider's load generator: starts `idp-server demo` (release build, its own
//! process, a fresh data directory) on loopback and drives it with a real HTTP
//! client at a fixed number of connections, one phase after another:
//!
//! * discovery — `GET /.well-known/openid-configuration`;
//! * token — `POST /token`, `client_credentials` as the demo service client;
//! * login — a whole code flow: `GET /authorize`, the demo authenticator's form,
//!   `POST /token` with PKCE (several database writes per login);
//! * ocsp — `POST /pki/ocsp` for an official's certificate, without a nonce (the
//!   answer signed once per status change, the status read from the database
//!   each time), and ocsp+nonce (signed for each request);
//! * openssl-ocsp — the same requests to `openssl ocsp -index … -port … -multi 2`
//!   on the same machine, for comparison.
//!
//! For each: requests per second, p50 and p99 latency, failures; at the end the
//! server's peak RSS (VmHWM). Run: `cargo bench -p idp-server --bench load`
//! (`LOAD_SECONDS`, default 10, and `LOAD_CONNECTIONS`, default 32, change the run;
//! `LOAD_DATABASE_URL=postgres://…` runs the server on that PostgreSQL database
//! instead of SQLite).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary: a failed step stops it with its message, figures go to stdout"
)]

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::reqwest;

/// RFC 7636 appendix B: a verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Target {
    issuer: String,
    portal_secret: String,
    service_secret: String,
}

/// One phase's outcome.
struct Figures {
    done: usize,
    failed: usize,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

impl Figures {
    fn print(&mut self, name: &str) {
        self.latencies_us.sort_unstable();
        let at = |q: f64| {
            let i = ((self.latencies_us.len() as f64 - 1.0) * q).round() as usize;
            self.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
        };
        println!(
            "{name:<10} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   {} done, {} failed",
            self.done as f64 / self.elapsed.as_secs_f64(),
            at(0.50),
            at(0.99),
            self.done,
            self.failed,
        );
    }
}

/// Runs `step` on `connections` tasks for `seconds`; each call is one timed unit.
async fn phase<F, Fut>(connections: usize, seconds: u64, step: F) -> Figures
where
    F: Fn(reqwest::Client) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let http = reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let step = Arc::new(step);
    // A short warm-up opens the connections.
    let warm = Instant::now() + Duration::from_millis(500);
    let start = warm;
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let http = http.clone();
        let step = Arc::clone(&step);
        tasks.push(tokio::spawn(async move {
            let (mut done, mut failed, mut latencies) = (0usize, 0usize, Vec::new());
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let ok = step(http.clone()).await;
                if began < start {
                    continue;
                }
                if ok {
                    done += 1;
                    latencies.push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
                } else {
                    failed += 1;
                }
            }
            (done, failed, latencies)
        }));
    }
    let mut figures = Figures {
        done: 0,
        failed: 0,
        latencies_us: Vec::new(),
        elapsed: Duration::from_secs(seconds),
    };
    for task in tasks {
        let (done, failed, latencies) = task.await.unwrap();
        figures.done += done;
        figures.failed += failed;
        figures.latencies_us.extend(latencies);
    }
    figures
}

async fn discovery(http: reqwest::Client, target: Arc<Target>) -> bool {
    match http
        .get(format!(
            "{}/.well-known/openid-configuration",
            target.issuer
        ))
        .send()
        .await
    {
        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

async fn service_token(http: reqwest::Client, target: Arc<Target>) -> bool {
    let sent = http
        .post(format!("{}/token", target.issuer))
        .basic_auth("demo-service", Some(&target.service_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "registry.read"),
        ])
        .send()
        .await;
    match sent {
        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// The `login_id` a login or consent page's form carries.
fn login_id_of(html: &str) -> Option<&str> {
    html.split("name=\"login_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
}

async fn login(http: reqwest::Client, target: Arc<Target>) -> bool {
    let redirect_uri = format!("{}/demo/portal/callback", target.issuer);
    let params = [
        ("client_id", "demo-portal"),
        ("redirect_uri", redirect_uri.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "load"),
        ("nonce", "load"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    // A fresh browser each time (no session cookie): the whole login.
    let page = http
        .get(format!("{}/authorize", target.issuer))
        .query(&params)
        .send()
        .await;
    let Ok(page) = page else {
        return false;
    };
    let browser_cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned);
    let (Some(browser_cookie), true) = (browser_cookie, page.status() == 200) else {
        return false;
    };
    let Ok(html) = page.text().await else {
        return false;
    };
    let Some(login_id) = login_id_of(&html) else {
        return false;
    };
    let Ok(answer) = http
        .post(format!("{}/authorize/login", target.issuer))
        .header("cookie", browser_cookie.clone())
        .form(&[
            ("login_id", login_id),
            ("method", "demo"),
            ("personal_number", "079185004321"),
        ])
        .send()
        .await
    else {
        return false;
    };
    // The person's first login asks their consent (then it is remembered).
    let answer = if answer.status() == 200 {
        let Ok(page) = answer.text().await else {
            return false;
        };
        let Some(consent_id) = login_id_of(&page) else {
            return false;
        };
        let Ok(answer) = http
            .post(format!("{}/authorize/consent", target.issuer))
            .header("cookie", browser_cookie.clone())
            .form(&[("login_id", consent_id), ("decision", "allow")])
            .send()
            .await
        else {
            return false;
        };
        answer
    } else {
        answer
    };
    let Some(code) = answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
    else {
        return false;
    };
    let token = http
        .post(format!("{}/token", target.issuer))
        .basic_auth("demo-portal", Some(&target.portal_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await;
    matches!(token, Ok(ref r) if r.status() == 200)
}

async fn ocsp(http: reqwest::Client, url: Arc<String>, body: Vec<u8>) -> bool {
    let sent = http
        .post(url.as_str())
        .header("content-type", "application/ocsp-request")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) => r.status() == 200 && r.bytes().await.is_ok_and(|b| b.len() > 100),
        Err(_) => false,
    }
}

/// What the OCSP phases ask about: a certificate and its CA.
struct Responder {
    certs: (
        identity_core::x509::Certificate,
        identity_core::x509::Certificate,
    ),
    folder: std::path::PathBuf,
}

/// Issues an official's certificate from the demo's development CA (as
/// /pki/enroll would) and records it in the server's database: the OCSP
/// request for it, and what an OpenSSL responder needs.
async fn ocsp_setup(
    data: &std::path::Path,
    database: Option<&str>,
    issuer: &str,
) -> (Vec<u8>, Responder) {
    use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
    let folder = data.join("ca").join("official-ca");
    let read_pem = |name: &str| {
        let text = std::fs::read_to_string(folder.join(name)).unwrap();
        der::pem::decode_vec(text.as_bytes()).unwrap().1
    };
    let ca_der = read_pem("cert.pem");
    let ca_key = SigningKey::from_pkcs8_pem(
        &std::fs::read_to_string(folder.join("key.pem")).unwrap(),
        None,
    )
    .unwrap();
    let rng = SystemRandom::new();
    let leaf_key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &rng).unwrap();
    let request = identity_core::x509::CertificationRequest::from_der(
        &pki::certification_request(&leaf_key, "load").unwrap(),
    )
    .unwrap();
    let citizen =
        identity_core::Citizen::new("Trần Thị Bình", "079185004321".parse().unwrap(), None)
            .unwrap();
    let subject = pki::Subject::Official(
        identity_core::Official::new(citizen, "Sở Tư pháp", "Chuyên viên").unwrap(),
    );
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let authority = pki::Authority::new(
        &ca_der,
        pki::Profile::OfficialCa,
        &ca_key,
        pki::CaConfig {
            ocsp_url: Some(format!("{issuer}/pki/ocsp")),
            ..pki::CaConfig::default()
        },
    )
    .unwrap();
    let mut records = pki::MemoryStore::new();
    let issued = authority
        .issue(
            pki::IssueRequest {
                profile: pki::Profile::OfficialSigning,
                subject: &subject,
                request: &request,
            },
            &mut records,
            &rng,
            now,
        )
        .unwrap();
    let database = database.map_or_else(
        || format!("sqlite://{}", data.join("idp.sqlite3").display()),
        str::to_owned,
    );
    let store = idp_server::store::Store::open(&database).await.unwrap();
    let leaf = identity_core::x509::Certificate::from_der(&issued.der).unwrap();
    store
        .put_certificate(
            &idp_server::store::StoredCertificate {
                serial: issued.serial.clone(),
                ca: idp_server::ca::CA_NAME.into(),
                profile: "official-signing".into(),
                subject: leaf.subject().to_string(),
                personal_number: Some("079185004321".into()),
                issued_at: now,
                not_after: leaf.not_after(),
                der: issued.der.clone(),
                revoked_at: None,
                reason: None,
            },
            None,
        )
        .await
        .unwrap();
    let ca = identity_core::x509::Certificate::from_der(&ca_der).unwrap();
    let request = identity_core::x509::ocsp_request_der(&leaf, &ca, None).unwrap();
    (
        request,
        Responder {
            certs: (leaf, ca),
            folder,
        },
    )
}

/// `openssl ocsp` as a responder for the same CA and certificate, two
/// processes (`-multi 2`, one a core), if openssl is installed.
/// `openssl ocsp -multi` forks workers that outlive their parent (and spin):
/// the responder runs in a process group of its own, and the whole group is
/// ended.
struct OpensslResponder(Child);

impl Drop for OpensslResponder {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(3) {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl_responder(
    data: &std::path::Path,
    responder: &Responder,
) -> Option<(OpensslResponder, u16)> {
    let leaf = &responder.certs.0;
    // index.txt: status, expiry (YYMMDDHHMMSSZ), revocation, serial, file, subject.
    let expiry = time::OffsetDateTime::from_unix_timestamp(leaf.not_after()).ok()?;
    let expiry = expiry
        .format(time::macros::format_description!(
            "[year repr:last_two][month][day][hour][minute][second]Z"
        ))
        .ok()?;
    let index = data.join("index.txt");
    std::fs::write(
        &index,
        format!(
            "V\t{expiry}\t\t{}\tunknown\t/CN=load\n",
            leaf.serial_hex().to_uppercase()
        ),
    )
    .ok()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let folder = &responder.folder;
    let child = Command::new("openssl")
        .arg("ocsp")
        .arg("-index")
        .arg(&index)
        .args(["-port", &port.to_string(), "-multi", "2", "-nmin", "60"])
        .arg("-rsigner")
        .arg(folder.join("ocsp-cert.pem"))
        .arg("-rkey")
        .arg(folder.join("ocsp-key.pem"))
        .arg("-CA")
        .arg(folder.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()?;
    let server = OpensslResponder(child);
    let ready = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if ready.elapsed() > Duration::from_secs(10) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((server, port))
}

/// The server's peak resident set, from /proc.
fn peak_rss_kib(child: &Child) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let seconds = env_number("LOAD_SECONDS", 10);
    let connections = usize::try_from(env_number("LOAD_CONNECTIONS", 32)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let database = std::env::var("LOAD_DATABASE_URL").ok();
    let mut command = Command::new(env!("CARGO_BIN_EXE_idp-server"));
    command
        .args(["demo", "--listen", &listen, "--data"])
        .arg(data.path());
    if let Some(url) = &database {
        command.args(["--database", url]);
    }
    let server = Server(
        command
            .env("IDP_LOG", "warn")
            // One address plays every user here: the per-address limits would
            // measure themselves.
            .env("IDP_PAGE_REQUESTS_PER_MINUTE", "0")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The demo's issuer on a loopback address is http://localhost:PORT.
    let issuer = format!("http://localhost:{port}");
    let probe = reqwest::Client::new();
    let ready = Instant::now();
    while probe
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .is_err()
    {
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let read = |name: &str| std::fs::read_to_string(data.path().join(name)).unwrap();
    let target = Arc::new(Target {
        issuer,
        portal_secret: read("demo-portal.secret"),
        service_secret: read("demo-service.secret"),
    });
    println!(
        "idp-server load: {connections} connections, {seconds} s a phase, {}, loopback, {} CPUs",
        if database.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let t = Arc::clone(&target);
    phase(connections, seconds, move |h| discovery(h, Arc::clone(&t)))
        .await
        .print("discovery");
    let t = Arc::clone(&target);
    phase(connections, seconds, move |h| {
        service_token(h, Arc::clone(&t))
    })
    .await
    .print("token");
    let t = Arc::clone(&target);
    phase(connections, seconds, move |h| login(h, Arc::clone(&t)))
        .await
        .print("login");
    let (request, responder) = ocsp_setup(data.path(), database.as_deref(), &target.issuer).await;
    let url = Arc::new(format!("{}/pki/ocsp", target.issuer));
    let body = Arc::new(request.clone());
    phase(connections, seconds, move |h| {
        ocsp(h, Arc::clone(&url), (*body).clone())
    })
    .await
    .print("ocsp");
    let url = Arc::new(format!("{}/pki/ocsp", target.issuer));
    let certs = Arc::new(responder.certs.clone());
    phase(connections, seconds, move |h| {
        let certs = Arc::clone(&certs);
        let url = Arc::clone(&url);
        async move {
            let mut nonce = [0u8; 16];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce).unwrap();
            let body =
                identity_core::x509::ocsp_request_der(&certs.0, &certs.1, Some(&nonce)).unwrap();
            ocsp(h, url, body).await
        }
    })
    .await
    .print("ocsp+nonce");
    match openssl_responder(data.path(), &responder) {
        Some((openssl, port)) => {
            let url = Arc::new(format!("http://127.0.0.1:{port}/"));
            let body = Arc::new(request);
            phase(connections, seconds, move |h| {
                ocsp(h, Arc::clone(&url), (*body).clone())
            })
            .await
            .print("openssl-ocsp");
            drop(openssl);
        }
        None => println!("openssl-ocsp: openssl is not installed, no comparison"),
    }
    match peak_rss_kib(&server.0) {
        Some(kib) => println!("server peak RSS {:.1} MiB", kib as f64 / 1024.0),
        None => println!("server peak RSS unknown (no /proc)"),
    }
}
