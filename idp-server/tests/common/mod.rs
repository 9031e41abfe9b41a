//! What the provider's integration tests share: a server on a loopback port, a
//! browser's steps at the demo authenticator, requests at the token endpoint.

#![allow(
    dead_code,
    reason = "each test binary uses its own part of these helpers"
)]

use std::collections::HashMap;

use idp_server::clock::Clock;
use idp_server::config::Config;
use idp_server::oidc::ServerSecret;
use idp_server::{AppState, demo};
use openidconnect::reqwest;

pub(crate) struct Server {
    pub(crate) issuer: String,
    pub(crate) client_secret: String,
    pub(crate) state: AppState,
}

/// A provider on a free loopback port, in-memory SQLite, the demo registry.
pub(crate) async fn start(clock: Clock) -> Server {
    start_on(clock, "sqlite::memory:").await
}

/// A provider on a free loopback port over `database_url`, with the demo registry.
pub(crate) async fn start_on(clock: Clock, database_url: &str) -> Server {
    seeded(serve(clock, database_url, String::new()).await).await
}

/// `server` with the demo registry and clients, and the demo portal's secret.
async fn seeded(server: Server) -> Server {
    let client_secret = demo::seed(
        &server.state.store,
        &server.state.secret,
        &server.issuer,
        server.state.clock.now(),
    )
    .await
    .unwrap();
    demo::seed_signer(&server.state.store, server.state.clock.now())
        .await
        .unwrap();
    Server {
        client_secret: client_secret.to_string(),
        ..server
    }
}

/// A second replica of `server`: the same database and server secret, its own
/// port, state and signing-key cache.
/// It answers for the same issuer (as replicas behind one load balancer do);
/// its `issuer` field is its own address, where tests reach it.
pub(crate) async fn replica_of(server: &Server, clock: Clock) -> Server {
    serve_as(
        clock,
        &server.state.config.database_url,
        server.client_secret.clone(),
        Some(server.state.config.issuer.clone()),
    )
    .await
}

async fn serve(clock: Clock, database_url: &str, client_secret: String) -> Server {
    serve_as(clock, database_url, client_secret, None).await
}

/// A provider with the demo authenticator and a development CA (officials
/// enrol at /pki/enroll), its configuration changed by `change`.
pub(crate) async fn start_with_ca(clock: Clock, change: impl FnOnce(&mut Config)) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let issuer = format!("http://{addr}");
    // The CA's files are read once, at the start.
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        issuer: issuer.clone(),
        listen: addr,
        database_url: "sqlite::memory:".into(),
        demo: true,
        pki: Some(idp_server::ca::development(dir.path(), &issuer, clock.now()).unwrap()),
        ..Config::default()
    };
    change(&mut config);
    seeded(serve_listener(listener, config, clock, issuer, String::new()).await).await
}

/// A provider with passkeys as its authenticator (not the demo one), at
/// `http://localhost:PORT` (WebAuthn needs a domain, not an address), with the
/// demo registry and clients.
pub(crate) async fn start_with_passkeys(clock: Clock) -> Server {
    start_with_passkeys_and(clock, |_| {}).await
}

/// [`start_with_passkeys`], with `change` made to its configuration.
pub(crate) async fn start_with_passkeys_and(
    clock: Clock,
    change: impl FnOnce(&mut Config),
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let issuer = format!("http://localhost:{port}");
    let mut config = Config {
        issuer: issuer.clone(),
        listen: listener.local_addr().unwrap(),
        database_url: "sqlite::memory:".into(),
        ..Config::default()
    };
    change(&mut config);
    seeded(serve_listener(listener, config, clock, issuer, String::new()).await).await
}

async fn serve_as(
    clock: Clock,
    database_url: &str,
    client_secret: String,
    issuer_of: Option<String>,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let issuer = format!("http://{addr}");
    let config = Config {
        issuer: issuer_of.unwrap_or_else(|| issuer.clone()),
        listen: addr,
        database_url: database_url.into(),
        demo: true,
        ..Config::default()
    };
    serve_listener(listener, config, clock, issuer, client_secret).await
}

async fn serve_listener(
    listener: tokio::net::TcpListener,
    config: Config,
    clock: Clock,
    issuer: String,
    client_secret: String,
) -> Server {
    let secret = ServerSecret::new(&[42; 32]).unwrap();
    let ca = config
        .pki
        .as_ref()
        .map(|pki| idp_server::ca::OnlineCa::load(pki, &config.issuer, None, clock.now()).unwrap());
    let state = AppState::new(config, secret, clock, None, ca)
        .await
        .unwrap();
    let served = state.clone();
    tokio::spawn(async move {
        idp_server::server::serve(
            listener,
            served,
            idp_server::server::Limits::default(),
            std::future::pending(),
        )
        .await
        .unwrap();
    });
    Server {
        issuer,
        client_secret,
        state,
    }
}

/// A new, empty PostgreSQL database on the server `DATABASE_URL` names, or `None`
/// (said loudly) when there is no `DATABASE_URL`. With `REQUIRE_POSTGRES_TESTS=1`
/// (as `scripts/test` sets once it has started PostgreSQL) a missing one fails.
pub(crate) async fn fresh_postgres(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("DATABASE_URL") else {
        assert!(
            std::env::var("REQUIRE_POSTGRES_TESTS").as_deref() != Ok("1"),
            "REQUIRE_POSTGRES_TESTS=1 but DATABASE_URL is not set"
        );
        eprintln!(
            "SKIPPED: {test} on PostgreSQL: DATABASE_URL is not set \
             (scripts/test starts a local server and sets it)"
        );
        return None;
    };
    let mut name = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut name).unwrap();
    let name = format!(
        "idp_test_{}",
        name.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.unwrap();
    // The name is ours: a fixed prefix and hex digits.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A browser: it keeps the provider's cookies between requests and sends them
/// back, as a real one does (no redirects followed).
#[derive(Debug, Clone, Default)]
pub(crate) struct Browser {
    cookies: std::sync::Arc<std::sync::Mutex<HashMap<String, String>>>,
}

impl Browser {
    fn keep(&self, response: &reqwest::Response) {
        let mut jar = self.cookies.lock().unwrap();
        for value in response.headers().get_all("set-cookie") {
            let cookie = cookie::Cookie::parse(value.to_str().unwrap().to_owned()).unwrap();
            if cookie.max_age() == Some(cookie::time::Duration::ZERO) {
                jar.remove(cookie.name());
            } else {
                jar.insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }

    fn with_cookies(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        // A browser set to English: the tests read the pages' English texts.
        let request = request.header("accept-language", "en-GB,en;q=0.9");
        let jar = self.cookies.lock().unwrap();
        if jar.is_empty() {
            return request;
        }
        let header: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        request.header("cookie", header.join("; "))
    }

    /// A GET, with the cookies.
    pub(crate) async fn get(&self, url: &str) -> reqwest::Response {
        let response = self.with_cookies(http().get(url)).send().await.unwrap();
        self.keep(&response);
        response
    }

    /// A form POST, with the cookies.
    pub(crate) async fn post(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .with_cookies(http().post(url).form(form))
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// The value of a cookie it holds.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    /// Sets a cookie by hand (one kept from elsewhere).
    pub(crate) fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }
}

/// The `login_id` the login page's form carries.
pub(crate) fn login_id_of(page: &str) -> String {
    field_of(page, "login_id")
}

/// The value of a page's (first) form field `name`.
pub(crate) fn field_of(page: &str, name: &str) -> String {
    let field = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&field)
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        + field.len();
    page[at..].split('"').next().unwrap().to_owned()
}

/// The WebAuthn options a page holds for its script.
pub(crate) fn webauthn_options_of(page: &str) -> serde_json::Value {
    let start = "id=\"webauthn-options\">";
    let at = page
        .find(start)
        .unwrap_or_else(|| panic!("no WebAuthn options in {page}"))
        + start.len();
    let json = &page[at..page[at..].find("</script>").unwrap() + at];
    serde_json::from_str(json).unwrap()
}

/// What a person does at the demo authenticator, in a fresh browser: opens the
/// login page and picks the resident. Returns the redirect's Location.
pub(crate) async fn log_in(server: &Server, authorize_url: &str, who: &str) -> String {
    log_in_with(&Browser::default(), server, authorize_url, who).await
}

/// [`log_in`] in `browser` (whose session, if any, is then replaced).
pub(crate) async fn log_in_with(
    browser: &Browser,
    server: &Server,
    authorize_url: &str,
    who: &str,
) -> String {
    let page = browser.get(authorize_url).await;
    assert_eq!(page.status(), 200);
    let login_id = login_id_of(&page.text().await.unwrap());
    let response = browser
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", &login_id), ("personal_number", who)],
        )
        .await;
    let response = consent_if_asked(browser, server, response).await;
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// If `response` is the consent page, what a person who agrees does (acting for
/// the first business offered); else `response` itself.
pub(crate) async fn consent_if_asked(
    browser: &Browser,
    server: &Server,
    response: reqwest::Response,
) -> reqwest::Response {
    if response.status() != 200 {
        return response;
    }
    let page = response.text().await.unwrap();
    assert!(page.contains("action=\"/authorize/consent\""), "{page}");
    let login_id = login_id_of(&page);
    let business = page
        .contains("name=\"business\"")
        .then(|| field_of(&page, "business"));
    let mut form = vec![("login_id", login_id.as_str()), ("decision", "allow")];
    if let Some(b) = &business {
        form.push(("business", b));
    }
    browser
        .post(&format!("{}/authorize/consent", server.issuer), &form)
        .await
}

/// An authorization URL for the demo client, with `changes` applied (an empty value
/// removes the parameter).
pub(crate) fn authorize_url(server: &Server, changes: &[(&str, &str)]) -> String {
    let mut params: Vec<(String, String)> = [
        ("client_id", demo::CLIENT_ID.to_owned()),
        (
            "redirect_uri",
            format!("{}/demo/portal/callback", server.issuer),
        ),
        ("response_type", "code".to_owned()),
        ("scope", "openid profile".to_owned()),
        ("state", "st".to_owned()),
        ("nonce", "nn".to_owned()),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
        ),
        ("code_challenge_method", "S256".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in changes {
        params.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            params.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    let mut url = url::Url::parse(&format!("{}/authorize", server.issuer)).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

pub(crate) async fn token_request(
    server: &Server,
    code: &str,
    verifier: &str,
    secret: &str,
) -> (u16, serde_json::Value) {
    let redirect_uri = format!("{}/demo/portal/callback", server.issuer);
    post_as_client(
        server,
        "/token",
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// RFC 7636 appendix B's verifier for the challenge in `authorize_url`.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A form posted to `path` with the demo client's credentials (`secret`); the
/// status and the JSON body (`null` when there is none).
pub(crate) async fn post_as_client(
    server: &Server,
    path: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    post_form(
        format!("{}{path}", server.issuer),
        Some((demo::CLIENT_ID, secret)),
        form,
    )
    .await
}

/// A form posted to `url`, with Basic credentials when given; the status and the
/// JSON body (`null` when there is none).
pub(crate) async fn post_form(
    url: String,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut request = http().post(url).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or_default(),
    )
}

/// Logs `who` in and exchanges the code: the token response.
pub(crate) async fn tokens_for(server: &Server, who: &str) -> serde_json::Value {
    let code = query_of(&log_in(server, &authorize_url(server, &[]), who).await)["code"].clone();
    let (status, body) = token_request(server, &code, VERIFIER, &server.client_secret).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `idp-server demo` as its own process on a free loopback port, logging at
/// `log_level` into `log` (or nowhere); returns once it accepts connections.
pub(crate) fn spawn_demo(
    data: &std::path::Path,
    log_level: &str,
    log: Option<std::fs::File>,
) -> (std::process::Child, u16) {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_idp-server"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env("IDP_LOG", log_level)
        .stdout(Stdio::null())
        .stderr(log.map_or_else(Stdio::null, Stdio::from))
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the demo did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// A client's P-256 key pair and its published JWK Set.
pub(crate) fn client_key() -> (identity_core::keys::SigningKey, String) {
    client_key_of(identity_core::keys::SignatureAlgorithm::EcdsaP256Sha256)
}

/// A client key pair of `alg` and its published JWK Set.
pub(crate) fn client_key_of(
    alg: identity_core::keys::SignatureAlgorithm,
) -> (identity_core::keys::SigningKey, String) {
    let key =
        identity_core::keys::SigningKey::generate(alg, &ring::rand::SystemRandom::new()).unwrap();
    let mut set = identity_core::jose::JwkSet::default();
    set.keys
        .push(identity_core::jose::Jwk::new(key.verifying_key().clone()).with_thumbprint_kid());
    (key, set.to_json())
}

/// The claims of the ID token a code of the demo portal is exchanged for.
pub(crate) async fn id_token_claims(server: &Server, code: &str) -> serde_json::Value {
    use base64ct::Encoding as _;
    let (status, body) = token_request(server, code, VERIFIER, &server.client_secret).await;
    assert_eq!(status, 200, "{body}");
    let payload = body["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    serde_json::from_slice(&base64ct::Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap()
}

/// A person at /device in `browser`: logs in as `who` (the demo
/// authenticator) when sent to, and ends on the code entry page.
pub(crate) async fn open_device_page(
    server: &Server,
    browser: &Browser,
    url: &str,
    who: &str,
) -> String {
    let mut response = browser.get(url).await;
    if response.status() == 303 {
        // To the provider's own login, and back to /device.
        let login = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(login.contains("client_id=account"), "{login}");
        let back = log_in_with(browser, server, &login, who).await;
        assert!(
            back.starts_with(&format!("{}/device?", server.issuer)),
            "{back}"
        );
        response = browser.get(&back).await;
    }
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Enters `code` on the entry page: the approval page (or a refusal).
pub(crate) async fn enter_user_code(
    server: &Server,
    browser: &Browser,
    page: &str,
    code: &str,
) -> reqwest::Response {
    browser
        .post(
            &format!("{}/device", server.issuer),
            &[
                ("csrf", &field_of(page, "csrf")),
                ("owner", &field_of(page, "owner")),
                ("user_code", code),
            ],
        )
        .await
}

pub(crate) async fn decide_device(
    server: &Server,
    browser: &Browser,
    approval_page: &str,
    decision: &str,
) -> reqwest::Response {
    browser
        .post(
            &format!("{}/device/decide", server.issuer),
            &[
                ("csrf", &field_of(approval_page, "csrf")),
                ("owner", &field_of(approval_page, "owner")),
                ("user_code", &field_of(approval_page, "user_code")),
                ("decision", decision),
            ],
        )
        .await
}

/// A poll with the device code, as raw JSON.
pub(crate) async fn poll_device(
    server: &Server,
    device_code: &str,
    client_id: &str,
) -> (u16, serde_json::Value) {
    let response = http()
        .post(format!("{}/token", server.issuer))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

/// What the signer's login does, with `who` approving in a browser: the
/// device grant's token response for `scope`.
pub(crate) async fn device_tokens(server: &Server, who: &str, scope: &str) -> serde_json::Value {
    let (status, asked) = post_form(
        format!("{}/device_authorization", server.issuer),
        None,
        &[("client_id", demo::SIGNER_ID), ("scope", scope)],
    )
    .await;
    assert_eq!(status, 200, "{asked}");
    let browser = Browser::default();
    let url = asked["verification_uri_complete"].as_str().unwrap();
    let page = open_device_page(server, &browser, url, who).await;
    let user_code = asked["user_code"].as_str().unwrap();
    let approval = enter_user_code(server, &browser, &page, user_code).await;
    assert_eq!(approval.status(), 200);
    let approval = approval.text().await.unwrap();
    assert_eq!(
        decide_device(server, &browser, &approval, "approve")
            .await
            .status(),
        200
    );
    let (status, tokens) = poll_device(
        server,
        asked["device_code"].as_str().unwrap(),
        demo::SIGNER_ID,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// Asserts that `response` sends the browser to log in again (`prompt=login`).
pub(crate) fn sent_to_fresh_login(response: &reqwest::Response) {
    assert_eq!(response.status(), 303, "{response:?}");
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.contains("prompt=login"), "{location}");
}

/// The query of the redirect `response` answers (asserting it is one).
pub(crate) fn redirect_query(response: &reqwest::Response) -> HashMap<String, String> {
    assert_eq!(response.status(), 303, "{response:?}");
    query_of(response.headers()["location"].to_str().unwrap())
}
