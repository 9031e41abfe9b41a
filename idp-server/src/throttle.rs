//! Per-address rate limits on the pages anyone can reach without logging in
//! (login, consent, activation, account): each request there may write a row
//! (a login under way, a WebAuthn ceremony, an audit event) or try an
//! activation code, so one address gets a fair share and no more.
//!
//! The limits are GCRA buckets (the `governor` crate) keyed by the client's
//! address: an IPv4 address, or an IPv6 /64 (one subscriber's prefix). Behind
//! a trusted reverse proxy, the address it forwarded for. A request that comes
//! with no address (the router called in-process, as the fuzz target does) is
//! not limited.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::AppState;
use crate::config::Config;

/// The limits, with their buckets.
#[derive(Debug)]
pub struct Throttle {
    pages: Option<DefaultKeyedRateLimiter<IpAddr>>,
    code_attempts: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Vec<IpAddr>,
}

impl Throttle {
    /// The limits `config` sets.
    pub fn new(config: &Config) -> Self {
        let keyed = |quota: Option<Quota>| quota.map(RateLimiter::keyed);
        Self {
            pages: keyed(NonZeroU32::new(config.page_requests_per_minute).map(Quota::per_minute)),
            code_attempts: keyed(
                NonZeroU32::new(config.code_attempts_per_hour).map(Quota::per_hour),
            ),
            trusted_proxies: config.trusted_proxies.clone(),
        }
    }

    /// Forgets the addresses whose buckets are full again (call it now and
    /// then, so that the table does not grow with every address ever seen).
    pub fn forget_idle(&self) {
        for limiter in [&self.pages, &self.code_attempts].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// The address a request's limits count against.
    fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut address = peer?.ip();
        if self.trusted_proxies.contains(&address) {
            // The nearest address the trusted proxies did not add themselves.
            let forwarded = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .rev()
                .find(|a| !self.trusted_proxies.contains(a));
            if let Some(forwarded) = forwarded {
                address = forwarded;
            }
        }
        Some(match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
            },
            v4 => v4,
        })
    }
}

/// How long until `limiter` lets `client` in again, if it does not now.
fn wait(limiter: Option<&DefaultKeyedRateLimiter<IpAddr>>, client: &IpAddr) -> Option<Duration> {
    let limiter = limiter?;
    limiter
        .check_key(client)
        .err()
        .map(|not_until| not_until.wait_time_from(governor::clock::Clock::now(limiter.clock())))
}

/// Middleware for the pages: refuses a request over its address's limits
/// with 429 and a Retry-After, before it reaches the handler.
pub(crate) async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let throttle = &state.throttle;
    let Some(client) = throttle.client(peer, request.headers()) else {
        return next.run(request).await;
    };
    // Where a code is tried: an activation code, a device's user code.
    let code_attempt =
        request.method() == Method::POST && matches!(request.uri().path(), "/activate" | "/device");
    let waited = wait(throttle.pages.as_ref(), &client).or_else(|| {
        code_attempt
            .then(|| wait(throttle.code_attempts.as_ref(), &client))
            .flatten()
    });
    match waited {
        None => next.run(request).await,
        Some(wait) => {
            tracing::debug!(%client, path = request.uri().path(), "rate limited");
            too_many(wait)
        }
    }
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = crate::web::own_page(
        StatusCode::TOO_MANY_REQUESTS,
        crate::web::error(
            crate::web::tr("Quá nhiều yêu cầu", "Too many requests"),
            &format!(
                "{} {seconds} {}",
                crate::web::tr(
                    "Mạng của bạn đã gửi quá nhiều yêu cầu. Không có gì thay đổi: hãy thử lại sau",
                    "Your network has sent too many requests. Nothing was changed: try again in",
                ),
                crate::web::tr("giây.", "seconds."),
            ),
        ),
    );
    if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response.into_response()
}
