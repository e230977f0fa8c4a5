//! `/healthz` (the process answers), `/readyz` (its dependencies answer) and `/metrics`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use futures::future::{BoxFuture, join_all};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

/// One dependency check: a name for the report and a future that fails when it is down.
#[derive(Clone)]
pub struct Probe {
    pub name: String,
    pub check: Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>,
}

impl Probe {
    pub fn new<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            name: name.into(),
            check: Arc::new(move || Box::pin(check())),
        }
    }
}

/// Everything `/readyz` checks.
#[derive(Clone, Default)]
pub struct Readiness {
    probes: Vec<Probe>,
}

impl Readiness {
    pub fn add(&mut self, probe: Probe) {
        self.probes.push(probe);
    }
}

/// `/healthz` and `/readyz`, and `/metrics` for clients on this machine unless
/// `metrics_elsewhere` (it is then served on its own listener by [`metrics_router`]).
pub(crate) fn router(readiness: Readiness, metrics_elsewhere: bool) -> Router {
    let mut router = Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz));
    if !metrics_elsewhere {
        router = router.route("/metrics", get(local_metrics));
    }
    router.with_state(Arc::new(readiness))
}

/// `/metrics` alone, for the separate listener `http.metrics_listen`, where whoever
/// can reach it may read it (the operator decides who can, by the address).
pub fn metrics_router() -> Router {
    prometheus();
    Router::new().route("/metrics", get(metrics_text))
}

async fn readyz(State(readiness): State<Arc<Readiness>>) -> impl IntoResponse {
    let results = join_all(readiness.probes.iter().map(|p| async move {
        let outcome = tokio::time::timeout(Duration::from_secs(3), (p.check)()).await;
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(format!("{err:#}")),
            Err(_) => Some("timed out".to_owned()),
        };
        (p.name.clone(), error)
    }))
    .await;
    let ready = results.iter().all(|(_, e)| e.is_none());
    let checks: serde_json::Map<_, _> = results
        .into_iter()
        .map(|(name, err)| {
            if let Some(e) = &err {
                tracing::warn!(check = %name, error = %e, "readiness check failed");
            }
            (
                name,
                json!(if err.is_none() { "ok" } else { "unavailable" }),
            )
        })
        .collect();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({"status": if ready {"ready"} else {"unavailable"}, "checks": checks})),
    )
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // A second app in the same process (tests) finds the recorder already set.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Metrics tell request rates, routes and error counts: for the operator, not the
/// public. On the main listener only clients on this machine read them.
async fn local_metrics(_local: super::LocalClient) -> impl IntoResponse {
    metrics_text().await
}

async fn metrics_text() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
}
