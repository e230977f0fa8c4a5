//! The stock figures for the dashboard's home page: sold out, running low, and the
//! products with the fewest left. Any staff role.

use axum::Json;
use axum::extract::State;
use platform::auth::StaffAuth;
use platform::error::{ApiError, ApiResult};
use platform::http::ApiQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::store::stock_summary;

/// How many of the lowest products the answer lists.
const LOWEST: u64 = 10;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stock_summary))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SummaryQuery {
    /// "Low" means fewer than this many available, 1 to 1,000,000 (default 5).
    #[param(minimum = 1, maximum = 1_000_000)]
    below: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct LowProductView {
    id: Uuid,
    name: String,
    slug: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
}

#[derive(Debug, Serialize, ToSchema)]
struct StockSummaryView {
    /// The threshold the figures were counted with.
    below: i64,
    /// Active products with nothing available.
    out_of_stock: u64,
    /// Active products with some available, fewer than `below`.
    low_stock: u64,
    /// Up to ten products under the threshold, the fewest available first.
    lowest: Vec<LowProductView>,
}

/// How many products are sold out or running low, and the lowest of them.
#[utoipa::path(get, path = "/api/v1/catalog/stock-summary", tag = "catalog", security(("bearer" = [])), params(SummaryQuery),
    responses((status = 200, body = StockSummaryView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn stock_summary(
    State(s): State<AppState>,
    _staff: StaffAuth,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> ApiResult<Json<StockSummaryView>> {
    let below = q.below.unwrap_or(5);
    if !(1..=1_000_000).contains(&below) {
        return Err(ApiError::field("below", "must be between 1 and 1000000"));
    }
    let summary = stock_summary::summary(&s.ctx.db, below, LOWEST).await?;
    Ok(Json(StockSummaryView {
        below,
        out_of_stock: summary.out_of_stock,
        low_stock: summary.low,
        lowest: summary
            .lowest
            .into_iter()
            .map(|p| LowProductView {
                available: (p.on_hand - p.reserved).max(0),
                id: p.id,
                name: p.name,
                slug: p.slug,
                on_hand: p.on_hand,
                reserved: p.reserved,
            })
            .collect(),
    }))
}
