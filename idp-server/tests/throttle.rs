//! Per-address rate limits on the pages: a client address over its share gets
//! 429 with Retry-After and a page that says when to come back, before
//! anything is written; activation codes have a tighter limit of their own;
//! the JSON endpoints are not limited; behind a trusted proxy the forwarded
//! address counts, and from anyone else X-Forwarded-For is ignored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use common::*;
use idp_server::clock::Clock;

const T0: i64 = 1_800_000_000;
const AN: &str = "001090012345";

async fn status_of(request: openidconnect::reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_address_over_its_share_of_the_pages_waits() {
    let server = start_with_passkeys_and(Clock::fixed(T0), |config| {
        config.page_requests_per_minute = 5;
    })
    .await;
    let url = authorize_url(&server, &[]);
    for _ in 0..5 {
        assert_eq!(status_of(http().get(&url)).await, 200);
    }
    let refused = http()
        .get(&url)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let page = refused.text().await.unwrap();
    assert!(page.contains("too many requests"), "{page}");
    assert!(page.contains(&format!("{retry_after} seconds")), "{page}");
    // A forwarded-for header from an untrusted peer changes nothing.
    assert_eq!(
        status_of(http().get(&url).header("x-forwarded-for", "203.0.113.9")).await,
        429
    );
    // The JSON endpoints portals and services call are not the pages' share.
    let discovery = format!("{}/.well-known/openid-configuration", server.issuer);
    assert_eq!(status_of(http().get(&discovery)).await, 200);
    assert_eq!(
        status_of(http().get(format!("{}/jwks", server.issuer))).await,
        200
    );
}

#[tokio::test]
async fn activation_attempts_have_their_own_limit_and_a_refused_one_changes_nothing() {
    let server = start_with_passkeys_and(Clock::fixed(T0), |config| {
        config.code_attempts_per_hour = 2;
    })
    .await;
    let browser = Browser::default();
    let form = browser.get(&format!("{}/activate", server.issuer)).await;
    let csrf = field_of(&form.text().await.unwrap(), "csrf");
    let url = format!("{}/activate", server.issuer);
    let fields = [
        ("csrf", csrf.as_str()),
        ("personal_number", AN),
        ("code", "AAAA-BBBB-CCCC"),
    ];
    let attempt = || browser.post(&url, &fields);
    assert_eq!(attempt().await.status(), 400);
    assert_eq!(attempt().await.status(), 400);
    assert_eq!(attempt().await.status(), 429);
    // The third attempt never reached the codes: two audit events, not three.
    let events = server.state.store.audit_events(AN).await.unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    // Other pages are still open to this address.
    assert_eq!(
        browser
            .get(&format!("{}/activate", server.issuer))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_share() {
    let server = start_with_passkeys_and(Clock::fixed(T0), |config| {
        config.page_requests_per_minute = 2;
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let url = authorize_url(&server, &[]);
    let from = |address: &'static str| {
        // The proxy appends the address it saw to what the client sent.
        http()
            .get(&url)
            .header("x-forwarded-for", format!("10.9.9.9, {address}"))
    };
    for _ in 0..2 {
        assert_eq!(status_of(from("203.0.113.5")).await, 200);
    }
    assert_eq!(status_of(from("203.0.113.5")).await, 429);
    assert_eq!(status_of(from("203.0.113.6")).await, 200);
    // One IPv6 subscriber (a /64) is one address.
    assert_eq!(status_of(from("2001:db8:1:2::1")).await, 200);
    assert_eq!(status_of(from("2001:db8:1:2::ffff")).await, 200);
    assert_eq!(status_of(from("2001:db8:1:2:abcd::7")).await, 429);
}
