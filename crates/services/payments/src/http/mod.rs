//! Payments' HTTP surface: reading a payment, the sandbox's card form, provider
//! webhooks and refunds by finance staff.

mod audit;
mod payments;
mod refunds;
mod webhooks;

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
        .merge(payments::router())
        .merge(webhooks::router())
        .merge(refunds::router())
}
