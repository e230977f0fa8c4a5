//! Shipping's HTTP surface: zone and rate administration, quotes and the area look-up.

mod audit;
mod quote;
mod rates;
mod zones;

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
        .merge(zones::router())
        .merge(rates::router())
        .merge(quote::router())
}
