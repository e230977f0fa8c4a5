//! `/healthz` (the process answers), `/readyz` (its dependencies answer) and `/metrics`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use futures::future::{BoxFuture, join_all};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::tasks::{Phase, Tasks};

/// One dependency check: a name for the report and a future that fails when it is down.
#[derive(Clone)]
pub struct Probe {
    pub name: String,
    pub check: Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>,
    /// Whether the process is unready while it fails. A dependency the requests do not
    /// wait on (the bus: events wait in the outboxes) is only reported, or one outage
    /// would take every replica out of service at once.
    pub required: bool,
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
            required: true,
        }
    }

    /// A check shown in `/readyz`'s report that does not make the process unready.
    pub fn informational<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            required: false,
            ..Self::new(name, check)
        }
    }
}

/// Everything `/readyz` checks.
#[derive(Clone, Default)]
pub struct Readiness {
    probes: Vec<Probe>,
    /// Whose shutdown makes the process unready.
    life: Option<Tasks>,
}

impl Readiness {
    pub fn add(&mut self, probe: Probe) {
        self.probes.push(probe);
    }

    /// Answers unready from the moment `tasks` begins shutting down.
    pub fn follow(&mut self, tasks: &Tasks) {
        self.life = Some(tasks.clone());
    }

    /// Whose shutdown this follows.
    pub(crate) fn life(&self) -> Option<Tasks> {
        self.life.clone()
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
    if readiness
        .life
        .as_ref()
        .is_some_and(|t| t.phase() != Phase::Running)
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "draining", "checks": {}})),
        );
    }
    let results = join_all(readiness.probes.iter().map(|p| async move {
        let outcome = tokio::time::timeout(Duration::from_secs(3), (p.check)()).await;
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(format!("{err:#}")),
            Err(_) => Some("timed out".to_owned()),
        };
        (p.name.clone(), p.required, error)
    }))
    .await;
    let ready = results
        .iter()
        .all(|(_, required, e)| !required || e.is_none());
    let checks: serde_json::Map<_, _> = results
        .into_iter()
        .map(|(name, _, err)| {
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

/// Histogram buckets for the event spine's delays, in seconds: fine where the goals are
/// (milliseconds), coarse past a second.
const DELAY_BUCKETS: [f64; 19] = [
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15,
    0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // The event spine's delays as histograms (buckets add up across scrapes and
        // replicas, so a window's percentiles can be read from two scrapes); the rest as
        // the exporter's default summaries.
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Prefix("bus_".into()), &DELAY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Prefix("outbox_".into()), &DELAY_BUCKETS)
            })
            .expect("static buckets")
            .build_recorder();
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn readyz_with(probes: Vec<Probe>) -> (StatusCode, serde_json::Value) {
        let mut readiness = Readiness::default();
        probes.into_iter().for_each(|p| readiness.add(p));
        let res = router(readiness, true)
            .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    async fn down() -> anyhow::Result<()> {
        anyhow::bail!("connection refused")
    }

    #[tokio::test]
    async fn a_failing_informational_check_is_reported_and_leaves_the_process_ready() {
        let (status, body) = readyz_with(vec![
            Probe::new("db", || async { Ok(()) }),
            Probe::informational("bus", down),
        ])
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["checks"]["bus"], "unavailable");
        assert_eq!(body["checks"]["db"], "ok");
    }

    #[tokio::test]
    async fn a_failing_required_check_makes_the_process_unready() {
        let (status, body) = readyz_with(vec![
            Probe::new("db", down),
            Probe::informational("bus", || async { Ok(()) }),
        ])
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["checks"]["db"], "unavailable");
    }
}
