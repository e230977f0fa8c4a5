//! What the templates show, prepared in Rust: formatted money and measures, image URLs,
//! stock labels and form errors. Templates only lay it out (and askama escapes it).

use askama::Template;
use serde::Deserialize;

use crate::api::{FieldError, Problem};
use crate::assets;
use crate::session::Visitor;

/// The frame of every page.
pub struct Layout {
    pub shop: String,
    pub css: String,
    pub htmx: String,
    pub signed_in: bool,
    /// The search box's words, kept on listing pages.
    pub query: String,
    /// Units in the signed-in visitor's cart, shown beside the header's cart link;
    /// `None` when nobody is signed in or the cart could not be read (a page never
    /// fails for its header).
    pub cart_count: Option<i64>,
}

/// The header's cart count: "3", and " items" for screen readers.
pub struct CartBadge {
    pub count: i64,
    pub unit: &'static str,
}

/// Only the count is read of the cart here.
#[derive(Deserialize)]
struct CartCount {
    item_count: i64,
}

impl Layout {
    /// The frame for `visitor`, with their cart's count when signed in.
    pub async fn for_visitor(web: &crate::WebState, visitor: &Visitor) -> Self {
        let count = if visitor.signed_in {
            web.api
                .get::<CartCount>(&visitor.caller, "/api/v1/cart")
                .await
                .ok()
                .map(|c| c.item_count)
        } else {
            None
        };
        Self::with_cart_count(web, visitor, count)
    }

    /// The frame when the page read the cart itself.
    pub fn with_cart_count(
        web: &crate::WebState,
        visitor: &Visitor,
        cart_count: Option<i64>,
    ) -> Self {
        Self {
            shop: web.shop.to_string(),
            css: assets::css_url(),
            htmx: assets::htmx_url(),
            signed_in: visitor.signed_in,
            query: String::new(),
            cart_count: cart_count.filter(|_| visitor.signed_in),
        }
    }

    /// Nothing is shown for an empty cart.
    pub fn cart_badge(&self) -> Option<CartBadge> {
        self.cart_count.filter(|n| *n > 0).map(|count| CartBadge {
            count,
            unit: if count == 1 { "item" } else { "items" },
        })
    }

    /// For pages rendered without a visitor (the 404 fallback).
    pub fn plain() -> Self {
        Self {
            shop: "Mercato".into(),
            css: assets::css_url(),
            htmx: assets::htmx_url(),
            signed_in: false,
            query: String::new(),
            cart_count: None,
        }
    }
}

/// A form's answer from the API: a message for the whole form and one per field, shown
/// beside the fields with the API's own words.
#[derive(Default)]
pub struct Form {
    pub problem: Option<String>,
    pub errors: Vec<FieldError>,
}

impl Form {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// The form after the API refused it.
    pub fn refused(problem: &Problem) -> Self {
        let general = match problem.status {
            422 if !problem.errors.is_empty() => {
                "Some fields need another look; each says what is wrong.".to_owned()
            }
            429 => format!(
                "Too many attempts. Please wait {} and try again.",
                wait(problem.retry_after.unwrap_or(60))
            ),
            503 => "The shop is busy right now. Please try again in a moment.".to_owned(),
            _ => sentence(&problem.detail),
        };
        Self {
            problem: Some(general),
            errors: problem.errors.clone(),
        }
    }
}

/// `s` as one value of a query string (`/a b` is `%2Fa+b`).
pub fn form_urlencoded(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// "30 seconds", "2 minutes".
fn wait(secs: u64) -> String {
    match secs {
        0..=1 => "a second".into(),
        2..=90 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// The API's detail ("the email or password is wrong") as a sentence.
pub fn sentence(detail: &str) -> String {
    let mut chars = detail.trim().chars();
    match chars.next() {
        Some(first) => {
            let mut s: String = first.to_uppercase().chain(chars).collect();
            if !s.ends_with('.') {
                s.push('.');
            }
            s
        }
        None => "Something went wrong. Please try again.".into(),
    }
}

/// An image's URLs as the API gives them.
#[derive(Clone, Debug, Deserialize)]
pub struct ImageUrls {
    pub thumb: String,
    pub medium: String,
    pub large: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ApiImage {
    #[serde(default)]
    pub alt: String,
    pub urls: ImageUrls,
}

/// An image as pages show it.
pub struct Image {
    pub thumb: String,
    pub medium: String,
    pub large: String,
    /// For Open Graph, which wants an absolute URL.
    pub large_absolute: String,
    pub alt: String,
}

impl Image {
    pub fn of(img: &ApiImage, name: &str, public_url: &str) -> Self {
        Self {
            thumb: img.urls.thumb.clone(),
            medium: img.urls.medium.clone(),
            large: img.urls.large.clone(),
            large_absolute: format!("{public_url}{}", img.urls.large),
            // A picture without its own text is described by what it shows.
            alt: if img.alt.trim().is_empty() {
                name.to_owned()
            } else {
                img.alt.clone()
            },
        }
    }
}

/// A product as the API gives it (the fields the pages use).
#[derive(Clone, Debug, Deserialize)]
pub struct ApiProduct {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub description: String,
    pub price: i64,
    pub currency: String,
    #[serde(default)]
    pub images: Vec<ApiImage>,
    #[serde(default)]
    pub in_stock: bool,
    #[serde(default)]
    pub available: i64,
    #[serde(default)]
    pub weight_grams: i64,
    #[serde(default)]
    pub length_mm: i64,
    #[serde(default)]
    pub width_mm: i64,
    #[serde(default)]
    pub height_mm: i64,
    #[serde(default)]
    pub units_sold: i64,
    pub rating: Option<ApiRating>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ApiRating {
    pub average: f64,
    pub count: i64,
}

/// How many are left, as a shopper reads it.
pub struct StockLabel {
    pub class: &'static str,
    pub text: String,
}

/// Fewer than this many left is worth saying.
const FEW_LEFT: i64 = 5;

impl StockLabel {
    pub fn of(p: &ApiProduct) -> Self {
        match (p.in_stock, p.available) {
            (false, _) | (_, 0) => Self {
                class: "out",
                text: "Out of stock".into(),
            },
            (true, n) if n < FEW_LEFT => Self {
                class: "low",
                text: format!("Only {n} left"),
            },
            _ => Self {
                class: "",
                text: "In stock".into(),
            },
        }
    }
}

/// A product in a grid.
pub struct ProductCard {
    pub url: String,
    pub name: String,
    pub price: String,
    pub image: Option<Image>,
    pub stock: Option<StockLabel>,
}

impl ProductCard {
    pub fn of(p: &ApiProduct, public_url: &str) -> Self {
        let stock = StockLabel::of(p);
        Self {
            url: format!("/products/{}", p.slug),
            name: p.name.clone(),
            price: contracts::money::display(p.price, &p.currency),
            image: p.images.first().map(|i| Image::of(i, &p.name, public_url)),
            // Grids mention stock only when it is short.
            stock: (!stock.class.is_empty()).then_some(stock),
        }
    }
}

/// Grams as people read them: `850 g`, `1.25 kg`.
pub fn weight(grams: i64) -> String {
    if grams < 1000 {
        format!("{grams} g")
    } else {
        let kg = grams as f64 / 1000.0;
        format!("{} kg", trim_decimals(kg))
    }
}

/// Millimetres as centimetres: `30 × 20 × 4.5 cm`.
pub fn size(l: i64, w: i64, h: i64) -> String {
    let cm = |mm: i64| trim_decimals(mm as f64 / 10.0);
    format!("{} × {} × {} cm", cm(l), cm(w), cm(h))
}

fn trim_decimals(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage {
    pub layout: Layout,
    pub title: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_read_naturally() {
        assert_eq!(weight(850), "850 g");
        assert_eq!(weight(1250), "1.25 kg");
        assert_eq!(weight(2000), "2 kg");
        assert_eq!(size(300, 200, 45), "30 × 20 × 4.5 cm");
    }

    #[test]
    fn a_refusal_reads_as_a_sentence_and_keeps_field_messages() {
        let p = Problem {
            status: 401,
            code: "invalid_credentials".into(),
            detail: "the email or password is wrong".into(),
            errors: vec![],
            retry_after: None,
        };
        assert_eq!(
            Form::refused(&p).problem.as_deref(),
            Some("The email or password is wrong.")
        );
        let limited = Problem {
            status: 429,
            retry_after: Some(120),
            ..p
        };
        assert!(
            Form::refused(&limited)
                .problem
                .is_some_and(|m| m.contains("2 minutes"))
        );
    }
}
