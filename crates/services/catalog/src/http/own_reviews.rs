//! `/reviews/mine`: the signed-in customer's own reviews with the product each is about,
//! for their account page. Hidden ones are listed too, marked, so an author learns that
//! staff hid a review rather than finding it gone.

use axum::Json;
use axum::extract::State;
use platform::auth::CustomerAuth;
use platform::error::ApiResult;
use platform::http::ApiQuery;
use platform::page::{Page, PageParams, paginate};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reviews::{ReviewView, review_view};
use crate::AppState;
use crate::store::{products, reviews};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_reviews))
}

/// One of the customer's reviews and the product it is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnReviewView {
    #[serde(flatten)]
    pub review: ReviewView,
    /// The product's current name and slug (empty once the product is gone for good).
    pub product_name: String,
    pub product_slug: String,
}

/// The signed-in customer's reviews, newest first.
#[utoipa::path(get, path = "/api/v1/reviews/mine", tag = "reviews", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<OwnReviewView>), (status = 401, body = platform::error::Problem),
              (status = 403, body = platform::error::Problem), (status = 422, body = platform::error::Problem)))]
async fn my_reviews(
    State(s): State<AppState>,
    customer: CustomerAuth,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<OwnReviewView>>> {
    let limit = page.limit()?;
    let before = page.position::<uuid::Uuid>()?;
    let rows = reviews::by_customer(&s.ctx.db, customer.customer_id, before, limit + 1).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.product_id).collect();
    let about = products::many(&s.ctx.db, &ids).await?;
    Ok(Json(paginate(
        rows,
        limit,
        |r| r.id,
        |r| {
            let product = about.iter().find(|p| p.id == r.product_id);
            OwnReviewView {
                product_name: product.map(|p| p.name.clone()).unwrap_or_default(),
                product_slug: product.map(|p| p.slug.clone()).unwrap_or_default(),
                review: review_view(r),
            }
        },
    )))
}
