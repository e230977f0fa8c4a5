//! Review moderation for inventory staff: every product's reviews, newest first, with
//! the hidden or the visible ones alone if asked, and a button to hide a review from
//! customers (and from its product's rating) or show it again.

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminLayout, failure, sign_in_first};
use crate::WebState;
use crate::pages::render_status;
use crate::session::StaffMember;

const HERE: &str = "/admin/reviews";

#[derive(Deserialize)]
struct ApiReview {
    id: String,
    rating: i64,
    title: Option<String>,
    body: String,
    author: String,
    hidden: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    version: i64,
    product_name: String,
    product_slug: String,
}

#[derive(Deserialize)]
struct ApiQueue {
    items: Vec<ApiReview>,
    next_cursor: Option<String>,
}

pub struct Review {
    pub id: String,
    pub stars: String,
    pub rating: i64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub hidden: bool,
    pub written: String,
    pub version: i64,
    pub product_name: String,
    pub product_url: String,
}

/// A choice of which reviews to list, as the tabs above the queue offer it.
pub struct Tab {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "admin/reviews.html")]
struct QueuePage {
    layout: AdminLayout,
    notice: Option<&'static str>,
    tabs: Vec<Tab>,
    reviews: Vec<Review>,
    /// `show` as read, carried by each form so the page after shows the same tab.
    show: &'static str,
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct QueueQuery {
    #[serde(default)]
    show: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    done: String,
}

/// `all`, `visible` or `hidden`: anything else is all.
fn show_of(text: &str) -> &'static str {
    match text {
        "visible" => "visible",
        "hidden" => "hidden",
        _ => "all",
    }
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let q = query.map(|Query(q)| q).unwrap_or(QueueQuery {
        show: String::new(),
        cursor: String::new(),
        done: String::new(),
    });
    let show = show_of(&q.show);
    let mut path = "/api/v1/admin/reviews?limit=25".to_owned();
    match show {
        "visible" => path.push_str("&hidden=false"),
        "hidden" => path.push_str("&hidden=true"),
        _ => {}
    }
    if !q.cursor.is_empty() {
        path.push_str("&cursor=");
        path.push_str(&crate::view::form_urlencoded(&q.cursor));
    }
    let queue: ApiQueue = match web.api.get(&staff.caller, &path).await {
        Ok(queue) => queue,
        // A cursor from an old link: the first page instead.
        Err(p) if p.status == 422 && !q.cursor.is_empty() => {
            return Redirect::to(&format!("{HERE}?show={show}")).into_response();
        }
        Err(p) => return failure(&web, &staff, HERE, &p),
    };
    let notice = match q.done.as_str() {
        "hidden" => Some("The review is hidden from customers and from the product's rating."),
        "shown" => Some("The review is shown again."),
        "stale" => Some("Someone changed that review first; here it is as it is now."),
        _ => None,
    };
    let tabs = [("All", "all"), ("Visible", "visible"), ("Hidden", "hidden")]
        .into_iter()
        .map(|(label, key)| Tab {
            label,
            href: match key {
                "visible" => "/admin/reviews?show=visible",
                "hidden" => "/admin/reviews?show=hidden",
                _ => "/admin/reviews",
            },
            current: key == show,
        })
        .collect();
    let next = queue.next_cursor.map(|c| {
        format!(
            "{HERE}?show={show}&cursor={}",
            crate::view::form_urlencoded(&c)
        )
    });
    render_status(
        StatusCode::OK,
        &QueuePage {
            layout: AdminLayout::new(&web, &staff, "reviews"),
            notice,
            tabs,
            show,
            next,
            reviews: queue.items.into_iter().map(review).collect(),
        },
    )
}

fn review(r: ApiReview) -> Review {
    let rating = r.rating.clamp(0, 5);
    Review {
        stars: format!(
            "{}{}",
            "★".repeat(rating as usize),
            "☆".repeat(5 - rating as usize)
        ),
        rating,
        title: r.title.unwrap_or_default(),
        body: r.body,
        author: r.author,
        hidden: r.hidden,
        written: r.created_at.format("%Y-%m-%d").to_string(),
        version: r.version,
        product_url: format!("/products/{}", r.product_slug),
        product_name: r.product_name,
        id: r.id,
    }
}

#[derive(Deserialize)]
pub(super) struct Moderation {
    #[serde(default)]
    hidden: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    show: String,
}

pub(super) async fn moderate(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
    PostedForm(f): PostedForm<Moderation>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let show = show_of(&f.show);
    let back =
        |done: &str| Redirect::to(&format!("{HERE}?show={show}&done={done}")).into_response();
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return super::not_found(&web, &staff);
    };
    let hidden = f.hidden == "true";
    let version: Value = f
        .version
        .trim()
        .parse::<i64>()
        .map_or(Value::Null, Value::from);
    let path = format!("/api/v1/admin/reviews/{id}");
    match web
        .api
        .call(
            &staff.caller,
            Method::PATCH,
            &path,
            &json!({"hidden": hidden, "version": version}),
        )
        .await
    {
        Ok(()) => back(if hidden { "hidden" } else { "shown" }),
        Err(p) if p.status == 412 || p.status == 428 => back("stale"),
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}
