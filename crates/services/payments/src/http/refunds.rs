//! Finance's side: `GET /admin/payments` lists payments, `POST /admin/payments/{id}/refund`
//! gives money back, in full or in part.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use platform::auth::{Finance, Staff};
use platform::error::{ApiError, ApiResult};
use platform::http::idempotency::{body_fingerprint, idempotency_key, key_reused, replayed};
use platform::http::{ApiJson, ApiQuery, ClientIp, parse_json};
use platform::page::{Page, PageParams, encode_cursor};
use platform::validate::Fields;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::payments::{PaymentView, RefundView, view};
use crate::AppState;
use crate::domain::{self, refundable};
use crate::refunds;
use crate::store;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_payments))
        .routes(routes!(refund_payment))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaymentQuery {
    /// Only payments in this status.
    #[param(schema_with = payment_status_or_null)]
    pub status: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

fn payment_status_or_null() -> utoipa::openapi::schema::Object {
    platform::schema::enumerated_or_null(&domain::ALL)
}

/// Every payment, newest first, optionally by status (e.g. `succeeded` to reconcile,
/// `failed` to follow up).
#[utoipa::path(get, path = "/api/v1/admin/payments", tag = "payments", security(("bearer" = [])), params(PaymentQuery),
    responses((status = 200, body = Page<PaymentView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn list_payments(
    State(s): State<AppState>,
    _finance: Staff<Finance>,
    ApiQuery(q): ApiQuery<PaymentQuery>,
) -> ApiResult<Json<Page<PaymentView>>> {
    if let Some(status) = &q.status
        && !domain::ALL.contains(&status.as_str())
    {
        return Err(ApiError::field(
            "status",
            format!("must be one of {}", domain::ALL.join(", ")),
        ));
    }
    let page = PageParams {
        cursor: q.cursor,
        limit: q.limit,
    };
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.position()?;
    let mut rows = store::search(&s.ctx.db, q.status.as_deref(), after, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|p| encode_cursor(&(p.created_at, p.id)));
    let mut items = Vec::with_capacity(rows.len());
    for p in rows {
        items.push(view(&s.ctx.db, p).await?);
    }
    Ok(Json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Minor units; everything still refundable when left out.
    #[schema(minimum = 1, maximum = 1e12)]
    pub amount: Option<i64>,
    #[schema(schema_with = platform::schema::line_or_null::<1, 200>)]
    pub reason: Option<String>,
}

/// Refunds a payment in full or in part. The provider confirms by webhook; until then
/// the refund is `pending` and its amount cannot be refunded again. `Idempotency-Key`
/// required: a retry (a double click, a resent request) gets the first answer and
/// refunds nothing more.
#[utoipa::path(post, path = "/api/v1/admin/payments/{id}/refund", tag = "payments", security(("bearer" = [])),
    request_body = RefundInput,
    params(("id" = Uuid, Path, description = "Payment id"),
           ("Idempotency-Key" = String, Header, description = "The same on every retry of one refund", pattern = "^[!-~]{1,255}$")),
    responses((status = 202, body = RefundView), (status = 400, body = platform::error::Problem), (status = 401, body = platform::error::Problem),
              (status = 403, body = platform::error::Problem), (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn refund_payment(
    State(s): State<AppState>,
    finance: Staff<Finance>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, "refund")?;
    let raw = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    let hash = body_fingerprint(&raw)?;
    let input: RefundInput = parse_json(&raw)?;
    if let Some(answer) = earlier_request(&s.ctx.db, id, &key, &hash).await? {
        return Ok(answer);
    }
    let mut f = Fields::new();
    if let Some(amount) = input.amount {
        f.check(
            amount > 0,
            "amount",
            "must be a positive amount in minor units",
        );
    }
    let reason = match &input.reason {
        Some(r) => f.text("reason", r, 1, 200),
        None => Some("refunded by staff".to_owned()),
    };
    f.finish()?;
    let reason = reason.unwrap_or_default();
    let work = s.ctx.begin().await?;
    let now = work.now();
    let payment = store::get_for_update(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    // A twin under the same key may have refunded while this one waited for the lock.
    if let Some(answer) = earlier_request(&work, id, &key, &hash).await? {
        return Ok(answer);
    }
    if !refundable(&payment.status) {
        return Err(ApiError::conflict(
            "not_refundable",
            format!("a payment that is {} cannot be refunded", payment.status),
        ));
    }
    let remaining = payment.refundable_amount();
    if remaining == 0 {
        return Err(ApiError::conflict(
            "nothing_to_refund",
            "everything taken is refunded or on its way back",
        ));
    }
    let amount = input.amount.unwrap_or(remaining);
    if amount > remaining {
        return Err(ApiError::field(
            "amount",
            format!("at most {remaining} can still be refunded"),
        ));
    }
    let refund = refunds::open(
        &work,
        &payment,
        amount,
        &reason,
        &finance.staff_id.to_string(),
        now,
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(
            "nothing_to_refund",
            "another refund took that amount meanwhile",
        )
    })?;
    let details = json!({"refund_id": refund.id, "amount": amount, "reason": reason});
    work.audit(
        &finance,
        ip,
        "payment.refund_requested",
        "payment",
        id,
        details,
    )
    .await?;
    let refund_id = refund.id;
    let view = RefundView::from(refund);
    let json = serde_json::to_string(&view).map_err(ApiError::internal)?;
    if !store::record_refund_request(&work, id, &key, &hash, refund_id, &json, now).await? {
        drop(work);
        return earlier_request(&s.ctx.db, id, &key, &hash)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("refund request vanished")));
    }
    work.commit().await?;
    s.refunds_due.notify_one();
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// The first answer to this key's refund request, or the refusal of a key that came
/// back with another body.
async fn earlier_request<C: sea_orm::ConnectionTrait>(
    db: &C,
    payment_id: Uuid,
    key: &str,
    hash: &str,
) -> ApiResult<Option<Response>> {
    match store::refund_request(db, payment_id, key).await? {
        None => Ok(None),
        Some(earlier) if earlier.request_hash == hash => Ok(Some(replayed(202, earlier.response))),
        Some(_) => Err(key_reused("refund")),
    }
}
