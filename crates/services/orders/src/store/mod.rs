//! Orders persistence.

pub mod carts;
pub mod replicas;
