//! Every route and layer, in one place.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::{AppState, account, demo, device, handlers, logout, passkey};

/// Largest request body accepted (forms and JSON are small).
const BODY_LIMIT: usize = 64 * 1024;
/// Longest a request may take, slow clients included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    // What people see: pages in their language (the middleware costs a little
    // on every request, so the JSON endpoints, the hot path, do without it),
    // within their address's rate limits.
    let pages = Router::new()
        .route("/authorize", get(handlers::authorize))
        .route("/authorize/login", post(handlers::login))
        .route("/authorize/consent", post(handlers::consent))
        .route(
            "/activate",
            get(passkey::activate_form).post(passkey::activate),
        )
        .route("/activate/finish", post(passkey::activate_finish))
        .route("/account", get(account::show))
        .route("/account/passkeys/add", post(account::add_passkey))
        .route("/account/passkeys/remove", post(account::remove_passkey))
        .route(
            "/account/consents/withdraw",
            post(account::withdraw_consent),
        )
        .route("/logout", get(logout::logout_get).post(logout::logout_post))
        .route("/demo/portal", get(demo::home))
        .route("/demo/portal/login", get(demo::login))
        .route("/demo/portal/callback", get(demo::callback))
        .route("/authorize/passkey", post(passkey::discoverable_options))
        .route("/device_authorization", post(device::authorization))
        .route("/device", get(device::show).post(device::enter))
        .route("/device/decide", post(device::decide))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::throttle::limit,
        ))
        .layer(axum::middleware::from_fn(crate::web::language));
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(handlers::discovery),
        )
        .route("/jwks", get(handlers::jwks))
        .route("/assets/webauthn.js", get(passkey::script))
        // Browsers ask for an icon on every page: there is none, and no 404 either.
        .route(
            "/favicon.ico",
            get(|| async {
                (
                    axum::http::StatusCode::NO_CONTENT,
                    [(axum::http::header::CACHE_CONTROL, "public, max-age=86400")],
                )
            }),
        )
        .route("/token", post(handlers::token))
        // The officials' CA (when this server runs one).
        .route("/pki/enroll", post(crate::ca::enroll))
        .route("/pki/ocsp", post(crate::ca::ocsp_post))
        .route("/pki/tsa", post(crate::ca::time_stamp))
        .route("/pki/ocsp/{*request}", get(crate::ca::ocsp_get))
        .route("/pki/crl/{name}", get(crate::ca::crl))
        .route("/pki/ca/{name}", get(crate::ca::certificate))
        .route("/introspect", post(handlers::introspect))
        .route("/revoke", post(handlers::revoke))
        .route(
            "/userinfo",
            get(handlers::userinfo).post(handlers::userinfo),
        )
        .merge(pages)
        // A bug that panics answers 500 (and is logged) instead of dropping the
        // connection; no input is meant to reach one (see tests/robustness.rs).
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // One span a request with its method and path, never its query (codes and
        // states travel there); status and latency are logged as it finishes.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path()
                )
            }),
        )
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}
