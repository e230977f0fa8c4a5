//! Identity's HTTP surface: translation between requests and the domain only.

mod addresses;
mod auth;
mod cookies;
mod customers;
mod jwks;
mod me;
mod staff;
mod staff_auth;
mod staff_totp;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router(state: AppState) -> OpenApiRouter {
    routes().with_state(state)
}

/// Every route of the service with its OpenAPI declaration, before it has a state: the
/// service's part of the API document, which every process serves whole.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(me::router())
        .merge(addresses::router())
        .merge(staff_auth::router())
        .merge(staff_totp::router())
        .merge(staff::router())
        .merge(customers::router())
        .merge(jwks::router())
}
