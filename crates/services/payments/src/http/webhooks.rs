//! `POST /payments/webhooks/{provider}`: where providers tell us what happened. The
//! signature and its timestamp are checked before the body is read; a refused webhook
//! changes nothing, and a duplicate is acknowledged without effect so the provider stops
//! retrying it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use platform::error::{ApiError, ApiResult};
use platform::http::RawBody;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::provider::Refusal;
use crate::settle::{self, Delivery};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_webhook))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// `applied`, `duplicate` or `ignored`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Receives a provider's webhook (signed: for the sandbox, `Mercato-Signature:
/// t=<unix>,v1=<HMAC-SHA256 of "t.body">`, at most `payments.webhook_tolerance_secs` old).
#[utoipa::path(post, path = "/api/v1/payments/webhooks/{provider}", tag = "payments",
    params(("provider" = String, Path, description = "The provider's name, e.g. sandbox")),
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = WebhookAnswer), (status = 400, body = platform::error::Problem),
              (status = 401, body = platform::error::Problem), (status = 404, body = platform::error::Problem)))]
async fn receive_webhook(
    State(s): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<WebhookAnswer>> {
    let provider = s
        .providers
        .get(&provider)
        .ok_or_else(|| ApiError::not_found("payment provider"))?
        .clone();
    let notification = provider
        .verify(&headers, &body, s.ctx.clock.now())
        .map_err(|refusal| {
            tracing::warn!(provider = provider.name(), ?refusal, "webhook refused");
            match refusal {
                Refusal::Signature => ApiError::Unauthorized {
                    code: "bad_signature",
                    detail: "the webhook signature does not match".into(),
                },
                Refusal::Stale => ApiError::bad_request(
                    "stale_webhook",
                    "the webhook's timestamp is outside the tolerance; replays are refused",
                ),
                Refusal::Malformed(why) => ApiError::bad_request("malformed_webhook", why),
            }
        })?;
    let event_id = notification.event_id.clone();
    let applied = settle::apply(&s, provider.name(), notification).await?;
    tracing::info!(
        provider = provider.name(),
        event_id,
        ?applied,
        "webhook received"
    );
    Ok(Json(match applied {
        Delivery::Applied => WebhookAnswer {
            result: "applied",
            detail: None,
        },
        Delivery::Duplicate => WebhookAnswer {
            result: "duplicate",
            detail: None,
        },
        Delivery::Ignored(why) => WebhookAnswer {
            result: "ignored",
            detail: Some(why),
        },
    }))
}
