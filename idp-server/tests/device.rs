//! The device authorization grant (RFC 8628) with the `openidconnect` crate as
//! the device (the signer CLI's part): it asks, a person logs in at /device in
//! a browser, enters the code and approves, and the device's polls end with
//! tokens acting as that person. Also: refusal, expiry, slow_down, wrong
//! codes, single use, a stale login, and what public clients may not do.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use std::time::Duration;

use common::*;
use idp_server::clock::Clock;
use idp_server::demo;
use openidconnect::core::{CoreClient, CoreDeviceAuthorizationResponse, CoreProviderMetadata};
use openidconnect::{
    ClientId, DeviceAuthorizationUrl, IssuerUrl, Nonce, OAuth2TokenResponse, Scope, TokenResponse,
    reqwest,
};

const T0: i64 = 1_800_000_000;
const AN: &str = "001090012345";

async fn signer_client(
    server: &Server,
    http: &reqwest::Client,
) -> CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
> {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), http)
            .await
            .unwrap();
    // Discovery names the device endpoint (RFC 8628 §4); the crate's core
    // metadata type has no field for it.
    let discovery: serde_json::Value = http
        .get(format!(
            "{}/.well-known/openid-configuration",
            server.issuer
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let device_url = discovery["device_authorization_endpoint"].as_str().unwrap();
    CoreClient::from_provider_metadata(metadata, ClientId::new(demo::SIGNER_ID.into()), None)
        .set_device_authorization_url(DeviceAuthorizationUrl::new(device_url.into()).unwrap())
}

async fn ask(
    server: &Server,
    http: &reqwest::Client,
    scopes: &[&str],
) -> CoreDeviceAuthorizationResponse {
    let client = signer_client(server, http).await;
    let mut request = client.exchange_device_code();
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).into()));
    }
    request.request_async(http).await.unwrap()
}

#[tokio::test]
async fn a_device_gets_tokens_once_its_person_approves_in_a_browser() {
    let server = start(Clock::fixed(T0)).await;
    let http = reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let details = ask(&server, &http, &["openid", "profile", "pki:enroll"]).await;
    let user_code = details.user_code().secret().clone();
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert_eq!(
        details.verification_uri().as_str(),
        format!("{}/device", server.issuer)
    );
    assert!(details.expires_in() <= Duration::from_secs(600));

    // The device polls while the person is at the browser; each wait moves the
    // server's clock by the interval the device was told.
    let client = signer_client(&server, &http).await;
    let clock_of = server.state.clone();
    let polling = {
        let http = http.clone();
        let details = details.clone();
        tokio::spawn(async move {
            client
                .exchange_device_access_token(&details)
                .unwrap()
                .request_async(
                    &http,
                    |wait| {
                        clock_of
                            .clock
                            .advance(i64::try_from(wait.as_secs()).unwrap());
                        tokio::time::sleep(Duration::from_millis(20))
                    },
                    None,
                )
                .await
                .map(|tokens| (tokens, client))
        })
    };

    // The link the device shows, with the code in it: log in, compare, approve.
    let browser = Browser::default();
    let complete = details
        .verification_uri_complete()
        .unwrap()
        .secret()
        .clone();
    let page = open_device_page(&server, &browser, &complete, AN).await;
    assert_eq!(
        field_of(&page, "user_code"),
        user_code,
        "the code is filled in"
    );
    let approval = enter_user_code(&server, &browser, &page, &user_code.to_lowercase()).await;
    assert_eq!(approval.status(), 200);
    let approval = approval.text().await.unwrap();
    assert!(approval.contains("asks to act as you"), "{approval}");
    assert!(approval.contains("Get a signing certificate"), "{approval}");
    assert!(
        approval.contains(&user_code),
        "the code to compare: {approval}"
    );
    let done = decide_device(&server, &browser, &approval, "approve").await;
    assert_eq!(done.status(), 200);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Go back to your device")
    );

    let (tokens, client) = tokio::time::timeout(Duration::from_secs(10), polling)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(tokens.scopes().unwrap().iter().any(|s| **s == "pki:enroll"));
    assert!(tokens.refresh_token().is_some());
    // The ID token, checked by the crate (no nonce in the device grant).
    let verifier = client.id_token_verifier();
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(claims.audiences()[0].as_str(), demo::SIGNER_ID);
    assert!(claims.auth_context_ref().is_some());
    // Approved like a consent: on the account page, with an audit event.
    let consents = server.state.store.consents_of(AN).await.unwrap();
    assert!(
        consents
            .iter()
            .any(|(c, s, _)| c == demo::SIGNER_ID && s.contains("pki:enroll"))
    );
    let events = server.state.store.audit_events(AN).await.unwrap();
    assert!(events.iter().any(|(_, kind, _)| kind == "device_approved"));

    // The same code again: decided already.
    let again = enter_user_code(&server, &browser, &page, &user_code).await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("No device is waiting"));
}

#[tokio::test]
async fn refused_expired_too_fast_wrong_and_used_device_codes() {
    let server = start(Clock::fixed(T0)).await;
    let http = http();

    // Polling too fast: slow_down, and the interval grows by five seconds.
    let details = ask(&server, &http, &["openid"]).await;
    let device_code = details.device_code().secret().clone();
    let (status, body) = poll_device(&server, &device_code, demo::SIGNER_ID).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (_, body) = poll_device(&server, &device_code, demo::SIGNER_ID).await;
    assert_eq!(body["error"], "slow_down");
    server.state.clock.advance(5);
    let (_, body) = poll_device(&server, &device_code, demo::SIGNER_ID).await;
    assert_eq!(body["error"], "slow_down", "the interval was ten seconds");
    // Each slow_down adds five seconds, for good (RFC 8628 §3.5): 15 now.
    server.state.clock.advance(15);
    let (_, body) = poll_device(&server, &device_code, demo::SIGNER_ID).await;
    assert_eq!(body["error"], "authorization_pending");
    // Another client with this device code learns nothing.
    let (status, body) = poll_device(&server, &device_code, demo::CLIENT_ID).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // A wrong code, and a malformed one: the entry page says so.
    let browser = Browser::default();
    let page = open_device_page(&server, &browser, &format!("{}/device", server.issuer), AN).await;
    let wrong = enter_user_code(&server, &browser, &page, "BBBB-BBBB").await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("No device is waiting"));
    let malformed = enter_user_code(&server, &browser, &page, "1234").await;
    assert_eq!(malformed.status(), 400);
    assert!(malformed.text().await.unwrap().contains("8 letters"));
    // Without the page's CSRF token: refused.
    let forged = browser
        .post(
            &format!("{}/device", server.issuer),
            &[("user_code", details.user_code().secret().as_str())],
        )
        .await;
    assert_eq!(forged.status(), 403);

    // Refused by the person: the device is told access_denied.
    let approval = enter_user_code(&server, &browser, &page, details.user_code().secret()).await;
    let approval = approval.text().await.unwrap();
    let refused = decide_device(&server, &browser, &approval, "refuse").await;
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("The device gets nothing")
    );
    server.state.clock.advance(15);
    let (_, body) = poll_device(&server, &device_code, demo::SIGNER_ID).await;
    assert_eq!(body["error"], "access_denied");

    // Expired: ten minutes without a decision.
    let details = ask(&server, &http, &["openid"]).await;
    server.state.clock.advance(601);
    let (_, body) = poll_device(&server, details.device_code().secret(), demo::SIGNER_ID).await;
    assert_eq!(body["error"], "expired_token");

    // A login older than ten minutes approves nothing: log in again first.
    let details = ask(&server, &http, &["openid"]).await;
    let stale = decide_device(
        &server,
        &browser,
        &approval.replace(
            &field_of(&approval, "user_code"),
            details.user_code().secret(),
        ),
        "approve",
    )
    .await;
    sent_to_fresh_login(&stale);

    // Approved, used once: the second poll finds nothing.
    let browser = Browser::default();
    let page = open_device_page(&server, &browser, &format!("{}/device", server.issuer), AN).await;
    let approval = enter_user_code(&server, &browser, &page, details.user_code().secret()).await;
    let approval = approval.text().await.unwrap();
    assert_eq!(
        decide_device(&server, &browser, &approval, "approve")
            .await
            .status(),
        200
    );
    let (status, body) =
        poll_device(&server, details.device_code().secret(), demo::SIGNER_ID).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    let (_, body) = poll_device(&server, details.device_code().secret(), demo::SIGNER_ID).await;
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn what_public_and_other_clients_may_not_do() {
    let server = start(Clock::fixed(T0)).await;
    // A public client cannot use client_credentials, nor introspect.
    let (status, body) = post_form(
        format!("{}/token", server.issuer),
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", demo::SIGNER_ID),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = post_form(
        format!("{}/introspect", server.issuer),
        None,
        &[("token", "x"), ("client_id", demo::SIGNER_ID)],
    )
    .await;
    assert_eq!(status, 401);
    // A confidential client named without its secret is not a public one.
    let (status, _) = post_form(
        format!("{}/device_authorization", server.issuer),
        None,
        &[("client_id", demo::CLIENT_ID), ("scope", "openid")],
    )
    .await;
    assert_eq!(status, 401);
    // The account page's internal client is secret-less but not a device.
    let (status, _) = post_form(
        format!("{}/device_authorization", server.issuer),
        None,
        &[("client_id", "account"), ("scope", "openid")],
    )
    .await;
    assert_eq!(status, 401);
    // Scopes beyond the client's, or none.
    for scope in ["openid registry.read", ""] {
        let (status, body) = post_form(
            format!("{}/device_authorization", server.issuer),
            None,
            &[("client_id", demo::SIGNER_ID), ("scope", scope)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope")),
            "{scope:?}"
        );
    }
}
