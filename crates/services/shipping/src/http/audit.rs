//! What staff did to shipping zones and rates, for admins.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_shipping_audit_log))
}

platform::audit_log_endpoint!(
    list_shipping_audit_log,
    "/api/v1/admin/shipping/audit-log",
    "shipping",
    "Staff actions on shipping zones and rates, newest first."
);
