//! Review moderation: inventory staff read every product's reviews newest first (the
//! queue), and hide a review from customers (and from its product's rating) or show it
//! again. Each change is recorded in catalog's audit trail.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use platform::auth::{Inventory, Staff};
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ApiQuery, ClientIp, required_version, with_etag};
use platform::page::{Page, PageParams, paginate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::reviews::{ReviewView, commit_with_rating, review_view};
use crate::AppState;
use crate::store::products;
use crate::store::reviews::{self, Review};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(review_queue))
        .routes(routes!(moderate_review))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct QueueParams {
    /// Only hidden (`true`) or only visible (`false`) reviews; both when absent.
    hidden: Option<bool>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

/// A review in the queue, with the product it is about.
#[derive(Debug, Serialize, ToSchema)]
struct QueuedReview {
    #[serde(flatten)]
    review: ReviewView,
    product_name: String,
    product_slug: String,
}

/// Every product's reviews, newest first, for moderation.
#[utoipa::path(get, path = "/api/v1/admin/reviews", tag = "reviews", security(("bearer" = [])), params(QueueParams),
    responses((status = 200, body = Page<QueuedReview>), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn review_queue(
    State(s): State<AppState>,
    _staff: Staff<Inventory>,
    ApiQuery(q): ApiQuery<QueueParams>,
) -> ApiResult<Json<Page<QueuedReview>>> {
    let page = PageParams {
        cursor: q.cursor,
        limit: q.limit,
    };
    let limit = page.limit()?;
    let before = page.position::<Uuid>()?;
    let rows = reviews::recent(&s.ctx.db, q.hidden, before, limit + 1).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.product_id).collect();
    let names: HashMap<Uuid, (String, String)> = products::many(&s.ctx.db, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, (p.name, p.slug)))
        .collect();
    Ok(Json(paginate(
        rows,
        limit,
        |r| r.id,
        |r| {
            let (product_name, product_slug) =
                names.get(&r.product_id).cloned().unwrap_or_default();
            QueuedReview {
                review: review_view(r),
                product_name,
                product_slug,
            }
        },
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationInput {
    /// `true` hides the review from customers and from the product's rating.
    pub hidden: bool,
    /// The review version you read (or send `If-Match`).
    pub version: Option<i64>,
}

/// Hides a review or shows it again. Requires the version you read; asking for the state
/// the review is already in changes nothing.
#[utoipa::path(patch, path = "/api/v1/admin/reviews/{review_id}", tag = "reviews", security(("bearer" = [])), request_body = ModerationInput,
    params(("review_id" = Uuid, Path, description = "Review id")),
    responses((status = 200, body = ReviewView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem), (status = 428, body = platform::error::Problem)))]
async fn moderate_review(
    State(s): State<AppState>,
    staff: Staff<Inventory>,
    ClientIp(ip): ClientIp,
    Path(review_id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ModerationInput>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, input.version)?;
    let now = s.ctx.clock.now();
    let work = s.ctx.begin().await?;
    let current = reviews::get(&work, review_id)
        .await?
        .ok_or_else(|| ApiError::not_found("review"))?;
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    if current.hidden == input.hidden {
        let version = current.version;
        return Ok(with_etag(review_view(current), version));
    }
    if !reviews::set_hidden(&work, review_id, expected, input.hidden, now).await? {
        let latest = reviews::get(&work, review_id).await?;
        return Err(latest.map_or_else(
            || ApiError::not_found("review"),
            |r| ApiError::stale_version(r.version),
        ));
    }
    let product = products::get(&work, current.product_id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let moderated = Review {
        hidden: input.hidden,
        updated_at: now,
        version: expected + 1,
        ..current.clone()
    };
    let action = if input.hidden {
        "review.hidden"
    } else {
        "review.unhidden"
    };
    let details = json!({"product_id": current.product_id, "author_id": current.customer_id, "rating": current.stars.get()});
    work.audit(&staff, ip, action, "review", review_id, details)
        .await?;
    let change = current.contribution().change_to(moderated.contribution());
    commit_with_rating(&s, work, &product, change).await?;
    let version = moderated.version;
    Ok(with_etag(review_view(moderated), version))
}
