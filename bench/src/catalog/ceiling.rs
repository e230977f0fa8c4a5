//! The ceiling: a bare axum server with one route that answers a fixed JSON object,
//! started in this process next to the shop. It is what this machine, this runtime and
//! this load generator can do with no routing table, middleware, authentication,
//! database or view building in the way, so the shop's figures divided by it say how
//! much of the available speed the shop keeps, whatever the machine.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use serde::{Serialize, Serializer};
use serde_json::Value;
use tokio::task::JoinHandle;

/// The path the ceiling answers on.
pub const PATH: &str = "/product";

/// A shared JSON document that serialises without being cloned per request.
#[derive(Clone)]
struct Shared(Arc<Value>);

impl Serialize for Shared {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A running ceiling server.
pub struct Ceiling {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    server: JoinHandle<std::io::Result<()>>,
}

impl Ceiling {
    /// Serves `body` (a product as the shop answers it, so both send the same bytes of
    /// JSON) at [`PATH`] on a random local port.
    pub async fn start(body: Value) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("binding the ceiling server")?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let body = Shared(Arc::new(body));
        let app = Router::new().route(
            PATH,
            get(move || {
                let body = body.clone();
                async move { axum::Json(body) }
            }),
        );
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { base_url, server })
    }

    pub fn stop(self) {
        self.server.abort();
    }
}
