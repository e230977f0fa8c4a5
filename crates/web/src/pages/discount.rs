//! The discount code field of the cart: apply a code or take it off. A code that does
//! not apply is refused with the API's reason, shown beside the field.

use axum::Form as Posted;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::cart::cart_page;
use super::failure_page;
use super::purchase::sign_in_first;
use crate::WebState;
use crate::api::FieldError;
use crate::session::Visitor;
use crate::view::Form;

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    code: String,
    /// `apply` or `remove`.
    #[serde(default)]
    action: String,
}

pub(super) async fn code(
    State(web): State<WebState>,
    visitor: Visitor,
    Posted(f): Posted<CodeForm>,
) -> Response {
    if !visitor.signed_in {
        return sign_in_first("/cart");
    }
    let path = "/api/v1/cart/discount";
    let outcome = if f.action == "remove" {
        web.api
            .request::<_, Value>(&visitor.caller, Method::DELETE, path, None::<&Value>, &[])
            .await
    } else {
        let body = json!({"code": f.code});
        web.api
            .request::<_, Value>(&visitor.caller, Method::PUT, path, Some(&body), &[])
            .await
    };
    match outcome {
        Ok(_) => Redirect::to("/cart").into_response(),
        Err(p) if p.is(401) => sign_in_first("/cart"),
        // Why the code does not apply goes beside the field, as a field error would.
        Err(p) if p.is(409) || p.is(422) => {
            let mut form = Form::refused(&p);
            if form.error("code").is_none() {
                form.errors.push(FieldError {
                    field: "code".into(),
                    message: crate::view::sentence(&p.detail),
                });
            }
            form.problem = None;
            cart_page(&web, &visitor, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(p) => failure_page(&web, &visitor, &p),
    }
}
