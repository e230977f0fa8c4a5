//! Stock counts, set or adjusted by inventory staff against the stock's version.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use platform::auth::{Inventory, Staff};
use platform::error::{ApiError, ApiResult};

use platform::http::{ApiJson, ClientIp, required_version, with_etag};
use platform::validate::{Fields, MAX_COUNT};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::product_view::StockView;
use crate::AppState;
use crate::domain::stock::{self, StockChange, StockError};
use crate::events::stock_changed;
use crate::store::products;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_stock))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockInput {
    /// The new count on hand.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub on_hand: Option<i64>,
    /// Or a change: positive for a delivery, negative for a write-off.
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000)]
    pub adjust_by: Option<i64>,
    /// The stock version you read (or send `If-Match`).
    pub version: Option<i64>,
}

/// Sets or adjusts a product's stock. Never below zero or below what is reserved.
#[utoipa::path(put, path = "/api/v1/products/{id}/stock", tag = "catalog", security(("bearer" = [])), request_body = StockInput,
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = StockView), (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem),
              (status = 412, body = platform::error::Problem), (status = 422, body = platform::error::Problem), (status = 428, body = platform::error::Problem)))]
async fn set_stock(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<StockInput>,
) -> ApiResult<Response> {
    let mut f = Fields::new();
    let change = match (input.on_hand, input.adjust_by) {
        (Some(n), None) => f.count("on_hand", n, false).map(StockChange::Set),
        (None, Some(d)) => f.count("adjust_by", d, true).map(StockChange::Adjust),
        _ => {
            return Err(ApiError::field(
                "on_hand",
                "send exactly one of on_hand and adjust_by",
            ));
        }
    };
    f.finish()?;
    let Some(change) = change else {
        return Err(ApiError::field("on_hand", "is invalid"));
    };
    let expected = required_version(&headers, input.version)?;
    let work = s.ctx.begin().await?;
    let current = products::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    if expected != current.stock_version {
        return Err(ApiError::stale_version(current.stock_version));
    }
    let on_hand = stock::apply(current.stock, change).map_err(|e| match e {
        StockError::BelowReserved { reserved } => ApiError::conflict(
            "insufficient_stock",
            format!(
                "stock cannot go below zero or below the {reserved} unit(s) reserved for orders"
            ),
        ),
        StockError::AboveMaximum => ApiError::field(
            "adjust_by",
            format!("would take the stock above {MAX_COUNT}"),
        ),
    })?;
    if !products::set_on_hand(&work, id, expected, on_hand, work.now()).await? {
        return Err(ApiError::stale_version(current.stock_version));
    }
    let product = products::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    work.emit(&stock_changed(&product), product.stock_version)
        .await?;
    let details = json!({"from": current.stock.on_hand, "to": product.stock.on_hand, "reserved": product.stock.reserved});
    work.audit(&staff, ip, "stock.changed", "product", id, details)
        .await?;
    work.commit().await?;
    crate::cache::forget_product(&s.ctx.cache, id, &[&product.slug]).await;
    let view = StockView {
        on_hand: product.stock.on_hand,
        reserved: product.stock.reserved,
        available: product.stock.available(),
        version: product.stock_version,
    };
    Ok(with_etag(view, product.stock_version))
}
