//! The wishlist: what a customer keeps for later, with a way into the cart, and the
//! toggle on a product's page.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::purchase::sign_in_first;
use super::{failure_page, render};
use crate::WebState;
use crate::api::Answer;
use crate::session::Visitor;
use crate::view::Layout;

#[derive(Deserialize)]
struct ApiWishlist {
    items: Vec<ApiWish>,
}

#[derive(Deserialize)]
struct ApiWish {
    product_id: String,
    name: String,
    slug: String,
    price: i64,
    currency: String,
    in_stock: bool,
    available: bool,
}

pub struct Wish {
    pub product_id: String,
    pub name: String,
    pub url: String,
    pub price: String,
    /// Empty when it can go in the cart; else why not.
    pub unavailable: &'static str,
}

#[derive(Template)]
#[template(path = "wishlist.html")]
struct WishlistView {
    layout: Layout,
    items: Vec<Wish>,
}

const HERE: &str = "/wishlist";

/// The ids on the visitor's wishlist (empty for a visitor not signed in).
pub(super) async fn ids(web: &WebState, visitor: &Visitor) -> Answer<Vec<String>> {
    if !visitor.signed_in {
        return Ok(Vec::new());
    }
    let list: ApiWishlist = web.api.get(&visitor.caller, "/api/v1/wishlist").await?;
    Ok(list.items.into_iter().map(|w| w.product_id).collect())
}

pub(super) async fn page(State(web): State<WebState>, visitor: Visitor) -> Response {
    if !visitor.signed_in {
        return sign_in_first(HERE);
    }
    let list: ApiWishlist = match web.api.get(&visitor.caller, "/api/v1/wishlist").await {
        Ok(l) => l,
        Err(p) if p.is(401) => return sign_in_first(HERE),
        Err(p) => return failure_page(&web, &visitor, &p),
    };
    render(&WishlistView {
        layout: Layout::for_visitor(&web, &visitor).await,
        items: list
            .items
            .into_iter()
            .map(|w| Wish {
                url: format!("/products/{}", w.slug),
                price: contracts::money::display(w.price, &w.currency),
                unavailable: match (w.available, w.in_stock) {
                    (false, _) => "No longer sold",
                    (true, false) => "Out of stock",
                    (true, true) => "",
                },
                product_id: w.product_id,
                name: w.name,
            })
            .collect(),
    })
}

#[derive(Deserialize)]
pub(super) struct WishForm {
    /// `add` or `remove`.
    #[serde(default)]
    action: String,
    /// The product page the toggle was pressed on, to go back to.
    #[serde(default)]
    back: String,
}

/// Adds a product to the wishlist or takes it off, then goes back where it was pressed.
pub(super) async fn toggle(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(product_id): Path<String>,
    Posted(f): Posted<WishForm>,
) -> Response {
    let back = if f.back.starts_with("/products/") && !f.back.contains("//") {
        f.back.clone()
    } else {
        HERE.to_owned()
    };
    if !visitor.signed_in {
        return sign_in_first(&back);
    }
    let Ok(id) = product_id.parse::<uuid::Uuid>() else {
        return super::not_found(&web, &visitor);
    };
    let method = if f.action == "remove" {
        Method::DELETE
    } else {
        Method::PUT
    };
    let path = format!("/api/v1/wishlist/items/{id}");
    match web
        .api
        .call(&visitor.caller, method, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(p) if p.is(401) => sign_in_first(&back),
        Err(p) => failure_page(&web, &visitor, &p),
    }
}
