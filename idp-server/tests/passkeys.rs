//! Passkeys at the HTTP level, with webauthn-authenticator-rs's software passkey
//! as the person's authenticator: activation with a one-time code, registration,
//! login to the demo portal, and what must be refused (wrong, locked and used
//! codes, a replayed challenge, another person's passkey, an answer made for
//! another relying party, a cloned passkey),
//! each with an audit event. Discoverable logins (no number asked) use the
//! resident-key authenticator of `common/spec_passkey.rs`, written from the
//! WebAuthn specification, since the software passkey has no resident keys.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;
#[path = "common/spec_passkey.rs"]
mod spec_passkey;

use base64ct::Encoding as _;
use common::*;
use idp_server::clock::Clock;
use idp_server::enrol;
use openidconnect::reqwest;
use spec_passkey::SpecPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

const T0: i64 = 1_800_000_000;
const AN: &str = "001090012345";
const BINH: &str = "079185004321";

/// What an operator does after proofing a resident: issue a code.
async fn issue_code(server: &Server, number: &str) -> String {
    let code = enrol::new_code().unwrap();
    let hash = enrol::hash_code(&server.state.secret, &code).unwrap();
    let now = server.state.clock.now();
    assert!(
        server
            .state
            .store
            .put_activation(number, &hash, now, now + enrol::ACTIVATION_LIFETIME)
            .await
            .unwrap()
    );
    code
}

fn origin(server: &Server) -> url::Url {
    url::Url::parse(&server.issuer).unwrap()
}

/// `/activate` with the number and code: the page that follows.
async fn enter_code(
    server: &Server,
    browser: &Browser,
    number: &str,
    code: &str,
) -> reqwest::Response {
    let form = browser.get(&format!("{}/activate", server.issuer)).await;
    assert_eq!(form.status(), 200);
    let csrf = field_of(&form.text().await.unwrap(), "csrf");
    browser
        .post(
            &format!("{}/activate", server.issuer),
            &[("csrf", &csrf), ("personal_number", number), ("code", code)],
        )
        .await
}

/// A whole activation: code, then a passkey made by `authenticator`.
async fn activate(server: &Server, authenticator: &mut SoftPasskey, number: &str) {
    let code = issue_code(server, number).await;
    let browser = Browser::default();
    let page = enter_code(server, &browser, number, &code).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let options = serde_json::from_value(webauthn_options_of(&page)).unwrap();
    let credential = authenticator
        .do_registration(origin(server), options)
        .unwrap();
    let done = browser
        .post(
            &format!("{}/activate/finish", server.issuer),
            &[
                ("csrf", &field_of(&page, "csrf")),
                ("enrolment", &field_of(&page, "enrolment")),
                ("credential", &serde_json::to_string(&credential).unwrap()),
                ("name", "my phone"),
            ],
        )
        .await;
    let status = done.status();
    let text = done.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("is registered"), "{text}");
}

/// The login page, then the number step: the page asking for `number`'s passkey.
async fn number_step(server: &Server, browser: &Browser, number: &str) -> (String, String) {
    let page = browser.get(&authorize_url(server, &[])).await;
    assert_eq!(page.status(), 200);
    let login_id = login_id_of(&page.text().await.unwrap());
    let step = browser
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", &login_id), ("personal_number", number)],
        )
        .await;
    assert_eq!(step.status(), 200);
    (login_id, step.text().await.unwrap())
}

async fn answer(
    server: &Server,
    browser: &Browser,
    login_id: &str,
    credential: &str,
) -> reqwest::Response {
    browser
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", login_id), ("credential", credential)],
        )
        .await
}

/// A login as `number` answered with `owner`'s passkey (the login page asks for
/// `number`'s; the authenticator is told to use `owner`'s instead).
async fn someone_elses_passkey(
    server: &Server,
    owner_phone: &mut SoftPasskey,
    owner: &str,
    number: &str,
) -> reqwest::Response {
    let browser = Browser::default();
    let (login_id, page) = number_step(server, &browser, number).await;
    let mut options = webauthn_options_of(&page);
    let credential = server.state.store.passkeys_of(owner).await.unwrap()[0]
        .credential_id
        .clone();
    options["publicKey"]["allowCredentials"] = serde_json::json!([{
        "type": "public-key",
        "id": base64ct::Base64UrlUnpadded::encode_string(&credential),
    }]);
    let assertion = owner_phone
        .do_authentication(origin(server), serde_json::from_value(options).unwrap())
        .unwrap();
    answer(
        server,
        &browser,
        &login_id,
        &serde_json::to_string(&assertion).unwrap(),
    )
    .await
}

async fn audit_kinds(server: &Server, number: &str) -> Vec<String> {
    server
        .state
        .store
        .audit_events(number)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, kind, _)| kind)
        .collect()
}

#[tokio::test]
async fn activation_registration_and_login_with_a_passkey() {
    let server = start_with_passkeys(Clock::fixed(T0)).await;
    let mut phone = SoftPasskey::new(true);

    // Wrong codes count down, then lock the code; each is audited.
    let code = issue_code(&server, AN).await;
    let browser = Browser::default();
    let wrong = enter_code(&server, &browser, AN, "AAAA-BBBB-CCCC").await;
    assert_eq!(wrong.status(), 400);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains("do not match an activation code"), "{wrong}");
    // A number with no code waiting reads the same: nobody learns who has one.
    let none = enter_code(&server, &browser, BINH, "AAAA-BBBB-CCCC").await;
    assert_eq!(none.text().await.unwrap(), wrong.replace(AN, BINH));
    for _ in 0..4 {
        enter_code(&server, &browser, AN, "AAAA-BBBB-CCCC").await;
    }
    let locked = enter_code(&server, &browser, AN, &code).await;
    assert!(locked.text().await.unwrap().contains("locked"));
    let kinds = audit_kinds(&server, AN).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "activation_code_wrong")
            .count(),
        4
    );
    assert!(kinds.contains(&"activation_code_locked".to_owned()));
    // A form posted without its CSRF token is refused.
    let forged = Browser::default()
        .post(
            &format!("{}/activate", server.issuer),
            &[("personal_number", AN), ("code", &code)],
        )
        .await;
    assert_eq!(forged.status(), 403);

    // A new code: activation and a passkey.
    activate(&server, &mut phone, AN).await;
    let passkeys = server.state.store.passkeys_of(AN).await.unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0].name, "my phone");
    assert!(
        audit_kinds(&server, AN)
            .await
            .contains(&"passkey_registered".to_owned())
    );

    // Login to the demo portal: the number, then the passkey.
    let browser = Browser::default();
    let (login_id, page) = number_step(&server, &browser, AN).await;
    let options = serde_json::from_value(webauthn_options_of(&page)).unwrap();
    let assertion = phone.do_authentication(origin(&server), options).unwrap();
    let assertion = serde_json::to_string(&assertion).unwrap();
    let done = answer(&server, &browser, &login_id, &assertion).await;
    let done = consent_if_asked(&browser, &server, done).await;
    let claims = id_token_claims(&server, &redirect_query(&done)["code"]).await;
    assert_eq!(claims["acr"], "substantial");
    assert!(
        server.state.store.passkeys_of(AN).await.unwrap()[0]
            .last_used_at
            .is_some()
    );

    // The same answer again: the login is spent.
    let again = answer(&server, &browser, &login_id, &assertion).await;
    assert_eq!(again.status(), 400);
    // The old answer to a new challenge (a replay): refused, audited.
    let browser = Browser::default();
    let (login_id, _) = number_step(&server, &browser, AN).await;
    let replayed = answer(&server, &browser, &login_id, &assertion).await;
    assert_eq!(redirect_query(&replayed)["error"], "access_denied");
    assert!(
        audit_kinds(&server, AN)
            .await
            .contains(&"passkey_login_refused".to_owned())
    );
}

#[tokio::test]
async fn another_persons_passkey_and_a_cloned_one_are_refused() {
    let server = start_with_passkeys(Clock::fixed(T0)).await;
    let mut an_phone = SoftPasskey::new(true);
    let mut binh_phone = SoftPasskey::new(true);
    activate(&server, &mut an_phone, AN).await;
    activate(&server, &mut binh_phone, BINH).await;

    // Bình's passkey answering a login as An: refused.
    let refused = someone_elses_passkey(&server, &mut binh_phone, BINH, AN).await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");
    assert!(
        audit_kinds(&server, AN)
            .await
            .contains(&"passkey_login_refused".to_owned())
    );

    // An's own passkey, but answering for another relying party (a look-alike
    // site relaying our challenge): its origin and RP ID hash are not ours.
    let browser = Browser::default();
    let (login_id, page) = number_step(&server, &browser, AN).await;
    let mut options = webauthn_options_of(&page);
    options["publicKey"]["rpId"] = "id-gov-vn.example".into();
    let phished = an_phone
        .do_authentication(
            url::Url::parse("https://id-gov-vn.example").unwrap(),
            serde_json::from_value(options).unwrap(),
        )
        .unwrap();
    let refused = answer(
        &server,
        &browser,
        &login_id,
        &serde_json::to_string(&phished).unwrap(),
    )
    .await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");
    // The passkey itself is fine: An logs in with it at the real site.
    let browser = Browser::default();
    let (login_id, page) = number_step(&server, &browser, AN).await;
    let options = serde_json::from_value(webauthn_options_of(&page)).unwrap();
    let genuine = an_phone
        .do_authentication(origin(&server), options)
        .unwrap();
    let fine = answer(
        &server,
        &browser,
        &login_id,
        &serde_json::to_string(&genuine).unwrap(),
    )
    .await;
    let fine = consent_if_asked(&browser, &server, fine).await;
    assert!(redirect_query(&fine).contains_key("code"));

    // A copy of An's passkey signed 100 times elsewhere: the server's counter is
    // ahead of this one's, so this one is refused as possibly cloned.
    let stored = &server.state.store.passkeys_of(AN).await.unwrap()[0];
    let mut record: serde_json::Value = serde_json::from_str(&stored.passkey).unwrap();
    record["cred"]["counter"] = 100.into();
    server
        .state
        .store
        .passkey_used(
            &stored.credential_id,
            &stored.passkey,
            &record.to_string(),
            T0,
        )
        .await
        .unwrap();
    let browser = Browser::default();
    let (login_id, page) = number_step(&server, &browser, AN).await;
    let options = serde_json::from_value(webauthn_options_of(&page)).unwrap();
    let assertion = an_phone
        .do_authentication(origin(&server), options)
        .unwrap();
    let refused = answer(
        &server,
        &browser,
        &login_id,
        &serde_json::to_string(&assertion).unwrap(),
    )
    .await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");
    assert!(
        audit_kinds(&server, AN)
            .await
            .contains(&"passkey_clone_suspected".to_owned())
    );
}

#[tokio::test]
async fn the_login_page_offers_passkeys_and_the_number_step_says_what_is_wrong() {
    let server = start_with_passkeys(Clock::fixed(T0)).await;
    let browser = Browser::default();
    let page = browser.get(&authorize_url(&server, &[])).await;
    let page = page.text().await.unwrap();
    // Showing the page starts no ceremony: the script asks for the options of a
    // discoverable login (no credentials named, user verification required)
    // when the button is pressed, for this login and this browser only.
    assert!(!page.contains("webauthn-options"));
    let asked = browser
        .post(
            &format!("{}/authorize/passkey", server.issuer),
            &[("login_id", &login_id_of(&page))],
        )
        .await;
    assert_eq!(asked.status(), 200);
    let options: serde_json::Value = serde_json::from_str(&asked.text().await.unwrap()).unwrap();
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let stranger = Browser::default()
        .post(
            &format!("{}/authorize/passkey", server.issuer),
            &[("login_id", &login_id_of(&page))],
        )
        .await;
    assert_eq!(stranger.status(), 403);
    assert!(page.contains("/assets/webauthn.js"));
    let script = browser
        .get(&format!("{}/assets/webauthn.js", server.issuer))
        .await;
    assert_eq!(script.status(), 200);
    // A malformed number: the page again, with why.
    let login_id = login_id_of(&page);
    let step = browser
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", &login_id), ("personal_number", "12345")],
        )
        .await;
    assert_eq!(step.status(), 200);
    assert!(
        step.text()
            .await
            .unwrap()
            .contains("not a personal identification number")
    );
    // A number without a passkey looks like one with (one credential asked
    // for, the same each time), and any answer is refused.
    let mut phone = SoftPasskey::new(true);
    activate(&server, &mut phone, BINH).await;
    let (_, page) = number_step(&server, &Browser::default(), AN).await;
    let options = webauthn_options_of(&page);
    let asked = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(asked.len(), 1);
    let (_, again) = number_step(&server, &Browser::default(), AN).await;
    assert_eq!(
        webauthn_options_of(&again)["publicKey"]["allowCredentials"],
        options["publicKey"]["allowCredentials"]
    );
    let refused = someone_elses_passkey(&server, &mut phone, BINH, AN).await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");
    let browser = Browser::default();
    // acr_values high: a passkey cannot reach it; the portal hears so.
    let high = browser
        .get(&authorize_url(&server, &[("acr_values", "high")]))
        .await;
    let q = redirect_query(&high);
    assert_eq!(q["error"], "access_denied");
    assert!(q["error_description"].contains("substantial"));
}

#[tokio::test]
async fn the_account_page_lists_adds_and_removes_passkeys_and_withdraws_consents() {
    let server = start_with_passkeys(Clock::fixed(T0)).await;
    let mut phone = SoftPasskey::new(true);
    activate(&server, &mut phone, AN).await;
    let account = format!("{}/account", server.issuer);

    // Without a session: off to log in, as the provider's own client.
    let browser = Browser::default();
    let first = browser.get(&account).await;
    assert_eq!(first.status(), 303);
    let login_url = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(login_url.contains("client_id=account"), "{login_url}");
    // The number, the passkey, and back to /account.
    let page = browser.get(&login_url).await;
    let login_id = login_id_of(&page.text().await.unwrap());
    let step = browser
        .post(
            &format!("{}/authorize/login", server.issuer),
            &[("login_id", &login_id), ("personal_number", AN)],
        )
        .await;
    let options = serde_json::from_value(webauthn_options_of(&step.text().await.unwrap())).unwrap();
    let assertion = phone.do_authentication(origin(&server), options).unwrap();
    let back = answer(
        &server,
        &browser,
        &login_id,
        &serde_json::to_string(&assertion).unwrap(),
    )
    .await;
    assert!(
        back.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&account)
    );
    let page = browser.get(&account).await.text().await.unwrap();
    assert!(
        page.contains("my phone") && page.contains("Nguyễn Văn An"),
        "{page}"
    );
    let csrf = field_of(&page, "csrf");
    let owner = field_of(&page, "owner");

    // Another passkey, added while logged in (no activation code).
    let added = browser
        .post(
            &format!("{account}/passkeys/add"),
            &[("csrf", &csrf), ("owner", &owner)],
        )
        .await;
    let added = added.text().await.unwrap();
    let mut laptop = SoftPasskey::new(true);
    let credential = laptop
        .do_registration(
            origin(&server),
            serde_json::from_value(webauthn_options_of(&added)).unwrap(),
        )
        .unwrap();
    let done = browser
        .post(
            &format!("{}/activate/finish", server.issuer),
            &[
                ("csrf", &field_of(&added, "csrf")),
                ("enrolment", &field_of(&added, "enrolment")),
                ("credential", &serde_json::to_string(&credential).unwrap()),
                ("name", "laptop"),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    let keys = server.state.store.passkeys_of(AN).await.unwrap();
    assert_eq!(keys.len(), 2);

    // Removing one, then refusing to remove the last; a form without its token
    // does nothing.
    let id = |k: &idp_server::store::StoredPasskey| {
        base64ct::Base64UrlUnpadded::encode_string(&k.credential_id)
    };
    let forged = Browser::default()
        .post(
            &format!("{account}/passkeys/remove"),
            &[("credential", &id(&keys[0]))],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let removed = browser
        .post(
            &format!("{account}/passkeys/remove"),
            &[
                ("csrf", &csrf),
                ("owner", &owner),
                ("credential", &id(&keys[0])),
            ],
        )
        .await;
    assert!(removed.text().await.unwrap().contains("was removed"));
    let last = server.state.store.passkeys_of(AN).await.unwrap();
    assert_eq!(last.len(), 1);
    let refused = browser
        .post(
            &format!("{account}/passkeys/remove"),
            &[
                ("csrf", &csrf),
                ("owner", &owner),
                ("credential", &id(&last[0])),
            ],
        )
        .await;
    assert!(refused.text().await.unwrap().contains("only passkey"));
    assert_eq!(server.state.store.passkeys_of(AN).await.unwrap().len(), 1);

    // A portal's consent, listed and withdrawn (with an audit event).
    let portal = browser
        .get(&authorize_url(&server, &[("scope", "openid profile")]))
        .await;
    let agreed = consent_if_asked(&browser, &server, portal).await;
    let code = redirect_query(&agreed)["code"].clone();
    let (_, tokens) = token_request(&server, &code, VERIFIER, &server.client_secret).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let page = browser.get(&account).await.text().await.unwrap();
    assert!(page.contains("Cổng dịch vụ công"), "{page}");
    let withdrawn = browser
        .post(
            &format!("{account}/consents/withdraw"),
            &[
                ("csrf", &csrf),
                ("owner", &owner),
                ("client_id", idp_server::demo::CLIENT_ID),
            ],
        )
        .await;
    assert!(withdrawn.text().await.unwrap().contains("Withdrawn"));
    assert!(server.state.store.consents_of(AN).await.unwrap().is_empty());
    // What the portal held stops working: its refresh token is refused.
    let (status, _) = post_as_client(
        &server,
        "/token",
        &server.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 400);
    let kinds = audit_kinds(&server, AN).await;
    for kind in ["passkey_removed", "consent_withdrawn"] {
        assert!(kinds.contains(&kind.to_owned()), "{kind}: {kinds:?}");
    }

    // Adding a passkey long after the login: log in again first.
    server.state.clock.advance(601);
    let stale = browser
        .post(
            &format!("{account}/passkeys/add"),
            &[("csrf", &csrf), ("owner", &owner)],
        )
        .await;
    sent_to_fresh_login(&stale);
}

/// The origin a browser at the server would send in its client data.
fn origin_text(server: &Server) -> String {
    origin(server).origin().ascii_serialization()
}

/// An activation with a resident passkey made by the spec authenticator.
async fn activate_resident(server: &Server, phone: &mut SpecPasskey, number: &str) {
    let code = issue_code(server, number).await;
    let browser = Browser::default();
    let page = enter_code(server, &browser, number, &code).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let options = webauthn_options_of(&page);
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"], "required",
        "{options}"
    );
    let credential = phone.create(&options, &origin_text(server));
    let done = browser
        .post(
            &format!("{}/activate/finish", server.issuer),
            &[
                ("csrf", &field_of(&page, "csrf")),
                ("enrolment", &field_of(&page, "enrolment")),
                ("credential", &credential.to_string()),
                ("name", "resident"),
            ],
        )
        .await;
    let status = done.status();
    let text = done.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
}

/// "Sign in with a passkey" pressed on the login page: the login's id and the
/// discoverable options, which name no credential.
async fn discoverable_step(server: &Server, browser: &Browser) -> (String, serde_json::Value) {
    let page = browser.get(&authorize_url(server, &[])).await;
    assert_eq!(page.status(), 200);
    let login_id = login_id_of(&page.text().await.unwrap());
    let options = browser
        .post(
            &format!("{}/authorize/passkey", server.issuer),
            &[("login_id", &login_id)],
        )
        .await;
    assert_eq!(options.status(), 200);
    let options: serde_json::Value = serde_json::from_str(&options.text().await.unwrap()).unwrap();
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{options}"
    );
    (login_id, options)
}

#[tokio::test]
async fn a_discoverable_passkey_logs_in_without_a_number_and_is_checked_like_any_other() {
    let server = start_with_passkeys(Clock::fixed(T0)).await;
    let mut an_phone = SpecPasskey::default();
    let mut binh_phone = SpecPasskey::default();
    activate_resident(&server, &mut an_phone, AN).await;
    activate_resident(&server, &mut binh_phone, BINH).await;
    let copy_of_an_phone = an_phone.clone();

    // No number asked: the passkey's user handle says who it is.
    let browser = Browser::default();
    let (login_id, first_options) = discoverable_step(&server, &browser).await;
    let assertion = an_phone.get(&first_options, &origin_text(&server));
    let done = answer(&server, &browser, &login_id, &assertion.to_string()).await;
    let done = consent_if_asked(&browser, &server, done).await;
    let claims = id_token_claims(&server, &redirect_query(&done)["code"]).await;
    assert_eq!(claims["acr"], "substantial");
    // The same person as the number-first login names.
    let browser = Browser::default();
    let (login_id, page) = number_step(&server, &browser, AN).await;
    let by_number = an_phone.get(&webauthn_options_of(&page), &origin_text(&server));
    let done = answer(&server, &browser, &login_id, &by_number.to_string()).await;
    let done = consent_if_asked(&browser, &server, done).await;
    let by_number = id_token_claims(&server, &redirect_query(&done)["code"]).await;
    assert_eq!(claims["sub"], by_number["sub"]);
    assert_eq!(claims["name"], by_number["name"]);

    // A new, well-signed answer (its counter ahead) to the first login's
    // challenge, given to another login: refused for its challenge alone (the
    // passkey is not suspected of cloning).
    let browser = Browser::default();
    let (login_id, _) = discoverable_step(&server, &browser).await;
    let stale = an_phone.get(&first_options, &origin_text(&server));
    let replayed = answer(&server, &browser, &login_id, &stale.to_string()).await;
    assert_eq!(redirect_query(&replayed)["error"], "access_denied");
    assert!(
        server.state.store.passkeys_of(AN).await.unwrap()[0]
            .disabled_at
            .is_none()
    );

    // An's passkey claiming to be Bình's (its user handle swapped): the
    // credential belongs to An, so it is refused and audited against An.
    let browser = Browser::default();
    let (login_id, options) = discoverable_step(&server, &browser).await;
    let mut forged = an_phone.get(&options, &origin_text(&server));
    forged["response"]["userHandle"] =
        binh_phone.get(&options, &origin_text(&server))["response"]["userHandle"].clone();
    let refused = answer(&server, &browser, &login_id, &forged.to_string()).await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");

    // A signature that does not verify: the counter in the authenticator data
    // raised after signing (nothing but the signature can tell).
    let browser = Browser::default();
    let (login_id, options) = discoverable_step(&server, &browser).await;
    let mut forged = an_phone.get(&options, &origin_text(&server));
    let mut data = base64ct::Base64UrlUnpadded::decode_vec(
        forged["response"]["authenticatorData"].as_str().unwrap(),
    )
    .unwrap();
    data[33] ^= 0x80;
    forged["response"]["authenticatorData"] =
        base64ct::Base64UrlUnpadded::encode_string(&data).into();
    let refused = answer(&server, &browser, &login_id, &forged.to_string()).await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");

    // A credential this server never registered.
    let mut stranger = SpecPasskey::default();
    let browser = Browser::default();
    let (login_id, options) = discoverable_step(&server, &browser).await;
    stranger.create(
        &serde_json::json!({"publicKey": {
            "rp": {"id": options["publicKey"]["rpId"]},
            "user": {"id": base64ct::Base64UrlUnpadded::encode_string(b"someone")},
            "challenge": "AAAA",
        }}),
        &origin_text(&server),
    );
    let unknown = stranger.get(&options, &origin_text(&server));
    let refused = answer(&server, &browser, &login_id, &unknown.to_string()).await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");

    // A copy of An's authenticator, taken before its last logins: its counter
    // is behind the server's, so it is refused as a possible clone and the
    // passkey is disabled until An deals with it.
    let mut copy = copy_of_an_phone;
    let browser = Browser::default();
    let (login_id, options) = discoverable_step(&server, &browser).await;
    let cloned = copy.get(&options, &origin_text(&server));
    let refused = answer(&server, &browser, &login_id, &cloned.to_string()).await;
    assert_eq!(redirect_query(&refused)["error"], "access_denied");
    let kinds = audit_kinds(&server, AN).await;
    assert!(
        kinds.contains(&"passkey_clone_suspected".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .filter(|k| *k == "passkey_login_refused")
            .count()
            >= 2,
        "{kinds:?}"
    );
    // The swapped user handle is audited against the passkey's owner.
    let events = server.state.store.audit_events(AN).await.unwrap();
    assert!(
        events
            .iter()
            .any(|(_, kind, detail)| kind == "passkey_login_refused"
                && detail.contains("user handle")),
        "{events:?}"
    );
}
