//! What staff did to refunds, for admins.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_payments_audit_log))
}

platform::audit_log_endpoint!(
    list_payments_audit_log,
    "/api/v1/admin/payments/audit-log",
    "payments",
    "Staff actions on refunds, newest first."
);
