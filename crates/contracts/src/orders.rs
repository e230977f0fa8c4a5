//! Events published by the orders service.
//!
//! The events a customer hears about (placed, paid, shipped, delivered, cancelled,
//! refunded) carry the `recipient` and what the mail needs, so notifications never has
//! to ask orders.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlacedLine {
    pub product_id: Uuid,
    /// As it was called when bought.
    #[serde(default)]
    pub name: String,
    pub quantity: i64,
    /// Minor units, as charged.
    pub unit_price: i64,
}

/// Who an order's mails go to, as the customer was known when the event was written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub email: String,
    pub name: String,
}

/// A customer checked out: the order waits for its stock to be reserved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub lines: Vec<PlacedLine>,
    pub subtotal: i64,
    /// Taken off the subtotal and shipping by the discount code, if any.
    #[serde(default)]
    pub discount: i64,
    #[serde(default)]
    pub discount_code: Option<String>,
    pub shipping: i64,
    pub total: i64,
    pub currency: String,
    /// Absent from events written before mails were sent for orders.
    #[serde(default)]
    pub recipient: Option<Recipient>,
}

impl Event for OrderPlaced {
    const TYPE: &'static str = "orders.order.placed.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// Every line of an order is reserved: payments opens a payment for `amount`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderAwaitingPayment {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    /// The order's total, minor units: what the payment must collect, no more, no less.
    pub amount: i64,
    pub currency: String,
}

impl Event for OrderAwaitingPayment {
    const TYPE: &'static str = "orders.order.awaiting_payment.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// The order's payment succeeded: its reservation becomes a sale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderPaid {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub lines: Vec<PlacedLine>,
    pub total: i64,
    pub currency: String,
    pub recipient: Recipient,
}

impl Event for OrderPaid {
    const TYPE: &'static str = "orders.order.paid.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// The order's payment failed (declined, insufficient funds): the order ends and its
/// stock goes back on sale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderPaymentFailed {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub reason: String,
}

impl Event for OrderPaymentFailed {
    const TYPE: &'static str = "orders.order.payment_failed.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// An order will not be completed: the customer or staff cancelled it, or it was not
/// paid in time. Whatever stock it holds (or sold) goes back on sale; when it was paid,
/// payments refunds it in full.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub reason: String,
    /// Whether the order had been paid (so a refund follows).
    #[serde(default)]
    pub was_paid: bool,
    #[serde(default)]
    pub recipient: Option<Recipient>,
}

impl Event for OrderCancelled {
    const TYPE: &'static str = "orders.order.cancelled.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// Staff handed the order to the carrier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderShipped {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
    pub recipient: Recipient,
}

impl Event for OrderShipped {
    const TYPE: &'static str = "orders.order.shipped.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// The order reached the customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderDelivered {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub recipient: Recipient,
}

impl Event for OrderDelivered {
    const TYPE: &'static str = "orders.order.delivered.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// Money went back to the customer: `amount` now, `refunded_total` so far; `full` when
/// everything paid has been returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRefunded {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub amount: i64,
    pub refunded_total: i64,
    pub currency: String,
    pub full: bool,
    pub recipient: Recipient,
}

impl Event for OrderRefunded {
    const TYPE: &'static str = "orders.order.refunded.v1";
    fn aggregate_id(&self) -> String {
        self.order_id.to_string()
    }
}
