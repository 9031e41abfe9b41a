//! Who the person is: the [`Authenticator`]s (the demo one today, passkeys next),
//! the browser's cookies, logins under way and single sign-on sessions.
//!
//! A login runs in three steps. `GET /authorize` checks the request; if the
//! browser's session answers it (not ended, recent enough for `max_age`, strong
//! enough for `acr_values`, no `prompt=login`), the code is issued at once. If
//! not, the request is kept server-side as a *login under way*, bound to the
//! browser by a cookie, and the authenticator's page asks who the person is.
//! `POST /authorize/login` takes the login under way (once), checks that the
//! same browser posted it (the cookie; cross-site posts do not carry it), lets
//! the authenticator verify the answer, starts a session and issues the code.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use identity_core::AssuranceLevel;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::oidc::OAuthError;
use crate::store::Person;

/// A boxed future, so that [`Authenticator`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Seconds a person has to authenticate once the login page is shown.
pub const LOGIN_LIFETIME: i64 = 600;

/// Who an authenticator found the person to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The personal identification number.
    pub personal_number: String,
    /// The assurance level the login reached.
    pub acr: AssuranceLevel,
    /// How (RFC 8176 values, or the authenticator's own name).
    pub amr: Vec<String>,
}

/// What an authenticator made of a page's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The person is known.
    Authenticated(Authenticated),
    /// Another page for the same login (a further step, or the same page with
    /// what was wrong): the login stays under way.
    Page(String),
}

/// What the login page needs to know about the login under way.
#[derive(Debug, Clone)]
pub struct LoginPage<'a> {
    /// The login's id: the page's form posts it back as `login_id`.
    pub login_id: &'a str,
    /// The portal's name, to show.
    pub client_name: &'a str,
    /// The lowest assurance level the portal accepts.
    pub min_acr: Option<AssuranceLevel>,
    /// Who the portal thinks is logging in (`login_hint`), if it said.
    pub login_hint: Option<&'a str>,
}

/// A way for a person to prove who they are.
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    /// A short name for logs: `demo`, `passkey`.
    fn name(&self) -> &'static str;

    /// The HTML page that asks who the person is. Its form must post to
    /// `/authorize/login` with a `login_id` field holding `page.login_id`.
    fn page<'a>(
        &'a self,
        state: &'a AppState,
        page: &'a LoginPage<'a>,
    ) -> BoxFuture<'a, Result<String, OAuthError>>;

    /// Checks what the page posted: who it proves, another page to show, or
    /// `access_denied` with why (sent to the portal).
    fn verify<'a>(
        &'a self,
        state: &'a AppState,
        page: &'a LoginPage<'a>,
        form: &'a HashMap<String, String>,
    ) -> BoxFuture<'a, Result<Outcome, OAuthError>>;
}

/// The demo authenticator: the person picks a fictional resident of the demo
/// registry. Only `idp-server demo` has it; `serve` refuses to start with it.
#[derive(Debug, Default)]
pub struct DemoAuthenticator;

impl Authenticator for DemoAuthenticator {
    fn name(&self) -> &'static str {
        "demo"
    }

    fn page<'a>(
        &'a self,
        state: &'a AppState,
        page: &'a LoginPage<'a>,
    ) -> BoxFuture<'a, Result<String, OAuthError>> {
        Box::pin(async move {
            let eligible = demo_residents(state, page.min_acr).await?;
            Ok(crate::web::demo_login(
                page.client_name,
                &eligible,
                page.login_id,
            ))
        })
    }

    fn verify<'a>(
        &'a self,
        state: &'a AppState,
        _page: &'a LoginPage<'a>,
        form: &'a HashMap<String, String>,
    ) -> BoxFuture<'a, Result<Outcome, OAuthError>> {
        Box::pin(async move {
            let denied = |why: &str| OAuthError::new("access_denied", why);
            let chosen = form
                .get("personal_number")
                .ok_or_else(|| denied("nobody was chosen"))?;
            let person = state
                .store
                .person(chosen)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "reading a demo resident failed");
                    OAuthError::new("server_error", "the registry could not be read")
                })?
                .ok_or_else(|| denied("unknown person"))?;
            Ok(Outcome::Authenticated(Authenticated {
                acr: assurance_of(&person),
                personal_number: person.personal_number,
                amr: vec!["demo".into()],
            }))
        })
    }
}

/// The demo residents a login may pick: those whose level reaches `min_acr`.
pub(crate) async fn demo_residents(
    state: &AppState,
    min_acr: Option<AssuranceLevel>,
) -> Result<Vec<Person>, OAuthError> {
    let people = state.store.people(50).await.map_err(|e| {
        tracing::error!(error = %e, "listing the demo residents failed");
        OAuthError::new("server_error", "the registry could not be read")
    })?;
    Ok(people
        .into_iter()
        .filter(|p| min_acr.is_none_or(|min| assurance_of(p) >= min))
        .collect())
}

/// A person's registered assurance level (low if the registry says nonsense).
pub fn assurance_of(person: &Person) -> AssuranceLevel {
    person
        .assurance
        .parse::<AssuranceLevel>()
        .unwrap_or(AssuranceLevel::Low)
}

/// The browser cookies of the provider: named with the `__Host-` prefix (secure,
/// host-only, path /) when the issuer is https, plainly on a loopback http issuer
/// (development), where browsers would drop a secure cookie.
#[derive(Debug, Clone)]
pub struct Cookies {
    secure: bool,
}

/// The cookie binding a login under way to the browser that started it.
const BROWSER: &str = "idp_browser";
/// The single sign-on session cookie.
const SESSION: &str = "idp_session";

impl Cookies {
    /// The cookies of a server whose issuer is `issuer`.
    pub fn for_issuer(issuer: &str) -> Self {
        Self {
            secure: issuer.starts_with("https://"),
        }
    }

    fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn read(&self, headers: &HeaderMap, base: &str) -> Option<String> {
        let name = self.name(base);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn set(&self, base: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
        let cookie = Cookie::build((self.name(base), value.to_owned()))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }

    /// The browser's binding, if it has one.
    pub fn browser(&self, headers: &HeaderMap) -> Option<String> {
        self.read(headers, BROWSER)
    }

    /// Sets the browser's binding (for the browser's lifetime).
    pub fn set_browser(&self, value: &str) -> Option<HeaderValue> {
        // A session cookie would do, but browsers restore those at will; a day
        // bounds it.
        self.set(BROWSER, value, 86_400)
    }

    /// The browser's session handle, if it has one.
    pub fn session(&self, headers: &HeaderMap) -> Option<String> {
        self.read(headers, SESSION)
    }

    /// Sets the session handle for `lifetime` seconds.
    pub fn set_session(&self, value: &str, lifetime: i64) -> Option<HeaderValue> {
        self.set(SESSION, value, lifetime)
    }

    /// Removes the session cookie.
    pub fn clear_session(&self) -> Option<HeaderValue> {
        self.set(SESSION, "", 0)
    }
}

/// A login under way as stored: the authorization request's parameters, the
/// browser it is bound to (a keyed hash of its binding cookie), and, once the
/// person is known and only their consent is awaited, who they are.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingLogin {
    /// The authorization request, as it came.
    pub params: HashMap<String, String>,
    /// The keyed hash of the browser binding, base64url.
    pub browser: String,
    /// Who logged in, when consent is what remains.
    #[serde(default)]
    pub authenticated: Option<LoggedIn>,
}

/// A person who has authenticated, waiting at the consent page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoggedIn {
    /// Who.
    pub personal_number: String,
    /// The assurance level reached.
    pub acr: String,
    /// How.
    pub amr: Vec<String>,
    /// When.
    pub auth_time: i64,
}

/// The CSRF token of a browser: a keyed hash of its binding cookie. Forms carry
/// it; a page elsewhere cannot know it (nor does a cross-site post carry the
/// cookie it is checked against).
pub fn csrf_token(state: &AppState, browser: &str) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding as _};
    Base64UrlUnpadded::encode_string(&state.secret.hash_handle("csrf", browser))
}

/// Whether `form`'s `csrf` field is the token of the browser that posted it.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    match (state.cookies.browser(headers), form.get("csrf")) {
        (Some(browser), Some(token)) => csrf_token(state, &browser)
            .as_bytes()
            .ct_eq(token.as_bytes())
            .into(),
        _ => false,
    }
}

/// The browser's binding, or a new one with the cookie that sets it.
pub fn browser_binding(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), OAuthError> {
    match state.cookies.browser(headers) {
        Some(b) => Ok((b, None)),
        None => {
            let b = crate::oidc::random_token()?;
            let cookie = state.cookies.set_browser(&b);
            Ok((b, cookie))
        }
    }
}

impl PendingLogin {
    /// Whether `browser_hash` is the browser this login is bound to (constant time).
    pub fn bound_to(&self, browser_hash: &str) -> bool {
        self.browser
            .as_bytes()
            .ct_eq(browser_hash.as_bytes())
            .into()
    }
}
