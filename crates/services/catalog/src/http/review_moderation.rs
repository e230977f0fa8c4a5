//! Review moderation: inventory staff hide a review from customers (and from its
//! product's rating) or show it again. Each change is recorded in catalog's audit trail.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use platform::audit;
use platform::auth::{Inventory, Staff};
use platform::error::{ApiError, ApiResult};
use platform::http::{ApiJson, ClientIp, required_version, with_etag};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::reviews::{ReviewView, commit_with_rating, review_view};
use crate::AppState;
use crate::store::products;
use crate::store::reviews::{self, Review};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(moderate_review))
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
    let txn = platform::db::begin_write(&s.ctx.db).await?;
    let current = reviews::get(&txn, review_id)
        .await?
        .ok_or_else(|| ApiError::not_found("review"))?;
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    if current.hidden == input.hidden {
        let version = current.version;
        return Ok(with_etag(review_view(current), version));
    }
    if !reviews::set_hidden(&txn, review_id, expected, input.hidden, now).await? {
        let latest = reviews::get(&txn, review_id).await?;
        return Err(latest.map_or_else(
            || ApiError::not_found("review"),
            |r| ApiError::stale_version(r.version),
        ));
    }
    let product = products::get(&txn, current.product_id)
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
    audit::record(&txn, &staff, action, "review", review_id, details, ip, now).await?;
    let change = current.contribution().change_to(moderated.contribution());
    commit_with_rating(&s, txn, &product, change).await?;
    let version = moderated.version;
    Ok(with_etag(review_view(moderated), version))
}
