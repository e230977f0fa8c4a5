//! Events published by the orders service.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlacedLine {
    pub product_id: Uuid,
    pub quantity: i64,
    /// Minor units, as charged.
    pub unit_price: i64,
}

/// A customer checked out: the order waits for its stock to be reserved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub lines: Vec<PlacedLine>,
    pub subtotal: i64,
    pub shipping: i64,
    pub total: i64,
    pub currency: String,
}

impl Event for OrderPlaced {
    const TYPE: &'static str = "orders.order.placed.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// An order will not be completed: the customer cancelled it or it was not paid in
/// time. Whatever stock it holds goes back on sale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub reason: String,
}

impl Event for OrderCancelled {
    const TYPE: &'static str = "orders.order.cancelled.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}
