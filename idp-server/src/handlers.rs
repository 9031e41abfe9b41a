//! Thin adapters: read the request, call the decision in `oidc`, answer.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use identity_core::AssuranceLevel;
use identity_core::jose::{JwsAlgorithm, UnverifiedJwt, Validation};
use serde_json::json;

use base64ct::{Base64UrlUnpadded, Encoding as _};

use crate::AppState;
use crate::authn::{Authenticated, LOGIN_LIFETIME, LoggedIn, LoginPage, Outcome, PendingLogin};
use crate::oidc::authorize::{self, Refusal, ValidRequest};
use crate::oidc::request::{self, ClientAuth, Grant, TokenRequest, required, strip_scheme};
use crate::oidc::token::{self, Login};
use crate::oidc::{OAuthError, random_token};
use crate::store::{Client, CodeGrant, CodeTaken, LoginSession, RefreshGrant, RefreshTaken};
use crate::web;

/// An OAuth error as JSON (RFC 6749 §5.2), 401 with a challenge for client
/// authentication failures.
pub(crate) fn oauth_error(e: &OAuthError) -> Response {
    let status = match e.code {
        "invalid_client" => StatusCode::UNAUTHORIZED,
        "invalid_token" => StatusCode::UNAUTHORIZED,
        "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (
        status,
        axum::Json(json!({"error": e.code, "error_description": e.description})),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if e.code == "invalid_client" {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    if e.code == "invalid_token" {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

pub(crate) fn internal(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "internal error");
    OAuthError::new("server_error", "the server could not complete the request")
}

/// The algorithms a client may sign its private_key_jwt assertions with.
const CLIENT_ASSERTION_ALGS: [JwsAlgorithm; 4] = [
    JwsAlgorithm::Es256,
    JwsAlgorithm::Es384,
    JwsAlgorithm::EdDsa,
    JwsAlgorithm::Rs256,
];

/// `/.well-known/openid-configuration`.
pub(crate) async fn discovery(State(state): State<AppState>) -> Response {
    let iss = &state.config.issuer;
    let body = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "device_authorization_endpoint": format!("{iss}/device_authorization"),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", request::DEVICE_CODE],
        "introspection_endpoint": format!("{iss}/introspect"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "end_session_endpoint": format!("{iss}/logout"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": crate::oidc::ID_TOKEN_ALGS.map(|a| a.as_str()),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": CLIENT_ASSERTION_ALGS.map(|a| a.as_str()),
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "national_id", "business", crate::device::PKI_ENROLL],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "sid", "name", "birthdate", "national_id", "business"],
        "acr_values_supported": ["low", "substantial", "high"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(body),
    )
        .into_response()
}

/// `/jwks`.
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    let body = serde_json::Value::from(state.keys().jwks().clone());
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(body),
    )
        .into_response()
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            Redirect::to(url.as_str()).into_response()
        }
        Err(_) => (
            StatusCode::BAD_REQUEST,
            Html(web::protocol_error(
                crate::web::tr("Đăng nhập không thành công", "Login failed"),
                "the redirect URI is not a URL",
            )),
        )
            .into_response(),
    }
}

fn refusal(state: &AppState, r: Refusal) -> Response {
    match r {
        Refusal::Show(e) => (
            StatusCode::BAD_REQUEST,
            Html(web::protocol_error(
                crate::web::tr(
                    "Không xử lý được yêu cầu đăng nhập này",
                    "This login request cannot be handled",
                ),
                &format!("{}: {}", e.code, e.description),
            )),
        )
            .into_response(),
        Refusal::Redirect {
            redirect_uri,
            state: s,
            error,
        } => {
            let mut pairs = vec![
                ("error", error.code),
                ("error_description", error.description.as_str()),
            ];
            if let Some(s) = s.as_deref() {
                pairs.push(("state", s));
            }
            pairs.push(("iss", state.config.issuer.as_str()));
            redirect_with(&redirect_uri, &pairs)
        }
    }
}

async fn validated(
    state: &AppState,
    pairs: Vec<(String, String)>,
) -> Result<(ValidRequest, std::collections::HashMap<String, String>), Response> {
    let params = authorize::parameters(pairs).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            Html(web::protocol_error(
                crate::web::tr("Đăng nhập không thành công", "Login failed"),
                &e.description,
            )),
        )
            .into_response()
    })?;
    let client = match params.get("client_id") {
        Some(id) => state
            .store
            .client(id)
            .await
            .map_err(|e| oauth_error(&internal(e)))?,
        None => None,
    };
    let valid = authorize::validate(&params, client.as_ref()).map_err(|r| refusal(state, r))?;
    Ok((valid, params))
}

/// Headers every login page carries: never cached, never framed (a framed login
/// page invites clickjacking).
const PAGE_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::X_FRAME_OPTIONS, "DENY"),
    // No form-action: a login form's answer redirects to the portal, and
    // browsers apply form-action to that redirect too.
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    ),
];

fn page_response(status: StatusCode, html: String) -> Response {
    (status, PAGE_HEADERS, Html(html)).into_response()
}

fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    page_response(status, web::error(title, detail))
}

/// `GET /authorize`: check the request; answer from the browser's session if it
/// can, else ask the authenticator who the person is.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let (valid, params) = match validated(&state, pairs).await {
        Ok(v) => v,
        Err(response) => return response,
    };
    let Some(authenticator) = state.authenticator.clone() else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            crate::web::tr("Chưa có cách đăng nhập", "No way to log in yet"),
            crate::web::tr(
                "máy chủ này chưa được cấu hình cách đăng nhập nào: hãy báo cho người quản trị",
                "no way to log in is configured on this server: tell its operators",
            ),
        );
    };
    let now = state.clock.now();
    match session_answers(&state, &headers, &valid, now).await {
        Ok(Some(session)) => {
            let login = Authenticated {
                acr: session.acr.parse().unwrap_or(AssuranceLevel::Low),
                personal_number: session.personal_number,
                amr: session.amr.split(' ').map(str::to_owned).collect(),
            };
            tracing::info!(client_id = %valid.client.id, "login answered by the session");
            return after_login(&state, &headers, &valid, params, &login, session.auth_time).await;
        }
        Ok(None) => {}
        Err(e) => return oauth_error(&internal(e)),
    }
    if valid.prompt_none {
        return refusal(
            &state,
            Refusal::Redirect {
                redirect_uri: valid.redirect_uri.clone(),
                state: valid.state.clone(),
                error: OAuthError::new(
                    "login_required",
                    "the person must log in (no session answers this request)",
                ),
            },
        );
    }
    // A login under way, bound to this browser.
    let (login_id, set_browser) = match start_pending(&state, &headers, params, None).await {
        Ok(started) => started,
        Err(e) => return oauth_error(&e),
    };
    let page = LoginPage {
        login_id: &login_id,
        client_name: &valid.client.name,
        min_acr: valid.min_acr,
        login_hint: valid.login_hint.as_deref(),
    };
    let html = match authenticator.page(&state, &page).await {
        Ok(html) => html,
        Err(e) if e.code == "server_error" => return oauth_error(&e),
        // The authenticator cannot serve this request (an assurance level it
        // does not reach): the portal hears why.
        Err(error) => {
            return refusal(
                &state,
                Refusal::Redirect {
                    redirect_uri: valid.redirect_uri.clone(),
                    state: valid.state.clone(),
                    error,
                },
            );
        }
    };
    let mut response = page_response(StatusCode::OK, html);
    if let Some(cookie) = set_browser {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Keeps a login under way (the request, and who logged in once only consent
/// remains) for [`LOGIN_LIFETIME`], bound to this browser: its new id, and the
/// cookie that binds a browser that had none.
async fn start_pending(
    state: &AppState,
    headers: &HeaderMap,
    params: std::collections::HashMap<String, String>,
    authenticated: Option<LoggedIn>,
) -> Result<(String, Option<HeaderValue>), OAuthError> {
    let (browser, set_browser) = crate::authn::browser_binding(state, headers)?;
    let login_id = random_token()?;
    let pending = PendingLogin {
        params,
        browser: Base64UrlUnpadded::encode_string(&state.secret.hash_handle("browser", &browser)),
        authenticated,
    };
    let json = serde_json::to_string(&pending).map_err(internal)?;
    state
        .store
        .put_pending_login(
            &state.secret.hash_handle("login", &login_id),
            &json,
            state.clock.now() + LOGIN_LIFETIME,
        )
        .await
        .map_err(internal)?;
    Ok((login_id, set_browser))
}

/// The browser's session, if it answers `valid`: not ended, the same person as
/// any login_hint, a login recent enough for max_age and strong enough for
/// acr_values, and no prompt=login.
async fn session_answers(
    state: &AppState,
    headers: &HeaderMap,
    valid: &ValidRequest,
    now: i64,
) -> Result<Option<LoginSession>, crate::store::StoreError> {
    if valid.prompt_login {
        return Ok(None);
    }
    let Some(handle) = state.cookies.session(headers) else {
        return Ok(None);
    };
    let session = state
        .store
        .session(&state.secret.hash_handle("session", &handle), now)
        .await?;
    Ok(session.filter(|s| {
        let acr = s.acr.parse().unwrap_or(AssuranceLevel::Low);
        valid.max_age.is_none_or(|max| now - s.auth_time <= max)
            && valid.min_acr.is_none_or(|min| acr >= min)
            && valid
                .login_hint
                .as_deref()
                .is_none_or(|hint| hint == s.personal_number)
    }))
}

/// Issues a code for `login` to the validated request and sends the browser back
/// to the portal.
async fn issue_code(
    state: &AppState,
    valid: &ValidRequest,
    login: &Authenticated,
    auth_time: i64,
    business: Option<String>,
) -> Response {
    let now = state.clock.now();
    let code = match random_token() {
        Ok(c) => c,
        Err(e) => return oauth_error(&e),
    };
    let grant = CodeGrant {
        client_id: valid.client.id.clone(),
        redirect_uri: valid.redirect_uri.clone(),
        personal_number: login.personal_number.clone(),
        scope: valid.scope.clone(),
        nonce: valid.nonce.clone(),
        code_challenge: valid.code_challenge.clone(),
        acr: login.acr.to_string(),
        auth_time,
        expires_at: now + state.config.code_lifetime,
        business,
    };
    if let Err(e) = state
        .store
        .put_code(&state.secret.hash_code(&code), &grant)
        .await
    {
        return oauth_error(&internal(e));
    }
    tracing::info!(client_id = %valid.client.id, "authorization code issued");
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = valid.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", state.config.issuer.as_str()));
    let mut response = redirect_with(&valid.redirect_uri, &pairs);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// Scopes that release personal data: a person agrees to each portal having them.
const CONSENTED_SCOPES: [&str; 3] = ["profile", "national_id", "business"];

/// After the person is known: the consent page when they have not agreed to
/// this portal having what it asks (or it asks `prompt=consent`, or they must
/// choose which of their businesses to act for), else the code.
async fn after_login(
    state: &AppState,
    headers: &HeaderMap,
    valid: &ValidRequest,
    params: std::collections::HashMap<String, String>,
    login: &Authenticated,
    auth_time: i64,
) -> Response {
    let asked: Vec<&str> = valid
        .scope
        .split(' ')
        .filter(|s| CONSENTED_SCOPES.contains(s))
        .collect();
    let number = &login.personal_number;
    let agreed = match state.store.consent(number, &valid.client.id).await {
        Ok(scope) => scope.unwrap_or_default(),
        Err(e) => return oauth_error(&internal(e)),
    };
    let businesses = if asked.contains(&"business") {
        match state.store.represented_by(number).await {
            Ok(b) => b,
            Err(e) => return oauth_error(&internal(e)),
        }
    } else {
        Vec::new()
    };
    let all_agreed = asked.iter().all(|s| agreed.split(' ').any(|a| a == *s));
    let must_choose = businesses.len() > 1;
    if all_agreed && !valid.prompt_consent && !must_choose {
        let business = businesses.first().map(|b| b.enterprise_code.clone());
        return issue_code(state, valid, login, auth_time, business).await;
    }
    if valid.prompt_none {
        return refusal(
            state,
            Refusal::Redirect {
                redirect_uri: valid.redirect_uri.clone(),
                state: valid.state.clone(),
                error: OAuthError::new(
                    "consent_required",
                    "the person must agree to what the portal asks for",
                ),
            },
        );
    }
    // The consent page, for a login under way that knows who logged in.
    let logged_in = LoggedIn {
        personal_number: number.clone(),
        acr: login.acr.to_string(),
        amr: login.amr.clone(),
        auth_time,
    };
    let (login_id, set_browser) = match start_pending(state, headers, params, Some(logged_in)).await
    {
        Ok(started) => started,
        Err(e) => return oauth_error(&e),
    };
    let mut response = page_response(
        StatusCode::OK,
        web::consent(&valid.client.name, &asked, &businesses, &login_id),
    );
    if let Some(cookie) = set_browser {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Spends a login under way, once: a second answer racing this one finds it gone.
async fn spend_login(state: &AppState, login_hash: &[u8], now: i64) -> Result<(), Response> {
    match state.store.take_pending_login(login_hash, now).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(failed_login(StatusCode::BAD_REQUEST, expired_login())),
        Err(e) => Err(oauth_error(&internal(e))),
    }
}

/// Which step of a login under way a form answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Who the person is (the authenticator's page).
    Authenticate,
    /// Their consent (the consent page).
    Consent,
}

/// A login under way that a form continues.
pub(crate) struct Continued {
    /// The form's fields.
    pub(crate) form: std::collections::HashMap<String, String>,
    /// The key the login is stored under.
    pub(crate) login_hash: Vec<u8>,
    /// What was stored.
    pub(crate) pending: PendingLogin,
    /// Its request, checked again.
    pub(crate) valid: ValidRequest,
}

/// A page that says why a login cannot go on, and to start again.
fn failed_login(status: StatusCode, why: &str) -> Response {
    let start_again = crate::web::tr(
        "hãy quay lại cổng dịch vụ và đăng nhập lại",
        "go back to the portal and log in again",
    );
    error_page(
        status,
        crate::web::tr("Đăng nhập không thành công", "Login failed"),
        &format!("{why}: {start_again}"),
    )
}

fn expired_login() -> &'static str {
    crate::web::tr(
        "phiên đăng nhập này đã hết hạn hoặc đã được dùng",
        "this login has expired or was already used",
    )
}

fn not_at_consent() -> &'static str {
    crate::web::tr(
        "phiên đăng nhập này chưa đến bước đồng ý",
        "this login is not at its consent step",
    )
}

/// The login under way a form continues (read, not spent): its store key, what
/// was stored, and its request checked again against the client as it is now.
/// Refused with a page unless the browser that started it posted the form
/// (cross-site posts carry no SameSite=Lax cookie).
pub(crate) async fn continue_login(
    state: &AppState,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
    step: Step,
    now: i64,
) -> Result<Continued, Response> {
    let form = authorize::parameters(pairs).map_err(|e| {
        page_response(
            StatusCode::BAD_REQUEST,
            web::protocol_error(
                crate::web::tr("Đăng nhập không thành công", "Login failed"),
                &e.description,
            ),
        )
    })?;
    let Some(login_id) = form.get("login_id") else {
        return Err(failed_login(
            StatusCode::BAD_REQUEST,
            crate::web::tr(
                "biểu mẫu đăng nhập bị thiếu",
                "the login form is incomplete",
            ),
        ));
    };
    let login_hash = state.secret.hash_handle("login", login_id);
    let pending: PendingLogin = match state.store.pending_login(&login_hash, now).await {
        Ok(Some(json)) => serde_json::from_str(&json).map_err(|e| oauth_error(&internal(e)))?,
        Ok(None) => {
            return Err(failed_login(StatusCode::BAD_REQUEST, expired_login()));
        }
        Err(e) => return Err(oauth_error(&internal(e))),
    };
    let same_browser = state.cookies.browser(headers).is_some_and(|b| {
        pending.bound_to(&Base64UrlUnpadded::encode_string(
            &state.secret.hash_handle("browser", &b),
        ))
    });
    if !same_browser {
        tracing::warn!("a login was answered from another browser, or without its cookie");
        return Err(failed_login(
            StatusCode::FORBIDDEN,
            crate::web::tr(
                "phiên đăng nhập này được bắt đầu ở một trình duyệt khác",
                "this login was started in another browser",
            ),
        ));
    }
    let client = match pending.params.get("client_id") {
        Some(id) => state
            .store
            .client(id)
            .await
            .map_err(|e| oauth_error(&internal(e)))?,
        None => None,
    };
    let at_consent = pending.authenticated.is_some();
    if at_consent != (step == Step::Consent) {
        return Err(failed_login(
            StatusCode::BAD_REQUEST,
            if at_consent {
                crate::web::tr(
                    "phiên đăng nhập này đang chờ bạn đồng ý",
                    "this login waits for your consent",
                )
            } else {
                not_at_consent()
            },
        ));
    }
    let valid =
        authorize::validate(&pending.params, client.as_ref()).map_err(|r| refusal(state, r))?;
    Ok(Continued {
        form,
        login_hash,
        pending,
        valid,
    })
}

/// `POST /authorize/consent`: the person's answer at the consent page.
pub(crate) async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let now = state.clock.now();
    let Continued {
        form,
        login_hash,
        pending,
        valid,
    } = match continue_login(&state, &headers, pairs, Step::Consent, now).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(person) = pending.authenticated.clone() else {
        return failed_login(StatusCode::BAD_REQUEST, not_at_consent());
    };
    let asked: Vec<&str> = valid
        .scope
        .split(' ')
        .filter(|s| CONSENTED_SCOPES.contains(s))
        .collect();
    if form.get("decision").map(String::as_str) != Some("allow") {
        // A refusal is final: the login under way is spent.
        if let Err(e) = state.store.take_pending_login(&login_hash, now).await {
            return oauth_error(&internal(e));
        }
        tracing::info!(client_id = %valid.client.id, "consent refused");
        state
            .audit(
                Some(&person.personal_number),
                "consent_refused",
                &format!("{}: {}", valid.client.id, asked.join(" ")),
            )
            .await;
        return refusal(
            &state,
            Refusal::Redirect {
                redirect_uri: valid.redirect_uri.clone(),
                state: valid.state.clone(),
                error: OAuthError::new("access_denied", "the person did not agree"),
            },
        );
    }
    let business = if asked.contains(&"business") {
        let represented = match state.store.represented_by(&person.personal_number).await {
            Ok(b) => b,
            Err(e) => return oauth_error(&internal(e)),
        };
        match form.get("business").filter(|b| !b.is_empty()) {
            Some(code) if represented.iter().any(|b| &b.enterprise_code == code) => {
                Some(code.clone())
            }
            Some(_) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    crate::web::tr("Đăng nhập không thành công", "Login failed"),
                    crate::web::tr(
                        "bạn không phải người đại diện của doanh nghiệp đó",
                        "you do not represent that business",
                    ),
                );
            }
            None if represented.is_empty() => None,
            None => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    crate::web::tr("Đăng nhập không thành công", "Login failed"),
                    crate::web::tr(
                        "hãy chọn doanh nghiệp bạn đại diện",
                        "choose the business you act for",
                    ),
                );
            }
        }
    } else {
        None
    };
    // The answer is final: the login under way is spent, once.
    if let Err(response) = spend_login(&state, &login_hash, now).await {
        return response;
    }
    let mut agreed: Vec<String> = match state
        .store
        .consent(&person.personal_number, &valid.client.id)
        .await
    {
        Ok(scope) => scope
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Err(e) => return oauth_error(&internal(e)),
    };
    for scope in &asked {
        if !agreed.iter().any(|a| a == scope) {
            agreed.push((*scope).to_owned());
        }
    }
    agreed.sort();
    if let Err(e) = state
        .store
        .put_consent(
            &person.personal_number,
            &valid.client.id,
            &agreed.join(" "),
            now,
        )
        .await
    {
        return oauth_error(&internal(e));
    }
    let login = Authenticated {
        acr: person.acr.parse().unwrap_or(AssuranceLevel::Low),
        personal_number: person.personal_number,
        amr: person.amr,
    };
    state
        .audit(
            Some(&login.personal_number),
            "consent_granted",
            &format!(
                "{}: {}{}",
                valid.client.id,
                asked.join(" "),
                business
                    .as_deref()
                    .map(|b| format!(", acting for {b}"))
                    .unwrap_or_default()
            ),
        )
        .await;
    issue_code(&state, &valid, &login, person.auth_time, business).await
}

/// `POST /authorize/login`: the authenticator's answer for a login under way;
/// starts the session and issues the code.
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(authenticator) = state.authenticator.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = state.clock.now();
    let Continued {
        form,
        login_hash,
        pending,
        valid,
    } = match continue_login(&state, &headers, pairs, Step::Authenticate, now).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let login_id = form.get("login_id").map(String::as_str).unwrap_or_default();
    let redirect_error = |error: OAuthError| {
        refusal(
            &state,
            Refusal::Redirect {
                redirect_uri: valid.redirect_uri.clone(),
                state: valid.state.clone(),
                error,
            },
        )
    };
    let page = LoginPage {
        login_id,
        client_name: &valid.client.name,
        min_acr: valid.min_acr,
        login_hint: valid.login_hint.as_deref(),
    };
    let login = match authenticator.verify(&state, &page, &form).await {
        Ok(Outcome::Authenticated(login)) => login,
        Ok(Outcome::Page(html)) => return page_response(StatusCode::OK, html),
        Err(e) if e.code == "server_error" => return oauth_error(&e),
        Err(e) => {
            tracing::info!(authenticator = authenticator.name(), reason = %e.description, "login refused");
            // The login is over: a refused answer is not tried again.
            if let Err(e) = state.store.take_pending_login(&login_hash, now).await {
                return oauth_error(&internal(e));
            }
            return redirect_error(e);
        }
    };
    // Done: the login under way is spent, once (a second answer racing this one
    // finds it gone).
    if let Err(response) = spend_login(&state, &login_hash, now).await {
        return response;
    }
    if valid.min_acr.is_some_and(|min| login.acr < min) {
        return redirect_error(OAuthError::new(
            "access_denied",
            "the login does not reach the assurance level asked for",
        ));
    }
    // A new session, under a new handle (an old one the browser had ends: no
    // session fixation).
    if let Some(old) = state.cookies.session(&headers)
        && let Err(e) = state
            .store
            .end_session(&state.secret.hash_handle("session", &old))
            .await
    {
        return oauth_error(&internal(e));
    }
    let handle = match random_token() {
        Ok(h) => h,
        Err(e) => return oauth_error(&e),
    };
    let lifetime = state.config.session_lifetime;
    let session = LoginSession {
        personal_number: login.personal_number.clone(),
        acr: login.acr.to_string(),
        amr: login.amr.join(" "),
        auth_time: now,
        expires_at: now + lifetime,
    };
    if let Err(e) = state
        .store
        .put_session(&state.secret.hash_handle("session", &handle), &session)
        .await
    {
        return oauth_error(&internal(e));
    }
    tracing::info!(authenticator = authenticator.name(), "person authenticated");
    let mut response = after_login(&state, &headers, &valid, pending.params, &login, now).await;
    if let Some(cookie) = state.cookies.set_session(&handle, lifetime) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a JWT the client
/// signed with a key of its registered JWK Set, for this server, used once.
async fn assertion_client(
    state: &AppState,
    named: &str,
    assertion: &str,
) -> Result<Client, OAuthError> {
    let invalid = |why: String| OAuthError::new("invalid_client", why);
    let client = state
        .store
        .client(named)
        .await
        .map_err(internal)?
        .filter(|c| c.jwks.is_some())
        .ok_or_else(|| invalid("unknown client, or one without keys for private_key_jwt".into()))?;
    let keys = identity_core::jose::JwkSet::from_json(client.jwks.as_deref().unwrap_or_default())
        .map_err(internal)?;
    let now = state.clock.now();
    let issuer = &state.config.issuer;
    let rules = Validation::new(now, &CLIENT_ASSERTION_ALGS)
        .issuer(client.id.clone())
        .audience(format!("{issuer}/token"))
        .audience(issuer.clone())
        .require("sub")
        .require("jti")
        .leeway(ASSERTION_LEEWAY);
    let claims = UnverifiedJwt::decode(assertion)
        .map_err(|e| invalid(format!("the client assertion is malformed: {e}")))?
        .verify_with_set(&keys, &rules)
        .map_err(|e| invalid(format!("the client assertion is not valid: {e}")))?;
    if claims.subject() != Some(client.id.as_str()) {
        return Err(invalid(
            "the client assertion's sub must be its client_id".into(),
        ));
    }
    let exp = claims.expires_at().unwrap_or(0);
    if exp > now + ASSERTION_MAX_LIFETIME + 30 {
        return Err(invalid(format!(
            "the client assertion lives too long: expire it within {ASSERTION_MAX_LIFETIME} s"
        )));
    }
    let jti = claims
        .get("jti")
        .and_then(|j| j.as_str())
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| invalid("the client assertion's jti must be a short string".into()))?;
    if !state
        .store
        .record_assertion(&client.id, jti, exp + 60)
        .await
        .map_err(internal)?
    {
        tracing::warn!(client_id = %client.id, "client assertion replayed");
        return Err(invalid(
            "the client assertion was used before: sign a new one, with a new jti, for each request"
                .into(),
        ));
    }
    Ok(client)
}

/// `POST /token`.
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    match token_inner(&state, &headers, pairs).await {
        Ok(body) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            axum::Json(body),
        )
            .into_response(),
        Err(e) => oauth_error(&e),
    }
}

/// Longest a client assertion may live, which bounds the store of seen `jti`s.
const ASSERTION_MAX_LIFETIME: i64 = 300;
/// Clock skew tolerated on client assertions.
const ASSERTION_LEEWAY: u64 = 30;

/// Whether a request may come from a public client (one with no secret and no
/// keys, such as the signer CLI), named by its client_id alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Public {
    /// The token and device authorization endpoints, and revocation (RFC 7009
    /// §2.1): a public client may use them.
    Allowed,
    /// Introspection: for clients that can authenticate.
    Refused,
}

/// The authenticated client of a token, introspection or revocation request:
/// client_secret_basic, client_secret_post or private_key_jwt; or, where
/// `public` allows, a public client by its client_id (`none`).
pub(crate) async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &std::collections::HashMap<String, String>,
    public: Public,
) -> Result<Client, OAuthError> {
    let auth = request::client_auth(authorization(headers), form)?;
    authenticate(state, &auth, public).await
}

/// The `Authorization` header as sent, if any.
fn authorization(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
}

/// The registered client a request's authentication names, if its credentials
/// hold.
async fn authenticate(
    state: &AppState,
    auth: &ClientAuth,
    public: Public,
) -> Result<Client, OAuthError> {
    match auth {
        ClientAuth::Assertion {
            client_id,
            assertion,
        } => assertion_client(state, client_id, assertion).await,
        ClientAuth::Public { client_id } => {
            match state.store.client(client_id).await.map_err(internal)? {
                Some(c) if public == Public::Allowed && c.is_public() => Ok(c),
                _ => Err(OAuthError::new(
                    "invalid_client",
                    "client authentication is required",
                )),
            }
        }
        ClientAuth::Secret { client_id, secret } => {
            match state.store.client(client_id).await.map_err(internal)? {
                Some(c)
                    if c.secret_hash
                        .as_deref()
                        .is_some_and(|h| state.secret.client_secret_matches(secret, h)) =>
                {
                    Ok(c)
                }
                _ => Err(OAuthError::new(
                    "invalid_client",
                    "unknown client or wrong secret",
                )),
            }
        }
    }
}

async fn token_inner(
    state: &AppState,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<serde_json::Value, OAuthError> {
    let TokenRequest { client, grant } = request::token_request(authorization(headers), pairs)?;
    let client = authenticate(state, &client, Public::Allowed).await?;
    let grant_type = grant.grant_type();
    if client.is_public() && grant_type == "client_credentials" {
        return Err(OAuthError::new(
            "unauthorized_client",
            "a public client cannot use client_credentials",
        ));
    }
    if !client.grant_types.iter().any(|g| g == grant_type) {
        return Err(OAuthError::new(
            "unauthorized_client",
            format!("this client may not use {grant_type}"),
        ));
    }
    let now = state.clock.now();
    match grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            let presented = (redirect_uri.as_deref(), code_verifier.as_deref());
            code_grant(state, &client, &code, presented, now).await
        }
        Grant::RefreshToken {
            refresh_token,
            scope,
        } => refresh_grant(state, &client, &refresh_token, scope, now).await,
        Grant::DeviceCode { device_code } => {
            device_code_grant(state, &client, &device_code, now).await
        }
        Grant::ClientCredentials { scope, resource } => {
            client_credentials_grant(state, &client, scope.as_deref(), resource.as_deref(), now)
        }
    }
}

/// `presented`: the token request's redirect_uri and code_verifier.
async fn code_grant(
    state: &AppState,
    client: &Client,
    code: &str,
    (redirect_uri, verifier): (Option<&str>, Option<&str>),
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let code_hash = state.secret.hash_code(code);
    // Everything is checked before the code is spent, so that a bad request (a
    // wrong verifier, another client) loses nothing; then one statement spends it.
    let grant = match state
        .store
        .code_status(&code_hash)
        .await
        .map_err(internal)?
    {
        None => return Err(OAuthError::new("invalid_grant", "unknown code")),
        Some((_, true)) => return Err(code_replayed(state, client, &code_hash, now).await),
        Some((grant, false)) => grant,
    };
    token::check_code(&grant, &client.id, redirect_uri, verifier, now)?;
    // The token family this exchange starts, recorded as the code is spent.
    let family = random_token()?;
    let grant = match state
        .store
        .take_code(&code_hash, &family, now)
        .await
        .map_err(internal)?
    {
        CodeTaken::Fresh(grant) => *grant,
        // Spent by a concurrent request between the check and now.
        CodeTaken::Replayed => return Err(code_replayed(state, client, &code_hash, now).await),
        CodeTaken::Unknown => return Err(OAuthError::new("invalid_grant", "unknown code")),
    };
    let login = Login {
        personal_number: grant.personal_number.clone(),
        scope: grant.scope.clone(),
        granted_scope: grant.scope.clone(),
        acr: grant.acr.clone(),
        auth_time: grant.auth_time,
        nonce: grant.nonce.clone(),
        business: grant.business.clone(),
    };
    user_tokens(state, client, &login, &family, now).await
}

/// A device's poll (RFC 8628 §3.4): tokens once its person approved, else
/// what to do: keep polling (authorization_pending), poll less often
/// (slow_down), or stop (access_denied, expired_token).
async fn device_code_grant(
    state: &AppState,
    client: &Client,
    device_code: &str,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    use crate::store::DevicePoll;
    let hash = crate::device::device_code_hash(state, device_code);
    match state
        .store
        .poll_device_grant(&hash, &client.id, now)
        .await
        .map_err(internal)?
    {
        DevicePoll::Approved { scope, approval } => {
            let login = Login {
                personal_number: approval.personal_number,
                scope: scope.clone(),
                granted_scope: scope,
                acr: approval.acr,
                auth_time: approval.auth_time,
                nonce: None,
                business: None,
            };
            user_tokens(state, client, &login, &random_token()?, now).await
        }
        DevicePoll::Pending { slow_down: false } => Err(OAuthError::new(
            "authorization_pending",
            "the person has not approved this device yet",
        )),
        DevicePoll::Pending { slow_down: true } => Err(OAuthError::new(
            "slow_down",
            "polled too soon: wait five seconds more between polls",
        )),
        DevicePoll::Denied => Err(OAuthError::new(
            "access_denied",
            "the person refused this device",
        )),
        DevicePoll::Expired => Err(OAuthError::new(
            "expired_token",
            "the device code expired: start again",
        )),
        DevicePoll::Unknown => Err(OAuthError::new("invalid_grant", "unknown device code")),
    }
}

/// A code presented again: a stolen code, so what its first exchange issued is
/// revoked. Returns the error to answer.
async fn code_replayed(
    state: &AppState,
    client: &Client,
    code_hash: &[u8],
    now: i64,
) -> OAuthError {
    match state.store.code_family(code_hash).await {
        Ok(Some(family)) => {
            let until = now + state.config.refresh_token_lifetime;
            if let Err(e) = state.store.revoke_family(&family, now, until).await {
                return internal(e);
            }
        }
        Ok(None) => {}
        Err(e) => return internal(e),
    }
    tracing::warn!(client_id = %client.id, "authorization code replayed: its tokens are revoked");
    OAuthError::new("invalid_grant", "the code was already used")
}

async fn refresh_grant(
    state: &AppState,
    client: &Client,
    presented: &str,
    asked_scope: Option<String>,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let token_hash = state.secret.hash_code(presented);
    // Everything is checked before the token is spent, so that a bad request
    // loses nothing; then one statement spends it.
    let Some((grant, _)) = state
        .store
        .refresh_status(&token_hash)
        .await
        .map_err(internal)?
    else {
        return Err(OAuthError::new(
            "invalid_grant",
            "unknown or revoked refresh token",
        ));
    };
    if grant.client_id != client.id {
        // Another client holds this client's token: it leaked, so its family goes.
        state
            .store
            .revoke_family(
                &grant.family_id,
                now,
                now + state.config.refresh_token_lifetime,
            )
            .await
            .map_err(internal)?;
        tracing::warn!(client_id = %client.id, "refresh token of another client presented: its family is revoked");
        return Err(OAuthError::new(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    if now >= grant.expires_at {
        return Err(OAuthError::new(
            "invalid_grant",
            "the refresh token has expired; log in again",
        ));
    }
    // A narrower scope may be asked for, never a wider one.
    let scope = match asked_scope {
        Some(asked) => {
            let granted: Vec<&str> = grant.scope.split(' ').collect();
            if let Some(extra) = asked
                .split(' ')
                .find(|s| !s.is_empty() && !granted.contains(s))
            {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("scope {extra} was not granted"),
                ));
            }
            asked
        }
        None => grant.scope.clone(),
    };
    let grant = match state
        .store
        .take_refresh(&token_hash, now, now + state.config.refresh_token_lifetime)
        .await
        .map_err(internal)?
    {
        RefreshTaken::Fresh(grant) => grant,
        RefreshTaken::Reused { .. } => {
            tracing::warn!(client_id = %client.id, "refresh token reused: its family is revoked");
            return Err(OAuthError::new(
                "invalid_grant",
                "the refresh token was already used; every token of its family is revoked",
            ));
        }
        RefreshTaken::Unknown => {
            return Err(OAuthError::new(
                "invalid_grant",
                "unknown or revoked refresh token",
            ));
        }
    };
    let login = Login {
        personal_number: grant.personal_number,
        scope,
        granted_scope: grant.scope,
        acr: grant.acr,
        auth_time: grant.auth_time,
        nonce: None,
        business: grant.business,
    };
    user_tokens(state, client, &login, &grant.family_id, now).await
}

/// Service-to-service (G2G): a JWT access token for the client itself. No database
/// write on this path.
fn client_credentials_grant(
    state: &AppState,
    client: &Client,
    scope: Option<&str>,
    resource: Option<&str>,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let scopes: Vec<&str> = scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(extra) = scopes
        .iter()
        .find(|s| **s == "openid" || !client.scopes.iter().any(|c| c == *s))
    {
        return Err(OAuthError::new(
            "invalid_scope",
            format!("scope {extra} is not allowed for this client"),
        ));
    }
    let cfg = &state.config;
    // Resource indicators (RFC 8707): a client names the resource server its token
    // is for, one of those registered for it (else it could mint tokens for any
    // resource server); without one, the audience is the issuer, and resource
    // servers check client_id and scope.
    let audience = match resource {
        // A client with resources registered names one: a token for the issuer
        // would be accepted by any resource server that trusts issuer tokens.
        None if !client.resources.is_empty() => {
            return Err(OAuthError::new(
                "invalid_target",
                format!(
                    "name the resource server with resource (one of: {})",
                    client.resources.join(", ")
                ),
            ));
        }
        None => cfg.issuer.clone(),
        Some(resource) if client.resources.iter().any(|r| r == resource) => resource.to_owned(),
        Some(resource) => {
            return Err(OAuthError::new(
                "invalid_target",
                format!("resource {resource} is not registered for this client"),
            ));
        }
    };
    let claims = json!({
        "iss": cfg.issuer,
        "sub": client.id,
        "aud": audience,
        "client_id": client.id,
        "scope": scopes.join(" "),
        "iat": now,
        "exp": now + cfg.access_token_lifetime,
        "jti": random_token()?,
    });
    let access_token = state.sign_jwt(JwsAlgorithm::Es256, "at+jwt", &claims)?;
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": cfg.access_token_lifetime,
        "scope": scopes.join(" "),
    }))
}

/// ID token, access token and a fresh refresh token of `family`.
async fn user_tokens(
    state: &AppState,
    client: &Client,
    login: &Login,
    family: &str,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let person = state
        .store
        .person(&login.personal_number)
        .await
        .map_err(internal)?
        .ok_or_else(|| OAuthError::new("invalid_grant", "the person is no longer registered"))?;
    let businesses = state
        .store
        .represented_by(&person.personal_number)
        .await
        .map_err(internal)?;
    let sub = state
        .secret
        .pairwise_subject(&client.sector, &person.personal_number);
    let subject = token::Subject {
        sub: &sub,
        person: &person,
        businesses: &businesses,
        login,
    };
    let cfg = &state.config;
    let id_claims = token::id_token(
        &cfg.issuer,
        &client.id,
        &subject,
        now,
        cfg.id_token_lifetime,
    );
    // The login's id: RP-initiated logout ends it (and its tokens) by this.
    let mut id_claims = id_claims;
    id_claims["sid"] = family.into();
    // An ID token only for a scope with openid (a refresh may have narrowed it away).
    let id_token = if login.scope.split(' ').any(|s| s == "openid") {
        Some(state.sign_jwt(client.id_token_alg(), "JWT", &id_claims)?)
    } else {
        None
    };
    let mut at_claims = token::access_token(
        &cfg.issuer,
        &client.id,
        &subject,
        &random_token()?,
        now,
        cfg.access_token_lifetime,
    );
    at_claims["ref"] = state.secret.seal_reference(&person.personal_number)?.into();
    at_claims["fam"] = family.into();
    let access_token = state.sign_jwt(JwsAlgorithm::Es256, "at+jwt", &at_claims)?;
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": cfg.access_token_lifetime,
                "scope": login.scope,
    });
    if let Some(id_token) = id_token {
        body["id_token"] = id_token.into();
    }
    if client.grant_types.iter().any(|g| g == "refresh_token") {
        let refresh = random_token()?;
        let refresh_grant = RefreshGrant {
            family_id: family.to_owned(),
            client_id: client.id.clone(),
            personal_number: person.personal_number.clone(),
            scope: login.granted_scope.clone(),
            acr: login.acr.clone(),
            auth_time: login.auth_time,
            expires_at: now + cfg.refresh_token_lifetime,
            business: login.business.clone(),
        };
        state
            .store
            .put_refresh(&state.secret.hash_code(&refresh), &refresh_grant)
            .await
            .map_err(internal)?;
        body["refresh_token"] = refresh.into();
    }
    tracing::info!(client_id = %client.id, "tokens issued");
    Ok(body)
}

/// An access token of ours that verifies, has not expired and is not revoked.
pub(crate) async fn live_access_token(
    state: &AppState,
    token: &str,
) -> Result<Option<identity_core::jose::VerifiedClaims>, OAuthError> {
    let rules = Validation::new(state.clock.now(), &[JwsAlgorithm::Es256])
        .issuer(state.config.issuer.clone())
        .typ("at+jwt")
        .leeway(0);
    // Audiences vary (userinfo, services): accept any, check the rest.
    let rules = identity_core::jose::dangerous::accept_any_audience(rules);
    let Ok(jwt) = UnverifiedJwt::decode(token.trim()) else {
        return Ok(None);
    };
    let Ok(claims) = jwt.verify_with_set(state.keys().jwks(), &rules) else {
        return Ok(None);
    };
    if let Some(jti) = claims.get("jti").and_then(|j| j.as_str())
        && state.store.token_revoked(jti).await.map_err(internal)?
    {
        return Ok(None);
    }
    if let Some(family) = claims.get("fam").and_then(|f| f.as_str())
        && state.store.family_revoked(family).await.map_err(internal)?
    {
        return Ok(None);
    }
    Ok(Some(claims))
}

/// `POST /introspect` (RFC 7662): for authenticated clients (resource servers too).
pub(crate) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let form = authorize::parameters(pairs)?;
        let client = authenticate_client(&state, &headers, &form, Public::Refused).await?;
        let token = required(&form, "token")?;
        if let Some(claims) = live_access_token(&state, token).await? {
            let mut body = serde_json::Map::new();
            body.insert("active".into(), true.into());
            body.insert("token_type".into(), "Bearer".into());
            for name in ["scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "acr"] {
                if let Some(v) = claims.get(name) {
                    body.insert(name.into(), v.clone());
                }
            }
            return Ok(serde_json::Value::Object(body));
        }
        // A refresh token: only its own client may ask.
        if let Some((grant, usable)) = state.store.refresh_status(&state.secret.hash_code(token)).await.map_err(internal)?
            && usable
            && grant.client_id == client.id
            && state.clock.now() < grant.expires_at
        {
            return Ok(json!({"active": true, "token_type": "refresh_token", "client_id": grant.client_id, "scope": grant.scope, "exp": grant.expires_at}));
        }
        Ok(json!({"active": false}))
    }
    .await;
    match result {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response(),
        Err(e) => oauth_error(&e),
    }
}

/// `POST /revoke` (RFC 7009): a client revokes its own tokens. Always 200 for a
/// token it cannot see, so nothing is learnt from the answer.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let form = authorize::parameters(pairs)?;
        let client = authenticate_client(&state, &headers, &form, Public::Allowed).await?;
        let token = required(&form, "token")?;
        let now = state.clock.now();
        if let Some(claims) = live_access_token(&state, token).await?
            && claims.get("client_id").and_then(|c| c.as_str()) == Some(client.id.as_str())
            && let Some(jti) = claims.get("jti").and_then(|j| j.as_str())
        {
            state
                .store
                .revoke_token(jti, claims.expires_at().unwrap_or(now))
                .await
                .map_err(internal)?;
            return Ok(());
        }
        if let Some((grant, _)) = state
            .store
            .refresh_status(&state.secret.hash_code(token))
            .await
            .map_err(internal)?
            && grant.client_id == client.id
        {
            state
                .store
                .revoke_family(
                    &grant.family_id,
                    now,
                    now + state.config.refresh_token_lifetime,
                )
                .await
                .map_err(internal)?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => oauth_error(&e),
    }
}

/// `GET|POST /userinfo`.
pub(crate) async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match userinfo_inner(&state, &headers).await {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response(),
        Err(e) => oauth_error(&e),
    }
}

async fn userinfo_inner(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<serde_json::Value, OAuthError> {
    let invalid = |why: &str| OAuthError::new("invalid_token", why);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| strip_scheme(h, "Bearer"))
        .ok_or_else(|| invalid("a Bearer access token is required"))?;
    let claims = live_access_token(state, bearer)
        .await?
        .ok_or_else(|| invalid("the access token is not valid"))?;
    let userinfo_audience = format!("{}/userinfo", state.config.issuer);
    if claims.get("aud").and_then(|a| a.as_str()) != Some(userinfo_audience.as_str()) {
        return Err(invalid("the access token is not for userinfo"));
    }
    let personal_number = claims
        .get("ref")
        .and_then(|r| r.as_str())
        .and_then(|r| state.secret.open_reference(r))
        .ok_or_else(|| invalid("the access token is not valid"))?;
    let person = state
        .store
        .person(&personal_number)
        .await
        .map_err(internal)?
        .ok_or_else(|| invalid("the person is no longer registered"))?;
    let businesses = state
        .store
        .represented_by(&personal_number)
        .await
        .map_err(internal)?;
    let scope = claims
        .get("scope")
        .and_then(|c| c.as_str())
        .unwrap_or_default()
        .to_owned();
    // Userinfo releases the claims of the token's scope; the login's other
    // details (acr, auth_time, nonce) belong to the ID token only.
    let login = Login {
        personal_number: personal_number.clone(),
        granted_scope: scope.clone(),
        scope,
        acr: String::new(),
        auth_time: 0,
        nonce: None,
        business: claims
            .get("business")
            .and_then(|b| b.as_str())
            .map(str::to_owned),
    };
    let sub = claims.subject().unwrap_or_default().to_owned();
    let subject = token::Subject {
        sub: &sub,
        person: &person,
        businesses: &businesses,
        login: &login,
    };
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), sub.clone().into());
    token::scoped_claims(&subject, &mut body);
    Ok(serde_json::Value::Object(body))
}
