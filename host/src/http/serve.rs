//! Serving the router over TCP, with the connection timeouts `axum::serve` leaves unset (it gives
//! hyper no timer, so hyper's header-read timeout never runs and an idle or trickling socket stays
//! open for as long as its client likes).
//!
//! - The header-read timeout runs from the moment the connection waits for a request (a new
//!   connection, or a keep-alive one after its last answer) until the whole header has arrived;
//!   when it runs out the connection is closed. One setting covers silent sockets, idle keep-alive
//!   connections and trickled headers: `idle_timeout_secs`.
//! - HTTP/1.1 only. hyper's automatic HTTP/1-or-2 detection reads the first bytes before any
//!   timeout runs, so a socket that sends nothing would be held forever; NightOwl sits behind an
//!   ingress or load balancer that speaks HTTP/2 to browsers where wanted.
//! - A request that has its header but takes too long (a trickled body, a slow handler) is answered
//!   408 by the request timeout of the router itself.
//!
//! Shutdown stops accepting, lets in-flight requests finish, then returns.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// How long in-flight requests may take to finish once shutdown has begun.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` resolves. Each request carries the peer address as
/// `ConnectInfo<SocketAddr>`, as with axum's own `serve`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    idle_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(idle_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("shutdown: connections still open after {DRAIN:?} were dropped");
    }
    Ok(())
}
