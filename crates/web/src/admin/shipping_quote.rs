//! The quote preview on the shipping page: what the public quote API would offer a
//! shopper for a destination and some units of one of the newest products (the API
//! takes products, not a weight; the page shows the weight it charged by).

use serde::Deserialize;
use serde_json::json;

use crate::WebState;
use crate::api::FieldError;
use crate::session::StaffMember;
use crate::view::{ApiProduct, Form, weight};

/// A product to preview a quote with.
pub struct Choice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

/// One option the preview found.
pub struct Offered {
    pub service: String,
    pub days: String,
    pub price: String,
}

/// The quote preview: its form and, once asked, what the quote API answered.
#[derive(Default)]
pub struct Preview {
    pub country: String,
    pub postal_code: String,
    pub quantity: String,
    pub products: Vec<Choice>,
    pub asked: bool,
    pub zone: Option<String>,
    pub weight: String,
    pub options: Vec<Offered>,
    pub form: Form,
}

#[derive(Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    pub(super) done: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    quantity: String,
}

#[derive(Deserialize)]
struct Products {
    items: Vec<ApiProduct>,
}

#[derive(Deserialize)]
struct ApiQuote {
    zone: Option<String>,
    weight: ApiWeights,
    #[serde(default)]
    options: Vec<ApiOption>,
}

#[derive(Deserialize)]
struct ApiWeights {
    chargeable_grams: i64,
}

#[derive(Deserialize)]
struct ApiOption {
    carrier: String,
    name: String,
    service_code: String,
    price: i64,
    currency: String,
    estimated_days: ApiDays,
}

#[derive(Deserialize)]
struct ApiDays {
    min: i32,
    max: i32,
}

/// The preview for `q`: the quote API takes products, not a weight, so the member picks
/// one of the newest products and a quantity, and the page shows the weight it
/// charged by.
pub(super) async fn preview(web: &WebState, staff: &StaffMember, q: &ListQuery) -> Preview {
    let products = web
        .api
        .get::<Products>(&staff.caller, "/api/v1/products?limit=20&sort=newest")
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let mut preview = Preview {
        country: q.country.trim().to_owned(),
        postal_code: q.postal_code.trim().to_owned(),
        quantity: match q.quantity.trim() {
            "" => "1".into(),
            typed => typed.to_owned(),
        },
        products: products
            .iter()
            .map(|p| Choice {
                id: p.id.clone(),
                label: format!(
                    "{} ({}, {})",
                    p.name,
                    contracts::money::display(p.price, &p.currency),
                    weight(p.weight_grams)
                ),
                selected: p.id == q.product_id,
            })
            .collect(),
        ..Preview::default()
    };
    if preview.country.is_empty() && q.product_id.is_empty() {
        return preview;
    }
    preview.asked = true;
    let mut errors = Vec::new();
    let mut complain = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    };
    if q.product_id.trim().is_empty() {
        complain("product_id", "choose a product to ship");
    }
    let quantity = preview.quantity.parse::<i64>().ok().filter(|n| *n > 0);
    if quantity.is_none() {
        complain("quantity", "must be a whole number, like 2");
    }
    if !errors.is_empty() {
        preview.form = Form {
            problem: Some("The preview needs another look; each field says what is wrong.".into()),
            errors,
        };
        return preview;
    }
    let mut destination = json!({"country": preview.country.to_ascii_uppercase()});
    if !preview.postal_code.is_empty() {
        destination["postal_code"] = json!(preview.postal_code);
    }
    let body = json!({
        "destination": destination,
        "items": [{"product_id": q.product_id.trim(), "quantity": quantity}],
    });
    match web
        .api
        .post::<_, ApiQuote>(&staff.caller, "/api/v1/shipping/quote", &body)
        .await
    {
        Ok(quote) => {
            preview.zone = quote.zone;
            preview.weight = weight(quote.weight.chargeable_grams);
            preview.options = quote
                .options
                .into_iter()
                .map(|o| Offered {
                    service: format!("{} {} ({})", o.carrier, o.name, o.service_code),
                    days: format!("{}–{} days", o.estimated_days.min, o.estimated_days.max),
                    price: match o.price {
                        0 => "Free".into(),
                        n => contracts::money::display(n, &o.currency),
                    },
                })
                .collect();
        }
        Err(mut p) => {
            // `destination.country` and `items[0].quantity` are the form's `country`
            // and `quantity`.
            for e in &mut p.errors {
                let field = e.field.strip_prefix("destination.").unwrap_or(&e.field);
                let field = field.strip_prefix("items[0].").unwrap_or(field);
                e.field = field.to_owned();
            }
            preview.form = Form::refused(&p);
        }
    }
    preview
}
