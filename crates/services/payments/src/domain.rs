//! A payment's life. `requires_payment` → `processing` → `succeeded` or `failed`;
//! a succeeded payment may be `partially_refunded` and then `refunded`, and so is a
//! failed one whose provider took another amount than the order's total (all of it goes
//! back). A payment whose order ended before it was paid is `canceled`. Providers deliver their events late,
//! twice or out of order: a transition that does not apply to the current status is
//! ignored, never forced.

pub const REQUIRES_PAYMENT: &str = "requires_payment";
pub const PROCESSING: &str = "processing";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const PARTIALLY_REFUNDED: &str = "partially_refunded";
pub const REFUNDED: &str = "refunded";
pub const CANCELED: &str = "canceled";

pub const ALL: [&str; 7] = [
    REQUIRES_PAYMENT,
    PROCESSING,
    SUCCEEDED,
    FAILED,
    PARTIALLY_REFUNDED,
    REFUNDED,
    CANCELED,
];

/// What a provider says happened to a payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The provider is working on it (the card was taken, the bank not yet asked).
    Processing,
    /// The money was taken.
    Succeeded,
    /// The provider refused; a stable reason code.
    Failed(String),
}

/// The status a payment in `status` moves to on `outcome`; `None` when the outcome is
/// stale or does not apply (it is then recorded and ignored).
pub fn next_status(status: &str, outcome: &Outcome) -> Option<&'static str> {
    match (status, outcome) {
        (REQUIRES_PAYMENT, Outcome::Processing) => Some(PROCESSING),
        // A success is never lost: even when the order was given up meanwhile, the money
        // was taken and must be recorded (and is then refunded).
        (REQUIRES_PAYMENT | PROCESSING | CANCELED, Outcome::Succeeded) => Some(SUCCEEDED),
        (REQUIRES_PAYMENT | PROCESSING, Outcome::Failed(_)) => Some(FAILED),
        _ => None,
    }
}

/// Whether money taken in `status` can still be given back.
pub fn refundable(status: &str) -> bool {
    status == SUCCEEDED || status == PARTIALLY_REFUNDED
}

/// The status after refunds totalling `refunded` of `captured`.
pub fn after_refund(captured: i64, refunded: i64) -> &'static str {
    if refunded >= captured {
        REFUNDED
    } else {
        PARTIALLY_REFUNDED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_moves_forward() {
        assert_eq!(
            next_status(REQUIRES_PAYMENT, &Outcome::Processing),
            Some(PROCESSING)
        );
        assert_eq!(
            next_status(PROCESSING, &Outcome::Succeeded),
            Some(SUCCEEDED)
        );
        assert_eq!(
            next_status(PROCESSING, &Outcome::Failed("card_declined".into())),
            Some(FAILED)
        );
    }

    #[test]
    fn a_late_processing_event_changes_nothing() {
        for status in [SUCCEEDED, FAILED, PARTIALLY_REFUNDED, REFUNDED, PROCESSING] {
            assert_eq!(next_status(status, &Outcome::Processing), None, "{status}");
        }
    }

    #[test]
    fn a_settled_payment_stays_settled() {
        for status in [SUCCEEDED, FAILED, PARTIALLY_REFUNDED, REFUNDED] {
            assert_eq!(next_status(status, &Outcome::Succeeded), None, "{status}");
            assert_eq!(
                next_status(status, &Outcome::Failed("x".into())),
                None,
                "{status}"
            );
        }
    }

    #[test]
    fn money_taken_after_the_order_ended_is_still_recorded() {
        assert_eq!(next_status(CANCELED, &Outcome::Succeeded), Some(SUCCEEDED));
        assert_eq!(next_status(CANCELED, &Outcome::Failed("x".into())), None);
    }

    #[test]
    fn refunds_only_from_taken_money() {
        let refundable_ones: Vec<_> = ALL.into_iter().filter(|s| refundable(s)).collect();
        assert_eq!(refundable_ones, [SUCCEEDED, PARTIALLY_REFUNDED]);
        assert_eq!(after_refund(1000, 400), PARTIALLY_REFUNDED);
        assert_eq!(after_refund(1000, 1000), REFUNDED);
    }
}
