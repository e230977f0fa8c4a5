//! What staff did to the catalog, for admins.

use axum::Json;
use axum::extract::State;
use platform::audit::{self, AuditEntry};
use platform::auth::{Admin, Staff};
use platform::error::ApiResult;
use platform::http::ApiQuery;
use platform::page::{Page, PageParams};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_catalog_audit_log))
}

/// Staff actions on categories, products, stock and reviews, newest first.
#[utoipa::path(get, path = "/api/v1/catalog/audit-log", tag = "catalog", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<AuditEntry>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem)))]
async fn list_catalog_audit_log(
    State(s): State<AppState>,
    _admin: Staff<Admin>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    Ok(Json(audit::list(&s.ctx.db, &page).await?))
}
