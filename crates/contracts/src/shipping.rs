//! Shipping quotes, as shipping answers them over HTTP and to orders' typed client at
//! checkout.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What to quote: where to, and what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuoteRequest {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub postal_code: Option<String>,
    pub items: Vec<QuoteItem>,
}

/// A request body part, so it is strict about unknown fields (events are not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteItem {
    pub product_id: Uuid,
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: i64,
}

/// What a shipment weighs, each way, in grams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Weights {
    pub actual_grams: i64,
    pub volumetric_grams: i64,
    /// The larger of the two: what rates are looked up by.
    pub chargeable_grams: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EstimatedDays {
    pub min: i32,
    pub max: i32,
}

/// One way to ship, priced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShippingOption {
    /// What checkout sends back as `shipping_service`.
    pub service_code: String,
    pub carrier: String,
    pub name: String,
    /// Minor units of `currency`; 0 when the goods reach the free-shipping threshold.
    pub price: i64,
    pub currency: String,
    pub estimated_days: EstimatedDays,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Quote {
    pub zone: Option<String>,
    pub weight: Weights,
    /// Cheapest first; empty when nothing ships there (or nothing carries this weight).
    pub options: Vec<ShippingOption>,
}
