//! The device authorization grant (RFC 8628), for the signer CLI and other
//! devices without a browser of their own: the device asks at
//! `/device_authorization` and shows a short user code; the person opens
//! `/device` in a browser, logs in (with a passkey), enters the code and
//! approves; the device, polling the token endpoint with its device code,
//! gets tokens that act as that person.
//!
//! Both codes are stored as keyed hashes. A user code is 8 letters from the 20
//! consonants of RFC 8628 §6.1 (about 34 bits), lives 10 minutes, and is tried
//! within the per-address code limit; approving needs a login of the last ten
//! minutes, and the approval page shows the code again to compare with the
//! device's screen (§5.4: a code sent by someone else is the phishing case).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde_json::json;

use crate::AppState;
use crate::account::{Back, action, form_owner, log_in_first, recent, signed_in};
use crate::authn::{browser_binding, csrf_token};
use crate::handlers::{Public, authenticate_client, internal, oauth_error};
use crate::oidc::{OAuthError, authorize, random_token};
use crate::store::{DeviceApproval, LoginSession, Person};
use crate::web;

/// The scope that lets a token enrol for a signing certificate.
pub const PKI_ENROLL: &str = "pki:enroll";
/// Seconds a device authorization request lives.
pub const LIFETIME: i64 = 600;
/// Seconds a device waits between polls, to begin with.
pub const INTERVAL: i64 = 5;
/// The letters of a user code: consonants, no vowels (no words), no look-alikes.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code.
const USER_CODE_LEN: usize = 8;

/// The keyed hash a device code is stored under.
pub(crate) fn device_code_hash(state: &AppState, device_code: &str) -> Vec<u8> {
    state.secret.hash_handle("device code", device_code)
}

fn user_code_hash(state: &AppState, user_code: &str) -> Vec<u8> {
    state.secret.hash_handle("user code", user_code)
}

/// A user code as a person typed it, in the form it is stored: upper case,
/// without dashes and spaces. `None` unless it is 8 letters of the alphabet.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// A user code as people read it: `BCDF-GHJK`.
fn readable(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a}-{b}")
}

/// A new user code, uniformly from the alphabet.
fn new_user_code() -> Result<String, OAuthError> {
    let rng = ring::rand::SystemRandom::new();
    let mut code = String::with_capacity(USER_CODE_LEN);
    while code.len() < USER_CODE_LEN {
        let mut bytes = [0u8; 16];
        ring::rand::SecureRandom::fill(&rng, &mut bytes)
            .map_err(|_| OAuthError::new("server_error", "no randomness"))?;
        // 240 is 12 × 20: bytes above it would favour the first letters.
        for b in bytes.into_iter().filter(|b| *b < 240) {
            if code.len() < USER_CODE_LEN {
                code.push(char::from(ALPHABET[usize::from(b % 20)]));
            }
        }
    }
    Ok(code)
}

/// `POST /device_authorization` (RFC 8628 §3.1–3.2).
pub(crate) async fn authorization(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    match authorize_device(&state, &headers, pairs).await {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response(),
        Err(e) => oauth_error(&e),
    }
}

async fn authorize_device(
    state: &AppState,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<serde_json::Value, OAuthError> {
    let form = authorize::parameters(pairs)?;
    let client = authenticate_client(state, headers, &form, Public::Allowed).await?;
    if !client
        .grant_types
        .iter()
        .any(|g| g == crate::oidc::request::DEVICE_CODE)
    {
        return Err(OAuthError::new(
            "unauthorized_client",
            "this client may not use the device authorization grant",
        ));
    }
    let scopes: Vec<&str> = form
        .get("scope")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if scopes.is_empty() {
        return Err(OAuthError::new(
            "invalid_scope",
            "name the scopes the device asks for",
        ));
    }
    if let Some(extra) = scopes
        .iter()
        .find(|s| !client.scopes.iter().any(|c| c == *s))
    {
        return Err(OAuthError::new(
            "invalid_scope",
            format!("scope {extra} is not allowed for this client"),
        ));
    }
    let now = state.clock.now();
    let device_code = random_token()?;
    // A user code that happens to be taken (about one in 25 billion per live
    // request) fails the unique index: draw again.
    let mut saved = None;
    for _ in 0..3 {
        let user_code = new_user_code()?;
        match state
            .store
            .put_device_grant(
                &device_code_hash(state, &device_code),
                &user_code_hash(state, &user_code),
                &client.id,
                &scopes.join(" "),
                now + LIFETIME,
                INTERVAL,
            )
            .await
        {
            Ok(()) => {
                saved = Some(user_code);
                break;
            }
            Err(e) => tracing::warn!(error = %e, "saving a device request failed"),
        }
    }
    let user_code = saved.ok_or_else(|| internal("saving a device request failed three times"))?;
    let issuer = &state.config.issuer;
    let readable = readable(&user_code);
    Ok(json!({
        "device_code": device_code,
        "user_code": readable,
        "verification_uri": format!("{issuer}/device"),
        "verification_uri_complete": format!("{issuer}/device?user_code={readable}"),
        "expires_in": LIFETIME,
        "interval": INTERVAL,
    }))
}

/// The person at /device, logged in within the last ten minutes; else the
/// response that sends them to log in (coming back with `typed`).
async fn person_at_device(
    state: &AppState,
    session: Option<(LoginSession, Person)>,
    typed: Option<&str>,
) -> Result<Person, Response> {
    match session {
        Some((session, person)) if recent(state.clock.now(), session.auth_time) => Ok(person),
        Some(_) => Err(log_in_first(state, true, Back::Device(typed))),
        None => Err(log_in_first(state, false, Back::Device(typed))),
    }
}

/// The code entry page, for `person`, with `typed` filled in.
fn entry(
    state: &AppState,
    headers: &HeaderMap,
    person: &Person,
    typed: &str,
    refusal: Option<&str>,
) -> Response {
    let Ok((browser, cookie)) = browser_binding(state, headers) else {
        return web::failed();
    };
    let html = web::device_entry(
        &csrf_token(state, &browser),
        &form_owner(state, &person.personal_number),
        typed,
        refusal,
    );
    let status = if refusal.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = web::own_page(status, html);
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /device[?user_code=…]`: the code entry page (after a login). After
/// the login, the code comes back as the login's `state`.
pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let typed = query
        .get("user_code")
        .or_else(|| query.get("state"))
        .and_then(|c| normalize_user_code(c))
        .map(|c| readable(&c));
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match person_at_device(&state, session, typed.as_deref()).await {
        Ok(person) => entry(
            &state,
            &headers,
            &person,
            typed.as_deref().unwrap_or_default(),
            None,
        ),
        Err(response) => response,
    }
}

/// What the pages say of a code that names no waiting request.
fn no_such_code() -> &'static str {
    web::tr(
        "Không có thiết bị nào đang chờ mã này, hoặc mã đã hết hạn (mã có hiệu lực 10 phút): \
         hãy kiểm tra mã trên màn hình thiết bị.",
        "No device is waiting for this code, or it has expired (codes last 10 minutes): check \
         the code on your device's screen.",
    )
}

/// `POST /device`: the code entered; the approval page for its request.
pub(crate) async fn enter(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let typed = form
        .get("user_code")
        .map(String::as_str)
        .unwrap_or_default();
    let session = match action(&state, &headers, &form, Back::Device(None)).await {
        Ok(found) => Some(found),
        Err(response) => return response,
    };
    let person = match person_at_device(&state, session, None).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let Some(code) = normalize_user_code(typed) else {
        return entry(
            &state,
            &headers,
            &person,
            typed,
            Some(web::tr(
                "Mã gồm 8 chữ cái, ví dụ BCDF-GHJK.",
                "The code has 8 letters, like BCDF-GHJK.",
            )),
        );
    };
    let now = state.clock.now();
    let request = match state
        .store
        .device_request(&user_code_hash(&state, &code), now)
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) => return entry(&state, &headers, &person, typed, Some(no_such_code())),
        Err(e) => return web::failed_with("reading a device request failed", e),
    };
    let client_name = match state.store.client(&request.client_id).await {
        Ok(Some(c)) => c.name,
        Ok(None) => request.client_id.clone(),
        Err(e) => return web::failed_with("reading a client failed", e),
    };
    let Ok((browser, _)) = browser_binding(&state, &headers) else {
        return web::failed();
    };
    let scopes: Vec<&str> = request.scope.split(' ').collect();
    web::own_page(
        StatusCode::OK,
        web::device_approval(
            &csrf_token(&state, &browser),
            &form_owner(&state, &person.personal_number),
            &client_name,
            &readable(&code),
            &scopes,
        ),
    )
}

/// `POST /device/decide`: the person approves or refuses the request.
pub(crate) async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (session, person) = match action(&state, &headers, &form, Back::Device(None)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let now = state.clock.now();
    if !recent(now, session.auth_time) {
        return log_in_first(&state, true, Back::Device(None));
    }
    let Some(code) = form.get("user_code").and_then(|c| normalize_user_code(c)) else {
        return entry(&state, &headers, &person, "", Some(no_such_code()));
    };
    let hash = user_code_hash(&state, &code);
    let request = match state.store.device_request(&hash, now).await {
        Ok(Some(r)) => r,
        Ok(None) => return entry(&state, &headers, &person, "", Some(no_such_code())),
        Err(e) => return web::failed_with("reading a device request failed", e),
    };
    let approve = form.get("decision").map(String::as_str) == Some("approve");
    let number = &person.personal_number;
    let approval = DeviceApproval {
        personal_number: number.clone(),
        acr: session.acr.clone(),
        auth_time: session.auth_time,
    };
    let decided = state
        .store
        .decide_device_grant(&hash, number, approve.then_some(&approval), &request, now)
        .await;
    match decided {
        Ok(true) => {}
        Ok(false) => return entry(&state, &headers, &person, "", Some(no_such_code())),
        Err(e) => return web::failed_with("deciding a device request failed", e),
    }
    if !approve {
        return web::own_page(
            StatusCode::OK,
            web::notice(
                web::tr("Đã từ chối", "Refused"),
                web::tr(
                    "Thiết bị không nhận được gì. Bạn có thể đóng trang này.",
                    "The device gets nothing. You may close this page.",
                ),
            ),
        );
    }
    web::own_page(
        StatusCode::OK,
        web::notice(
            web::tr("Đã cho phép", "Approved"),
            web::tr(
                "Hãy quay lại thiết bị: nó sẽ tiếp tục trong vài giây.",
                "Go back to your device: it carries on within a few seconds.",
            ),
        ),
    )
}
