#![no_main]
//! The whole provider, in-process: a request to any endpoint, its parameters,
//! body, Authorization and Cookie headers from the input. No input may make it
//! answer 5xx or panic.
//!
//! Input: one byte choosing the endpoint (and, by its top bit, a provider with
//! the demo authenticator or with passkeys), then NUL-separated parts: the query or
//! form (re-encoded, so that its pairs survive), a raw body (used when the form
//! part is empty), the Authorization header, the Cookie header.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, header};
use idp_server::clock::Clock;
use idp_server::config::Config;
use idp_server::oidc::ServerSecret;
use idp_server::{AppState, app, demo};
use tower::ServiceExt as _;

const ENDPOINTS: [(&str, &str); 28] = [
    ("GET", "/authorize"),
    ("POST", "/authorize/login"),
    ("POST", "/token"),
    ("POST", "/introspect"),
    ("POST", "/revoke"),
    ("GET", "/logout"),
    ("POST", "/logout"),
    ("GET", "/userinfo"),
    ("GET", "/demo/portal/callback"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/activate"),
    ("POST", "/activate"),
    ("POST", "/activate/finish"),
    ("GET", "/account"),
    ("POST", "/account/passkeys/add"),
    ("POST", "/account/passkeys/remove"),
    ("POST", "/account/consents/withdraw"),
    ("POST", "/device_authorization"),
    ("GET", "/device"),
    ("POST", "/device"),
    ("POST", "/device/decide"),
    ("POST", "/pki/enroll"),
    ("POST", "/pki/ocsp"),
    ("GET", "/pki/ocsp/MEMwQTA%2FMD0wOzAJBgUrDgMCGgUABBQ"),
    ("GET", "/pki/crl/official-ca.crl"),
    ("GET", "/pki/ca/official-ca.crt"),
    ("POST", "/pki/tsa"),
    ("GET", "/pki/crl/tsa-ca.crl"),
];

fn state(runtime: &tokio::runtime::Runtime, passkeys: bool) -> AppState {
    runtime.block_on(async {
        let config = Config {
            database_url: "sqlite::memory:".into(),
            demo: !passkeys,
            issuer: if passkeys {
                "http://localhost:8080".into()
            } else {
                Config::default().issuer
            },
            ..Config::default()
        };
        // A development CA: the /pki endpoints answer too (its files are read
        // once, then removed).
        let dir =
            std::env::temp_dir().join(format!("provider-http-{}-{passkeys}", std::process::id()));
        let pki = idp_server::ca::development(&dir, &config.issuer, 1_800_000_000)
            .expect("a development CA");
        let ca = idp_server::ca::OnlineCa::load(&pki, &config.issuer, None, 1_800_000_000)
            .expect("the CA loads");
        let _ = std::fs::remove_dir_all(&dir);
        let state = AppState::new(
            config,
            ServerSecret::new(&[5; 32]).expect("a secret"),
            Clock::fixed(1_800_000_000),
            None,
            Some(ca),
        )
        .await
        .expect("the provider starts");
        demo::seed(&state.store, &state.secret, &state.config.issuer, 0)
            .await
            .expect("the demo registry");
        demo::seed_signer(&state.store, 0)
            .await
            .expect("the signer client");
        state
    })
}

fn setup() -> &'static (tokio::runtime::Runtime, AppState, AppState) {
    static SETUP: OnceLock<(tokio::runtime::Runtime, AppState, AppState)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let demo = state(&runtime, false);
        let passkeys = state(&runtime, true);
        (runtime, demo, passkeys)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (method, path) = ENDPOINTS[usize::from(choice & 0x7f) % ENDPOINTS.len()];
    let mut parts = rest.split(|b| *b == 0);
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(
            parts.next().unwrap_or_default(),
        ))
        .finish();
    let raw_body = parts.next().unwrap_or_default().to_vec();
    let authorization = parts.next();
    let cookie = parts.next();
    let uri = if method == "GET" {
        format!("{path}?{form}")
    } else {
        path.to_owned()
    };
    let mut request = Request::builder().method(method).uri(uri).header(
        header::CONTENT_TYPE,
        match path {
            "/pki/tsa" => "application/timestamp-query",
            "/pki/ocsp" => "application/ocsp-request",
            _ => "application/x-www-form-urlencoded",
        },
    );
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    if let Some(value) = cookie {
        request = request.header(header::COOKIE, value);
    }
    let body = match (method, form.is_empty()) {
        ("POST", true) => Body::from(raw_body),
        ("POST", false) => Body::from(form),
        _ => Body::empty(),
    };
    // Not a request hyper would pass on (a header value it refuses): nothing to do.
    let Ok(request) = request.body(body) else {
        return;
    };
    let (runtime, demo, passkeys) = setup();
    let state = if choice & 0x80 == 0 { demo } else { passkeys };
    let response = runtime
        .block_on(app(state.clone()).oneshot(request))
        .expect("the router answers");
    assert!(
        response.status().as_u16() < 500,
        "{method} {path} answered {}",
        response.status()
    );
});
