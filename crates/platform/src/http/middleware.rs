//! Cross-cutting request handling: ids, logs, metrics and headers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutBody;
use tracing::Instrument;

use crate::error::{ApiError, problem_response};

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request an id (the caller's, when it is sane), runs it inside a span and
/// the request-id task-local, logs one line when it ends and records metrics.
pub(crate) async fn observe(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, value);
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request.id = %id, http.method = %method, http.route = route.as_deref().unwrap_or(&path));
    let started = Instant::now();
    let mut res = crate::context::with_request_id(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let _enter = span.enter();
    // One line per request; health probes would drown everything else.
    if !path.starts_with("/healthz")
        && !path.starts_with("/readyz")
        && !path.starts_with("/metrics")
    {
        tracing::info!(
            http.status = status,
            duration_ms = elapsed.as_millis() as u64,
            "{method} {path} answered {status}"
        );
    }
    let labels = [
        ("method", method.to_string()),
        ("route", route.unwrap_or_else(|| "unmatched".into())),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    res
}

/// Headers that cost nothing and close whole classes of browser attacks.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ] {
        h.entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    res
}

/// Layers below the handlers (body limits, timeouts, method routing) answer with empty
/// or plain-text bodies; this gives them the same problem+json shape as handler errors.
pub(crate) async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // Bodies that already speak JSON (problem+json from handlers, the readiness report)
    // are left alone; only empty and plain-text bodies from lower layers are replaced.
    // Web pages (HTML) answer errors with pages of their own, also left alone.
    let is_own = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/problem+json")
                || ct.starts_with("application/json")
                || ct.starts_with("text/html")
        });
    if is_own {
        return res;
    }
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not accept that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than allowed",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        StatusCode::NOT_FOUND => ("not_found", "not found"),
        s if s.is_server_error() => ("internal", "an unexpected error occurred"),
        _ => ("bad_request", "the request could not be handled"),
    };
    let (parts, _) = res.into_parts();
    let mut out = problem_response(status, code, detail.into(), Vec::new());
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// The largest refused body still read (and dropped) so that its sender sees the 413.
const DRAIN_AT_MOST: u64 = 16 * 1024 * 1024;

/// What [`guard`] bounds, from the settings.
#[derive(Clone)]
pub(crate) struct Guards {
    /// Requests being handled; a request that finds none free is refused.
    pub slots: Arc<Semaphore>,
    /// Largest body of a multipart upload, and of anything else.
    pub upload_limit: u64,
    pub body_limit: u64,
    pub body_read_timeout: Duration,
}

/// Bounds the work one request can start before a handler sees it:
/// - a request past `http.max_concurrent_requests` gets 503 with `Retry-After` at once
///   (probes excepted, so an overloaded process still tells its orchestrator so);
/// - a `Content-Length` above the limit gets 413 before a byte of the body is read;
/// - a body that pauses longer than `http.body_read_timeout_secs` between two pieces
///   fails its read, answered 408.
pub(crate) async fn guard(State(g): State<Guards>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let probe = path == "/healthz" || path == "/readyz" || path == "/metrics";
    let _slot = if probe {
        None
    } else {
        match g.slots.clone().try_acquire_owned() {
            Ok(slot) => Some(slot),
            Err(_) => {
                metrics::counter!("http_requests_shed_total").increment(1);
                return ApiError::Overloaded {
                    what: "too many requests at once",
                    retry_after_secs: 1,
                }
                .into_response();
            }
        }
    };
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    let limit = if is_multipart {
        g.upload_limit
    } else {
        g.body_limit
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let timeout = g.body_read_timeout;
    if let Some(declared) = declared.filter(|n| *n > limit) {
        // A client that is still sending must read the answer before the connection
        // closes, or its TCP stack throws the answer away: a body of sane size is read
        // and dropped first. A huge one (an attack, or a client that waits for
        // `100 Continue`) is refused at once.
        if declared <= DRAIN_AT_MOST {
            let mut body = std::pin::pin!(TimeoutBody::new(timeout, req.into_body()));
            while let Some(Ok(_)) = body.as_mut().frame().await {}
        }
        let mut res =
            ApiError::PayloadTooLarge(format!("the request body may be at most {limit} bytes"))
                .into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let req = req.map(|body| Body::new(TimeoutBody::new(timeout, body)));
    next.run(req).await
}

/// Answers that say nothing about caching are stored nowhere: tokens, profiles, carts
/// and orders must not linger in a browser's or a proxy's cache. Public answers that
/// may be cached (products, images, the docs) set their own `Cache-Control`.
pub(crate) async fn no_store_by_default(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// The shop's own origin (`http://localhost:8080`), from `http.public_url`.
#[derive(Clone)]
pub(crate) struct ShopOrigin(pub Arc<str>);

impl ShopOrigin {
    pub fn of(public_url: &str) -> Self {
        // scheme://host[:port], without a path or a trailing slash.
        let url = public_url.trim_end_matches('/');
        let origin = match url.find("://") {
            Some(i) => match url[i + 3..].find('/') {
                Some(j) => &url[..i + 3 + j],
                None => url,
            },
            None => url,
        };
        Self(origin.to_ascii_lowercase().into())
    }
}

/// Refuses a request that changes something with the visitor's cookies when it comes
/// from another site (a form on an attacker's page posting here). SameSite=Strict
/// cookies already stay off such requests in current browsers; this holds for others
/// too. A browser says where a request comes from in `Sec-Fetch-Site`; an older one only
/// in `Origin`, compared with `http.public_url`. Requests with a bearer token, or with
/// no cookie at all (API clients, webhooks), are not cookie-authenticated and pass.
pub(crate) async fn csrf_guard(
    State(origin): State<ShopOrigin>,
    req: Request,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let h = req.headers();
    let with_cookies = h.contains_key(header::COOKIE);
    let with_bearer = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    if unsafe_method && with_cookies && !with_bearer && !same_origin(h, &origin) {
        return ApiError::forbidden_because(
            "cross_site_request",
            "this request came from another site; send it from the shop's own pages",
        )
        .into_response();
    }
    next.run(req).await
}

fn same_origin(h: &axum::http::HeaderMap, origin: &ShopOrigin) -> bool {
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none`: the visitor typed the address or used a bookmark.
        return site == "same-origin" || site == "none";
    }
    h.get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin.0))
}

/// While the process shuts down, every answer says `Connection: close`, so clients and
/// proxies stop reusing their kept-alive connections before the listener closes: a
/// connection is then never closed under a request a proxy has just written into it
/// (which nginx would not resend if it was a POST). Connections that stay idle are
/// dropped by nginx itself after its upstream `keepalive_timeout` (4 s), so behind
/// nginx `http.shutdown_delay_ms` longer than that leaves none to race.
pub(crate) async fn close_when_draining(
    State(life): State<Option<crate::tasks::Tasks>>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    if life
        .as_ref()
        .is_some_and(|t| t.phase() != crate::tasks::Phase::Running)
    {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

#[cfg(test)]
mod csrf_tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_the_shops_own_pages_may_post_with_cookies() {
        let shop = ShopOrigin::of("https://shop.example/");
        assert_eq!(&*shop.0, "https://shop.example");
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &shop
        ));
        assert!(same_origin(&headers(&[("sec-fetch-site", "none")]), &shop));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            &shop
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            &shop
        ));
        assert!(same_origin(
            &headers(&[("origin", "https://shop.example")]),
            &shop
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            &shop
        ));
        assert!(
            !same_origin(&headers(&[]), &shop),
            "neither header: refused"
        );
        assert_eq!(
            &*ShopOrigin::of("http://localhost:8080/shop").0,
            "http://localhost:8080"
        );
    }
}
