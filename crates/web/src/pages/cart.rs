//! The cart page: its lines with their warnings, the discount code, and the forms
//! that change them. Every form posts and answers with a redirect (or the cart again
//! with the API's messages beside what they are about).

use askama::Template;
use axum::Form as Posted;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::purchase::sign_in_first;
use super::{failure_page, render_status};
use crate::WebState;
use crate::api::Problem;
use crate::session::Visitor;
use crate::view::{Form, Layout};

#[derive(Deserialize)]
pub(super) struct ApiCart {
    #[serde(default)]
    pub(super) lines: Vec<ApiLine>,
    pub(super) currency: Option<String>,
    #[serde(default)]
    pub(super) subtotal: i64,
    #[serde(default)]
    selected_count: i64,
    #[serde(default)]
    pub(super) item_count: i64,
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
    pub(super) fn code_shown(&self, currency: &str) -> Option<CodeShown> {
        self.code.as_ref().map(|c| CodeShown {
            code: c.code.clone(),
            off: (self.discount > 0)
                .then(|| format!("-{}", contracts::money::display(self.discount, currency))),
            free_shipping: c.free_shipping,
            problem: c.problem.as_ref().map(|p| crate::view::sentence(&p.detail)),
        })
    }

    /// The items' price after the code.
    pub(super) fn to_pay(&self, currency: &str) -> String {
        contracts::money::display(self.subtotal - self.discount, currency)
    }
}

#[derive(Deserialize)]
pub(super) struct ApiLine {
    pub(super) product_id: String,
    name: String,
    slug: String,
    pub(super) quantity: i64,
    pub(super) selected: bool,
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
}
