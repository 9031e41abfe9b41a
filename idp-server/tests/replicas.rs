//! Two replicas on one PostgreSQL database, as a deployment behind a load balancer
//! runs them: a code issued by replica A is redeemed at replica B, the tokens are
//! refreshed at A and used at B, and a reuse detected at B revokes them at A.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use common::*;
use idp_server::clock::Clock;

/// A code exchanged at `server`, for the redirect URI it was issued for.
async fn redeem_at(server: &Server, redirect_uri: &str, code: &str) -> (u16, serde_json::Value) {
    post_as_client(
        server,
        "/token",
        &server.client_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

#[tokio::test]
async fn two_replicas_share_codes_tokens_and_revocations() {
    let Some(url) = fresh_postgres("two replicas").await else {
        return;
    };
    let a = start_on(Clock::System, &url).await;
    let b = replica_of(&a, Clock::System).await;
    assert_eq!(a.state.config.issuer, b.state.config.issuer);

    let code = query_of(&log_in(&a, &authorize_url(&a, &[]), "079185004321").await)["code"].clone();
    // The redirect URI is the issuer's (A's address), wherever the code is redeemed.
    let redirect_uri = format!("{}/demo/portal/callback", a.issuer);
    let (status, tokens) = redeem_at(&b, &redirect_uri, &code).await;
    assert_eq!(status, 200, "code from A redeemed at B: {tokens}");
    // The same code at A now: a replay, seen across replicas.
    let (status, _) = token_request(&a, &code, VERIFIER, &a.client_secret).await;
    assert_eq!(status, 400);

    // That replay revoked the family: log in again for the refresh part.
    let code = query_of(&log_in(&a, &authorize_url(&a, &[]), "079185004321").await)["code"].clone();
    let (status, tokens) = redeem_at(&b, &redirect_uri, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let first_refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, refreshed) = post_as_client(
        &a,
        "/token",
        &a.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh),
        ],
    )
    .await;
    assert_eq!(status, 200, "refreshed at A: {refreshed}");
    let access = refreshed["access_token"].as_str().unwrap();
    let userinfo = |server: &Server| {
        let url = format!("{}/userinfo", server.issuer);
        async move {
            http()
                .get(url)
                .bearer_auth(access)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(userinfo(&b).await, 200, "A's token used at B");
    // The first refresh token again, at B: reuse, and the family dies everywhere.
    let (status, _) = post_as_client(
        &b,
        "/token",
        &b.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(userinfo(&a).await, 401);
    assert_eq!(userinfo(&b).await, 401);
}
