//! Consent: a person agrees to each portal having the claims it asks for, once
//! (remembered per client and scope until withdrawn), and chooses which of their
//! businesses to act for when the portal asks for scope `business`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use common::*;
use idp_server::clock::Clock;
use openidconnect::reqwest;

const AN: &str = "001090012345";

/// Logs in (the demo authenticator) and returns the page or redirect after it.
async fn authenticate(server: &Server, browser: &Browser, url: &str) -> reqwest::Response {
    let page = browser.get(url).await;
    assert_eq!(page.status(), 200);
    let login_id = login_id_of(&page.text().await.unwrap());
    browser
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await
}

async fn decide(
    server: &Server,
    browser: &Browser,
    page: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let login_id = login_id_of(page);
    let mut fields = vec![("login_id", login_id.as_str())];
    fields.extend_from_slice(form);
    browser
        .post(&format!("{}/authorize/consent", server.issuer), &fields)
        .await
}

async fn id_claims(
    server: &Server,
    location: &std::collections::HashMap<String, String>,
) -> serde_json::Value {
    id_token_claims(server, &location["code"]).await
}

#[tokio::test]
async fn consent_is_asked_once_per_portal_and_scope_and_can_be_refused() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let browser = Browser::default();
    let profile = authorize_url(&server, &[("scope", "openid profile")]);

    // The page lists what is asked; refusing sends access_denied to the portal.
    let page = authenticate(&server, &browser, &profile).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Your name and birth date"), "{page}");
    assert!(!page.contains("identification number"), "{page}");
    let refused = decide(&server, &browser, &page, &[("decision", "deny")]).await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");
    // The session is there (the person did authenticate), but not the consent:
    // prompt=none cannot answer.
    let silent = browser
        .get(&authorize_url(
            &server,
            &[("scope", "openid profile"), ("prompt", "none")],
        ))
        .await;
    assert_eq!(redirect_query(&silent)["error"], "consent_required");

    // Agreeing: the code, and the name in the ID token.
    let page = browser.get(&profile).await;
    let page = page.text().await.unwrap();
    let agreed = decide(&server, &browser, &page, &[("decision", "allow")]).await;
    let claims = id_claims(&server, &redirect_query(&agreed)).await;
    assert_eq!(claims["name"], "Nguyễn Văn An");

    // Remembered: another login (another browser) goes straight back.
    let other = Browser::default();
    let again = authenticate(&server, &other, &profile).await;
    assert!(redirect_query(&again).contains_key("code"));
    // A wider scope asks again, for what is new; prompt=consent asks anyway.
    let wider = browser
        .get(&authorize_url(
            &server,
            &[("scope", "openid profile national_id")],
        ))
        .await;
    assert!(
        wider
            .text()
            .await
            .unwrap()
            .contains("identification number")
    );
    let forced = browser
        .get(&authorize_url(
            &server,
            &[("scope", "openid profile"), ("prompt", "consent")],
        ))
        .await;
    assert_eq!(forced.status(), 200);

    // Withdrawn: asked again.
    assert!(
        server
            .state
            .store
            .withdraw_consent(
                AN,
                idp_server::demo::CLIENT_ID,
                1_800_000_000,
                1_900_000_000
            )
            .await
            .unwrap()
    );
    let asked = browser.get(&profile).await;
    assert_eq!(asked.status(), 200);
    // A consent answer from another browser is refused.
    let page = asked.text().await.unwrap();
    let stranger = decide(
        &server,
        &Browser::default(),
        &page,
        &[("decision", "allow")],
    )
    .await;
    assert_eq!(stranger.status(), 403);
}

#[tokio::test]
async fn a_representative_chooses_the_business_to_act_for() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    server
        .state
        .store
        .put_business("0101243150", "Hợp tác xã Ví Dụ", &[AN.to_owned()])
        .await
        .unwrap();
    let browser = Browser::default();
    let url = authorize_url(&server, &[("scope", "openid business")]);
    let page = authenticate(&server, &browser, &url)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("0314409058") && page.contains("0101243150"),
        "{page}"
    );
    // Not a business of theirs, or none at all: refused.
    for business in ["0312345678", ""] {
        let wrong = decide(
            &server,
            &browser,
            &page,
            &[("decision", "allow"), ("business", business)],
        )
        .await;
        assert_eq!(wrong.status(), 400, "{business:?}");
    }
    // The refusals did not spend the login: the choice is made.
    let chosen = decide(
        &server,
        &browser,
        &page,
        &[("decision", "allow"), ("business", "0101243150")],
    )
    .await;
    let claims = id_claims(&server, &redirect_query(&chosen)).await;
    assert_eq!(claims["business"]["enterprise_code"], "0101243150");
    assert_eq!(claims["business"]["name"], "Hợp tác xã Ví Dụ");
    assert!(claims.get("businesses").is_none());
    // With two businesses the choice is asked at every login, consent or not.
    let again = browser.get(&url).await;
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("You act for"));
}
