//! Catalog's HTTP surface: translation between requests and the domain only.

mod audit;
mod categories;
mod product_view;
mod products;
mod responses;
mod stock;
mod storefront;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .merge(audit::router())
        .merge(categories::router())
        .merge(products::router())
        .merge(stock::router())
        .merge(storefront::router())
        .with_state(state)
}
