//! Catalog persistence. Functions take a connection or transaction so they run inside
//! the transaction that also writes the outbox.

mod entities;

pub mod categories;
pub mod listing;
pub mod media;
pub mod products;
pub mod purchases;
pub mod reservations;
pub mod reviews;
pub mod stock_summary;
