//! Shipping's HTTP surface: zone and rate administration, quotes and the area look-up.

mod quote;
mod rates;
mod zones;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .merge(zones::router())
        .merge(rates::router())
        .merge(quote::router())
        .with_state(state)
}
