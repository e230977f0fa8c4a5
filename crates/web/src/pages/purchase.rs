//! Buying: the cart, checkout and placing the order.
//!
//! Every form posts to the page's own address and answers with a redirect (or the
//! same page with the API's messages), so a reload never sends it twice. Checkout
//! carries an idempotency key made when its page was rendered: a double click, a reload
//! or a resubmitted form finds the order the first submission placed.

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::addresses::{self, AddressForm, AddressPage};
use super::estimate::ApiQuote;
use super::{failure_page, render_status};
use crate::WebState;
use crate::api::Problem;
use crate::session::Visitor;
use crate::view::{Form, Layout};

/// Sends a visitor to sign in, then back to `here`.
pub(super) fn sign_in_first(here: &str) -> Response {
    let next = crate::view::form_urlencoded(here);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

#[derive(Deserialize)]
struct ApiCart {
    #[serde(default)]
    lines: Vec<ApiLine>,
    currency: Option<String>,
    #[serde(default)]
    subtotal: i64,
    #[serde(default)]
    selected_count: i64,
    #[serde(default)]
    item_count: i64,
    #[serde(default)]
    ready_for_checkout: bool,
    #[serde(default)]
    discount: i64,
    code: Option<ApiCode>,
}

#[derive(Deserialize)]
struct ApiCode {
    code: String,
    #[serde(default)]
    free_shipping: bool,
    problem: Option<ApiCodeProblem>,
}

#[derive(Deserialize)]
struct ApiCodeProblem {
    detail: String,
}

/// The discount code on the cart, as the cart and checkout pages show it.
pub struct CodeShown {
    pub code: String,
    /// What it takes off the items, when it takes anything.
    pub off: Option<String>,
    pub free_shipping: bool,
    /// Why it does not apply now.
    pub problem: Option<String>,
}

impl ApiCart {
    fn code_shown(&self, currency: &str) -> Option<CodeShown> {
        self.code.as_ref().map(|c| CodeShown {
            code: c.code.clone(),
            off: (self.discount > 0)
                .then(|| format!("-{}", contracts::money::display(self.discount, currency))),
            free_shipping: c.free_shipping,
            problem: c.problem.as_ref().map(|p| crate::view::sentence(&p.detail)),
        })
    }

    /// The items' price after the code.
    fn to_pay(&self, currency: &str) -> String {
        contracts::money::display(self.subtotal - self.discount, currency)
    }
}

#[derive(Deserialize)]
struct ApiLine {
    product_id: String,
    name: String,
    slug: String,
    quantity: i64,
    selected: bool,
    unit_price: i64,
    line_total: i64,
    currency: String,
    #[serde(default)]
    warnings: Vec<Value>,
}

pub struct CartLine {
    pub product_id: String,
    pub name: String,
    pub url: String,
    pub quantity: i64,
    pub selected: bool,
    pub unit_price: String,
    pub line_total: String,
    pub warnings: Vec<String>,
}

/// A line's warning as a shopper reads it.
fn warning_text(w: &Value, currency: &str) -> String {
    let money = |v: &Value| contracts::money::display(v.as_i64().unwrap_or(0), currency);
    match w["code"].as_str() {
        Some("price_changed") => format!(
            "The price changed from {} to {}.",
            money(&w["was"]),
            money(&w["now"])
        ),
        Some("out_of_stock") => "Out of stock now: remove it or save it for later.".into(),
        Some("insufficient_stock") => format!(
            "Only {} left: lower the quantity to buy it.",
            w["available"].as_i64().unwrap_or(0)
        ),
        Some("unavailable") => "No longer sold.".into(),
        _ => "This line needs a look before checkout.".into(),
    }
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    layout: Layout,
    lines: Vec<CartLine>,
    subtotal: String,
    code: Option<CodeShown>,
    to_pay: String,
    selected_count: i64,
    ready: bool,
    form: Form,
}

pub(super) async fn cart(State(web): State<WebState>, visitor: Visitor) -> Response {
    cart_page(&web, &visitor, Form::default(), StatusCode::OK).await
}

pub(super) async fn cart_page(
    web: &WebState,
    visitor: &Visitor,
    form: Form,
    status: StatusCode,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/cart");
    }
    let cart: ApiCart = match web.api.get(&visitor.caller, "/api/v1/cart").await {
        Ok(c) => c,
        Err(p) if p.is(401) => return sign_in_first("/cart"),
        Err(p) => return failure_page(web, visitor, &p),
    };
    let currency = cart.currency.clone().unwrap_or_else(|| "USD".into());
    render_status(
        status,
        &CartPage {
            layout: Layout::with_cart_count(web, visitor, Some(cart.item_count)),
            subtotal: contracts::money::display(cart.subtotal, &currency),
            code: cart.code_shown(&currency),
            to_pay: cart.to_pay(&currency),
            selected_count: cart.selected_count,
            ready: cart.ready_for_checkout && cart.selected_count > 0,
            lines: cart
                .lines
                .into_iter()
                .map(|l| CartLine {
                    url: format!("/products/{}", l.slug),
                    warnings: l
                        .warnings
                        .iter()
                        .map(|w| warning_text(w, &l.currency))
                        .collect(),
                    unit_price: contracts::money::display(l.unit_price, &l.currency),
                    line_total: contracts::money::display(l.line_total, &l.currency),
                    product_id: l.product_id,
                    name: l.name,
                    quantity: l.quantity,
                    selected: l.selected,
                })
                .collect(),
            form,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct AddForm {
    product_id: String,
    #[serde(default)]
    quantity: String,
    /// The product page to return to when something is wrong.
    #[serde(default)]
    back: String,
}

/// "Add to cart" from a product page.
pub(super) async fn add(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<AddForm>,
) -> Response {
    let back = if f.back.starts_with("/products/") {
        f.back.clone()
    } else {
        "/cart".into()
    };
    if !visitor.signed_in {
        return sign_in_first(&back);
    }
    let quantity: i64 = f.quantity.trim().parse().unwrap_or(1);
    let body = json!({"product_id": f.product_id, "quantity": quantity});
    match web
        .api
        .post::<_, Value>(&visitor.caller, "/api/v1/cart/items", &body)
        .await
    {
        Ok(_) => Redirect::to("/cart").into_response(),
        Err(p) if p.is(401) => sign_in_first(&back),
        Err(p) if p.is(404) || p.is(409) || p.is(422) => {
            cart_page(
                &web,
                &visitor,
                Form::refused(&p),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}

#[derive(Deserialize)]
pub(super) struct LineForm {
    #[serde(default)]
    quantity: Option<String>,
    #[serde(default)]
    selected: Option<String>,
    /// `update`, `remove` or `save` (move to the wishlist).
    #[serde(default)]
    action: String,
}

/// One line's buttons: change the quantity or selection, remove it, save it for later.
pub(super) async fn line(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(product_id): Path<String>,
    Posted(f): Posted<LineForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/cart");
    }
    let Ok(id) = product_id.parse::<uuid::Uuid>() else {
        return super::not_found(&web, &visitor);
    };
    let item = format!("/api/v1/cart/items/{id}");
    let outcome: Result<(), Problem> = match f.action.as_str() {
        "remove" => {
            web.api
                .call(&visitor.caller, Method::DELETE, &item, &json!({}))
                .await
        }
        "save" => {
            let wish = format!("/api/v1/wishlist/items/{id}");
            match web
                .api
                .call(&visitor.caller, Method::PUT, &wish, &json!({}))
                .await
            {
                Ok(()) => {
                    web.api
                        .call(&visitor.caller, Method::DELETE, &item, &json!({}))
                        .await
                }
                Err(p) => Err(p),
            }
        }
        _ => {
            let mut body = serde_json::Map::new();
            if let Some(q) = f.quantity.as_deref() {
                match q.trim().parse::<i64>() {
                    Ok(n) => {
                        body.insert("quantity".into(), n.into());
                    }
                    Err(_) => {
                        let p = Problem {
                            status: 422,
                            code: "validation_failed".into(),
                            detail: String::new(),
                            errors: vec![crate::api::FieldError {
                                field: "quantity".into(),
                                message: "must be a whole number".into(),
                            }],
                            retry_after: None,
                        };
                        return cart_page(
                            &web,
                            &visitor,
                            Form::refused(&p),
                            StatusCode::UNPROCESSABLE_ENTITY,
                        )
                        .await;
                    }
                }
            }
            body.insert(
                "selected".into(),
                (f.selected.as_deref() == Some("true")).into(),
            );
            web.api
                .request::<_, Value>(
                    &visitor.caller,
                    Method::PATCH,
                    &item,
                    Some(&Value::Object(body)),
                    &[],
                )
                .await
                .map(|_| ())
        }
    };
    match outcome {
        Ok(()) => Redirect::to("/cart").into_response(),
        Err(p) if p.is(404) || p.is(409) || p.is(422) => {
            cart_page(
                &web,
                &visitor,
                Form::refused(&p),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
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
mod tests {
    use super::*;

    #[test]
    fn warnings_read_as_sentences() {
        assert_eq!(
            warning_text(
                &json!({"code": "price_changed", "was": 1000, "now": 1250}),
                "USD"
            ),
            "The price changed from USD 10.00 to USD 12.50."
        );
        assert!(
            warning_text(
                &json!({"code": "insufficient_stock", "available": 2}),
                "USD"
            )
            .contains("Only 2 left")
        );
    }

    #[test]
    fn the_way_back_is_encoded() {
        assert_eq!(
            crate::view::form_urlencoded("/products/a b"),
            "%2Fproducts%2Fa+b"
        );
    }
}
