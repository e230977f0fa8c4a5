//! The pages' one way to the shop: a client of the public `/api/v1`, never a service's
//! database. In the single process it calls the API router in-process (no socket, the
//! same handlers and checks); when distributed it calls the entry point over HTTP. Either
//! way the visitor's token and address travel with the call, so the services see the
//! same caller, rate limits and audit entries as for a direct API client.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

/// How long a page waits for one API call when the API is across the network.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
enum Transport {
    InProcess(Router),
    Http {
        base: String,
        client: reqwest::Client,
    },
}

/// A client of `/api/v1`.
#[derive(Clone)]
pub struct Api {
    transport: Transport,
}

/// Who a call is made for.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The visitor's access token, from their session cookie.
    pub token: Option<String>,
    /// The visitor's connection, so the services key rate limits by the visitor.
    pub peer: SocketAddr,
    /// The `X-Forwarded-For` the visitor's request came with (behind a proxy).
    pub forwarded_for: Option<HeaderValue>,
}

impl Caller {
    pub fn with_token(&self, token: Option<String>) -> Self {
        Self {
            token,
            ..self.clone()
        }
    }
}

/// One field's complaint, as the API's problem+json names it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Why a call failed: the API's problem answer, or no answer at all.
#[derive(Clone, Debug)]
pub struct Problem {
    pub status: u16,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

impl Problem {
    pub(crate) fn unreachable(why: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %why, "the web pages could not reach the API");
        Self {
            status: 503,
            code: "unavailable".into(),
            detail: "the shop is not answering right now; try again in a moment".into(),
            errors: Vec::new(),
            retry_after: Some(5),
        }
    }

    /// The message for `field`, for showing beside it.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn is(&self, status: u16) -> bool {
        self.status == status
    }
}

#[derive(serde::Deserialize)]
struct ProblemBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    errors: Vec<FieldError>,
}

pub type Answer<T> = Result<T, Problem>;

/// A request body and what it is.
struct Payload {
    content_type: String,
    bytes: Bytes,
}

impl Payload {
    fn json<B: Serialize>(body: &B) -> Answer<Self> {
        let bytes = serde_json::to_vec(body).map_err(Problem::unreachable)?;
        Ok(Self {
            content_type: "application/json".into(),
            bytes: bytes.into(),
        })
    }
}

impl Api {
    /// Calls `router` (the API's own routes) in this process.
    pub fn in_process(router: Router) -> Self {
        Self {
            transport: Transport::InProcess(router),
        }
    }

    /// Calls the API at `base` (the entry point, e.g. `http://nginx:8080`).
    pub fn http(base: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            transport: Transport::Http {
                base: base.trim_end_matches('/').to_owned(),
                client,
            },
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, caller: &Caller, path: &str) -> Answer<T> {
        let (_, body) = self.send(caller, Method::GET, path, None).await?;
        decode(&body)
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        caller: &Caller,
        path: &str,
        body: &B,
    ) -> Answer<T> {
        let json = Payload::json(body)?;
        let (_, body) = self.send(caller, Method::POST, path, Some(json)).await?;
        decode(&body)
    }

    /// Any method with an optional JSON body and extra headers (`Idempotency-Key`).
    pub async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<&B>,
        headers: &[(&'static str, String)],
    ) -> Answer<T> {
        let json = body.map(Payload::json).transpose()?;
        let (_, body) = self.send_with(caller, method, path, json, headers).await?;
        decode(&body)
    }

    /// A call whose answer carries nothing the page needs (204, 202).
    pub async fn call<B: Serialize>(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: &B,
    ) -> Answer<()> {
        let json = Payload::json(body)?;
        self.send(caller, method, path, Some(json))
            .await
            .map(|_| ())
    }

    /// A body the page built itself (a multipart upload), with its content type.
    pub async fn upload<T: DeserializeOwned>(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        content_type: String,
        body: Bytes,
    ) -> Answer<T> {
        let payload = Payload {
            content_type,
            bytes: body,
        };
        let (_, body) = self.send(caller, method, path, Some(payload)).await?;
        decode(&body)
    }

    /// Sends one request; a non-2xx answer becomes its [`Problem`].
    async fn send(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<Payload>,
    ) -> Answer<(HeaderMap, Bytes)> {
        self.send_with(caller, method, path, body, &[]).await
    }

    async fn send_with(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<Payload>,
        extra: &[(&'static str, String)],
    ) -> Answer<(HeaderMap, Bytes)> {
        let (status, headers, body) = match &self.transport {
            Transport::InProcess(router) => {
                let mut req = Request::builder().method(method).uri(path);
                for (name, value) in extra {
                    req = req.header(*name, value.as_str());
                }
                if let Some(token) = &caller.token {
                    req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
                }
                if let Some(xff) = &caller.forwarded_for {
                    req = req.header("x-forwarded-for", xff.clone());
                }
                let body = match body {
                    Some(p) => {
                        req = req.header(header::CONTENT_TYPE, p.content_type);
                        Body::from(p.bytes)
                    }
                    None => Body::empty(),
                };
                let mut req = req.body(body).map_err(Problem::unreachable)?;
                req.extensions_mut().insert(ConnectInfo(caller.peer));
                let res = router
                    .clone()
                    .oneshot(req)
                    .await
                    .map_err(Problem::unreachable)?;
                let (parts, body) = res.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map_err(Problem::unreachable)?
                    .to_bytes();
                (parts.status.as_u16(), parts.headers, bytes)
            }
            Transport::Http { base, client } => {
                let mut req = client.request(method, format!("{base}{path}"));
                for (name, value) in extra {
                    req = req.header(*name, value.as_str());
                }
                if let Some(token) = &caller.token {
                    req = req.bearer_auth(token);
                }
                if let Some(xff) = &caller.forwarded_for {
                    req = req.header("x-forwarded-for", xff.clone());
                }
                if let Some(p) = body {
                    req = req
                        .header(header::CONTENT_TYPE, p.content_type)
                        .body(p.bytes);
                }
                let res = req.send().await.map_err(Problem::unreachable)?;
                let status = res.status().as_u16();
                let headers = res.headers().clone();
                let bytes = res.bytes().await.map_err(Problem::unreachable)?;
                (status, headers, bytes)
            }
        };
        if (200..300).contains(&status) {
            return Ok((headers, body));
        }
        let parsed: ProblemBody = serde_json::from_slice(&body).unwrap_or(ProblemBody {
            code: "error".into(),
            detail: String::from_utf8_lossy(&body).chars().take(200).collect(),
            errors: Vec::new(),
        });
        Err(Problem {
            status,
            code: parsed.code,
            detail: parsed.detail,
            errors: parsed.errors,
            retry_after: headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
        })
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Answer<T> {
    // An empty 2xx body reads as JSON null, for answers whose value the page ignores.
    let body: &[u8] = if body.is_empty() { b"null" } else { body };
    serde_json::from_slice(body)
        .map_err(|e| Problem::unreachable(format!("an API answer did not parse: {e}")))
}
