//! `/wishlist`: products a customer keeps an eye on.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use platform::auth::CustomerAuth;
use platform::error::{ApiError, ApiResult};
use platform::page::Page;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::product_for_sale;
use crate::AppState;
use crate::store::{carts, replicas};

const MAX_ITEMS: usize = 200;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_wishlist))
        .routes(routes!(wish, unwish))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WishlistEntry {
    pub product_id: Uuid,
    pub name: String,
    pub slug: String,
    pub price: i64,
    pub currency: String,
    pub in_stock: bool,
    /// False once the product is no longer sold (it stays listed until removed).
    pub available: bool,
    pub added_at: DateTime<Utc>,
}

/// The wishlist, most recent first.
#[utoipa::path(get, path = "/api/v1/wishlist", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = Page<WishlistEntry>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn get_wishlist(
    State(s): State<AppState>,
    me: CustomerAuth,
) -> ApiResult<Json<Page<WishlistEntry>>> {
    let items = carts::wishlist(&s.ctx.db, me.customer_id).await?;
    let ids: Vec<Uuid> = items.iter().map(|i| i.product_id).collect();
    let products = replicas::products(&s.ctx.db, &ids).await?;
    let items = items
        .into_iter()
        .filter_map(|i| {
            let p = products.iter().find(|p| p.id == i.product_id)?;
            Some(WishlistEntry {
                product_id: p.id,
                name: p.name.clone(),
                slug: p.slug.clone(),
                price: p.price,
                currency: p.currency.clone(),
                in_stock: p.available > 0,
                available: p.active,
                added_at: i.added_at,
            })
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Adds a product; adding it again changes nothing.
#[utoipa::path(put, path = "/api/v1/wishlist/items/{product_id}", tag = "orders", security(("bearer" = [])),
    params(("product_id" = Uuid, Path, description = "Product id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem)))]
async fn wish(
    State(s): State<AppState>,
    me: CustomerAuth,
    Path(product_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    product_for_sale(&s, product_id).await?;
    let now = s.ctx.clock.now();
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let items = carts::wishlist(&txn, me.customer_id).await?;
    if items.len() >= MAX_ITEMS && !items.iter().any(|i| i.product_id == product_id) {
        return Err(ApiError::conflict(
            "wishlist_full",
            format!("a wishlist holds at most {MAX_ITEMS} products"),
        ));
    }
    carts::wish(&txn, me.customer_id, product_id, now).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a product; removing one that is not there changes nothing.
#[utoipa::path(delete, path = "/api/v1/wishlist/items/{product_id}", tag = "orders", security(("bearer" = [])),
    params(("product_id" = Uuid, Path, description = "Product id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn unwish(
    State(s): State<AppState>,
    me: CustomerAuth,
    Path(product_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    carts::unwish(&s.ctx.db, me.customer_id, product_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
