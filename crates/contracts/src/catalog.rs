//! Events published by the catalog service.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

/// What other services keep of a product (orders' replica, search, caches). Carried
/// whole by every product event so a consumer never needs to ask.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductSnapshot {
    pub product_id: Uuid,
    pub slug: String,
    pub name: String,
    pub price: i64,
    pub currency: String,
    pub weight_grams: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub active: bool,
    /// The categories the product is filed in (not their parents). Absent from events
    /// written before discount codes could be limited to categories.
    #[serde(default)]
    pub category_ids: Vec<Uuid>,
    /// The product's version; a consumer ignores a snapshot older than what it holds.
    pub version: i64,
}

macro_rules! product_event {
    ($ty:ident, $name:literal) => {
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $ty {
            #[serde(flatten)]
            pub product: ProductSnapshot,
        }
        impl Event for $ty {
            const TYPE: &'static str = $name;
            fn aggregate_id(&self) -> String {
                self.product.product_id.to_string()
            }
        }
    };
}

product_event!(ProductCreated, "catalog.product.created.v1");
product_event!(ProductUpdated, "catalog.product.updated.v1");
product_event!(ProductArchived, "catalog.product.archived.v1");

crate::decoded_events! {
    /// The three product events, which consumers that keep a replica treat alike.
    pub enum ProductEvent {
        Created(ProductCreated),
        Updated(ProductUpdated),
        Archived(ProductArchived),
    }
}

/// The product snapshot an envelope carries, when it is one of the three product events
/// (created, updated, archived).
pub fn product_snapshot(
    envelope: &crate::Envelope,
) -> Result<Option<ProductSnapshot>, serde_json::Error> {
    Ok(ProductEvent::decode(envelope)?.map(|event| match event {
        ProductEvent::Created(e) => e.product,
        ProductEvent::Updated(e) => e.product,
        ProductEvent::Archived(e) => e.product,
    }))
}

/// A product's stock level changed (a staff edit, a reservation, a sale).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StockChanged {
    pub product_id: Uuid,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// The stock record's version.
    pub version: i64,
}

impl Event for StockChanged {
    const TYPE: &'static str = "catalog.stock.changed.v1";
    fn aggregate_id(&self) -> String {
        self.product_id.to_string()
    }
}

/// Every line of an order is reserved: the order may ask for payment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StockReserved {
    pub order_id: Uuid,
    /// Each reserved product's stock level after the reservation, in place of a
    /// `StockChanged` per line: one event per reservation instead of one per line plus
    /// one. Empty in events written before it was carried (those came with their own
    /// `StockChanged`).
    #[serde(default)]
    pub levels: Vec<StockChanged>,
}

impl Event for StockReserved {
    const TYPE: &'static str = "catalog.stock.reserved.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// Some line of an order could not be reserved, so none was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StockRejected {
    pub order_id: Uuid,
    /// The products short of stock (or no longer sold).
    pub product_ids: Vec<Uuid>,
}

impl Event for StockRejected {
    const TYPE: &'static str = "catalog.stock.rejected.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}
