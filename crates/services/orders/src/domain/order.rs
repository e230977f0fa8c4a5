//! An order's life: its statuses and which changes are legal.

/// `pending` → `awaiting_payment` → `paid` → `processing` → `shipped` → `delivered`;
/// side exits `rejected`, `cancelled`, `payment_failed`, `refunded`.
pub const PENDING: &str = "pending";
pub const AWAITING_PAYMENT: &str = "awaiting_payment";
pub const REJECTED: &str = "rejected";
pub const CANCELLED: &str = "cancelled";

/// Statuses a customer may still cancel from (before payment; paid orders will be
/// refunded once payments exist).
pub const CANCELLABLE: [&str; 2] = [PENDING, AWAITING_PAYMENT];
