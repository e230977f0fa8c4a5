//! What staff did to order fulfilment (processing, shipping, delivery, cancelling) and to
//! discount codes, for admins.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_orders_audit_log))
}

platform::audit_log_endpoint!(
    list_orders_audit_log,
    "/api/v1/admin/orders/audit-log",
    "orders",
    "Staff actions on order fulfilment (processing, shipping, delivery, cancelling) and discount codes, newest first."
);
