//! Writing a review of something bought, from the order page's prompt. The API decides
//! who may review what (a paid order with the product, one review each); the page
//! shows its answer.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::purchase::sign_in_first;
use super::{failure_page, render_status};
use crate::WebState;
use crate::api::Problem;
use crate::session::Visitor;
use crate::view::{ApiProduct, Form, Layout};

#[derive(Template)]
#[template(path = "review_form.html")]
struct ReviewPage {
    layout: Layout,
    product_id: String,
    product_name: String,
    product_url: String,
    stars: Vec<Star>,
    title: String,
    body: String,
    form: Form,
}

/// One choice of the rating, 5 first.
pub struct Star {
    pub value: u8,
    pub checked: bool,
}

#[derive(Default, Deserialize)]
pub(super) struct ReviewQuery {
    #[serde(default)]
    product: String,
}

fn here(product_id: &str) -> String {
    format!("/reviews/new?product={product_id}")
}

async fn product(web: &WebState, visitor: &Visitor, id: &str) -> Result<ApiProduct, Response> {
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Err(super::not_found(web, visitor));
    };
    web.api
        .get::<ApiProduct>(&visitor.caller, &format!("/api/v1/products/{id}"))
        .await
        .map_err(|p| match p.status {
            400 | 404 | 422 => super::not_found(web, visitor),
            _ => failure_page(web, visitor, &p),
        })
}

pub(super) async fn form(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<ReviewQuery>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first(&here(&q.product));
    }
    let p = match product(&web, &visitor, &q.product).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    show(
        &web,
        &visitor,
        &p,
        &ReviewForm::default(),
        Form::default(),
        StatusCode::OK,
    )
    .await
}

async fn show(
    web: &WebState,
    visitor: &Visitor,
    p: &ApiProduct,
    f: &ReviewForm,
    form: Form,
    status: StatusCode,
) -> Response {
    render_status(
        status,
        &ReviewPage {
            layout: Layout::for_visitor(web, visitor).await,
            product_id: p.id.clone(),
            product_name: p.name.clone(),
            product_url: format!("/products/{}", p.slug),
            stars: (1..=5)
                .rev()
                .map(|n| Star {
                    value: n,
                    checked: f.rating.trim() == n.to_string(),
                })
                .collect(),
            title: f.title.clone(),
            body: f.body.clone(),
            form,
        },
    )
}

#[derive(Clone, Default, Deserialize)]
pub(super) struct ReviewForm {
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

pub(super) async fn write(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<ReviewForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first(&here(&f.product_id));
    }
    let p = match product(&web, &visitor, &f.product_id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let Ok(stars) = f.rating.trim().parse::<i64>() else {
        let missing = Problem {
            status: 422,
            code: "validation_failed".into(),
            detail: String::new(),
            errors: vec![crate::api::FieldError {
                field: "rating".into(),
                message: "choose from 1 to 5 stars".into(),
            }],
            retry_after: None,
        };
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return show(&web, &visitor, &p, &f, Form::refused(&missing), status).await;
    };
    let title = if f.title.trim().is_empty() {
        Value::Null
    } else {
        f.title.trim().into()
    };
    let body = json!({"rating": stars, "title": title, "body": f.body});
    let path = format!("/api/v1/products/{}/reviews", p.id);
    match web
        .api
        .post::<_, Value>(&visitor.caller, &path, &body)
        .await
    {
        Ok(_) => Redirect::to(&format!("/products/{}?reviewed=1#reviews-heading", p.slug))
            .into_response(),
        Err(e) if e.is(401) => sign_in_first(&here(&p.id)),
        // Not bought, or reviewed already: the API's reason, on the form.
        Err(e) if e.is(403) || e.is(409) || e.is(422) || e.is(429) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show(&web, &visitor, &p, &f, Form::refused(&e), status).await
        }
        Err(e) => failure_page(&web, &visitor, &e),
    }
}

#[derive(Deserialize)]
struct ApiOwnReviews {
    items: Vec<ApiOwnReview>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct ApiOwnReview {
    rating: i64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: String,
    hidden: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    product_name: String,
    product_slug: String,
}

pub struct OwnReview {
    pub product: String,
    /// Empty when the product is no longer in the catalog.
    pub url: String,
    pub rating: i64,
    pub title: String,
    pub body: String,
    pub date: String,
    pub hidden: bool,
}

#[derive(Template)]
#[template(path = "my_reviews.html")]
struct MyReviewsPage {
    layout: Layout,
    reviews: Vec<OwnReview>,
    next: Option<String>,
    first_page: bool,
}

#[derive(Default, Deserialize)]
pub(super) struct MineQuery {
    #[serde(default)]
    cursor: String,
}

const MINE: &str = "/account/reviews";

/// The customer's reviews, newest first; one staff hid says so.
pub(super) async fn mine(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<MineQuery>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first(MINE);
    }
    let mut path = "/api/v1/reviews/mine?limit=20".to_owned();
    if !q.cursor.is_empty() {
        path.push_str("&cursor=");
        path.push_str(&super::shop::urlencoding(&q.cursor));
    }
    let list: ApiOwnReviews = match web.api.get(&visitor.caller, &path).await {
        Ok(l) => l,
        Err(p) if p.is(401) => return sign_in_first(MINE),
        // A cursor edited by hand starts from the top.
        Err(p) if p.is(422) => return Redirect::to(MINE).into_response(),
        Err(p) => return failure_page(&web, &visitor, &p),
    };
    render_status(
        StatusCode::OK,
        &MyReviewsPage {
            layout: Layout::for_visitor(&web, &visitor).await,
            reviews: list
                .items
                .into_iter()
                .map(|r| OwnReview {
                    url: if r.product_slug.is_empty() {
                        String::new()
                    } else {
                        format!("/products/{}", r.product_slug)
                    },
                    product: r.product_name,
                    rating: r.rating,
                    title: r.title.unwrap_or_default(),
                    body: r.body,
                    date: r.created_at.format("%-d %B %Y").to_string(),
                    hidden: r.hidden,
                })
                .collect(),
            next: list
                .next_cursor
                .map(|c| format!("{MINE}?cursor={}", super::shop::urlencoding(&c))),
            first_page: q.cursor.is_empty(),
        },
    )
}
