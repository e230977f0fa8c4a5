//! Events published by the payments service. Each carries the payment's `version`, so
//! a consumer that sees them out of order keeps the newest.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

/// A payment was opened for an order: the customer pays at `checkout_url`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentRequested {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub provider: String,
    pub status: String,
    pub checkout_url: String,
    pub amount: i64,
    pub currency: String,
    pub version: i64,
}

impl Event for PaymentRequested {
    const TYPE: &'static str = "payments.payment.requested.v1";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}

/// The provider confirmed the money was taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub version: i64,
}

impl Event for PaymentSucceeded {
    const TYPE: &'static str = "payments.payment.succeeded.v1";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}

/// The provider refused the payment; `reason` is a stable code such as
/// `card_declined` or `insufficient_funds`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub reason: String,
    pub version: i64,
}

impl Event for PaymentFailed {
    const TYPE: &'static str = "payments.payment.failed.v1";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}

/// Money went back: `amount` in this refund, `refunded_total` so far; `status` is
/// `refunded` or `partially_refunded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub refund_id: Uuid,
    pub amount: i64,
    pub refunded_total: i64,
    pub currency: String,
    pub status: String,
    pub version: i64,
}

impl Event for PaymentRefunded {
    const TYPE: &'static str = "payments.payment.refunded.v1";
    fn aggregate_id(&self) -> String {
        self.payment_id.to_string()
    }
}
