//! Orders' rules, free of storage and HTTP.

pub mod cart;
pub mod discount;
pub mod order;
