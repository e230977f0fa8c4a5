//! `POST /checkout`: turns the selected cart lines into a `pending` order.
//!
//! Every checkout carries an `Idempotency-Key`. The key, a hash of the body and the
//! answer are stored in the transaction that creates the order, so a retried request
//! (a lost answer, a double click) gets the first answer again and never a second
//! order; the same key with another body is refused.

use std::future::Future;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use contracts::orders::{OrderPlaced, PlacedLine};
use contracts::shipping::{QuoteItem, QuoteRequest};
use platform::auth::CustomerAuth;
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::idempotency::{body_fingerprint, idempotency_key, key_reused, replayed};
use platform::http::{RawBody, parse_json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::orders::{OrderView, view};
use crate::domain::cart::{self, CartView};
use crate::domain::order::PENDING;
use crate::shipping_client::{QUOTE_TIMEOUT, QuoteFailure};
use crate::store::orders::{self, Line, Order};
use crate::store::{carts, replicas};
use crate::{AppState, discounts};

/// How long checkout waits for identity's and shipping's view of what the customer has
/// just done (verified, added an address) to arrive.
const REPLICA_WAIT: Duration = Duration::from_secs(3);

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(checkout))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    /// One of the customer's addresses (`/me/addresses`).
    pub address_id: Uuid,
    /// A `service_code` from a shipping quote for that address.
    #[schema(pattern = "^[a-z0-9_-]{1,40}$")]
    pub shipping_service: String,
}

/// Polls `probe` until it yields something or `REPLICA_WAIT` passes.
async fn within_replica_wait<T, F, Fut>(mut probe: F) -> ApiResult<Option<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + REPLICA_WAIT;
    loop {
        if let Some(found) = probe().await? {
            return Ok(Some(found));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn cart_changed() -> ApiError {
    ApiError::conflict(
        "cart_changed",
        "the cart changed during checkout; review it and check out again",
    )
}

/// The stored answer for this key, or a refusal when the key came with another body.
async fn earlier_answer<C: sea_orm::ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    key: &str,
    hash: &str,
) -> ApiResult<Option<Response>> {
    match orders::replay(db, customer_id, key).await? {
        Some(r) if r.request_hash == hash => Ok(Some(replayed(r.status, r.response))),
        Some(_) => Err(key_reused("checkout")),
        None => Ok(None),
    }
}

/// Buys the selected cart lines. Verified customers only; `Idempotency-Key` required.
#[utoipa::path(post, path = "/api/v1/checkout", tag = "orders", security(("bearer" = [])), request_body = CheckoutInput,
    params(("Idempotency-Key" = String, Header, description = "The same on every retry of one checkout", pattern = "^[!-~]{1,255}$")),
    responses((status = 201, body = OrderView), (status = 400, body = platform::error::Problem), (status = 401, body = platform::error::Problem),
              (status = 403, body = platform::error::Problem), (status = 409, body = platform::error::Problem), (status = 422, body = platform::error::Problem),
              (status = 503, body = platform::error::Problem)))]
async fn checkout(
    State(s): State<AppState>,
    me: CustomerAuth,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, "checkout")?;
    let input: CheckoutInput = parse_json(&body)?;
    let hash = body_fingerprint(&body)?;
    if let Some(answer) = earlier_answer(&s.ctx.db, me.customer_id, &key, &hash).await? {
        return Ok(answer);
    }
    match place(&s, me, &key, &hash, input).await {
        // A twin with the same key may have committed while this one looked (and then
        // found the cart already emptied by it): the first answer stands.
        Err(refusal) => match earlier_answer(&s.ctx.db, me.customer_id, &key, &hash).await? {
            Some(answer) => Ok(answer),
            None => Err(refusal),
        },
        placed => placed,
    }
}

/// Checks everything, quotes shipping and creates the order with its answer stored
/// under the key.
async fn place(
    s: &AppState,
    me: CustomerAuth,
    key: &str,
    hash: &str,
    input: CheckoutInput,
) -> ApiResult<Response> {
    let db = &s.ctx.db;
    let verified = within_replica_wait(|| async {
        Ok(replicas::customer_verified(db, me.customer_id)
            .await?
            .then_some(()))
    })
    .await?;
    if verified.is_none() {
        return Err(ApiError::forbidden(
            "verify your email address before checking out",
        ));
    }
    let address = within_replica_wait(|| async {
        Ok(replicas::address(db, me.customer_id, input.address_id).await?)
    })
    .await?
    .ok_or_else(|| ApiError::field("address_id", "no such address in your account"))?;

    let lines = carts::lines(db, me.customer_id).await?;
    let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let products = replicas::products(db, &ids).await?;
    let selected: Vec<_> = lines.iter().filter(|l| l.selected).cloned().collect();
    let cart: CartView = cart::view(selected.clone(), &products);
    if selected.is_empty() {
        return Err(ApiError::conflict(
            "cart_empty",
            "select what to buy in the cart first",
        ));
    }
    if !cart.ready_for_checkout {
        return Err(ApiError::conflict(
            "cart_not_ready",
            "some selected lines cannot be bought as they are; see the warnings in the cart",
        ));
    }
    let currency = cart.currency.clone().unwrap_or_default();
    if cart.lines.iter().any(|l| l.currency != currency) {
        return Err(ApiError::conflict(
            "mixed_currencies",
            "the selected lines are priced in different currencies; buy them separately",
        ));
    }

    let request = QuoteRequest {
        country: address["country"].as_str().unwrap_or_default().to_owned(),
        postal_code: address["postal_code"].as_str().map(str::to_owned),
        items: selected
            .iter()
            .map(|l| QuoteItem {
                product_id: l.product_id,
                quantity: i64::from(l.quantity),
            })
            .collect(),
    };
    let quote = within_replica_wait(|| async {
        match tokio::time::timeout(QUOTE_TIMEOUT, s.shipping.quote(&request)).await {
            Ok(Ok(quote)) => Ok(Some(quote)),
            // Shipping follows catalog's events too; a product it has not heard of yet
            // is worth a short wait.
            Ok(Err(QuoteFailure::UnknownProducts(_))) => Ok(None),
            Ok(Err(QuoteFailure::Unavailable(why))) => Err(ApiError::Unavailable(format!(
                "shipping cannot be quoted right now ({why}); try again shortly"
            ))),
            Err(_) => Err(ApiError::Unavailable(
                "shipping did not answer in time; try again shortly".into(),
            )),
        }
    })
    .await?
    .ok_or_else(|| {
        ApiError::Unavailable("shipping does not know these products yet; try again shortly".into())
    })?;
    let option = quote
        .options
        .iter()
        .find(|o| o.service_code == input.shipping_service)
        .ok_or_else(|| {
            let offered: Vec<&str> = quote
                .options
                .iter()
                .map(|o| o.service_code.as_str())
                .collect();
            ApiError::field(
                "shipping_service",
                if offered.is_empty() {
                    "nothing ships to this address".to_owned()
                } else {
                    format!(
                        "not offered for this address; choose one of {}",
                        offered.join(", ")
                    )
                },
            )
        })?;
    if option.currency != currency {
        return Err(ApiError::field(
            "shipping_service",
            "is priced in another currency than the goods",
        ));
    }

    let now = s.ctx.clock.now();
    let work = s.ctx.begin().await?;
    // A twin request may have committed while this one was quoting.
    if let Some(answer) = earlier_answer(&work, me.customer_id, key, hash).await? {
        return Ok(answer);
    }
    let still: Vec<_> = carts::lines(&work, me.customer_id)
        .await?
        .into_iter()
        .filter(|l| l.selected)
        .map(|l| (l.product_id, l.quantity))
        .collect();
    let checked: Vec<_> = selected
        .iter()
        .map(|l| (l.product_id, l.quantity))
        .collect();
    if still != checked {
        return Err(cart_changed());
    }
    let order_id = Uuid::now_v7();
    let mut cart = cart;
    let claimed =
        discounts::claim(&work, me.customer_id, order_id, &mut cart, &products, now).await?;
    let shipping_waived = match &claimed {
        Some((_, applied)) if applied.free_shipping => option.price,
        _ => 0,
    };
    let discount = cart.discount.saturating_add(shipping_waived);
    let order = Order {
        id: order_id,
        customer_id: me.customer_id,
        status: PENDING.into(),
        currency: currency.clone(),
        subtotal: cart.subtotal,
        discount,
        discount_code: claimed.map(|(code, _)| code.code),
        shipping: option.price,
        total: cart
            .subtotal
            .saturating_sub(discount)
            .saturating_add(option.price),
        shipping_service: option.service_code.clone(),
        shipping_carrier: option.carrier.clone(),
        shipping_address: address,
        tracking_number: None,
        placed_at: now,
        updated_at: now,
        version: 1,
        payment_id: None,
        payment_status: None,
        payment_checkout_url: None,
        refunded: 0,
    };
    let order_lines: Vec<Line> = cart
        .lines
        .iter()
        .map(|l| Line {
            product_id: l.product_id,
            name: l.name.clone(),
            unit_price: l.unit_price,
            quantity: i64::from(l.quantity),
            weight_grams: products
                .iter()
                .find(|p| p.id == l.product_id)
                .map_or(0, |p| p.weight_grams),
            discount: l.discount,
        })
        .collect();
    orders::insert(&work, &order, &order_lines).await?;
    for line in &order_lines {
        // A line already gone was bought by a concurrent checkout of this cart (another
        // tab, another key) that committed after this one looked: on PostgreSQL the
        // delete waits for it and then finds nothing. One cart makes one order.
        if !carts::remove(&work, me.customer_id, line.product_id).await? {
            return Err(cart_changed());
        }
    }
    let placed = OrderPlaced {
        order_id: order.id,
        customer_id: me.customer_id,
        lines: order_lines
            .iter()
            .map(|l| PlacedLine {
                product_id: l.product_id,
                name: l.name.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
        subtotal: order.subtotal,
        discount: order.discount,
        discount_code: order.discount_code.clone(),
        shipping: order.shipping,
        total: order.total,
        currency,
        recipient: Some(replicas::recipient(&work, me.customer_id).await?),
    };
    work.emit(&placed, order.version).await?;
    let answer = view(&work, order.clone()).await?;
    let json = serde_json::to_string(&answer).map_err(ApiError::internal)?;
    match orders::remember(&work, me.customer_id, key, hash, 201, &json, now).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            // The twin committed between our check and our insert (PostgreSQL): answer
            // as it did, and let this transaction roll back.
            drop(work);
            return earlier_answer(db, me.customer_id, key, hash)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("idempotency key vanished")));
        }
        Err(e) => return Err(e.into()),
    }
    work.commit().await?;
    let mut res = (StatusCode::CREATED, json).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/orders/{}", order.id)) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}
