//! What staff did to images and banners, for admins.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_media_audit_log))
}

platform::audit_log_endpoint!(
    list_media_audit_log,
    "/api/v1/media/audit-log",
    "media",
    "Staff actions on images and banners, newest first."
);
