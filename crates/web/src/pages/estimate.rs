//! The shipping estimate on a product's page: one of it, to a country and postal code
//! the visitor types, priced by the same quote the checkout uses.

use serde::Deserialize;
use serde_json::json;

use crate::WebState;
use crate::api::FieldError;
use crate::session::Visitor;
use crate::view::Form;

/// A shipping quote as the API answers it (checkout prices its options the same way).
#[derive(Deserialize)]
pub(super) struct ApiQuote {
    #[serde(default)]
    pub options: Vec<ApiOption>,
}

#[derive(Deserialize)]
pub(super) struct ApiOption {
    pub service_code: String,
    carrier: String,
    name: String,
    price: i64,
    currency: String,
    estimated_days: ApiDays,
}

#[derive(Deserialize)]
struct ApiDays {
    min: i64,
    max: i64,
}

impl ApiOption {
    /// "Mercato Post Standard (2–4 days)".
    pub fn text(&self) -> String {
        format!(
            "{} {} ({}–{} days)",
            self.carrier, self.name, self.estimated_days.min, self.estimated_days.max
        )
    }

    pub fn price(&self) -> String {
        contracts::money::display(self.price, &self.currency)
    }
}

pub struct EstimateOption {
    pub text: String,
    pub price: String,
}

/// The estimate form and, once asked, its answer.
#[derive(Default)]
pub struct Estimate {
    pub country: String,
    pub postal_code: String,
    pub asked: bool,
    pub options: Vec<EstimateOption>,
    /// The quote's messages, under the form's own field names.
    pub form: Form,
}

impl Estimate {
    /// Asks for a quote when the visitor gave a country; otherwise just the empty form.
    pub async fn to(
        web: &WebState,
        visitor: &Visitor,
        product_id: &str,
        country: &str,
        postal_code: &str,
    ) -> Self {
        let mut estimate = Self {
            country: country.trim().to_owned(),
            postal_code: postal_code.trim().to_owned(),
            ..Self::default()
        };
        if estimate.country.is_empty() {
            return estimate;
        }
        estimate.asked = true;
        let mut destination = json!({"country": estimate.country.to_ascii_uppercase()});
        if !estimate.postal_code.is_empty() {
            destination["postal_code"] = estimate.postal_code.clone().into();
        }
        let body = json!({
            "destination": destination,
            "items": [{"product_id": product_id, "quantity": 1}],
        });
        match web
            .api
            .post::<_, ApiQuote>(&visitor.caller, "/api/v1/shipping/quote", &body)
            .await
        {
            Ok(q) => {
                estimate.options = q
                    .options
                    .into_iter()
                    .map(|o| EstimateOption {
                        text: o.text(),
                        price: o.price(),
                    })
                    .collect();
            }
            Err(mut p) => {
                // `destination.country` is the form's `country`.
                p.errors = p
                    .errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: e
                            .field
                            .strip_prefix("destination.")
                            .unwrap_or(&e.field)
                            .to_owned(),
                        message: e.message,
                    })
                    .collect();
                estimate.form = Form::refused(&p);
            }
        }
        estimate
    }
}
