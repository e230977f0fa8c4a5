//! What staff did to the catalog, for admins.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_catalog_audit_log))
}

platform::audit_log_endpoint!(
    list_catalog_audit_log,
    "/api/v1/catalog/audit-log",
    "catalog",
    "Staff actions on categories, products, stock and reviews, newest first."
);
