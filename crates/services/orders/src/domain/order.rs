//! An order's life: its statuses and which changes are legal.

/// `pending` → `awaiting_payment` → `paid` → `processing` → `shipped` → `delivered`;
/// side exits `rejected`, `cancelled`, `payment_failed`, `refunded`.
pub const PENDING: &str = "pending";
pub const AWAITING_PAYMENT: &str = "awaiting_payment";
pub const PAID: &str = "paid";
pub const PROCESSING: &str = "processing";
pub const SHIPPED: &str = "shipped";
pub const DELIVERED: &str = "delivered";
pub const REJECTED: &str = "rejected";
pub const CANCELLED: &str = "cancelled";
pub const PAYMENT_FAILED: &str = "payment_failed";
pub const REFUNDED: &str = "refunded";

pub const ALL: [&str; 10] = [
    PENDING,
    AWAITING_PAYMENT,
    PAID,
    PROCESSING,
    SHIPPED,
    DELIVERED,
    REJECTED,
    CANCELLED,
    PAYMENT_FAILED,
    REFUNDED,
];

/// Statuses an order can still be cancelled from: anything before it leaves the
/// warehouse.
pub const CANCELLABLE: [&str; 4] = [PENDING, AWAITING_PAYMENT, PAID, PROCESSING];

/// Whether money has been taken for an order in `status` and not given back, so
/// cancelling it means a refund.
pub fn is_paid(status: &str) -> bool {
    [PAID, PROCESSING, SHIPPED, DELIVERED].contains(&status)
}

/// Whether staff may move an order from `from` to `to`. Staff move paid orders through
/// fulfilment and may cancel before shipping; payment outcomes, rejection and refunds
/// come only from the saga.
pub fn staff_may(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        (PAID, PROCESSING) | (PAID | PROCESSING, SHIPPED) | (SHIPPED, DELIVERED)
    ) || (to == CANCELLED && CANCELLABLE.contains(&from))
}

/// Statuses staff may set through the status endpoint.
pub const STAFF_TARGETS: [&str; 4] = [PROCESSING, SHIPPED, DELIVERED, CANCELLED];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fulfilment_moves_forward_only() {
        assert!(staff_may(PAID, PROCESSING));
        assert!(staff_may(PROCESSING, SHIPPED));
        assert!(staff_may(PAID, SHIPPED));
        assert!(staff_may(SHIPPED, DELIVERED));
        assert!(!staff_may(SHIPPED, PROCESSING));
        assert!(!staff_may(DELIVERED, SHIPPED));
        assert!(!staff_may(PAID, DELIVERED));
        assert!(!staff_may(PROCESSING, PROCESSING));
    }

    #[test]
    fn only_the_saga_decides_payment() {
        for from in ALL {
            assert!(!staff_may(from, PAID), "{from} -> paid");
            assert!(!staff_may(from, REFUNDED), "{from} -> refunded");
            assert!(!staff_may(from, PAYMENT_FAILED), "{from} -> payment_failed");
        }
        assert!(!staff_may(AWAITING_PAYMENT, PROCESSING));
        assert!(!staff_may(PENDING, SHIPPED));
    }

    #[test]
    fn cancelling_stops_at_the_door() {
        for from in CANCELLABLE {
            assert!(staff_may(from, CANCELLED));
        }
        for from in [
            SHIPPED,
            DELIVERED,
            REJECTED,
            CANCELLED,
            PAYMENT_FAILED,
            REFUNDED,
        ] {
            assert!(!staff_may(from, CANCELLED), "{from}");
        }
        assert!(is_paid(PROCESSING) && !is_paid(AWAITING_PAYMENT) && !is_paid(CANCELLED));
    }
}
