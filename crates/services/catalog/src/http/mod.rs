//! Catalog's HTTP surface: translation between requests and the domain only.

mod audit;
mod categories;
mod own_reviews;
mod product_view;
mod products;
mod responses;
mod review_moderation;
mod reviews;
mod stock;
mod stock_summary;
mod storefront;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    routes().with_state(state)
}

/// Every route of the service with its OpenAPI declaration, before it has a state: the
/// service's part of the API document, which every process serves whole.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(audit::router())
        .merge(categories::router())
        .merge(products::router())
        .merge(reviews::router())
        .merge(own_reviews::router())
        .merge(review_moderation::router())
        .merge(stock::router())
        .merge(stock_summary::router())
        .merge(storefront::router())
}
