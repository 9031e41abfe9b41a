//! The provider driven over real HTTP: the code flow with the `openidconnect` crate as
//! the relying party, and raw-HTTP requests for every rule it must refuse.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use base64ct::Encoding as _;
use common::*;
use idp_server::clock::Clock;
use idp_server::demo;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

#[tokio::test]
async fn code_flow_with_a_real_relying_party() {
    let server = start(Clock::System).await;
    let http = http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(demo::CLIENT_ID.into()),
        Some(ClientSecret::new(server.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{}/demo/portal/callback", server.issuer)).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("national_id".into()))
        .add_scope(Scope::new("business".into()))
        .set_pkce_challenge(challenge)
        .url();
    let location = log_in(&server, url.as_str(), "001090012345").await;
    let q = query_of(&location);
    assert_eq!(q.get("state"), Some(csrf.secret()));
    assert_eq!(q.get("iss"), Some(&server.issuer));
    let code = q["code"].clone();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    // The client library checks the ID token's signature (from the JWKS), iss, aud,
    // exp and nonce itself.
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&verifier, &nonce)
        .unwrap();
    let sub = claims.subject().as_str().to_owned();
    assert_ne!(
        sub, "001090012345",
        "subjects are pairwise, never the number itself"
    );
    assert_eq!(
        sub,
        server
            .state
            .secret
            .pairwise_subject("demo-portal", "001090012345")
    );
    assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some("high"));

    // Userinfo with the access token: the scopes' claims.
    let info: serde_json::Value = serde_json::from_slice(
        &http
            .get(format!("{}/userinfo", server.issuer))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info["sub"], sub);
    assert_eq!(info["name"], "Nguyễn Văn An");
    assert_eq!(info["national_id"], "001090012345");
    // Acting for the one business An represents (the consent page's choice).
    assert_eq!(info["business"]["enterprise_code"], "0314409058");

    // The code is single-use.
    let again = http
        .post(format!("{}/token", server.issuer))
        .basic_auth(demo::CLIENT_ID, Some(&server.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            (
                "redirect_uri",
                &format!("{}/demo/portal/callback", server.issuer),
            ),
            ("code_verifier", "x".repeat(43).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&again.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_portal_that_only_checks_rs256_gets_rs256_id_tokens() {
    let server = start(Clock::System).await;
    let state = &server.state;
    let secret = "rs256-portal-secret-that-is-long-enough-0123456789";
    let redirect = "https://old-portal.example/callback";
    let request = idp_server::admin::ClientRequest {
        id: "old-portal".into(),
        name: "Old portal".into(),
        redirect_uris: vec![redirect.into()],
        scopes: vec!["openid".into(), "profile".into()],
        grant_types: vec!["authorization_code".into()],
        id_token_signed_response_alg: Some("RS256".into()),
        ..Default::default()
    };
    let registered =
        idp_server::admin::new_client(request, state.secret.hash_client_secret(secret)).unwrap();
    state
        .store
        .put_client(&registered, state.clock.now())
        .await
        .unwrap();

    let http = http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let offered = metadata.id_token_signing_alg_values_supported();
    assert!(offered.contains(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
    assert!(offered.contains(&CoreJwsSigningAlgorithm::EcdsaP256Sha256));
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("old-portal".into()),
        Some(ClientSecret::new(secret.into())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let location = log_in(&server, url.as_str(), "001090012345").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(query_of(&location)["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    // The library's default verifier accepts RS256 only: it checks the signature
    // against the RSA key of our JWKS.
    let id_token = tokens.id_token().unwrap();
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.audiences()[0].as_str(), "old-portal");
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    // Access tokens stay ES256, whatever the client's ID tokens are.
    let header = tokens.access_token().secret().split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&base64ct::Base64UrlUnpadded::decode_vec(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    // The demo portal, an ES256 client, still gets ES256 ID tokens.
    let demo_tokens = tokens_for(&server, "001090012345").await;
    let demo_header = demo_tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let demo_header: serde_json::Value =
        serde_json::from_slice(&base64ct::Base64UrlUnpadded::decode_vec(demo_header).unwrap())
            .unwrap();
    assert_eq!(demo_header["alg"], "ES256");
}

#[tokio::test]
async fn every_rule_is_enforced() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let http = http();
    // A redirect URI that is not registered exactly: an error page, no redirect.
    for bad in [
        format!("{}/demo/portal/callback/", server.issuer),
        "https://evil.example/cb".to_owned(),
    ] {
        let r = http
            .get(authorize_url(&server, &[("redirect_uri", &bad)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().get("location").is_none());
    }
    let r = http
        .get(authorize_url(&server, &[("client_id", "nobody")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Errors the client may hear are sent back to its redirect URI, with state.
    for (change, error) in [
        (("code_challenge", ""), "invalid_request"),
        (("code_challenge_method", "plain"), "invalid_request"),
        (("response_type", "token"), "unsupported_response_type"),
        (("scope", "profile"), "invalid_scope"),
        (("prompt", "none"), "login_required"),
    ] {
        let r = http
            .get(authorize_url(&server, &[change]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{change:?}");
        let q = query_of(r.headers()["location"].to_str().unwrap());
        assert_eq!(
            q.get("error").map(String::as_str),
            Some(error),
            "{change:?}"
        );
        assert_eq!(q.get("state").map(String::as_str), Some("st"));
    }
    // Repeated parameters are refused.
    let repeated = format!("{}&scope=openid", authorize_url(&server, &[]));
    assert_eq!(http.get(repeated).send().await.unwrap().status(), 400);

    // A good code: wrong secret, wrong verifier, then expiry.
    let code =
        query_of(&log_in(&server, &authorize_url(&server, &[]), "079185004321").await)["code"]
            .clone();
    let (status, body) = token_request(&server, &code, VERIFIER, "wrong secret").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) =
        token_request(&server, &code, &"a".repeat(43), &server.client_secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // A failed attempt spends nothing: the right verifier still works, once.
    let (status, body) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    assert_eq!(status, 400);

    let code =
        query_of(&log_in(&server, &authorize_url(&server, &[]), "079185004321").await)["code"]
            .clone();
    server.state.clock.advance(61);
    let (status, body) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    let code =
        query_of(&log_in(&server, &authorize_url(&server, &[]), "079185004321").await)["code"]
            .clone();
    let (status, body) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    // An access token with alg none, or signed by another key, is refused by userinfo.
    let access = body["access_token"].as_str().unwrap();
    let (_, rest) = access.split_once('.').unwrap();
    let none = format!("eyJhbGciOiJub25lIn0.{rest}");
    let r = http
        .get(format!("{}/userinfo", server.issuer))
        .bearer_auth(none)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Asking for a higher assurance than the person has: access_denied.
    let location = log_in(
        &server,
        &authorize_url(&server, &[("acr_values", "high")]),
        "092076000123",
    )
    .await;
    assert_eq!(
        query_of(&location).get("error").map(String::as_str),
        Some("access_denied")
    );
    // Oversized bodies are refused.
    let big = "x".repeat(200_000);
    let r = http
        .post(format!("{}/token", server.issuer))
        .body(big)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}
