//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a portal sends
//! the person here with the ID token it holds; the login behind that token (its
//! `sid`, the token family) ends: refresh tokens and access tokens of it stop
//! working at once, and so does the browser's single sign-on session. The person
//! is sent back only to a post-logout redirect URI the client registered,
//! matched exactly. Without a valid hint, the session ends only once the person
//! confirms on our own page (a third-party page cannot log anyone out).

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use identity_core::jose::{UnverifiedJwt, Validation};

use crate::{AppState, web};

/// `GET /logout`.
pub(crate) async fn logout_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    logout(&state, &headers, pairs, false).await
}

/// `POST /logout` (a form).
pub(crate) async fn logout_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    logout(&state, &headers, pairs, true).await
}

fn refused(detail: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(web::protocol_error(
            crate::web::tr("Đăng xuất không thành công", "Logout failed"),
            detail,
        )),
    )
        .into_response()
}

fn server_error(detail: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(web::error(
            crate::web::tr("Lỗi máy chủ", "Server error"),
            detail,
        )),
    )
        .into_response()
}

async fn logout(
    state: &AppState,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
    posted: bool,
) -> Response {
    let params = match crate::oidc::authorize::parameters(pairs) {
        Ok(p) => p,
        Err(e) => return refused(&e.description),
    };
    let now = state.clock.now();
    // The ID token the portal holds: ours by its signature; an expired one is
    // still a good hint (people log out long after they logged in).
    let hint = match params.get("id_token_hint") {
        Some(token) => {
            // An ID token (typ JWT), never an access token (at+jwt) passed off as one.
            let rules = Validation::new(now, &crate::oidc::ID_TOKEN_ALGS)
                .issuer(state.config.issuer.clone())
                .typ("JWT")
                .leeway(u64::try_from(state.config.refresh_token_lifetime).unwrap_or(0));
            let rules = identity_core::jose::dangerous::accept_any_audience(rules);
            let keys = state.keys();
            match UnverifiedJwt::decode(token.trim())
                .ok()
                .and_then(|jwt| jwt.verify_with_set(keys.recent(), &rules).ok())
            {
                Some(claims) => Some(claims),
                None => return refused("id_token_hint is not an ID token this server issued"),
            }
        }
        None => None,
    };
    let hinted_client = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(serde_json::Value::String(aud)) => Some(aud.clone()),
        _ => None,
    });
    let client_id = match (params.get("client_id"), hinted_client) {
        (Some(given), Some(hinted)) if *given != hinted => {
            return refused("client_id is not the audience of id_token_hint");
        }
        (Some(given), _) => Some(given.clone()),
        (None, hinted) => hinted,
    };
    let client = match &client_id {
        Some(id) => match state.store.client(id).await {
            Ok(Some(client)) => Some(client),
            Ok(None) => return refused("unknown client_id"),
            Err(e) => {
                tracing::error!(error = %e, "logout: reading the client failed");
                return server_error(crate::web::tr(
                    "hãy thử lại sau ít phút",
                    "try again in a moment",
                ));
            }
        },
        None => None,
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        Some(uri) => match &client {
            Some(c) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => Some(uri.clone()),
            Some(_) => {
                return refused("post_logout_redirect_uri is not registered for this client");
            }
            None => {
                return refused("post_logout_redirect_uri needs id_token_hint or client_id");
            }
        },
        None => None,
    };
    // End the login: its token family is revoked everywhere.
    if let Some(sid) = hint
        .as_ref()
        .and_then(|c| c.get("sid"))
        .and_then(|s| s.as_str())
    {
        let until = now + state.config.refresh_token_lifetime;
        if let Err(e) = state.store.revoke_family(sid, now, until).await {
            tracing::error!(error = %e, "logout: revoking the login failed");
            return server_error(crate::web::tr(
                "bạn chưa được đăng xuất: hãy thử lại",
                "you are not logged out yet: try again",
            ));
        }
        tracing::info!(
            client_id = client_id.as_deref().unwrap_or("-"),
            "logged out"
        );
    }
    // The browser's session ends with a hint naming its person (their subject at
    // the hinted portal), or when the person confirmed on our own page: a posted
    // form with its CSRF token (a link elsewhere cannot confirm).
    let confirmed = posted
        && params.get("confirm").is_some_and(|c| c == "yes")
        && crate::authn::csrf_ok(state, headers, &params);
    let session = state.cookies.session(headers);
    let now_session = match &session {
        Some(handle) => match state
            .store
            .session(&state.secret.hash_handle("session", handle), now)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "logout: reading the session failed");
                return server_error(crate::web::tr(
                    "hãy thử lại sau ít phút",
                    "try again in a moment",
                ));
            }
        },
        None => None,
    };
    let hint_is_the_session = match (&hint, &client, &now_session) {
        (Some(claims), Some(client), Some(s)) => {
            claims.subject()
                == Some(
                    state
                        .secret
                        .pairwise_subject(&client.sector, &s.personal_number)
                        .as_str(),
                )
        }
        _ => false,
    };
    if let (Some(handle), Some(_)) = (&session, &now_session) {
        // No hint, or a hint of someone else's login (which ended above): the
        // browser's own session ends only if its person says so.
        if !hint_is_the_session && !confirmed {
            let (browser, cookie) = match crate::authn::browser_binding(state, headers) {
                Ok(b) => b,
                Err(_) => {
                    return server_error(crate::web::tr(
                        "hãy thử lại sau ít phút",
                        "try again in a moment",
                    ));
                }
            };
            let csrf = crate::authn::csrf_token(state, &browser);
            // The confirmation posts to /logout, here: a page of our own (CSP included).
            let mut response = web::own_page(
                axum::http::StatusCode::OK,
                web::confirm_logout(&params, &csrf),
            );
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            return response;
        }
        // Here the hint names this session, or its person confirmed.
        if let Err(e) = state
            .store
            .end_session(&state.secret.hash_handle("session", handle))
            .await
        {
            tracing::error!(error = %e, "logout: ending the session failed");
            return server_error(crate::web::tr(
                "bạn chưa được đăng xuất: hãy thử lại",
                "you are not logged out yet: try again",
            ));
        }
    }
    let mut response = match redirect {
        Some(uri) => {
            let mut url = match url::Url::parse(&uri) {
                Ok(url) => url,
                Err(_) => return refused("post_logout_redirect_uri is not a URL"),
            };
            if let Some(s) = params.get("state") {
                url.query_pairs_mut().append_pair("state", s);
            }
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, url.to_string()),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
            )
                .into_response()
        }
        None => Html(web::logged_out()).into_response(),
    };
    let stale = session.is_some() && now_session.is_none();
    if (hint_is_the_session || confirmed || stale)
        && let Some(clear) = state.cookies.clear_session()
    {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
}
