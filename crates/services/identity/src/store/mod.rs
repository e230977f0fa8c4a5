//! Identity's persistence. Every function takes a connection or a transaction, so the
//! same code runs inside the transaction that also writes the outbox.

mod entities;

pub mod accounts;
pub mod addresses;
pub mod one_time;
pub mod sessions;
pub mod two_factor;
