//! Nothing secret in the logs: the server runs as its own process at `trace`,
//! the most verbose level there is (its dependencies' included), every kind of secret passes through
//! it (client secrets, codes, tokens, personal numbers, the server secret), and
//! the captured log is searched for each.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use base64ct::Encoding as _;
use common::*;

const PERSON: &str = "079185004321";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn no_secret_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let log_path = dir.path().join("server.log");
    let (mut child, port) = spawn_demo(
        &data,
        "trace",
        Some(std::fs::File::create(&log_path).unwrap()),
    );
    let issuer = format!("http://localhost:{port}");
    let portal_secret = std::fs::read_to_string(data.join("demo-portal.secret")).unwrap();
    let service_secret = std::fs::read_to_string(data.join("demo-service.secret")).unwrap();
    let http = http();
    let mut secrets: Vec<String> = vec![
        portal_secret.clone(),
        service_secret.clone(),
        PERSON.to_owned(),
        VERIFIER.to_owned(),
    ];
    let server_key = std::fs::read(data.join("secret.key")).unwrap();
    secrets.push(base64ct::Base64::encode_string(&server_key));
    secrets.push(base64ct::Base64UrlUnpadded::encode_string(&server_key));

    // A login through the code flow.
    let redirect_uri = format!("{issuer}/demo/portal/callback");
    let params = [
        ("client_id", "demo-portal"),
        ("redirect_uri", redirect_uri.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile national_id"),
        ("state", "a-state-value"),
        ("nonce", "a-nonce-value"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let mut authorize_url = url::Url::parse(&format!("{issuer}/authorize")).unwrap();
    authorize_url.query_pairs_mut().extend_pairs(params);
    let browser = Browser::default();
    let page = browser.get(authorize_url.as_str()).await;
    assert_eq!(page.status(), 200);
    let login_id = login_id_of(&page.text().await.unwrap());
    let answer = browser
        .post(
            &format!("{issuer}/authorize/login"),
            &[
                ("login_id", &login_id),
                ("method", "demo"),
                ("personal_number", PERSON),
            ],
        )
        .await;
    // The consent page, agreed to.
    assert_eq!(answer.status(), 200);
    let consent_id = login_id_of(&answer.text().await.unwrap());
    let answer = browser
        .post(
            &format!("{issuer}/authorize/consent"),
            &[("login_id", &consent_id), ("decision", "allow")],
        )
        .await;
    assert_eq!(answer.status(), 303);
    secrets.push(consent_id);
    // The browser's handles are secrets too.
    secrets.push(login_id);
    secrets.push(browser.cookie("idp_browser").unwrap());
    secrets.push(browser.cookie("idp_session").unwrap());
    let code = query_of(answer.headers()["location"].to_str().unwrap())["code"].clone();
    let token_url = format!("{issuer}/token");
    let code_form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", VERIFIER),
    ];
    // A wrong secret first: refused, and the wrong secret is not logged either.
    let wrong = "a-wrong-secret-that-must-not-be-logged";
    secrets.push(wrong.to_owned());
    let (status, _) = post_form(token_url.clone(), Some(("demo-portal", wrong)), &code_form).await;
    assert_eq!(status, 401);
    let (status, tokens) = post_form(
        token_url.clone(),
        Some(("demo-portal", &portal_secret)),
        &code_form,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    // The code replayed (logged as an event, without the code).
    let (status, _) = post_form(
        token_url.clone(),
        Some(("demo-portal", &portal_secret)),
        &code_form,
    )
    .await;
    assert_eq!(status, 400);
    secrets.push(code.clone());
    for name in ["access_token", "id_token", "refresh_token"] {
        secrets.push(tokens[name].as_str().unwrap().to_owned());
    }

    // A second login, answered by the session, to refresh, introspect, use and
    // revoke.
    let answer = browser.get(authorize_url.as_str()).await;
    assert_eq!(answer.status(), 303);
    let code = query_of(answer.headers()["location"].to_str().unwrap())["code"].clone();
    let code_form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let (_, tokens) = post_form(
        token_url.clone(),
        Some(("demo-portal", &portal_secret)),
        &code_form,
    )
    .await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, refreshed) = post_form(
        token_url.clone(),
        Some(("demo-portal", &portal_secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    // Reuse of the old refresh token (logged as an event, without the token).
    let (status, _) = post_form(
        token_url.clone(),
        Some(("demo-portal", &portal_secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 400);
    secrets.push(code);
    secrets.push(refresh_token);
    for name in ["access_token", "id_token", "refresh_token"] {
        secrets.push(refreshed[name].as_str().unwrap().to_owned());
    }
    let userinfo = http
        .get(format!("{issuer}/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    // The family was revoked by the reuse.
    assert_eq!(userinfo.status(), 401);

    let (status, service) = post_form(
        token_url.clone(),
        Some(("demo-service", &service_secret)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "registry.read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{service}");
    let service_token = service["access_token"].as_str().unwrap().to_owned();
    let (status, info) = post_form(
        format!("{issuer}/introspect"),
        Some(("demo-portal", &portal_secret)),
        &[("token", &service_token)],
    )
    .await;
    assert_eq!(
        (status, &info["active"]),
        (200, &serde_json::Value::Bool(true))
    );
    let (status, _) = post_form(
        format!("{issuer}/revoke"),
        Some(("demo-service", &service_secret)),
        &[("token", &service_token)],
    )
    .await;
    assert_eq!(status, 200);
    secrets.push(service_token);

    child.kill().unwrap();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    // The log did capture the work, so its silence about secrets means something.
    assert!(log.contains("tokens issued"), "{log}");
    assert!(log.contains("refresh token reused"), "{log}");
    assert!(log.contains("path=/token"), "{log}");
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !log.contains(secret.as_str()),
            "the log holds a secret ({}…):\n{log}",
            &secret[..6.min(secret.len())]
        );
    }
    // Nor the server secret's raw bytes.
    assert!(
        !log.as_bytes()
            .windows(server_key.len())
            .any(|w| w == server_key)
    );
    // Nor the state and nonce, which belong to the client.
    assert!(!log.contains("a-state-value") && !log.contains("a-nonce-value"));
}
