//! `/admin/discounts`: finance staff (and admins) set up discount codes, edit them
//! against the version they read, and delete them. Every change is audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::{Finance, Staff};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::{ApiJson, ApiQuery, ClientIp, required_version, with_etag};
use platform::page::{Page, PageParams, paginate};
use sea_orm::DbErr;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::discount_input::{AppliesTo, DiscountInput, parse};
use crate::AppState;
use crate::store::discounts::{self, Discount, ids};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_discounts, create_discount))
        .routes(routes!(get_discount, update_discount, delete_discount))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountView {
    pub id: Uuid,
    pub code: String,
    /// `percentage`, `fixed_amount` or `free_shipping`.
    pub kind: String,
    pub percent: Option<i32>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub min_subtotal: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// Both lists empty: every product.
    pub applies_to: AppliesTo,
    pub active: bool,
    /// Orders holding a use: placed and not cancelled, rejected or unpaid.
    pub times_used: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn view(d: Discount) -> DiscountView {
    DiscountView {
        applies_to: AppliesTo {
            category_ids: ids(&d.category_ids),
            product_ids: ids(&d.product_ids),
        },
        id: d.id,
        code: d.code,
        kind: d.kind,
        percent: d.percent,
        amount: d.amount,
        currency: d.currency,
        min_subtotal: d.min_subtotal,
        starts_at: d.starts_at,
        ends_at: d.ends_at,
        usage_limit: d.usage_limit,
        per_customer_limit: d.per_customer_limit,
        active: d.active,
        times_used: d.times_used,
        created_at: d.created_at,
        updated_at: d.updated_at,
        version: d.version,
    }
}

fn code_taken(e: DbErr) -> ApiError {
    if is_unique_violation(&e) {
        ApiError::conflict("discount_code_taken", "another live code is spelled so")
    } else {
        e.into()
    }
}

/// What an audit entry keeps of a code.
fn details(d: &Discount) -> serde_json::Value {
    json!({"code": d.code, "kind": d.kind, "percent": d.percent, "amount": d.amount,
           "currency": d.currency, "usage_limit": d.usage_limit, "active": d.active})
}

/// Live codes, newest first.
#[utoipa::path(get, path = "/api/v1/admin/discounts", tag = "orders", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<DiscountView>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn list_discounts(
    State(s): State<AppState>,
    _staff: Staff<Finance>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<DiscountView>>> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.position()?;
    let rows = discounts::list(&s.ctx.db, after, limit + 1).await?;
    Ok(Json(paginate(rows, limit, |d| (d.created_at, d.id), view)))
}

platform::required_fields_schema!(
    /// What setting up a code needs: `DiscountInput` with these fields sent.
    DiscountCreate = DiscountInput { "code", "kind" }
);

/// Sets up a discount code.
#[utoipa::path(post, path = "/api/v1/admin/discounts", tag = "orders", security(("bearer" = [])), request_body = DiscountCreate,
    responses((status = 201, body = DiscountView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn create_discount(
    State(s): State<AppState>,
    staff: Staff<Finance>,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<DiscountInput>,
) -> ApiResult<(StatusCode, Response)> {
    if input.version.is_some() {
        return Err(ApiError::field("version", "is not accepted on create"));
    }
    let discount = parse(&input, None, s.ctx.clock.now())?;
    let work = s.ctx.begin().await?;
    discounts::insert(&work, &discount)
        .await
        .map_err(code_taken)?;
    let id = discount.id;
    work.audit(
        &staff,
        ip,
        "discount.created",
        "discount",
        id,
        details(&discount),
    )
    .await?;
    work.commit().await?;
    Ok((StatusCode::CREATED, with_etag(view(discount), 1)))
}

/// One live code.
#[utoipa::path(get, path = "/api/v1/admin/discounts/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Discount id")),
    responses((status = 200, body = DiscountView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem)))]
async fn get_discount(
    State(s): State<AppState>,
    _staff: Staff<Finance>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let d = discounts::get(&s.ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("discount"))?;
    let version = d.version;
    Ok(with_etag(view(d), version))
}

/// Edits a code against the version you read. Orders already placed keep what it took
/// off them.
#[utoipa::path(patch, path = "/api/v1/admin/discounts/{id}", tag = "orders", security(("bearer" = [])), request_body = DiscountInput,
    params(("id" = Uuid, Path, description = "Discount id")),
    responses((status = 200, body = DiscountView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem), (status = 412, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem), (status = 428, body = platform::error::Problem)))]
async fn update_discount(
    State(s): State<AppState>,
    staff: Staff<Finance>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DiscountInput>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, input.version)?;
    let work = s.ctx.begin().await?;
    let current = discounts::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("discount"))?;
    // The body is judged before the version: an invalid edit is 422 whatever it was
    // based on.
    let discount = parse(&input, Some(&current), work.now())?;
    if current.version != expected {
        return Err(ApiError::stale_version(current.version));
    }
    if !discounts::update(&work, &discount)
        .await
        .map_err(code_taken)?
    {
        return Err(ApiError::stale_version(expected));
    }
    work.audit(
        &staff,
        ip,
        "discount.updated",
        "discount",
        id,
        details(&discount),
    )
    .await?;
    // Read back: the use count is the database's.
    let saved = discounts::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("discount"))?;
    work.commit().await?;
    let version = saved.version;
    Ok(with_etag(view(saved), version))
}

/// Deletes a code: it stops applying at once (carts holding it say so), orders placed
/// with it keep what it took off, and its text may be used for a new code.
#[utoipa::path(delete, path = "/api/v1/admin/discounts/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Discount id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem)))]
async fn delete_discount(
    State(s): State<AppState>,
    staff: Staff<Finance>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let current = discounts::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("discount"))?;
    if !discounts::delete(&work, id, work.now()).await? {
        return Err(ApiError::not_found("discount"));
    }
    work.audit(
        &staff,
        ip,
        "discount.deleted",
        "discount",
        id,
        details(&current),
    )
    .await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
