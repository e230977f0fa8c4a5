//! The events orders follows, decoded: each consumer matches on its enum.

use contracts::catalog::{
    ProductArchived, ProductCreated, ProductUpdated, StockChanged, StockRejected, StockReserved,
};
use contracts::identity::{
    AddressDeleted, AddressSaved, CustomerRegistered, CustomerUpdated, CustomerVerified,
};
use contracts::payments::{PaymentFailed, PaymentRefunded, PaymentRequested, PaymentSucceeded};

contracts::decoded_events! {
    /// From catalog: the products orders keeps replicas of, and its reservation answers.
    pub(crate) enum FromCatalog {
        ProductCreated(ProductCreated),
        ProductUpdated(ProductUpdated),
        ProductArchived(ProductArchived),
        StockChanged(StockChanged),
        StockReserved(StockReserved),
        StockRejected(StockRejected),
    }
}

contracts::decoded_events! {
    /// From payments: each order's payment and its outcome.
    pub(crate) enum FromPayments {
        Requested(PaymentRequested),
        Succeeded(PaymentSucceeded),
        Failed(PaymentFailed),
        Refunded(PaymentRefunded),
    }
}

contracts::decoded_events! {
    /// From identity: the customers and addresses orders keeps replicas of.
    pub(crate) enum FromIdentity {
        Registered(CustomerRegistered),
        Verified(CustomerVerified),
        Updated(CustomerUpdated),
        AddressSaved(AddressSaved),
        AddressDeleted(AddressDeleted),
    }
}

impl FromPayments {
    /// The order the payment event is about.
    pub(crate) fn order_id(&self) -> uuid::Uuid {
        match self {
            Self::Requested(e) => e.order_id,
            Self::Succeeded(e) => e.order_id,
            Self::Failed(e) => e.order_id,
            Self::Refunded(e) => e.order_id,
        }
    }
}
