//! The events payments follows, decoded.

use contracts::orders::{OrderAwaitingPayment, OrderCancelled};

contracts::decoded_events! {
    /// From orders: the orders that need a payment, and those that ended.
    pub(crate) enum FromOrders {
        AwaitingPayment(OrderAwaitingPayment),
        Cancelled(OrderCancelled),
    }
}
