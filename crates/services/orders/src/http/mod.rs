//! Orders' HTTP surface: the cart, the wishlist, checkout, orders, fulfilment, discount
//! codes and the staff dashboard's figures.

mod audit;
mod cart;
mod checkout;
mod discount_input;
mod discounts;
mod fulfilment;
mod live;
mod orders;
mod summary;
mod wishlist;

use std::time::Duration;

use platform::error::{ApiError, ApiResult};
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::AppState;
use crate::store::replicas::{self, Product};

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    routes().with_state(state)
}

/// Every route of the service with its OpenAPI declaration, before it has a state: the
/// service's part of the API document, which every process serves whole.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(audit::router())
        .merge(cart::router())
        .merge(checkout::router())
        .merge(discounts::router())
        .merge(fulfilment::router())
        .merge(orders::router())
        .merge(summary::router())
        .merge(wishlist::router())
}

/// How long a request waits to hear of a product catalog has just created.
const PRODUCT_WAIT: Duration = Duration::from_secs(3);

/// A product that is for sale. Orders learns of products from catalog's events, so one
/// created a moment ago may not be known yet: wait briefly rather than answer 404 for a
/// product the customer has just seen.
async fn product_for_sale(s: &AppState, id: Uuid) -> ApiResult<Product> {
    let deadline = Instant::now() + PRODUCT_WAIT;
    loop {
        let notified = s.products_seen.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match replicas::product(&s.ctx.db, id).await? {
            Some(p) if p.active => return Ok(p),
            Some(_) => {
                return Err(ApiError::conflict(
                    "product_unavailable",
                    "the product is no longer sold",
                ));
            }
            None if Instant::now() >= deadline => return Err(ApiError::not_found("product")),
            None => {
                let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            }
        }
    }
}
