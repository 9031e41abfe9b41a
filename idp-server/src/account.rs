//! `/account`: a person's own page. It lists their passkeys (add one, remove
//! one) and the portals they agreed to share claims with (withdraw). It needs the
//! browser's single sign-on session; without one, the person logs in first
//! through the provider's own login, as the internal client `account`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64ct::{Base64UrlUnpadded, Encoding as _};

use crate::AppState;
use crate::authn::{browser_binding, csrf_ok, csrf_token};
use crate::store::{Client, LoginSession, Person, Removal};
use crate::web;

/// The internal client the account page logs people in as.
pub const CLIENT_ID: &str = "account";

/// Seconds after a login within which a person may add a passkey without
/// logging in again.
const RECENT_LOGIN: i64 = 600;

/// Whether a login at `auth_time` is recent enough at `now` for what needs a
/// fresh one: adding a passkey, approving a device, enrolling for a
/// certificate (a refreshed token keeps its login's time).
pub(crate) fn recent(now: i64, auth_time: i64) -> bool {
    now - auth_time <= RECENT_LOGIN
}

/// The internal client, registered at every start.
pub fn client(issuer: &str) -> Client {
    Client {
        id: CLIENT_ID.into(),
        name: "Tài khoản của bạn — your account".into(),
        // A secret no secret matches: it is not a public client either (it
        // never comes to the token endpoint; its codes are never exchanged).
        secret_hash: Some(Vec::new()),
        redirect_uris: vec![format!("{issuer}/account"), format!("{issuer}/device")],
        sector: CLIENT_ID.into(),
        scopes: vec!["openid".into()],
        grant_types: vec!["authorization_code".into()],
        jwks: None,
        post_logout_redirect_uris: vec![],
        id_token_signed_response_alg: "ES256".into(),
        resources: vec![],
    }
}

/// The browser's session and its person, if it has one.
pub(crate) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(LoginSession, Person)>, Response> {
    let Some(handle) = state.cookies.session(headers) else {
        return Ok(None);
    };
    let now = state.clock.now();
    let session = state
        .store
        .session(&state.secret.hash_handle("session", &handle), now)
        .await
        .map_err(|e| web::failed_with("reading a session failed", e))?;
    let Some(session) = session else {
        return Ok(None);
    };
    let person = state
        .store
        .person(&session.personal_number)
        .await
        .map_err(|e| web::failed_with("reading a resident failed", e))?;
    match person {
        Some(p) => Ok(Some((session, p))),
        None => {
            // Removed from the registry: the session ends (else a login would be
            // answered by it and come straight back here).
            if let Err(e) = state
                .store
                .end_session(&state.secret.hash_handle("session", &handle))
                .await
            {
                tracing::error!(error = %e, "ending a session failed");
            }
            Ok(None)
        }
    }
}

/// Whether the browser's session is `personal_number`'s, from a login within
/// the last ten minutes: what adding a passkey without an activation code needs.
pub(crate) async fn recently_signed_in(
    state: &AppState,
    headers: &HeaderMap,
    personal_number: &str,
) -> bool {
    matches!(
        signed_in(state, headers).await,
        Ok(Some((session, person)))
            if person.personal_number == personal_number
                && recent(state.clock.now(), session.auth_time)
    )
}

/// The value account forms carry to name whose page they came from: a form
/// left open on a shared browser cannot act on the next person's account.
pub(crate) fn form_owner(state: &AppState, personal_number: &str) -> String {
    Base64UrlUnpadded::encode_string(&state.secret.hash_handle("account form", personal_number))
}

/// Where a person goes back to after the provider's own login.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Back<'a> {
    /// `/account`.
    Account,
    /// `/device`, with the user code the person came with, if any.
    Device(Option<&'a str>),
}

impl Back<'_> {
    /// The page's path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Account => "/account",
            Self::Device(_) => "/device",
        }
    }
}

/// Sends the browser to log in (again, with `fresh`) through the provider's
/// own login, coming back to `back`.
pub(crate) fn log_in_first(state: &AppState, fresh: bool, back: Back<'_>) -> Response {
    let Ok(verifier) = crate::oidc::random_token() else {
        return web::failed();
    };
    // The code that comes back is never exchanged: the session the login
    // starts is what the account page needs. PKCE is required all the same.
    let challenge = Base64UrlUnpadded::encode_string(
        ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    let issuer = &state.config.issuer;
    let Ok(mut url) = url::Url::parse(&format!("{issuer}/authorize")) else {
        return web::failed();
    };
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", &format!("{issuer}{}", back.path()))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if fresh {
        url.query_pairs_mut().append_pair("prompt", "login");
    }
    // The user code a device showed comes back as the login's state.
    if let Back::Device(Some(user_code)) = back {
        url.query_pairs_mut().append_pair("state", user_code);
    }
    Redirect::to(url.as_str()).into_response()
}

/// `GET /account`.
pub(crate) async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, person) = match signed_in(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return log_in_first(&state, false, Back::Account),
        Err(response) => return response,
    };
    account_page(&state, &headers, &person, None).await
}

async fn account_page(
    state: &AppState,
    headers: &HeaderMap,
    person: &Person,
    message: Option<&str>,
) -> Response {
    let Ok((browser, cookie)) = browser_binding(state, headers) else {
        return web::failed();
    };
    let csrf = csrf_token(state, &browser);
    let number = &person.personal_number;
    let (passkeys, consents) = match (
        state.store.passkeys_of(number).await,
        state.store.consents_of(number).await,
    ) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), _) | (_, Err(e)) => return web::failed_with("reading an account failed", e),
    };
    let mut portals = Vec::with_capacity(consents.len());
    for (client_id, scope, granted_at) in consents {
        let name = match state.store.client(&client_id).await {
            Ok(Some(c)) => c.name,
            Ok(None) => client_id.clone(),
            Err(e) => return web::failed_with("reading a client failed", e),
        };
        portals.push((client_id, name, scope, granted_at));
    }
    let owner = form_owner(state, number);
    let html = web::account(person, &passkeys, &portals, &csrf, &owner, message);
    let mut response = web::own_page(StatusCode::OK, html);
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The account page after an action, with what it did; or the failure page.
async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    person: &Person,
    outcome: Result<&str, crate::store::StoreError>,
) -> Response {
    match outcome {
        Ok(message) => account_page(state, headers, person, Some(message)).await,
        Err(e) => web::failed_with("an account action failed", e),
    }
}

/// The person and the form of an action on one of their pages (`back`), once
/// the form's CSRF token and owner are checked.
pub(crate) async fn action(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    back: Back<'_>,
) -> Result<(LoginSession, Person), Response> {
    let not_done = |why: &str| {
        web::own_page(
            StatusCode::FORBIDDEN,
            web::error(
                web::tr("Chưa thực hiện", "Not done"),
                &format!("{why}: {} {}", web::tr("hãy mở lại", "open"), back.path()),
            ),
        )
    };
    if !csrf_ok(state, headers, form) {
        return Err(not_done(web::tr(
            "biểu mẫu đã hết hạn hoặc đến từ trang khác",
            "this form expired or came from another page",
        )));
    }
    let Some((session, person)) = signed_in(state, headers).await? else {
        return Err(log_in_first(state, false, back));
    };
    if form.get("owner").map(String::as_str)
        != Some(form_owner(state, &person.personal_number).as_str())
    {
        return Err(not_done(web::tr(
            "biểu mẫu này thuộc trang của người khác",
            "this form belongs to another person's page",
        )));
    }
    Ok((session, person))
}

/// `POST /account/passkeys/remove`: removes one of the person's passkeys (never
/// the last: they would have no way to log in).
pub(crate) async fn remove_passkey(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (_, person) = match action(&state, &headers, &form, Back::Account).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let number = &person.personal_number;
    let Some(credential) = form
        .get("credential")
        .and_then(|c| Base64UrlUnpadded::decode_vec(c).ok())
    else {
        return account_page(
            &state,
            &headers,
            &person,
            Some(web::tr(
                "Hãy chọn passkey cần xoá.",
                "Choose a passkey to remove.",
            )),
        )
        .await;
    };
    let name = match state.store.passkey(&credential).await {
        Ok(p) => p.map(|p| p.name).unwrap_or_default(),
        Err(e) => return web::failed_with("reading a passkey failed", e),
    };
    let outcome = match state
        .store
        .remove_passkey_keeping_one(number, &credential)
        .await
    {
        Ok(Removal::Removed) => {
            let detail = format!("passkey {name:?} at /account");
            state.audit(Some(number), "passkey_removed", &detail).await;
            Ok(web::tr("Đã xoá passkey.", "The passkey was removed."))
        }
        Ok(Removal::Last) => Ok(web::tr(
            "Đây là passkey duy nhất của bạn: hãy thêm passkey khác trước khi xoá nó.",
            "This is your only passkey: add another before you remove it.",
        )),
        Ok(Removal::NotFound) => Ok(web::tr(
            "Bạn không có passkey này.",
            "No such passkey of yours.",
        )),
        Err(e) => Err(e),
    };
    respond(&state, &headers, &person, outcome).await
}

/// `POST /account/consents/withdraw`: the portal will ask again next time.
pub(crate) async fn withdraw_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (_, person) = match action(&state, &headers, &form, Back::Account).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let number = &person.personal_number;
    let client_id = form
        .get("client_id")
        .map(String::as_str)
        .unwrap_or_default();
    let now = state.clock.now();
    let until = now + state.config.refresh_token_lifetime;
    let outcome = match state
        .store
        .withdraw_consent(number, client_id, now, until)
        .await
    {
        Ok(true) => {
            state
                .audit(Some(number), "consent_withdrawn", client_id)
                .await;
            Ok(web::tr(
                "Đã rút lại: lần sau cổng đó sẽ hỏi lại sự đồng ý của bạn.",
                "Withdrawn: that portal will ask your consent again.",
            ))
        }
        Ok(false) => Ok(web::tr("Không có gì để rút lại.", "Nothing to withdraw.")),
        Err(e) => Err(e),
    };
    respond(&state, &headers, &person, outcome).await
}

/// `POST /account/passkeys/add`: a new passkey, for a person who logged in
/// within the last ten minutes (else they log in again first).
pub(crate) async fn add_passkey(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (session, person) = match action(&state, &headers, &form, Back::Account).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(webauthn) = state.webauthn.clone() else {
        return account_page(
            &state,
            &headers,
            &person,
            Some(web::tr(
                "Máy chủ này chưa hỗ trợ passkey.",
                "Passkeys are not available on this server.",
            )),
        )
        .await;
    };
    if !recent(state.clock.now(), session.auth_time) {
        return log_in_first(&state, true, Back::Account);
    }
    let csrf = form.get("csrf").cloned().unwrap_or_default();
    match crate::passkey::start_enrolment(&state, &webauthn, &person, None, &csrf).await {
        Ok(html) => web::own_page(StatusCode::OK, html),
        Err(response) => response,
    }
}
