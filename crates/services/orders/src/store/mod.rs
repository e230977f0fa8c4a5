//! Orders persistence.

pub mod carts;
pub mod discounts;
pub mod orders;
pub mod replicas;
pub mod summary;
