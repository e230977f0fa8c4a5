//! Binding and serving: the listener is bound before serving starts so callers (tests)
//! can bind port 0 and learn the real port.
//!
//! Connections are served by hyper directly rather than through `axum::serve`, which
//! sets no timer: without one, hyper enforces no header-read timeout, and a client
//! sending a byte every few seconds holds a connection (and its task) for as long as
//! it likes. Here every connection must send its request head within
//! `http.header_read_timeout_secs`, and a head larger than `http.max_header_bytes` is
//! refused with 431.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::config::HttpSettings;

/// Per-connection bounds, from the HTTP settings.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
}

impl From<&HttpSettings> for ConnectionLimits {
    fn from(s: &HttpSettings) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(s.header_read_timeout_secs.max(1)),
            max_header_bytes: s.max_header_bytes,
        }
    }
}

/// How long connections still open when the listener closes get to end by themselves
/// before the rest are told to close.
const SETTLE: Duration = Duration::from_secs(1);

pub struct Server {
    listener: TcpListener,
}

impl Server {
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        Ok(Self { listener })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` completes, then stops accepting and lets the requests in
    /// flight finish until `drain_until`; kept-alive connections close once idle.
    pub async fn serve(
        self,
        app: Router,
        limits: ConnectionLimits,
        shutdown: impl std::future::Future<Output = tokio::time::Instant> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            // hyper's floor for its read buffer is 8 KiB; the head must fit in it.
            .max_buf_size(limits.max_header_bytes.max(8192));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
        let graceful = GracefulShutdown::new();
        let serve = |stream: tokio::net::TcpStream, peer: SocketAddr| {
            let _ = stream.set_nodelay(true);
            let service = app
                .clone()
                .map_request(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                });
            let conn = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .into_owned();
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                if let Err(err) = conn.await {
                    tracing::debug!(client = %peer, error = %err, "connection ended with an error");
                }
            });
        };
        tokio::pin!(shutdown);
        let drain_until = loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => serve(stream, peer),
                    Err(err) => {
                        // Out of file descriptors, usually: wait a moment rather than spin.
                        tracing::warn!(error = %err, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                until = &mut shutdown => break until,
            }
        };
        // Connections the kernel has completed but this loop has not taken yet would be
        // reset when the listener closes, and a proxy that had already written a POST
        // into one would not send it again (the rolling-restart test saw it): take
        // every one waiting, with plain non-blocking accepts, and serve it before the
        // listener goes.
        if let Ok(listener) = self.listener.into_std() {
            while let Ok((stream, peer)) = listener.accept() {
                let stream = stream
                    .set_nonblocking(true)
                    .and_then(|()| tokio::net::TcpStream::from_std(stream));
                if let Ok(stream) = stream {
                    serve(stream, peer);
                }
            }
        }
        // Telling a connection to shut down closes it at once when hyper has not yet
        // read its first bytes (auto-detecting the HTTP version is simply cancelled),
        // and the request the proxy wrote into it is then reset, not answered: the
        // rolling-restart test lost a POST that way. Every answer now says
        // `Connection: close`, so connections end by themselves after one request;
        // give the ones just taken time to be read and answered before the signal,
        // which then only closes connections that sent nothing.
        let settle = (tokio::time::Instant::now() + SETTLE).min(drain_until);
        while graceful.count() > 0 && tokio::time::Instant::now() < settle {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if tokio::time::timeout_at(drain_until, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still running after the drain period were cut off");
        }
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A proxy connects and writes its request just as the process stops accepting:
    /// the connection is still in the listen queue when shutdown begins. It must be
    /// answered, not reset (a POST reset after it was written is lost to the client).
    #[tokio::test]
    async fn a_request_queued_when_shutdown_begins_is_answered() {
        let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = server.local_addr();
        let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
        conn.write_all(b"POST /quote HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\n\r\n{}")
            .await
            .expect("request");

        let app = Router::new().route("/quote", axum::routing::post(|| async { "quoted" }));
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
        };
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        let serving = tokio::spawn(server.serve(app, limits, async move { until }));

        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer))
            .await
            .expect("an answer in time");
        let answer = String::from_utf8_lossy(&answer);
        assert!(read.is_ok(), "the connection was reset: {read:?}");
        assert!(answer.starts_with("HTTP/1.1 200"), "answered: {answer:?}");
        assert!(answer.ends_with("quoted"), "answered: {answer:?}");
        serving.await.expect("join").expect("served");
    }
}
