//! The accept loop: hyper's HTTP/1.1 with the limits a public daemon needs and
//! `axum::serve` does not set: a deadline for a request's headers (so a client
//! that trickles them, or connects and says nothing, cannot hold a connection), a
//! cap on their size, a cap on open connections, and a graceful shutdown that lets
//! requests under way end.
//!
//! HTTP/1.1 only: TLS (and with it HTTP/2) ends at the load balancer in front, and
//! cleartext HTTP/2's protocol sniffing would wait on a silent client unbounded.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::AppState;

/// The limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// Largest request head (request line and headers) read, in bytes; larger
    /// ones are answered 431.
    pub max_header_bytes: usize,
    /// Connections served at once; more are closed as they arrive.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_connections: 10_000,
        }
    }
}

/// Serves `state`'s application on `listener` until `shutdown` completes, then
/// waits for the connections' requests under way.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = crate::app(state);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, close_signal) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!("connection refused: too many open connections");
            continue;
        };
        let _ = stream.set_nodelay(true);
        // The handlers see whom they answer (the rate limits count by address).
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            router.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        ));
        let mut close_signal = close_signal.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(limits.max_header_bytes)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = close_signal.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    drop(close_signal);
    let _ = closing.send(true);
    closing.closed().await;
    Ok(())
}
