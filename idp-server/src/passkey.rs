//! Passkeys (WebAuthn, with webauthn-rs): enrolment at `/activate` after identity
//! proofing in person, and the login authenticator that replaces the demo one.
//!
//! Every ceremony's state (its challenge) is kept server-side under a keyed hash
//! of a handle the page holds, bound to the browser, and taken once: a challenge
//! cannot be answered twice. User verification is required; webauthn-rs refuses
//! an assertion whose signature counter did not grow (a cloned authenticator).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64ct::Encoding as _;
use identity_core::AssuranceLevel;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
    WebauthnError,
};

use crate::AppState;
use crate::authn::{
    Authenticated, Authenticator, BoxFuture, LOGIN_LIFETIME, LoginPage, Outcome, browser_binding,
    csrf_ok, csrf_token,
};
use crate::enrol::{self, Activation};
use crate::oidc::OAuthError;
use crate::store::StoredPasskey;
use crate::web;

/// The WebAuthn relying party of a server: its ID is the issuer's host, its
/// origin the issuer's origin.
pub fn webauthn_for(issuer: &str) -> anyhow::Result<Webauthn> {
    let url = Url::parse(issuer)?;
    let rp_id = url
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("the issuer {issuer} has no host"))?
        .to_owned();
    let origin = Url::parse(&url.origin().ascii_serialization())?;
    Ok(WebauthnBuilder::new(&rp_id, &origin)?
        .rp_name("Định danh điện tử")
        .build()?)
}

/// The WebAuthn user handle of a resident: a keyed hash of their number, so the
/// authenticator never holds the number itself.
pub fn user_handle(state: &AppState, personal_number: &str) -> Uuid {
    let hash = state.secret.hash_handle("webauthn user", personal_number);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    Uuid::from_bytes(bytes)
}

/// The levels and methods a passkey login proves: a key the person holds, used
/// with their PIN or biometric (user verification), on an account proofed in
/// person.
const PASSKEY_ACR: AssuranceLevel = AssuranceLevel::Substantial;

fn server_error(what: &str, e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "{what}");
    OAuthError::new("server_error", "the server could not complete the login")
}

/// A login ceremony's state: any passkey (discoverable), or one person's.
#[derive(Serialize, Deserialize)]
enum LoginCeremony {
    Discoverable(DiscoverableAuthentication),
    Person {
        personal_number: String,
        state: PasskeyAuthentication,
    },
    /// A number with no passkey: the page looks the same as for one with (so the
    /// login page does not tell who has passkeys), and any answer is refused.
    Nobody {
        personal_number: String,
        state: DiscoverableAuthentication,
    },
}

/// Where a login's WebAuthn ceremony is kept.
fn ceremony_key(state: &AppState, login_id: &str) -> Vec<u8> {
    state.secret.hash_handle("passkey login", login_id)
}

/// Keeps a login's WebAuthn ceremony (replacing one it had).
async fn keep(
    state: &AppState,
    login_id: &str,
    ceremony: &LoginCeremony,
) -> Result<(), OAuthError> {
    let json = serde_json::to_string(ceremony)
        .map_err(|e| server_error("encoding a passkey ceremony failed", e))?;
    state
        .store
        .put_ceremony(
            &ceremony_key(state, login_id),
            &json,
            state.clock.now() + LOGIN_LIFETIME,
        )
        .await
        .map_err(|e| server_error("saving a passkey ceremony failed", e))
}

/// `POST /authorize/passkey`: the options of a discoverable passkey login, asked
/// by the login page's script when the person presses "sign in with a passkey".
/// The ceremony starts only then: showing a login page writes no challenge.
pub(crate) async fn discoverable_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(webauthn) = state.webauthn.clone() else {
        return unavailable(&state);
    };
    let now = state.clock.now();
    let continued = match crate::handlers::continue_login(
        &state,
        &headers,
        pairs,
        crate::handlers::Step::Authenticate,
        now,
    )
    .await
    {
        Ok(c) => c,
        Err(response) => return response,
    };
    let login_id = continued
        .form
        .get("login_id")
        .map(String::as_str)
        .unwrap_or_default();
    let started = webauthn
        .start_discoverable_authentication()
        .map_err(|e| server_error("starting a passkey login failed", e));
    let options = match started {
        Ok((options, ceremony)) => {
            match keep(&state, login_id, &LoginCeremony::Discoverable(ceremony)).await {
                Ok(()) => options,
                Err(_) => return web::failed(),
            }
        }
        Err(_) => return web::failed(),
    };
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(options)).into_response()
}

/// The login authenticator: "sign in with a passkey" (discoverable credentials,
/// no number asked), or the number first and then that person's passkeys.
#[derive(Debug)]
pub struct PasskeyAuthenticator {
    webauthn: Arc<Webauthn>,
    /// Under `idp-server demo` only: the login page also lets a person pick a
    /// fictional resident (the demo authenticator), beside the passkeys.
    demo: Option<crate::authn::DemoAuthenticator>,
}

impl PasskeyAuthenticator {
    /// An authenticator for the relying party `webauthn`.
    pub fn new(webauthn: Arc<Webauthn>) -> Self {
        Self {
            webauthn,
            demo: None,
        }
    }

    /// The same, with the demo authenticator's choice of fictional residents on
    /// the login page (for `idp-server demo` only).
    pub fn with_demo_residents(webauthn: Arc<Webauthn>) -> Self {
        Self {
            webauthn,
            demo: Some(crate::authn::DemoAuthenticator),
        }
    }

    /// The demo residents' part of a login page, under `idp-server demo`.
    async fn demo_part(
        &self,
        state: &AppState,
        page: &LoginPage<'_>,
    ) -> Result<maud::Markup, OAuthError> {
        if self.demo.is_none() {
            return Ok(maud::html! {});
        }
        let eligible = crate::authn::demo_residents(state, page.min_acr).await?;
        Ok(web::demo_residents(&eligible, page.login_id))
    }

    /// Starts a discoverable ceremony and renders the page.
    async fn first_page(
        &self,
        state: &AppState,
        page: &LoginPage<'_>,
        message: Option<&str>,
    ) -> Result<String, OAuthError> {
        // The discoverable ceremony starts when the button is pressed
        // (`discoverable_options`), not for every page shown.
        let demo = self.demo_part(state, page).await?;
        Ok(web::passkey_login(web::LoginView {
            client_name: page.client_name,
            login_id: page.login_id,
            options: None,
            message,
            login_hint: page.login_hint,
            number: None,
            extra: demo,
        }))
    }

    /// The number step: that person's passkeys are asked for.
    async fn number_step(
        &self,
        state: &AppState,
        page: &LoginPage<'_>,
        number: &str,
    ) -> Result<Outcome, OAuthError> {
        let number = number.trim();
        let passkeys = match number.parse::<identity_core::PersonalNumber>() {
            Ok(_) => state
                .store
                .passkeys_of(number)
                .await
                .map_err(|e| server_error("reading passkeys failed", e))?,
            Err(e) => {
                tracing::debug!(error = %e, "a number that is not one");
                let message = format!(
                    "{number:?} {}",
                    web::tr(
                        "không phải là số định danh cá nhân: hãy nhập đủ 12 chữ số.",
                        "is not a personal identification number: enter its 12 digits."
                    )
                );
                return self
                    .first_page(state, page, Some(&message))
                    .await
                    .map(Outcome::Page);
            }
        };
        let keys: Vec<Passkey> = passkeys
            .iter()
            .filter_map(|p| serde_json::from_str(&p.passkey).ok())
            .collect();
        let options = if keys.is_empty() {
            // A credential id made up from the number (the same each time), so
            // that this page cannot be told from a real one.
            let (options, ceremony) = self
                .webauthn
                .start_discoverable_authentication()
                .map_err(|e| server_error("starting a passkey login failed", e))?;
            keep(
                state,
                page.login_id,
                &LoginCeremony::Nobody {
                    personal_number: number.to_owned(),
                    state: ceremony,
                },
            )
            .await?;
            let mut options = serde_json::to_value(&options)
                .map_err(|e| server_error("encoding passkey options failed", e))?;
            let made_up = state.secret.hash_handle("no passkey", number);
            options["publicKey"]["allowCredentials"] = serde_json::json!([{
                "type": "public-key",
                "id": base64ct::Base64UrlUnpadded::encode_string(&made_up[..16]),
            }]);
            options.to_string()
        } else {
            let (options, ceremony) = self
                .webauthn
                .start_passkey_authentication(&keys)
                .map_err(|e| server_error("starting a passkey login failed", e))?;
            keep(
                state,
                page.login_id,
                &LoginCeremony::Person {
                    personal_number: number.to_owned(),
                    state: ceremony,
                },
            )
            .await?;
            serde_json::to_string(&options)
                .map_err(|e| server_error("encoding passkey options failed", e))?
        };
        Ok(Outcome::Page(web::passkey_login(web::LoginView {
            client_name: page.client_name,
            login_id: page.login_id,
            options: Some(&options),
            message: None,
            login_hint: None,
            number: Some(number),
            extra: maud::html! {},
        })))
    }

    /// The passkey's answer.
    async fn assertion(
        &self,
        state: &AppState,
        page: &LoginPage<'_>,
        credential: &str,
    ) -> Result<Outcome, OAuthError> {
        let now = state.clock.now();
        let denied = |why: &str| OAuthError::new("access_denied", why);
        let credential: PublicKeyCredential = serde_json::from_str(credential)
            .map_err(|_| denied("the passkey's answer is not a WebAuthn assertion"))?;
        let Some(ceremony) = state
            .store
            .take_ceremony(&ceremony_key(state, page.login_id), now)
            .await
            .map_err(|e| server_error("reading a passkey ceremony failed", e))?
        else {
            return Err(denied(
                "this passkey challenge was already answered or has expired",
            ));
        };
        let ceremony: LoginCeremony = serde_json::from_str(&ceremony)
            .map_err(|e| server_error("reading a passkey ceremony failed", e))?;
        // The passkey the answer names, and (for a discoverable login) whose it is.
        let stored = state
            .store
            .passkey(credential.get_credential_id())
            .await
            .map_err(|e| server_error("reading a passkey failed", e))?;
        let Some(stored) = stored else {
            return Err(refused(
                state,
                None,
                "an unknown passkey",
                "this passkey is not registered here",
            )
            .await);
        };
        if stored.disabled_at.is_some() {
            return Err(refused(
                state,
                Some(&stored.personal_number),
                "a disabled passkey",
                "this passkey was disabled (it may have been copied): use another passkey or \
                 ask the registration office",
            )
            .await);
        }
        let mut passkey: Passkey = serde_json::from_str(&stored.passkey)
            .map_err(|e| server_error("reading a passkey failed", e))?;
        let result = match ceremony {
            LoginCeremony::Nobody {
                personal_number, ..
            } => {
                return Err(refused(
                    state,
                    Some(&personal_number),
                    "a passkey for a number that has none",
                    "this passkey belongs to someone else",
                )
                .await);
            }
            LoginCeremony::Discoverable(ceremony) => {
                let handle = self
                    .webauthn
                    .identify_discoverable_authentication(&credential)
                    .map(|(uuid, _)| uuid);
                if handle.map(|u| u.as_bytes().to_vec()).ok().as_deref()
                    != Some(stored.user_handle.as_slice())
                {
                    return Err(refused(
                        state,
                        Some(&stored.personal_number),
                        "the answer's user handle is not the passkey's",
                        "the passkey's answer does not match its account",
                    )
                    .await);
                }
                self.webauthn
                    .finish_discoverable_authentication_v2(&credential, ceremony, &passkey)
            }
            LoginCeremony::Person {
                personal_number,
                state: ceremony,
            } => {
                if personal_number != stored.personal_number {
                    return Err(refused(
                        state,
                        Some(&personal_number),
                        "a passkey of another person",
                        "this passkey belongs to someone else",
                    )
                    .await);
                }
                self.webauthn
                    .finish_passkey_authentication(&credential, &ceremony)
            }
        };
        // The counter is judged against the record as it is now (the ceremony's
        // copy may be minutes old), and a regression disables the passkey.
        let now_counter = counter_of(&stored.passkey);
        let regressed = match &result {
            Err(WebauthnError::CredentialPossibleCompromise) => true,
            Ok(r) => {
                let counter = u64::from(r.counter());
                (counter > 0 || now_counter > 0) && counter <= now_counter
            }
            Err(_) => false,
        };
        if regressed {
            if let Err(e) = state
                .store
                .disable_passkey(&stored.credential_id, now)
                .await
            {
                tracing::error!(error = %e, "disabling a passkey failed");
            }
            state
                .audit(
                    Some(&stored.personal_number),
                    "passkey_clone_suspected",
                    &format!(
                        "passkey {:?}: its signature counter did not grow; disabled",
                        stored.name
                    ),
                )
                .await;
            return Err(denied(
                "this passkey may have been copied: it was refused and disabled; use another \
                 passkey or ask the registration office",
            ));
        }
        let result = match result {
            Ok(result) => result,
            Err(e) => {
                return Err(refused(
                    state,
                    Some(&stored.personal_number),
                    &e.to_string(),
                    "the passkey's answer did not verify",
                )
                .await);
            }
        };
        passkey.update_credential(&result);
        let json = serde_json::to_string(&passkey)
            .map_err(|e| server_error("encoding a passkey failed", e))?;
        let updated = state
            .store
            .passkey_used(&stored.credential_id, &stored.passkey, &json, now)
            .await
            .map_err(|e| server_error("updating a passkey failed", e))?;
        if !updated {
            // Another login with this passkey won the race: this one is refused
            // rather than let the counter go back.
            return Err(denied("this passkey was used at the same moment elsewhere"));
        }
        // A passkey proves substantial on an account proofed in person, and never
        // more than the registry gives the person.
        let person = state
            .store
            .person(&stored.personal_number)
            .await
            .map_err(|e| server_error("reading a resident failed", e))?
            .ok_or_else(|| denied("the person is no longer registered"))?;
        Ok(Outcome::Authenticated(Authenticated {
            personal_number: stored.personal_number,
            acr: PASSKEY_ACR.min(crate::authn::assurance_of(&person)),
            amr: vec!["pop".into(), "mfa".into()],
        }))
    }
}

/// The signature counter of a stored webauthn-rs passkey record.
fn counter_of(record: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(record)
        .ok()
        .and_then(|v| v["cred"]["counter"].as_u64())
        .unwrap_or(0)
}

impl Authenticator for PasskeyAuthenticator {
    fn name(&self) -> &'static str {
        if self.demo.is_some() {
            "passkey or demo"
        } else {
            "passkey"
        }
    }

    fn page<'a>(
        &'a self,
        state: &'a AppState,
        page: &'a LoginPage<'a>,
    ) -> BoxFuture<'a, Result<String, OAuthError>> {
        Box::pin(async move {
            if page.min_acr.is_some_and(|min| min > PASSKEY_ACR) {
                return Err(OAuthError::new(
                    "access_denied",
                    "a passkey login reaches assurance level substantial, not high",
                ));
            }
            self.first_page(state, page, None).await
        })
    }

    fn verify<'a>(
        &'a self,
        state: &'a AppState,
        page: &'a LoginPage<'a>,
        form: &'a HashMap<String, String>,
    ) -> BoxFuture<'a, Result<Outcome, OAuthError>> {
        Box::pin(async move {
            if let Some(demo) = &self.demo
                && form.get("method").is_some_and(|m| m == "demo")
            {
                return demo.verify(state, page, form).await;
            }
            if let Some(credential) = form.get("credential").filter(|c| !c.is_empty()) {
                return self.assertion(state, page, credential).await;
            }
            if let Some(number) = form.get("personal_number") {
                return self.number_step(state, page, number).await;
            }
            self.first_page(
                state,
                page,
                Some(web::tr(
                    "Hãy chọn cách đăng nhập.",
                    "Choose how to sign in.",
                )),
            )
            .await
            .map(Outcome::Page)
        })
    }
}

/// A passkey login refused: audited (`passkey_login_refused`, `detail`)
/// against `who`, answered `access_denied` with `why`.
async fn refused(state: &AppState, who: Option<&str>, detail: &str, why: &str) -> OAuthError {
    state.audit(who, "passkey_login_refused", detail).await;
    OAuthError::new("access_denied", why)
}

/// What `/activate` says of a number and code that do not match a waiting code.
fn no_match() -> &'static str {
    web::tr(
        "Số định danh và mã không khớp với mã kích hoạt nào. Mã được cấp tại nơi đăng ký sau \
         khi xác minh danh tính; nhập sai năm lần thì mã bị khoá, và mã có hiệu lực 72 giờ.",
        "The number and the code do not match an activation code. Codes are given at the \
         registration office after your identity is checked; five wrong entries lock a code, \
         and codes last 72 hours.",
    )
}

/// An enrolment under way: who, the code they gave (used up at the end), and
/// the registration's state.
#[derive(Serialize, Deserialize)]
struct Enrolment {
    personal_number: String,
    /// The activation code that allowed it; none for a passkey added at
    /// /account by a person logged in.
    code_hash: Option<Vec<u8>>,
    browser: String,
    state: PasskeyRegistration,
}

fn with_cookie(mut response: Response, cookie: Option<header::HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The page for a server whose issuer cannot be a WebAuthn relying party.
fn unavailable(state: &AppState) -> Response {
    // Not a passing failure but how the server is set up: there is no such page.
    web::own_page(
        StatusCode::NOT_FOUND,
        web::error(
            crate::web::tr(
                "Máy chủ này chưa hỗ trợ passkey",
                "Passkeys are not available here",
            ),
            &format!(
                "{} ({}). {} https://id.example.gov.vn, http://localhost:PORT",
                web::tr(
                    "địa chỉ của máy chủ này là một địa chỉ IP, còn passkey cần một tên miền",
                    "this server's issuer is an address, and passkeys need a domain name",
                ),
                state.config.issuer,
                web::tr("Ví dụ:", "For example:")
            ),
        ),
    )
}

/// `GET /activate`: the number and activation code form.
pub(crate) async fn activate_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.webauthn.is_none() {
        return unavailable(&state);
    }
    let Ok((browser, cookie)) = browser_binding(&state, &headers) else {
        return web::failed();
    };
    let csrf = csrf_token(&state, &browser);
    with_cookie(
        web::own_page(StatusCode::OK, web::activate_form(&csrf, None, "")),
        cookie,
    )
}

/// `POST /activate`: checks the code and starts the passkey registration.
pub(crate) async fn activate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(webauthn) = state.webauthn.clone() else {
        return unavailable(&state);
    };
    let Ok((browser, cookie)) = browser_binding(&state, &headers) else {
        return web::failed();
    };
    let csrf = csrf_token(&state, &browser);
    let again = |status, message: &str, number: &str| {
        web::own_page(status, web::activate_form(&csrf, Some(message), number))
    };
    if !csrf_ok(&state, &headers, &form) {
        return with_cookie(
            again(
                StatusCode::FORBIDDEN,
                web::tr(
                    "Biểu mẫu đã hết hạn hoặc đến từ trang khác: hãy nhập lại số và mã.",
                    "This form expired or came from another page: enter your number and code again.",
                ),
                "",
            ),
            cookie,
        );
    }
    let number = form
        .get("personal_number")
        .map(|n| n.trim())
        .unwrap_or_default();
    if number.parse::<identity_core::PersonalNumber>().is_err() {
        return again(
            StatusCode::BAD_REQUEST,
            web::tr(
                "Hãy nhập số định danh cá nhân gồm 12 chữ số.",
                "Enter your 12-digit personal identification number.",
            ),
            number,
        );
    }
    let Some(code_hash) = form
        .get("code")
        .and_then(|c| enrol::hash_code(&state.secret, c))
    else {
        return again(
            StatusCode::BAD_REQUEST,
            web::tr(
                "Mã kích hoạt gồm 12 chữ và số, ví dụ ABCD-EFGH-JKMN.",
                "The activation code has 12 letters and digits, like ABCD-EFGH-JKMN.",
            ),
            number,
        );
    };
    let now = state.clock.now();
    let checked = match state.store.check_activation(number, &code_hash, now).await {
        Ok(c) => c,
        Err(e) => return web::failed_with("checking an activation code failed", e),
    };
    let refusal = match checked {
        Activation::Valid => None,
        // A wrong code and no code read the same (no count of attempts left
        // either): the page must not tell who has a code waiting. The audit log
        // tells them apart.
        Activation::Wrong { .. } => Some(("activation_code_wrong", no_match())),
        Activation::Locked => Some((
            "activation_code_locked",
            web::tr(
                "Mã đã bị khoá vì nhập sai quá nhiều lần: hãy xin mã mới tại nơi đăng ký.",
                "This code is locked after too many wrong attempts: ask the registration office \
                 for a new one.",
            ),
        )),
        Activation::Expired => Some((
            "activation_code_expired",
            web::tr(
                "Mã đã hết hạn (mã có hiệu lực 72 giờ): hãy xin mã mới tại nơi đăng ký.",
                "This code has expired (codes last 72 hours): ask the registration office for a \
                 new one.",
            ),
        )),
        Activation::None => Some(("activation_code_unknown", no_match())),
    };
    if let Some((kind, message)) = refusal {
        state.audit(Some(number), kind, "at /activate").await;
        return again(StatusCode::BAD_REQUEST, message, number);
    }
    let person = match state.store.person(number).await {
        Ok(Some(p)) => p,
        Ok(None) => return again(StatusCode::BAD_REQUEST, no_match(), number),
        Err(e) => return web::failed_with("reading a resident failed", e),
    };
    match start_enrolment(&state, &webauthn, &person, Some(code_hash), &csrf).await {
        Ok(html) => web::own_page(StatusCode::OK, html),
        Err(response) => response,
    }
}

/// Starts a passkey registration for `person` (with the activation code that
/// allowed it, or none for a person logged in at /account), bound to the
/// browser whose CSRF token is `csrf`: the page that makes the passkey.
pub(crate) async fn start_enrolment(
    state: &AppState,
    webauthn: &Webauthn,
    person: &crate::store::Person,
    code_hash: Option<Vec<u8>>,
    csrf: &str,
) -> Result<String, Response> {
    let number = person.personal_number.as_str();
    let existing = state
        .store
        .passkeys_of(number)
        .await
        .map_err(|e| web::failed_with("reading passkeys failed", e))?;
    let exclude = existing
        .iter()
        .map(|p| p.credential_id.clone())
        .collect::<Vec<_>>();
    let (options, registration) = webauthn
        .start_passkey_registration(
            user_handle(state, number),
            &person.full_name,
            &person.full_name,
            Some(exclude),
        )
        .map_err(|e| web::failed_with("starting a passkey registration failed", e))?;
    let enrolment = Enrolment {
        personal_number: number.to_owned(),
        code_hash,
        browser: csrf.to_owned(),
        state: registration,
    };
    let enrolment_id = crate::oidc::random_token().map_err(|_| web::failed())?;
    let json = serde_json::to_string(&enrolment).map_err(|_| web::failed())?;
    state
        .store
        .put_ceremony(
            &state.secret.hash_handle("enrolment", &enrolment_id),
            &json,
            state.clock.now() + LOGIN_LIFETIME,
        )
        .await
        .map_err(|e| web::failed_with("saving an enrolment failed", e))?;
    // A passkey the browser can offer without a number (a discoverable one) is
    // preferred; webauthn-rs leaves the choice to the authenticator.
    let mut options = serde_json::to_value(&options).map_err(|_| web::failed())?;
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "preferred".into();
    Ok(web::activate_passkey(
        &person.full_name,
        &enrolment_id,
        csrf,
        &options.to_string(),
    ))
}

/// `POST /activate/finish`: the authenticator's new credential; registers the
/// passkey and uses up the activation code.
pub(crate) async fn activate_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(webauthn) = state.webauthn.clone() else {
        return unavailable(&state);
    };
    let start_again = web::tr(
        "hãy bắt đầu lại tại /activate với số định danh và mã",
        "start again at /activate with your number and code",
    );
    let refused = |status, why: String| {
        web::own_page(
            status,
            web::error(
                crate::web::tr("Kích hoạt không thành công", "Activation failed"),
                &why,
            ),
        )
    };
    if !csrf_ok(&state, &headers, &form) {
        return refused(
            StatusCode::FORBIDDEN,
            format!(
                "{}: {start_again}",
                web::tr(
                    "biểu mẫu đã hết hạn hoặc đến từ trang khác",
                    "this form expired or came from another page"
                )
            ),
        );
    }
    let now = state.clock.now();
    let (Some(enrolment_id), Some(credential)) = (form.get("enrolment"), form.get("credential"))
    else {
        return refused(
            StatusCode::BAD_REQUEST,
            format!(
                "{}: {start_again}",
                web::tr("passkey chưa được tạo", "the passkey was not created")
            ),
        );
    };
    let gone = || {
        refused(
            StatusCode::BAD_REQUEST,
            format!(
                "{}: {start_again}",
                web::tr(
                    "lần đăng ký này đã xong hoặc đã hết hạn",
                    "this registration was already finished or has expired"
                )
            ),
        )
    };
    let enrolment_key = state.secret.hash_handle("enrolment", enrolment_id);
    let enrolment: Enrolment = match state.store.ceremony(&enrolment_key, now).await {
        Ok(None) => return gone(),
        Ok(Some(json)) => match serde_json::from_str(&json) {
            Ok(e) => e,
            Err(e) => return web::failed_with("reading an enrolment failed", e),
        },
        Err(e) => return web::failed_with("reading an enrolment failed", e),
    };
    let number = enrolment.personal_number.as_str();
    let csrf = form.get("csrf").cloned().unwrap_or_default();
    if enrolment.browser != csrf {
        return refused(
            StatusCode::FORBIDDEN,
            format!(
                "{}: {start_again}",
                web::tr(
                    "lần đăng ký này được bắt đầu ở một trình duyệt khác",
                    "this registration was started in another browser"
                )
            ),
        );
    }
    // Without an activation code, only the person, logged in lately in this
    // browser, may finish what they started at /account.
    if enrolment.code_hash.is_none()
        && !crate::account::recently_signed_in(&state, &headers, number).await
    {
        return refused(
            StatusCode::FORBIDDEN,
            web::tr(
                "muốn thêm passkey, bạn cần vừa đăng nhập trên trình duyệt này: hãy mở lại /account",
                "adding a passkey needs you logged in (lately) in this browser: open /account again",
            )
            .into(),
        );
    }
    // Its challenge is answered once.
    match state.store.take_ceremony(&enrolment_key, now).await {
        Ok(Some(_)) => {}
        Ok(None) => return gone(),
        Err(e) => return web::failed_with("taking an enrolment failed", e),
    }
    let credential: RegisterPublicKeyCredential = match serde_json::from_str(credential) {
        Ok(c) => c,
        Err(_) => {
            return refused(
                StatusCode::BAD_REQUEST,
                format!(
                    "{}: {start_again}",
                    web::tr(
                        "câu trả lời của trình duyệt không phải là thông tin WebAuthn",
                        "the browser's answer is not a WebAuthn credential"
                    )
                ),
            );
        }
    };
    let passkey = match webauthn.finish_passkey_registration(&credential, &enrolment.state) {
        Ok(p) => p,
        Err(e) => {
            state
                .audit(Some(number), "passkey_registration_refused", &e.to_string())
                .await;
            return refused(
                StatusCode::BAD_REQUEST,
                format!(
                    "{} ({e}): {start_again}",
                    web::tr(
                        "không đăng ký được passkey",
                        "the passkey could not be registered"
                    )
                ),
            );
        }
    };
    // A credential id is one authenticator's, once (WebAuthn §7.1 step 22).
    match state.store.passkey(passkey.cred_id()).await {
        Ok(None) => {}
        Ok(Some(_)) => {
            state
                .audit(
                    Some(number),
                    "passkey_registration_refused",
                    "a credential id already registered",
                )
                .await;
            return refused(
                StatusCode::BAD_REQUEST,
                format!(
                    "{}: {start_again}",
                    web::tr(
                        "passkey này đã được đăng ký rồi",
                        "this passkey is registered already"
                    )
                ),
            );
        }
        Err(e) => return web::failed_with("reading a passkey failed", e),
    }
    let name = form
        .get("name")
        .map(|n| n.trim())
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .unwrap_or("passkey")
        .to_owned();
    let Ok(json) = serde_json::to_string(&passkey) else {
        return web::failed();
    };
    let stored = StoredPasskey {
        credential_id: passkey.cred_id().to_vec(),
        personal_number: number.to_owned(),
        user_handle: user_handle(&state, number).as_bytes().to_vec(),
        passkey: json,
        name: name.clone(),
        created_at: now,
        last_used_at: None,
        disabled_at: None,
    };
    // The code is used up and the passkey saved together, once: a second
    // registration racing this one finds the code gone, and a failure keeps both.
    match state
        .store
        .register_passkey(&stored, enrolment.code_hash.as_deref(), now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return refused(
                StatusCode::BAD_REQUEST,
                web::tr(
                    "trong lúc đó mã kích hoạt đã được dùng, thay thế hoặc bị khoá: hãy xin mã \
                     mới tại nơi đăng ký",
                    "the activation code was used, replaced or locked meanwhile: ask the \
                     registration office for a new one",
                )
                .into(),
            );
        }
        Err(e) => return web::failed_with("registering a passkey failed", e),
    }
    let place = if enrolment.code_hash.is_some() {
        "/activate, with an activation code"
    } else {
        "/account, logged in"
    };
    state
        .audit(
            Some(number),
            "passkey_registered",
            &format!("passkey {name:?} at {place}"),
        )
        .await;
    tracing::info!("a passkey was registered");
    web::own_page(StatusCode::OK, web::activated(&name))
}

/// `GET /assets/webauthn.js`: the one script of the pages, which makes the
/// WebAuthn call a page describes and posts its answer with the page's form.
pub(crate) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/webauthn.js"),
    )
        .into_response()
}
