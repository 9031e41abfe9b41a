//! No input makes the provider fail: random parameters, forms, headers and
//! tokens at every endpoint, driven in-process through the whole router, are
//! answered with a 2xx/3xx/4xx and never a 5xx or a panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

use axum::body::Body;
use axum::http::{Request, header};
use idp_server::clock::Clock;
use idp_server::config::Config;
use idp_server::oidc::ServerSecret;
use idp_server::{AppState, app, demo};
use proptest::prelude::*;
use tower::ServiceExt as _;

/// A provider with the demo authenticator (`passkeys` false) or with passkeys
/// (an issuer on localhost, which WebAuthn accepts).
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
        // A development CA: the /pki endpoints answer too.
        let dir = tempfile::tempdir().unwrap();
        let pki = idp_server::ca::development(dir.path(), &config.issuer, 1_800_000_000).unwrap();
        let ca = idp_server::ca::OnlineCa::load(&pki, &config.issuer, None, 1_800_000_000).unwrap();
        let state = AppState::new(
            config,
            ServerSecret::new(&[5; 32]).unwrap(),
            Clock::fixed(1_800_000_000),
            None,
            Some(ca),
        )
        .await
        .unwrap();
        demo::seed(&state.store, &state.secret, &state.config.issuer, 0)
            .await
            .unwrap();
        state
    })
}

/// Parameter names the endpoints read, and some they do not.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("client_id".to_owned()),
        Just("redirect_uri".to_owned()),
        Just("response_type".to_owned()),
        Just("scope".to_owned()),
        Just("state".to_owned()),
        Just("nonce".to_owned()),
        Just("code_challenge".to_owned()),
        Just("code_challenge_method".to_owned()),
        Just("prompt".to_owned()),
        Just("max_age".to_owned()),
        Just("acr_values".to_owned()),
        Just("grant_type".to_owned()),
        Just("code".to_owned()),
        Just("code_verifier".to_owned()),
        Just("refresh_token".to_owned()),
        Just("client_secret".to_owned()),
        Just("client_assertion".to_owned()),
        Just("client_assertion_type".to_owned()),
        Just("token".to_owned()),
        Just("id_token_hint".to_owned()),
        Just("post_logout_redirect_uri".to_owned()),
        Just("personal_number".to_owned()),
        Just("login_id".to_owned()),
        Just("confirm".to_owned()),
        Just("csrf".to_owned()),
        Just("credential".to_owned()),
        Just("enrolment".to_owned()),
        Just("user_code".to_owned()),
        Just("device_code".to_owned()),
        Just("decision".to_owned()),
        Just("owner".to_owned()),
        "[a-z_]{1,12}",
    ]
}

/// Values: known good ones, JWT-shaped junk, and anything.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("demo-portal".to_owned()),
        Just("code".to_owned()),
        Just("openid profile".to_owned()),
        Just("S256".to_owned()),
        Just("none".to_owned()),
        Just("authorization_code".to_owned()),
        Just("refresh_token".to_owned()),
        Just("client_credentials".to_owned()),
        Just("urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned()),
        Just("http://127.0.0.1:8080/demo/portal/callback".to_owned()),
        Just("079185004321".to_owned()),
        "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,40}",
        "eyJ[A-Za-z0-9_-]{0,60}\\.eyJ[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,20}",
        any::<String>(),
        "[0-9-]{0,25}",
    ]
}

fn encoded(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn cookie() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "idp_(browser|session)=[A-Za-z0-9_-]{0,43}".prop_map(Some),
        "idp_browser=[A-Za-z0-9_-]{0,43}; idp_session=[ -~]{0,43}".prop_map(Some),
        "[ -~]{0,60}".prop_map(Some),
    ]
}

fn authorization() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("Basic ZGVtby1wb3J0YWw6eA==".to_owned())),
        "Basic [A-Za-z0-9+/=]{0,40}".prop_map(Some),
        "[Bb]earer [ -~]{0,80}".prop_map(Some),
        "[ -~]{0,60}".prop_map(Some),
    ]
}

/// Every endpoint, by method and path.
const ENDPOINTS: [(&str, &str); 26] = [
    ("GET", "/authorize"),
    ("POST", "/authorize/login"),
    ("POST", "/token"),
    ("POST", "/introspect"),
    ("POST", "/revoke"),
    ("GET", "/logout"),
    ("GET", "/userinfo"),
    ("GET", "/demo/portal/callback"),
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn no_input_fails_the_server(
        endpoint in 0..ENDPOINTS.len(),
        pairs in proptest::collection::vec((name(), value()), 0..10),
        auth in authorization(),
        cookies in cookie(),
        raw_body in proptest::option::of(any::<Vec<u8>>()),
        passkeys in any::<bool>(),
    ) {
        thread_local! {
            static SETUP: (tokio::runtime::Runtime, AppState, AppState) = {
                let runtime = tokio::runtime::Runtime::new().unwrap();
                let demo = state(&runtime, false);
                let passkeys = state(&runtime, true);
                (runtime, demo, passkeys)
            };
        }
        SETUP.with(|(runtime, demo, with_passkeys)| {
            let state = if passkeys { with_passkeys } else { demo };
            let query = encoded(&pairs);
            let (method, path) = ENDPOINTS[endpoint];
            let uri = if method == "GET" { format!("{path}?{query}") } else { path.to_owned() };
            let mut request = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(auth) = &auth {
                request = request.header(header::AUTHORIZATION, auth.as_str());
            }
            if let Some(cookies) = &cookies {
                request = request.header(header::COOKIE, cookies.as_str());
            }
            let body = match (method, &raw_body) {
                ("POST", Some(raw)) => Body::from(raw.clone()),
                ("POST", None) => Body::from(query.clone()),
                _ => Body::empty(),
            };
            let Ok(request) = request.body(body) else {
                // Not a valid HTTP request at all (a header value hyper would refuse).
                return Ok(());
            };
            let response = runtime.block_on(app(state.clone()).oneshot(request)).unwrap();
            prop_assert!(
                response.status().as_u16() < 500,
                "{method} {path} {pairs:?} auth={auth:?} -> {}",
                response.status()
            );
            Ok(())
        })?;
    }
}
