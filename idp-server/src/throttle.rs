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

    fn trusted(&self, address: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|p| p.to_canonical() == address)
    }

    /// The address a request's limits count against.
    fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        // A server listening on [::] sees IPv4 peers as ::ffff:a.b.c.d.
        let mut address = peer?.ip().to_canonical();
        if self.trusted(address) {
            // X-Forwarded-For read from the right: each trusted proxy appended
            // the address it saw, so the first one not a trusted proxy is the
            // client. What the client wrote further left is never believed, and
            // an entry that cannot be read stops the walk (the request then
            // counts against the proxy that forwarded it).
            let entries: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .collect();
            for entry in entries.into_iter().rev() {
                match forwarded_address(entry) {
                    Some(a) if self.trusted(a) => address = a,
                    Some(a) => {
                        address = a;
                        break;
                    }
                    None => break,
                }
            }
        }
        Some(match address {
            // One subscriber's IPv6 prefix is one client.
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
            v4 => v4,
        })
    }
}

/// An address in X-Forwarded-For, as proxies write it: `203.0.113.5`,
/// `203.0.113.5:41234`, `2001:db8::1` or `[2001:db8::1]:443`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let address = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(address.to_canonical())
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
    let code_attempt = request.method() == Method::POST
        && matches!(
            request.uri().path(),
            "/activate" | "/device" | "/device/decide"
        );
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
    // Rounded up: a client that waits this long is let in.
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(trusted: &[&str]) -> Throttle {
        Throttle::new(&Config {
            trusted_proxies: trusted.iter().map(|a| a.parse().unwrap()).collect(),
            ..Config::default()
        })
    }

    fn client(throttle: &Throttle, peer: &str, forwarded: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        throttle
            .client(Some(peer.parse().unwrap()), &headers)
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_client_address_behind_trusted_proxies() {
        let two = throttle(&["10.0.0.2", "10.0.0.3"]);
        // Untrusted peers: their header is ignored.
        assert_eq!(client(&two, "198.51.100.7:1", &["1.2.3.4"]), "198.51.100.7");
        // An IPv4 peer seen by a server on [::] is still that proxy.
        assert_eq!(
            client(&two, "[::ffff:10.0.0.2]:1", &["203.0.113.5"]),
            "203.0.113.5"
        );
        // Read from the right, past the trusted proxies; what the client wrote
        // to the left is ignored, ports and brackets are understood.
        assert_eq!(
            client(&two, "10.0.0.2:1", &["6.6.6.6, 203.0.113.5:4000, 10.0.0.3"]),
            "203.0.113.5"
        );
        assert_eq!(
            client(&two, "10.0.0.2:1", &["6.6.6.6", "[2001:db8:1:2::9]:443"]),
            "2001:db8:1:2::"
        );
        // An entry that cannot be read stops the walk at the proxy.
        assert_eq!(
            client(&two, "10.0.0.2:1", &["6.6.6.6, unknown"]),
            "10.0.0.2"
        );
        // Mapped IPv4 in the header counts as the IPv4 address.
        assert_eq!(
            client(&two, "10.0.0.2:1", &["::ffff:203.0.113.5"]),
            "203.0.113.5"
        );
    }

    #[test]
    fn retry_after_is_rounded_up() {
        let response = too_many(Duration::from_millis(11_100));
        assert_eq!(response.headers()[header::RETRY_AFTER], "12");
        let response = too_many(Duration::from_millis(10));
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
