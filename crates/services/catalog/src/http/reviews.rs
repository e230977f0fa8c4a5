//! Product reviews: anyone reads them, a customer who bought the product writes one, and
//! its author edits or removes it. Every change moves the product's rating in the same
//! transaction (see `store::reviews`).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use platform::auth::{CustomerAuth, MaybeStaff};
use platform::error::{ApiError, ApiResult, is_unique_violation};
use platform::http::{ApiJson, ApiQuery, if_match, required_version, with_etag};
use platform::page::{Page, PageParams, paginate};
use platform::validate::Fields;
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::responses::json_response;
use crate::AppState;
use crate::domain::review::{ANONYMOUS_AUTHOR, Contribution, Stars, parse_body, parse_title};
use crate::store::products::{self, Product};
use crate::store::purchases;
use crate::store::reviews::{self, Review, ReviewText};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reviews, create_review))
        .routes(routes!(update_review, delete_review))
}

/// A review as the shop shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub product_id: Uuid,
    /// Whole stars, 1 to 5.
    pub rating: i64,
    pub title: Option<String>,
    pub body: String,
    /// The author's display name; `Customer` when the shop does not know it.
    pub author: String,
    /// Always true: only customers who bought the product may review it.
    pub verified_purchase: bool,
    /// Hidden by staff. Public lists only ever hold visible reviews; staff (and the
    /// author, in answers to their own edits) see the real state.
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub(super) fn review_view(r: Review) -> ReviewView {
    ReviewView {
        id: r.id,
        product_id: r.product_id,
        rating: r.stars.get(),
        title: r.title,
        body: r.body,
        author: r.author_name,
        verified_purchase: true,
        hidden: r.hidden,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

/// Commits a review change in `work` together with what it does to the product's rating,
/// then drops the product's cached answers so its next read shows the new rating.
pub(super) async fn commit_with_rating(
    s: &AppState,
    work: platform::unit::UnitOfWork,
    product: &Product,
    change: Contribution,
) -> ApiResult<()> {
    reviews::add_to_rating(&work, product.id, change).await?;
    work.commit().await?;
    crate::cache::forget_product(&s.ctx.cache, product.id, &[&product.slug]).await;
    Ok(())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewListParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Staff only: include reviews hidden by staff.
    pub include_hidden: Option<bool>,
}

/// A product's reviews, newest first. Staff may add `include_hidden=true`.
#[utoipa::path(get, path = "/api/v1/products/{id}/reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Product id"), ReviewListParams),
    responses((status = 200, body = Page<ReviewView>), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn list_reviews(
    State(s): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(id): Path<Uuid>,
    RawQuery(raw_query): RawQuery,
    ApiQuery(p): ApiQuery<ReviewListParams>,
) -> ApiResult<Response> {
    let include_hidden = p.include_hidden.unwrap_or(false);
    if include_hidden && staff.is_none() {
        return Err(ApiError::forbidden("only staff see hidden reviews"));
    }
    let page = PageParams {
        cursor: p.cursor,
        limit: p.limit,
    };
    let limit = page.limit()?;
    let before = page.position::<Uuid>()?;
    // The public pages are cached like listings: under the generation every review
    // change bumps (through `commit_with_rating`), so a new review shows at once.
    let cache_key = match staff {
        None => {
            let query = format!("reviews:{id}?{}", raw_query.as_deref().unwrap_or_default());
            crate::cache::listing_key(&s.ctx.cache, &query).await
        }
        Some(_) => None,
    };
    if let Some(key) = &cache_key
        && let Some(hit) = s.ctx.cache.get(key).await
    {
        return Ok(json_response(hit, true));
    }
    products::get(&s.ctx.db, id)
        .await?
        .filter(|p| p.active || staff.is_some())
        .ok_or_else(|| ApiError::not_found("product"))?;
    let rows = reviews::page(&s.ctx.db, id, include_hidden, before, limit + 1).await?;
    let page = paginate(rows, limit, |r| r.id, review_view);
    let body = Bytes::from(serde_json::to_vec(&page).map_err(ApiError::internal)?);
    if let Some(key) = &cache_key {
        s.ctx.cache.set(key, body.clone()).await;
    }
    Ok(json_response(body, staff.is_none()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// Whole stars, 1 to 5. Required when writing a review.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 5)]
    pub rating: Option<serde_json::Number>,
    /// Optional: one line of at most 120 characters; `null` or blank for none.
    #[serde(default, deserialize_with = "platform::http::nullable")]
    #[schema(schema_with = platform::schema::line_or_null::<0, 120>)]
    pub title: Option<Option<String>>,
    /// At most 5000 characters; may be empty.
    #[schema(schema_with = platform::schema::multiline_or_null::<5000>)]
    pub body: Option<String>,
    /// Expected version for an edit (or send `If-Match`).
    pub version: Option<i64>,
}

/// Validates every field of `input` over `base` (the review being edited), reporting all
/// problems at once.
fn parse(input: &ReviewInput, base: Option<&Review>) -> ApiResult<ReviewText> {
    let mut f = Fields::new();
    let stars = match (&input.rating, base) {
        (Some(n), _) => f.parse("rating", Stars::parse(n)),
        (None, Some(b)) => Some(b.stars),
        (None, None) => {
            f.add("rating", "is required");
            None
        }
    };
    let title = match (&input.title, base) {
        (Some(Some(t)), _) => parse_title(&mut f, t),
        (Some(None), _) => None,
        (None, Some(b)) => b.title.clone(),
        (None, None) => None,
    };
    let body = match (&input.body, base) {
        (Some(b), _) => parse_body(&mut f, b),
        (None, Some(b)) => Some(b.body.clone()),
        (None, None) => Some(String::new()),
    };
    f.finish()?;
    let (Some(stars), Some(body)) = (stars, body) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a review field failed without a reason"
        )));
    };
    Ok(ReviewText { stars, title, body })
}

platform::required_fields_schema!(
    /// What creating one needs: `ReviewInput` with these fields sent.
    ReviewCreate = ReviewInput { "rating" }
);

/// Writes the customer's review of a product they bought; one per customer per product.
#[utoipa::path(post, path = "/api/v1/products/{id}/reviews", tag = "reviews", security(("bearer" = [])), request_body = ReviewCreate,
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 201, body = ReviewView), (status = 401, body = platform::error::Problem),
              (status = 403, body = platform::error::Problem, description = "Not a customer, or `purchase_required`"),
              (status = 404, body = platform::error::Problem), (status = 409, body = platform::error::Problem, description = "`already_reviewed`"),
              (status = 422, body = platform::error::Problem)))]
async fn create_review(
    State(s): State<AppState>,
    customer: CustomerAuth,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> ApiResult<(StatusCode, Response)> {
    let text = parse(&input, None)?;
    let now = s.ctx.clock.now();
    let work = s.ctx.begin().await?;
    let product = products::get(&work, id)
        .await?
        .filter(|p| p.active)
        .ok_or_else(|| ApiError::not_found("product"))?;
    if !purchases::bought(&work, customer.customer_id, id).await? {
        return Err(ApiError::forbidden_because(
            "purchase_required",
            "only customers with a paid order containing this product, not cancelled, may review it",
        ));
    }
    let review = reviews::insert(
        &work,
        id,
        customer.customer_id,
        ANONYMOUS_AUTHOR,
        &text,
        now,
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::conflict(
                "already_reviewed",
                "you have already reviewed this product; edit that review instead",
            )
        } else {
            e.into()
        }
    })?;
    let change = Contribution::NONE.change_to(review.contribution());
    commit_with_rating(&s, work, &product, change).await?;
    let version = review.version;
    Ok((StatusCode::CREATED, with_etag(review_view(review), version)))
}

/// The customer's own review of the product; someone else's is not found.
async fn own_review(
    work: &DatabaseTransaction,
    product_id: Uuid,
    review_id: Uuid,
    customer: &CustomerAuth,
) -> ApiResult<Review> {
    reviews::get(work, review_id)
        .await?
        .filter(|r| r.product_id == product_id && r.customer_id == customer.customer_id)
        .ok_or_else(|| ApiError::not_found("review"))
}

/// Why a conditional write to a review that was read at the expected version changed
/// nothing: a concurrent writer got there first.
async fn lost_race(work: &DatabaseTransaction, review_id: Uuid) -> ApiError {
    match reviews::get(work, review_id).await {
        Ok(Some(latest)) => ApiError::stale_version(latest.version),
        Ok(None) => ApiError::not_found("review"),
        Err(e) => e.into(),
    }
}

/// Edits the customer's review; omitted fields keep their value, `title: null` removes
/// the title. Requires the version you read (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/products/{id}/reviews/{review_id}", tag = "reviews", security(("bearer" = [])), request_body = ReviewInput,
    params(("id" = Uuid, Path, description = "Product id"), ("review_id" = Uuid, Path, description = "Review id")),
    responses((status = 200, body = ReviewView), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem),
              (status = 422, body = platform::error::Problem), (status = 428, body = platform::error::Problem)))]
async fn update_review(
    State(s): State<AppState>,
    customer: CustomerAuth,
    Path((id, review_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ReviewInput>,
) -> ApiResult<Response> {
    let expected = required_version(&headers, input.version)?;
    let now = s.ctx.clock.now();
    let work = s.ctx.begin().await?;
    let current = own_review(&work, id, review_id, &customer).await?;
    let text = parse(&input, Some(&current))?;
    // The body is judged before the version: an invalid edit is 422 whatever it
    // was based on.
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    if !reviews::edit(&work, review_id, expected, &text, now).await? {
        return Err(lost_race(&work, review_id).await);
    }
    let product = products::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let edited = Review {
        stars: text.stars,
        title: text.title,
        body: text.body,
        updated_at: now,
        version: expected + 1,
        ..current.clone()
    };
    let change = current.contribution().change_to(edited.contribution());
    commit_with_rating(&s, work, &product, change).await?;
    let version = edited.version;
    Ok(with_etag(review_view(edited), version))
}

/// Removes the customer's review. `If-Match` is optional; a stale one is 412. A review
/// staff hid has its text erased instead, and still counts as the author's one review of
/// the product, so deleting it cannot make room for a fresh, visible one.
#[utoipa::path(delete, path = "/api/v1/products/{id}/reviews/{review_id}", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"), ("review_id" = Uuid, Path, description = "Review id")),
    responses((status = 204, description = "Removed"), (status = 401, body = platform::error::Problem), (status = 403, body = platform::error::Problem),
              (status = 404, body = platform::error::Problem), (status = 412, body = platform::error::Problem)))]
async fn delete_review(
    State(s): State<AppState>,
    customer: CustomerAuth,
    Path((id, review_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let work = s.ctx.begin().await?;
    let current = own_review(&work, id, review_id, &customer).await?;
    let expected = if_match(&headers)?.unwrap_or(current.version);
    if expected != current.version {
        return Err(ApiError::stale_version(current.version));
    }
    // Deleting a review staff hid must not make room for a fresh, visible one: it
    // leaves a tombstone without its text instead.
    let removed = if current.hidden {
        reviews::withdraw(&work, review_id, expected, s.ctx.clock.now()).await?
    } else {
        reviews::delete(&work, review_id, expected).await?
    };
    if !removed {
        return Err(lost_race(&work, review_id).await);
    }
    let product = products::get(&work, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let change = current.contribution().change_to(Contribution::NONE);
    commit_with_rating(&s, work, &product, change).await?;
    Ok(StatusCode::NO_CONTENT)
}
