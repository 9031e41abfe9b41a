//! Single sign-on at the provider: the browser's session answers later logins
//! within its limits (prompt, max_age, acr_values, login_hint, its lifetime), a
//! login under way is bound to the browser that started it and used once, and
//! logout ends the session.

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

const T0: i64 = 1_800_000_000;
const AN: &str = "001090012345"; // assurance high
const DUNG: &str = "092076000123"; // assurance low

/// The claims of the ID token the code in a redirect's `location` is exchanged for.
async fn id_claims(server: &Server, location: &str) -> serde_json::Value {
    id_token_claims(server, &query_of(location)["code"]).await
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303, "{response:?}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_session_answers_later_logins_within_its_limits() {
    let server = start(Clock::fixed(T0)).await;
    let clock = &server.state.clock;
    let browser = Browser::default();

    // The first login: the page, then the answer, which sets the session cookie
    // (HttpOnly, SameSite=Lax, the whole site, for the session's lifetime).
    let page = browser.get(&authorize_url(&server, &[])).await;
    assert_eq!(page.status(), 200);
    let login_id = login_id_of(&page.text().await.unwrap());
    let answer = browser
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await;
    let set: Vec<_> = answer.headers().get_all("set-cookie").iter().collect();
    assert_eq!(set.len(), 1, "{set:?}");
    let set = set[0].to_str().unwrap();
    for attribute in [
        "idp_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=3600",
    ] {
        assert!(set.contains(attribute), "{attribute} missing from {set}");
    }
    assert!(
        !set.contains("Secure"),
        "a loopback http issuer's cookie cannot be Secure"
    );
    let answer = consent_if_asked(&browser, &server, answer).await;
    let first = id_claims(&server, &location(&answer)).await;
    assert_eq!(
        (first["auth_time"].as_i64(), first["acr"].as_str()),
        (Some(T0), Some("high"))
    );

    // Later logins in the same browser are answered at once, with the first
    // login's time and level; prompt=none too.
    clock.advance(100);
    let again = id_claims(
        &server,
        &location(&browser.get(&authorize_url(&server, &[])).await),
    )
    .await;
    assert_eq!(again["auth_time"].as_i64(), Some(T0));
    assert_eq!(again["sub"], first["sub"]);
    let silent = browser
        .get(&authorize_url(&server, &[("prompt", "none")]))
        .await;
    assert!(query_of(&location(&silent)).contains_key("code"));

    // What the session cannot answer is asked again (a page), or refused for
    // prompt=none (login_required, sent to the portal with its state).
    for (changes, why) in [
        (vec![("prompt", "login")], "prompt=login"),
        (vec![("max_age", "50")], "a login older than max_age"),
        (vec![("max_age", "0")], "max_age=0, a fresh login"),
        (vec![("login_hint", DUNG)], "another person hinted"),
    ] {
        let response = browser.get(&authorize_url(&server, &changes)).await;
        assert_eq!(response.status(), 200, "{why}");
        let mut silent = changes.clone();
        silent.push(("prompt", "none"));
        if why != "prompt=login" {
            let response = browser.get(&authorize_url(&server, &silent)).await;
            let q = query_of(&location(&response));
            assert_eq!(q["error"], "login_required", "{why}");
            assert_eq!(q["state"], "st", "{why}");
        }
    }
    let recent_enough = browser
        .get(&authorize_url(&server, &[("max_age", "500")]))
        .await;
    assert!(query_of(&location(&recent_enough)).contains_key("code"));

    // A fresh browser has no session: prompt=none fails.
    let stranger = Browser::default()
        .get(&authorize_url(&server, &[("prompt", "none")]))
        .await;
    assert_eq!(query_of(&location(&stranger))["error"], "login_required");

    // A step up: a session of a low-assurance login does not answer a request
    // for substantial, but a new login in the same browser replaces the session.
    let low = Browser::default();
    log_in_with(&low, &server, &authorize_url(&server, &[]), DUNG).await;
    let old_session = low.cookie("idp_session").unwrap();
    let step_up = low
        .get(&authorize_url(&server, &[("acr_values", "substantial")]))
        .await;
    assert_eq!(step_up.status(), 200);
    let login_id = login_id_of(&step_up.text().await.unwrap());
    let stepped = low
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await;
    assert_eq!(id_claims(&server, &location(&stepped)).await["acr"], "high");
    assert_ne!(low.cookie("idp_session").unwrap(), old_session);
    let answered = low
        .get(&authorize_url(
            &server,
            &[("acr_values", "substantial"), ("prompt", "none")],
        ))
        .await;
    let claims = id_claims(&server, &location(&answered)).await;
    assert_eq!(claims["acr"], "high");
    // The replaced session is over, even for someone who kept its cookie.
    let kept = Browser::default();
    kept.set_cookie("idp_session", &old_session);
    let response = kept
        .get(&authorize_url(&server, &[("prompt", "none")]))
        .await;
    assert_eq!(query_of(&location(&response))["error"], "login_required");

    // The session ends with its lifetime.
    clock.advance(3_600);
    let expired = browser
        .get(&authorize_url(&server, &[("prompt", "none")]))
        .await;
    assert_eq!(query_of(&location(&expired))["error"], "login_required");
}

#[tokio::test]
async fn a_login_under_way_belongs_to_its_browser_and_is_used_once() {
    let server = start(Clock::fixed(T0)).await;
    let login_url = format!("{}/authorize/login", server.issuer);
    let browser = Browser::default();
    let page = browser.get(&authorize_url(&server, &[])).await;
    // Login pages are not cached and cannot be framed.
    let headers = page.headers();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let login_id = login_id_of(&page.text().await.unwrap());
    assert!(browser.cookie("idp_browser").is_some());

    // Posted from elsewhere (no cookie, as a cross-site form would be): refused,
    // and the person's own login is left as it was.
    let stranger = Browser::default();
    let forged = stranger
        .post(
            &login_url,
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert!(stranger.cookie("idp_session").is_none());

    // The person's answer works, once.
    let first = browser
        .post(
            &login_url,
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await;
    let first = consent_if_asked(&browser, &server, first).await;
    assert!(query_of(&location(&first)).contains_key("code"));
    let twice = browser
        .post(
            &login_url,
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await;
    assert_eq!(twice.status(), 400);
    assert!(twice.text().await.unwrap().contains("log in again"));

    // A login left open too long has expired.
    let page = browser
        .get(&authorize_url(&server, &[("prompt", "login")]))
        .await;
    let login_id = login_id_of(&page.text().await.unwrap());
    server.state.clock.advance(601);
    let slow = browser
        .post(
            &login_url,
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await;
    assert_eq!(slow.status(), 400);

    // An unknown person is the portal's to hear about (access_denied).
    let page = browser
        .get(&authorize_url(&server, &[("prompt", "login")]))
        .await;
    let login_id = login_id_of(&page.text().await.unwrap());
    let nobody = browser
        .post(
            &login_url,
            &[("login_id", &login_id), ("personal_number", "000000000000")],
        )
        .await;
    assert_eq!(query_of(&location(&nobody))["error"], "access_denied");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = start(Clock::fixed(T0)).await;
    let logout_url = format!("{}/logout", server.issuer);
    let silent = authorize_url(&server, &[("prompt", "none")]);
    let is_logged_in = |browser: Browser| {
        let silent = silent.clone();
        async move {
            let response = browser.get(&silent).await;
            query_of(&location(&response)).contains_key("code")
        }
    };

    // With the ID token as hint: the session ends at once, and its cookie goes.
    let browser = Browser::default();
    let claims_location = log_in_with(&browser, &server, &authorize_url(&server, &[]), AN).await;
    let code = query_of(&claims_location)["code"].clone();
    let (_, tokens) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    let mut url = url::Url::parse(&logout_url).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap());
    let out = browser.get(url.as_str()).await;
    assert_eq!(out.status(), 200);
    assert!(browser.cookie("idp_session").is_none());
    assert!(!is_logged_in(browser.clone()).await);

    // Without a hint: the person is asked first. A link elsewhere (GET with
    // confirm=yes) or a post without the page's CSRF token cannot log them out;
    // their own confirmation does.
    let browser = Browser::default();
    log_in_with(&browser, &server, &authorize_url(&server, &[]), AN).await;
    let ask = browser.get(&logout_url).await;
    assert_eq!(ask.status(), 200);
    let ask = ask.text().await.unwrap();
    assert!(ask.contains("name=\"confirm\""));
    let csrf = field_of(&ask, "csrf");
    assert!(is_logged_in(browser.clone()).await);
    let linked = browser.get(&format!("{logout_url}?confirm=yes")).await;
    assert_eq!(linked.status(), 200);
    assert!(is_logged_in(browser.clone()).await);
    let no_token = browser.post(&logout_url, &[("confirm", "yes")]).await;
    assert_eq!(no_token.status(), 200);
    assert!(is_logged_in(browser.clone()).await);
    let forced = Browser::default()
        .post(&logout_url, &[("confirm", "yes"), ("csrf", &csrf)])
        .await;
    assert_eq!(forced.status(), 200);
    assert!(is_logged_in(browser.clone()).await);
    let confirmed = browser
        .post(&logout_url, &[("confirm", "yes"), ("csrf", &csrf)])
        .await;
    assert_eq!(confirmed.status(), 200);
    assert!(browser.cookie("idp_session").is_none());
    assert!(!is_logged_in(browser).await);
    // An ID token of someone else ends their login, not this browser's session.
    let browser = Browser::default();
    log_in_with(&browser, &server, &authorize_url(&server, &[]), AN).await;
    let other = tokens_for(&server, "079185004321").await;
    let mut url = url::Url::parse(&logout_url).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", other["id_token"].as_str().unwrap());
    let asked = browser.get(url.as_str()).await;
    assert_eq!(asked.status(), 200);
    assert!(asked.text().await.unwrap().contains("name=\"confirm\""));
    assert!(is_logged_in(browser).await);
}

#[tokio::test]
async fn pages_speak_the_language_the_browser_prefers() {
    let server = start(Clock::fixed(T0)).await;
    let url = authorize_url(&server, &[]);
    for (accept, lang, says) in [
        (None, "vi", "muốn biết bạn là ai"),
        (
            Some("fr-FR, vi;q=0.8, en;q=0.5"),
            "vi",
            "muốn biết bạn là ai",
        ),
        (Some("en-US,en;q=0.9"), "en", "asks who you are"),
        (Some("de-DE"), "vi", "muốn biết bạn là ai"),
        // A weight that is not a number is ignored, never a failure.
        (Some("en;q=NaN, vi;q=0.1"), "vi", "muốn biết bạn là ai"),
    ] {
        let mut request = http().get(&url);
        if let Some(accept) = accept {
            request = request.header("accept-language", accept);
        }
        let page = request.send().await.unwrap();
        assert_eq!(page.headers()["content-language"], lang, "{accept:?}");
        assert!(
            page.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("accept-language")
        );
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("<html lang=\"{lang}\"")),
            "{accept:?}"
        );
        assert!(html.contains(says), "{accept:?}: {html}");
    }
    // Why a login cannot go on is said in that language too, and a portal's
    // mistake is explained to the person with the technical detail as it is.
    for (accept, says) in [
        ("vi", "phiên đăng nhập này đã hết hạn hoặc đã được dùng"),
        ("en", "this login has expired or was already used"),
    ] {
        let page = http()
            .post(format!("{}/authorize/login", server.issuer))
            .header("accept-language", accept)
            .form(&[("login_id", "no-such-login")])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 400);
        let html = page.text().await.unwrap();
        assert!(html.contains(says), "{accept}: {html}");
    }
    for (accept, says) in [
        ("vi", "Cổng dịch vụ đã gửi một yêu cầu"),
        ("en", "The portal sent a request"),
    ] {
        let page = http()
            .get(format!(
                "{}/authorize?client_id=nobody&response_type=code",
                server.issuer
            ))
            .header("accept-language", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 400);
        let html = page.text().await.unwrap();
        assert!(html.contains(says), "{accept}: {html}");
        assert!(html.contains("<code>"), "{html}");
    }
}
