//! `/cart`: the signed-in customer's cart. A cart belongs to the customer in the token;
//! there is no way to name another's.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::auth::CustomerAuth;
use platform::error::{ApiError, ApiResult};
use platform::http::ApiJson;
use platform::validate::Fields;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::product_for_sale;
use crate::domain::cart::{CartView, MAX_LINES, MAX_QUANTITY};
use crate::store::{carts, replicas};
use crate::{AppState, discounts};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_cart))
        .routes(routes!(add_to_cart))
        .routes(routes!(update_cart_line, remove_cart_line))
        .routes(routes!(put_discount, remove_discount))
}

async fn current(s: &AppState, customer_id: Uuid) -> ApiResult<CartView> {
    let now = s.ctx.clock.now();
    Ok(discounts::priced_cart(&s.ctx.db, customer_id, now).await?.0)
}

fn check_quantity(f: &mut Fields, quantity: i32) {
    f.check(
        (1..=MAX_QUANTITY).contains(&quantity),
        "quantity",
        "must be between 1 and 99",
    );
}

/// The cart with current prices, what is selected, the subtotal of the selected lines
/// and a warning on each line whose price changed, that ran short or was withdrawn.
#[utoipa::path(get, path = "/api/v1/cart", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn get_cart(State(s): State<AppState>, me: CustomerAuth) -> ApiResult<Json<CartView>> {
    Ok(Json(current(&s, me.customer_id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    pub product_id: Uuid,
    /// Added to what the cart already holds (at most 99 in all).
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: i32,
}

/// Adds a product to the cart, selected.
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "orders", security(("bearer" = [])), request_body = AddItem,
    responses((status = 200, body = CartView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn add_to_cart(
    State(s): State<AppState>,
    me: CustomerAuth,
    ApiJson(input): ApiJson<AddItem>,
) -> ApiResult<Json<CartView>> {
    let mut f = Fields::new();
    check_quantity(&mut f, input.quantity);
    f.finish()?;
    let product = product_for_sale(&s, input.product_id).await?;
    let now = s.ctx.clock.now();
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let lines = carts::lines(&txn, me.customer_id).await?;
    if lines.len() >= MAX_LINES && !lines.iter().any(|l| l.product_id == product.id) {
        return Err(ApiError::conflict(
            "cart_full",
            format!("a cart holds at most {MAX_LINES} different products"),
        ));
    }
    let price = (product.price, product.currency.as_str());
    carts::add(
        &txn,
        me.customer_id,
        product.id,
        input.quantity,
        MAX_QUANTITY,
        price,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Json(current(&s, me.customer_id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateItem {
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: Option<i32>,
    /// Whether checkout buys this line.
    pub selected: Option<bool>,
}

/// Sets a line's quantity and/or whether it is selected. The line's price warning is
/// acknowledged by any change.
#[utoipa::path(patch, path = "/api/v1/cart/items/{product_id}", tag = "orders", security(("bearer" = [])), request_body = UpdateItem,
    params(("product_id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = CartView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn update_cart_line(
    State(s): State<AppState>,
    me: CustomerAuth,
    Path(product_id): Path<Uuid>,
    ApiJson(input): ApiJson<UpdateItem>,
) -> ApiResult<Json<CartView>> {
    let mut f = Fields::new();
    if let Some(q) = input.quantity {
        check_quantity(&mut f, q);
    }
    f.check(
        input.quantity.is_some() || input.selected.is_some(),
        "quantity",
        "send quantity and/or selected",
    );
    f.finish()?;
    let now = s.ctx.clock.now();
    let product = replicas::product(&s.ctx.db, product_id).await?;
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let line = carts::lines(&txn, me.customer_id)
        .await?
        .into_iter()
        .find(|l| l.product_id == product_id)
        .ok_or_else(|| ApiError::not_found("cart line"))?;
    let price = match &product {
        Some(p) => (p.price, p.currency.as_str()),
        None => (line.seen_price, line.seen_currency.as_str()),
    };
    carts::update(
        &txn,
        me.customer_id,
        product_id,
        input.quantity,
        input.selected,
        price,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Json(current(&s, me.customer_id).await?))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/v1/cart/items/{product_id}", tag = "orders", security(("bearer" = [])),
    params(("product_id" = Uuid, Path, description = "Product id")),
    responses((status = 204), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem), (status = 404, body = platform::error::Problem)))]
async fn remove_cart_line(
    State(s): State<AppState>,
    me: CustomerAuth,
    Path(product_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    if carts::remove(&s.ctx.db, me.customer_id, product_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("cart line"))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    /// As the shop published it; case does not matter.
    #[schema(schema_with = platform::schema::line::<1, 64>)]
    pub code: String,
}

/// Puts a discount code on the cart, in place of any other, if it applies to the cart
/// as it is; refused otherwise, with the reason as the problem's `code`.
#[utoipa::path(put, path = "/api/v1/cart/discount", tag = "orders", security(("bearer" = [])), request_body = CodeInput,
    responses((status = 200, body = CartView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 409, body = platform::error::Problem, description = "`discount_unknown`, `discount_not_started`, `discount_expired`, \
              `discount_used_up`, `discount_already_used`, `discount_below_minimum` or `discount_not_applicable`"),
              (status = 422, body = platform::error::Problem)))]
async fn put_discount(
    State(s): State<AppState>,
    me: CustomerAuth,
    ApiJson(input): ApiJson<CodeInput>,
) -> ApiResult<Json<CartView>> {
    let mut f = Fields::new();
    let code = f.text("code", &input.code, 1, 64);
    f.finish()?;
    let code = code.unwrap_or_default();
    let now = s.ctx.clock.now();
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let cart = discounts::put_on_cart(&txn, me.customer_id, &code, now).await?;
    txn.commit().await?;
    Ok(Json(cart))
}

/// Takes the discount code off the cart.
#[utoipa::path(delete, path = "/api/v1/cart/discount", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn remove_discount(State(s): State<AppState>, me: CustomerAuth) -> ApiResult<Json<CartView>> {
    crate::store::discounts::take_off_cart(&s.ctx.db, me.customer_id).await?;
    Ok(Json(current(&s, me.customer_id).await?))
}
