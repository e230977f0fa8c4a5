//! Wire types shared by Mercato's services: the event envelope, versioned event
//! payloads and the access-token claims.
//!
//! Everything here crosses a process boundary, so it only ever grows: a consumer ignores
//! fields it does not know, and a breaking change gets a new `.vN` event type instead of
//! an edit.

pub mod catalog;
pub mod claims;
pub mod envelope;
pub mod identity;
pub mod media;
pub mod money;
pub mod orders;
pub mod payments;
pub mod shipping;

pub use envelope::{Envelope, Event};
