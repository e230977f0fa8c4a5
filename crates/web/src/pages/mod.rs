//! The storefront's pages, and how they answer when the API says no.

mod account;
mod addresses;
mod cart;
mod discount;
mod estimate;
mod history;
pub(crate) mod orders;
mod profile;
mod purchase;
mod reviews;
mod shop;
mod wishlist;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::WebState;
use crate::api::Problem;
use crate::session::Visitor;
use crate::view::{Layout, StatusPage};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/", get(shop::home))
        .route("/search", get(shop::search))
        .route("/categories/{slug}", get(shop::category))
        .route("/products/{slug}", get(shop::product))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", axum::routing::post(account::logout))
        .route(
            "/register",
            get(account::register_form).post(account::register),
        )
        .route(
            "/verify-email",
            get(account::verify_form).post(account::verify),
        )
        .route(
            "/forgot-password",
            get(account::forgot_form).post(account::forgot),
        )
        .route(
            "/reset-password",
            get(account::reset_form).post(account::reset),
        )
        .route("/account", get(profile::account))
        .route(
            "/account/profile",
            get(profile::profile_form).post(profile::profile),
        )
        .route(
            "/account/password",
            get(profile::password_form).post(profile::password),
        )
        .route(
            "/account/addresses",
            get(addresses::list).post(addresses::add),
        )
        .route(
            "/account/addresses/{id}/delete",
            axum::routing::post(addresses::remove),
        )
        .route("/account/orders", get(history::page))
        .route("/account/reviews", get(reviews::mine))
        .route("/reviews/new", get(reviews::form).post(reviews::write))
        .route("/wishlist", get(wishlist::page))
        .route(
            "/wishlist/{product_id}",
            axum::routing::post(wishlist::toggle),
        )
        .route("/cart", get(cart::cart))
        .route("/cart/add", axum::routing::post(cart::add))
        .route("/cart/discount", axum::routing::post(discount::code))
        .route("/cart/lines/{product_id}", axum::routing::post(cart::line))
        .route("/checkout", get(purchase::checkout).post(purchase::place))
        .route(
            "/checkout/address",
            axum::routing::post(purchase::add_address),
        )
        .route("/orders/{id}", get(orders::order))
        .route("/orders/{id}/status", get(orders::status))
        .route("/orders/{id}/cancel", axum::routing::post(orders::cancel))
        .route("/pay/{id}", get(orders::pay_form).post(orders::pay))
}

/// One of the visitor's own resources for the page at `here`: a visitor not signed in
/// signs in first and comes back; an id that is no UUID, someone else's resource (403)
/// or none at all (404) is the not-found page, so a URL reveals nothing.
pub(crate) async fn own<T: serde::de::DeserializeOwned>(
    web: &WebState,
    visitor: &Visitor,
    here: &str,
    id: &str,
    api_path: impl Fn(uuid::Uuid) -> String,
) -> Result<T, Response> {
    if !visitor.signed_in {
        return Err(purchase::sign_in_first(here));
    }
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Err(not_found(web, visitor));
    };
    web.api
        .get::<T>(&visitor.caller, &api_path(id))
        .await
        .map_err(|p| match p.status {
            401 => purchase::sign_in_first(here),
            403 | 404 => not_found(web, visitor),
            _ => failure_page(web, visitor, &p),
        })
}

/// The idempotency key a rendered form carried, or a fresh one for a form posted
/// without it (then a resubmission is not recognised, but nothing is refused).
pub(crate) fn form_key(key: &str) -> String {
    if key.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        key.to_owned()
    }
}

/// Renders a page; a template that fails to render is logged and answered 500.
pub(crate) fn render(page: &impl Template) -> Response {
    render_status(StatusCode::OK, page)
}

pub(crate) fn render_status(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown",
            )
                .into_response()
        }
    }
}

fn status_page(
    web: &WebState,
    visitor: &Visitor,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    render_status(
        status,
        &StatusPage {
            layout: Layout::with_cart_count(web, visitor, None),
            title: title.to_owned(),
            message: message.to_owned(),
        },
    )
}

pub(crate) fn not_found(web: &WebState, visitor: &Visitor) -> Response {
    status_page(
        web,
        visitor,
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address. It may have moved, or the link may be mistyped.",
    )
}

/// A page for an API answer the page cannot work with: busy (with `Retry-After`), not
/// allowed, or broken.
pub(crate) fn failure_page(web: &WebState, visitor: &Visitor, p: &Problem) -> Response {
    let (status, title, message) = match p.status {
        404 => return not_found(web, visitor),
        401 | 403 => (
            StatusCode::FORBIDDEN,
            "Not allowed",
            "This page is not available to you. Signing in with another account may help.",
        ),
        _ => busy_or_broken(p),
    };
    let mut res = status_page(web, visitor, status, title, message);
    retry_after(&mut res, p);
    res
}

/// The page's words for an API that is busy (429, 503) or broken (anything else), for
/// the storefront and the dashboard alike.
pub(crate) fn busy_or_broken(p: &Problem) -> (StatusCode, &'static str, &'static str) {
    match p.status {
        429 => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            "You have made a lot of requests in a short time. Please wait a moment and try again.",
        ),
        503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The shop is busy",
            "The shop cannot answer right now. Please try again in a moment.",
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "This page could not be shown. It has been noted; please try again.",
        ),
    }
}

/// `Retry-After` on a busy page, as the API said it.
pub(crate) fn retry_after(res: &mut Response, p: &Problem) {
    if let Some(secs) = p.retry_after.filter(|_| matches!(p.status, 429 | 503)) {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
}
