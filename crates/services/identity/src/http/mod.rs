//! Identity's HTTP surface: translation between requests and the domain only.

mod addresses;
mod auth;
mod cookies;
mod jwks;
mod me;
mod staff;
mod staff_auth;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(me::router())
        .merge(addresses::router())
        .merge(staff_auth::router())
        .merge(staff::router())
        .merge(jwks::router())
        .with_state(state)
}
