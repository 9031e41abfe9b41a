//! Tokens after the code: refresh rotation and reuse detection, code replay,
//! service-to-service tokens, introspection (RFC 7662) and revocation (RFC 7009),
//! all over real HTTP against a provider on a loopback port.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use common::*;
use idp_server::clock::Clock;
use idp_server::store::Client;

const PERSON: &str = "079185004321";

async fn refresh(server: &Server, token: &str, scope: Option<&str>) -> (u16, serde_json::Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    post_as_client(server, "/token", &server.client_secret, &form).await
}

async fn introspect(server: &Server, token: &str) -> serde_json::Value {
    let (status, body) = post_as_client(
        server,
        "/introspect",
        &server.client_secret,
        &[("token", token)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn userinfo_status(server: &Server, access_token: &str) -> u16 {
    http()
        .get(format!("{}/userinfo", server.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn str_of<'a>(body: &'a serde_json::Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    // Resource indicators are for client_credentials only.
    let (status, body) = post_as_client(
        &server,
        "/token",
        &server.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("resource", "https://registry.example/"),
        ],
    )
    .await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_target"));
    let first = tokens_for(&server, PERSON).await;
    let r1 = str_of(&first, "refresh_token");

    // A wider scope than was granted is refused, and the token is not spent by it.
    let (status, body) = refresh(&server, r1, Some("openid national_id")).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_scope"));

    // Ten days on. Rotation: a new refresh token and new tokens; a narrower scope
    // is allowed for them.
    server.state.clock.advance(10 * 86_400);
    let (status, second) = refresh(&server, r1, Some("openid")).await;
    assert_eq!(status, 200, "{second}");
    let r2 = str_of(&second, "refresh_token");
    assert_ne!(r1, r2);
    assert_eq!(str_of(&second, "scope"), "openid");
    let a2 = str_of(&second, "access_token");
    assert_eq!(userinfo_status(&server, a2).await, 200);
    assert_eq!(introspect(&server, r2).await["active"], true);
    assert_eq!(introspect(&server, r1).await["active"], false);

    // The old token again: someone holds a copy. The whole family is revoked,
    // the newest refresh token and the access tokens of the family included.
    let (status, body) = refresh(&server, r1, None).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
    let (status, body) = refresh(&server, r2, None).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
    assert_eq!(userinfo_status(&server, a2).await, 401);
    assert_eq!(
        userinfo_status(&server, str_of(&first, "access_token")).await,
        401
    );
    assert_eq!(introspect(&server, a2).await["active"], false);

    // Another login is another family: unaffected.
    let other = tokens_for(&server, PERSON).await;
    assert_eq!(
        userinfo_status(&server, str_of(&other, "access_token")).await,
        200
    );
    // A narrower scope is for the tokens of that refresh only: without openid no
    // ID token; the next refresh token still carries all that was granted.
    let (status, narrowed) =
        refresh(&server, str_of(&other, "refresh_token"), Some("profile")).await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(str_of(&narrowed, "scope"), "profile");
    assert!(narrowed.get("id_token").is_none(), "{narrowed}");
    let (status, other) = refresh(&server, str_of(&narrowed, "refresh_token"), None).await;
    assert_eq!(status, 200, "{other}");
    assert_eq!(str_of(&other, "scope"), "openid profile");
    assert!(other.get("id_token").is_some());

    // Day 31: r1 has expired and the janitor purged it, but r2 (day 40) is alive
    // by date; the family's revocation must outlast it.
    server.state.clock.advance(21 * 86_400);
    server
        .state
        .store
        .purge_expired(server.state.clock.now())
        .await
        .unwrap();
    let (status, _) = refresh(&server, r2, None).await;
    assert_eq!(status, 400, "a revoked family came back after the purge");

    // Refresh tokens expire (30 days by default): the other login's, at day 40.
    server.state.clock.advance(9 * 86_400 + 1);
    let (status, body) = refresh(&server, str_of(&other, "refresh_token"), None).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
    assert!(str_of(&body, "error_description").contains("expired"));
}

#[tokio::test]
async fn a_replayed_code_revokes_what_it_issued() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let code =
        query_of(&log_in(&server, &authorize_url(&server, &[]), PERSON).await)["code"].clone();
    let (status, tokens) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        userinfo_status(&server, str_of(&tokens, "access_token")).await,
        200
    );
    let (status, body) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_grant"));
    assert_eq!(
        userinfo_status(&server, str_of(&tokens, "access_token")).await,
        401
    );
    let (status, _) = refresh(&server, str_of(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn service_tokens_by_client_credentials() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    // The demo portal may not use client_credentials.
    let (status, body) = post_as_client(
        &server,
        "/token",
        &server.client_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (status, str_of(&body, "error")),
        (400, "unauthorized_client")
    );

    let service_secret = "a service's secret, long and random enough";
    let service = Client {
        id: "tax-office".into(),
        name: "Tax office".into(),
        secret_hash: Some(server.state.secret.hash_client_secret(service_secret)),
        redirect_uris: vec![],
        sector: "tax.example".into(),
        scopes: vec!["registry.read".into()],
        grant_types: vec!["client_credentials".into()],
        jwks: None,
        id_token_signed_response_alg: "ES256".into(),
        resources: vec!["https://registry.example/".into()],
        post_logout_redirect_uris: vec![],
    };
    server
        .state
        .store
        .put_client(&service, server.state.clock.now())
        .await
        .unwrap();
    let token_url = format!("{}/token", server.issuer);
    let ask = |form: Vec<(&'static str, &'static str)>| {
        let url = token_url.clone();
        async move { post_form(url, Some(("tax-office", service_secret)), &form).await }
    };
    let (status, body) = ask(vec![
        ("grant_type", "client_credentials"),
        ("scope", "registry.read"),
        ("resource", "https://registry.example/"),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(str_of(&body, "scope"), "registry.read");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    // The resource server (here the demo portal's credentials) introspects it.
    let info = introspect(&server, str_of(&body, "access_token")).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], "tax-office");
    assert_eq!(info["sub"], "tax-office");
    assert_eq!(info["scope"], "registry.read");
    // A service token is not a person's: userinfo refuses it.
    assert_eq!(
        userinfo_status(&server, str_of(&body, "access_token")).await,
        401
    );
    // A resource registered for the client is the token's audience (RFC 8707);
    // none (the client has resources), any other, two at once, or a made-up
    // `audience` are refused.
    assert_eq!(info["aud"], "https://registry.example/", "{info}");
    for form in [
        vec![],
        vec![("resource", "https://other-rs.example")],
        vec![("resource", "https://registry.example")],
        vec![
            ("resource", "https://registry.example/"),
            ("resource", "https://registry.example/"),
        ],
        vec![("audience", "https://registry.example/")],
    ] {
        let mut form = form;
        form.push(("grant_type", "client_credentials"));
        let (status, body) = ask(form.clone()).await;
        assert_eq!(
            (status, str_of(&body, "error")),
            (400, "invalid_target"),
            "{form:?}"
        );
    }
    for scope in ["openid", "registry.write"] {
        let (status, body) =
            ask(vec![("grant_type", "client_credentials"), ("scope", scope)]).await;
        assert_eq!(
            (status, str_of(&body, "error")),
            (400, "invalid_scope"),
            "{scope}"
        );
    }
    // It may not use the person grants.
    let (status, body) = ask(vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", "x"),
    ])
    .await;
    assert_eq!(
        (status, str_of(&body, "error")),
        (400, "unauthorized_client")
    );
}

#[tokio::test]
async fn introspection_and_revocation() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let tokens = tokens_for(&server, PERSON).await;
    let access = str_of(&tokens, "access_token");

    let info = introspect(&server, access).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], idp_server::demo::CLIENT_ID);
    assert_eq!(info["iss"], server.issuer.as_str());
    assert_eq!(info["exp"], 1_800_000_000 + 300);
    // The personal number is never in a token or an introspection answer.
    assert!(!info.to_string().contains(PERSON));

    // Forgeries and junk are simply inactive.
    let (_, rest) = access.split_once('.').unwrap();
    for junk in [
        format!("eyJhbGciOiJub25lIn0.{rest}"),
        "not a token".to_owned(),
        String::new(),
    ] {
        assert_eq!(
            introspect(&server, &junk).await,
            serde_json::json!({"active": false})
        );
    }
    // Only authenticated clients may ask.
    let (status, body) =
        post_as_client(&server, "/introspect", "wrong secret", &[("token", access)]).await;
    assert_eq!((status, str_of(&body, "error")), (401, "invalid_client"));
    let status = http()
        .post(format!("{}/introspect", server.issuer))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    // Revoking the access token: userinfo and introspection see it at once.
    let (status, _) = post_as_client(
        &server,
        "/revoke",
        &server.client_secret,
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(userinfo_status(&server, access).await, 401);
    assert_eq!(introspect(&server, access).await["active"], false);
    // The refresh token still works until it is revoked too.
    let refresh_token = str_of(&tokens, "refresh_token");
    assert_eq!(introspect(&server, refresh_token).await["active"], true);
    let (status, _) = post_as_client(
        &server,
        "/revoke",
        &server.client_secret,
        &[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = refresh(&server, refresh_token, None).await;
    assert_eq!(status, 400);
    // An unknown token: 200 all the same (RFC 7009 §2.2).
    let (status, _) = post_as_client(
        &server,
        "/revoke",
        &server.client_secret,
        &[("token", "unknown")],
    )
    .await;
    assert_eq!(status, 200);

    // Expired access tokens are inactive.
    let fresh = tokens_for(&server, PERSON).await;
    server.state.clock.advance(301);
    assert_eq!(
        introspect(&server, str_of(&fresh, "access_token")).await["active"],
        false
    );
}

fn assertion(key: &identity_core::keys::SigningKey, claims: &serde_json::Value) -> String {
    identity_core::jose::sign_jwt(
        &identity_core::jose::JwsHeader::new(identity_core::jose::JwsAlgorithm::for_key(
            key.verifying_key().algorithm(),
        )),
        claims,
        key,
    )
    .unwrap()
}

#[tokio::test]
async fn private_key_jwt_client_authentication() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let now = server.state.clock.now();
    let (key, jwks) = client_key();
    let client = Client {
        id: "pension-office".into(),
        name: "Pension office".into(),
        secret_hash: None,
        redirect_uris: vec![],
        sector: "pension.example".into(),
        scopes: vec!["registry.read".into()],
        grant_types: vec!["client_credentials".into()],
        jwks: Some(jwks),
        id_token_signed_response_alg: "ES256".into(),
        resources: vec![],
        post_logout_redirect_uris: vec![],
    };
    server.state.store.put_client(&client, now).await.unwrap();
    let token_url = format!("{}/token", server.issuer);
    let claims = |changes: &[(&str, serde_json::Value)]| {
        let mut c = serde_json::json!({
            "iss": "pension-office",
            "sub": "pension-office",
            "aud": token_url,
            "jti": format!("jti-{}", changes.len()),
            "iat": now,
            "exp": now + 120,
        });
        for (k, v) in changes {
            c[*k] = v.clone();
        }
        c
    };
    let post = |assertion: String, basic: bool| {
        let url = token_url.clone();
        async move {
            post_form(
                url,
                basic.then_some(("pension-office", "x")),
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "registry.read"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.as_str()),
                ],
            )
            .await
        }
    };

    let good = assertion(&key, &claims(&[]));
    let (status, body) = post(good.clone(), false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(str_of(&body, "scope"), "registry.read");
    // The same assertion again: a replay.
    let (status, body) = post(good, false).await;
    assert_eq!((status, str_of(&body, "error")), (401, "invalid_client"));
    assert!(
        str_of(&body, "error_description").contains("used before"),
        "{body}"
    );
    // The audience may also be the issuer.
    let (status, body) = post(
        assertion(
            &key,
            &claims(&[
                ("aud", server.issuer.clone().into()),
                ("jti", "by-issuer".into()),
            ]),
        ),
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let (other_key, _) = client_key();
    let refused = [
        assertion(&other_key, &claims(&[("jti", "other-key".into())])),
        assertion(
            &key,
            &claims(&[
                ("aud", "https://elsewhere.example/token".into()),
                ("jti", "aud".into()),
            ]),
        ),
        assertion(
            &key,
            &claims(&[("exp", (now - 120).into()), ("jti", "expired".into())]),
        ),
        assertion(
            &key,
            &claims(&[("exp", (now + 3600).into()), ("jti", "long".into())]),
        ),
        assertion(
            &key,
            &claims(&[("iss", "tax-office".into()), ("jti", "iss".into())]),
        ),
        assertion(&key, &claims(&[("jti", serde_json::Value::Null)])),
        "not.a.jwt".to_owned(),
    ];
    for (i, bad) in refused.into_iter().enumerate() {
        let (status, body) = post(bad, false).await;
        assert_eq!(
            (status, str_of(&body, "error")),
            (401, "invalid_client"),
            "case {i}: {body}"
        );
    }
    // Two methods at once, and a secret for a client that has keys, are refused.
    let (status, body) = post(assertion(&key, &claims(&[("jti", "two".into())])), true).await;
    assert_eq!((status, str_of(&body, "error")), (400, "invalid_request"));
    let response = http()
        .post(&token_url)
        .basic_auth("pension-office", Some(""))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // A client whose keys are RSA signs its assertions RS256; its old key is gone.
    let (rsa_key, rsa_jwks) =
        client_key_of(identity_core::keys::SignatureAlgorithm::RsaPkcs1Sha256);
    let client = Client {
        jwks: Some(rsa_jwks),
        ..client
    };
    server.state.store.put_client(&client, now).await.unwrap();
    let (status, body) = post(
        assertion(&rsa_key, &claims(&[("jti", "rsa".into())])),
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = post(assertion(&key, &claims(&[("jti", "old".into())])), false).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_login() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let tokens = tokens_for(&server, PERSON).await;
    let id_token = str_of(&tokens, "id_token");
    let portal = format!("{}/demo/portal", server.issuer);
    let logout = |params: Vec<(&'static str, String)>| {
        let mut url = url::Url::parse(&format!("{}/logout", server.issuer)).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        async move { http().get(url).send().await.unwrap() }
    };

    // Refused, and nothing ended: a forged hint, an unregistered return address,
    // a client_id that is not the token's audience.
    let (_, rest) = id_token.split_once('.').unwrap();
    for (params, why) in [
        (
            vec![("id_token_hint", format!("eyJhbGciOiJub25lIn0.{rest}"))],
            "forged",
        ),
        (
            vec![
                ("id_token_hint", id_token.to_owned()),
                (
                    "post_logout_redirect_uri",
                    "https://evil.example/".to_owned(),
                ),
            ],
            "unregistered",
        ),
        (
            vec![
                ("id_token_hint", id_token.to_owned()),
                ("client_id", "tax-office".to_owned()),
            ],
            "audience",
        ),
    ] {
        let r = logout(params).await;
        assert_eq!(r.status(), 400, "{why}");
        assert!(r.headers().get("location").is_none(), "{why}");
    }
    assert_eq!(
        userinfo_status(&server, str_of(&tokens, "access_token")).await,
        200
    );

    // A good logout, after the ID token has expired: back to the portal with the
    // state, and the login's tokens are dead.
    server.state.clock.advance(3600);
    let fresh_access = {
        let (status, body) = refresh(&server, str_of(&tokens, "refresh_token"), None).await;
        assert_eq!(status, 200, "{body}");
        body
    };
    let r = logout(vec![
        ("id_token_hint", id_token.to_owned()),
        ("post_logout_redirect_uri", portal.clone()),
        ("state", "bye".to_owned()),
    ])
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{portal}?state=bye")
    );
    assert_eq!(
        userinfo_status(&server, str_of(&fresh_access, "access_token")).await,
        401
    );
    let (status, _) = refresh(&server, str_of(&fresh_access, "refresh_token"), None).await;
    assert_eq!(status, 400);

    // Without a hint: a page, no redirect.
    let r = logout(vec![]).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn schemes_are_case_insensitive_and_access_tokens_are_not_logout_hints() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let tokens = tokens_for(&server, PERSON).await;
    let access = str_of(&tokens, "access_token");
    let r = http()
        .get(format!("{}/userinfo", server.issuer))
        .header("authorization", format!("bearer {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // An access token passed off as an ID token hint: refused, nothing ended.
    let mut url = url::Url::parse(&format!("{}/logout", server.issuer)).unwrap();
    url.query_pairs_mut().append_pair("id_token_hint", access);
    assert_eq!(http().get(url).send().await.unwrap().status(), 400);
    assert_eq!(userinfo_status(&server, access).await, 200);
}
