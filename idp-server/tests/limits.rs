//! The accept loop's limits, over raw TCP: a client that trickles its headers is
//! cut off, oversized headers are answered 431, connections past the cap are
//! closed at once, and a graceful shutdown lets a request under way finish.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

use std::time::{Duration, Instant};

use idp_server::AppState;
use idp_server::clock::Clock;
use idp_server::config::Config;
use idp_server::oidc::ServerSecret;
use idp_server::server::{Limits, serve};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

async fn start(
    limits: Limits,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        issuer: format!("http://{addr}"),
        listen: addr,
        database_url: "sqlite::memory:".into(),
        ..Config::default()
    };
    let state = AppState::new(
        config,
        ServerSecret::new(&[7; 32]).unwrap(),
        Clock::System,
        None,
        None,
    )
    .await
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve(listener, state, limits, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (addr, stop, task)
}

/// Everything the server sends until it closes, or what came within `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> (String, bool) {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(wait, stream.read_to_end(&mut received))
        .await
        .is_ok();
    (String::from_utf8_lossy(&received).into_owned(), closed)
}

const LIMITS: Limits = Limits {
    header_read_timeout: Duration::from_secs(1),
    max_header_bytes: 16 * 1024,
    max_connections: 3,
};

#[tokio::test]
async fn slow_and_oversized_requests_are_cut_off() {
    let (addr, _stop, _task) = start(LIMITS).await;

    // Headers begun and never finished: the connection is closed after the deadline.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /jwks HTTP/1.1\r\nHost: idp\r\nX-Slow: ")
        .await
        .unwrap();
    let began = Instant::now();
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(closed, "a client trickling its headers kept the connection");
    assert!(began.elapsed() >= Duration::from_millis(900));

    // A head larger than the cap: 431.
    let mut big = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /jwks HTTP/1.1\r\nHost: idp\r\nCookie: {}\r\n\r\n",
        "a".repeat(32 * 1024)
    );
    let _ = big.write_all(request.as_bytes()).await;
    let (answer, _) = read_until_closed(&mut big, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.80}");

    // A normal request still works.
    let mut good = TcpStream::connect(addr).await.unwrap();
    good.write_all(b"GET /jwks HTTP/1.1\r\nHost: idp\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut good, Duration::from_secs(5)).await;
    assert!(closed && answer.starts_with("HTTP/1.1 200"), "{answer:.80}");
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_and_shutdown_is_graceful() {
    let (addr, stop, task) = start(LIMITS).await;
    // Three idle connections take every slot.
    let mut idle = Vec::new();
    for _ in 0..LIMITS.max_connections {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /jwks HTTP/1.1\r\nHost: idp\r\n\r\n")
        .await;
    let (answer, closed) = read_until_closed(&mut extra, Duration::from_millis(500)).await;
    assert!(closed && answer.is_empty(), "{answer:.80}");
    // Idle connections are closed by the header deadline, freeing their slots.
    for mut connection in idle {
        let (_, closed) = read_until_closed(&mut connection, Duration::from_secs(5)).await;
        assert!(closed, "an idle connection was kept");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A request under way when shutdown begins is answered; the loop then ends.
    let mut late = TcpStream::connect(addr).await.unwrap();
    late.write_all(b"GET /jwks HTTP/1.1\r\nHost: idp\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    late.write_all(b"\r\n").await.unwrap();
    let (answer, _) = read_until_closed(&mut late, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.80}");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the server did not stop")
        .unwrap();
}
