//! Buying: checkout and placing the order (the cart is `cart.rs`).
//!
//! Every form posts to the page's own address and answers with a redirect (or the
//! same page with the API's messages), so a reload never sends it twice. Checkout
//! carries an idempotency key made when its page was rendered: a double click, a reload
//! or a resubmitted form finds the order the first submission placed.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::addresses::{self, AddressForm, AddressPage};
use super::cart::{ApiCart, CodeShown};
use super::estimate::ApiQuote;
use super::{failure_page, render_status};
use crate::WebState;
use crate::session::Visitor;
use crate::view::{Form, Layout};

/// Sends a visitor to sign in, then back to `here`.
pub(super) fn sign_in_first(here: &str) -> Response {
    let next = crate::view::form_urlencoded(here);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

pub struct AddressChoice {
    pub id: String,
    pub label: String,
    pub text: String,
    pub chosen: bool,
}

pub struct ShippingChoice {
    pub code: String,
    pub text: String,
    pub price: String,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    addresses: Vec<AddressChoice>,
    /// What the visitor typed into the new-address form, kept when it is refused.
    entered: AddressForm,
    chosen: Option<String>,
    options: Vec<ShippingChoice>,
    subtotal: String,
    code: Option<CodeShown>,
    to_pay: String,
    key: String,
    form: Form,
}

#[derive(Default, Deserialize)]
pub(super) struct CheckoutQuery {
    #[serde(default)]
    address: String,
}

pub(super) async fn checkout(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<CheckoutQuery>,
) -> Response {
    checkout_page(
        &web,
        &visitor,
        &q.address,
        AddressForm::default(),
        Form::default(),
        StatusCode::OK,
    )
    .await
}

async fn checkout_page(
    web: &WebState,
    visitor: &Visitor,
    address: &str,
    entered: AddressForm,
    form: Form,
    status: StatusCode,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/checkout");
    }
    let caller = &visitor.caller;
    let (addresses, cart) = match (
        web.api
            .get::<AddressPage>(caller, "/api/v1/me/addresses?limit=100")
            .await,
        web.api.get::<ApiCart>(caller, "/api/v1/cart").await,
    ) {
        (Ok(a), Ok(c)) => (a.items, c),
        (Err(p), _) | (_, Err(p)) if p.is(401) => return sign_in_first("/checkout"),
        (Err(p), _) | (_, Err(p)) => return failure_page(web, visitor, &p),
    };
    // The address chosen, else the only one.
    let chosen = addresses
        .iter()
        .find(|a| a.id == address)
        .or(if addresses.len() == 1 {
            addresses.first()
        } else {
            None
        })
        .cloned();
    let items: Vec<Value> = cart
        .lines
        .iter()
        .filter(|l| l.selected)
        .map(|l| json!({"product_id": l.product_id, "quantity": l.quantity}))
        .collect();
    let options = match &chosen {
        Some(a) if !items.is_empty() => {
            let body = json!({"destination": {"country": a.country, "postal_code": a.postal_code}, "items": items});
            web.api
                .post::<_, ApiQuote>(caller, "/api/v1/shipping/quote", &body)
                .await
                .map(|q| q.options)
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let currency = cart.currency.clone().unwrap_or_else(|| "USD".into());
    render_status(
        status,
        &CheckoutPage {
            layout: Layout::with_cart_count(web, visitor, Some(cart.item_count)),
            entered,
            addresses: addresses
                .iter()
                .map(|a| AddressChoice {
                    chosen: chosen.as_ref().is_some_and(|c| c.id == a.id),
                    id: a.id.clone(),
                    label: a.label.clone(),
                    text: a.one_line(),
                })
                .collect(),
            chosen: chosen.map(|a| a.id),
            options: options
                .into_iter()
                .map(|o| ShippingChoice {
                    text: o.text(),
                    price: o.price(),
                    code: o.service_code,
                })
                .collect(),
            subtotal: contracts::money::display(cart.subtotal, &currency),
            code: cart.code_shown(&currency),
            to_pay: cart.to_pay(&currency),
            key: uuid::Uuid::new_v4().to_string(),
            form,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct PlaceForm {
    #[serde(default)]
    address_id: String,
    #[serde(default)]
    shipping_service: String,
    #[serde(default)]
    key: String,
}

#[derive(Deserialize)]
struct Placed {
    id: String,
}

pub(super) async fn place(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<PlaceForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/checkout");
    }
    let body = json!({"address_id": f.address_id, "shipping_service": f.shipping_service});
    let key = super::form_key(&f.key);
    match web
        .api
        .request::<_, Placed>(
            &visitor.caller,
            Method::POST,
            "/api/v1/checkout",
            Some(&body),
            &[("idempotency-key", key)],
        )
        .await
    {
        Ok(order) => Redirect::to(&format!("/orders/{}", order.id)).into_response(),
        Err(p) if p.is(400) || p.is(403) || p.is(409) || p.is(422) || p.is(503) => {
            checkout_page(
                &web,
                &visitor,
                &f.address_id,
                AddressForm::default(),
                Form::refused(&p),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

/// A new address from the checkout page; checkout then goes on with it chosen.
pub(super) async fn add_address(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<AddressForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/checkout");
    }
    match addresses::create(&web, &visitor, &f).await {
        Ok(id) => Redirect::to(&format!("/checkout?address={id}")).into_response(),
        Err(p) if p.is(409) || p.is(422) => {
            checkout_page(
                &web,
                &visitor,
                "",
                f,
                Form::refused(&p),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    #[test]
    fn the_way_back_is_encoded() {
        assert_eq!(
            crate::view::form_urlencoded("/products/a b"),
            "%2Fproducts%2Fa+b"
        );
    }
}
