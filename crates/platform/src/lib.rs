//! Mercato's kernel: the mechanisms every service shares and no business rule.
//!
//! Configuration, telemetry, the problem+json error envelope, database connections,
//! the event spine (outbox, relay, buses, inbox), the HTTP kernel, access tokens and
//! role extractors, rate limits and the clock. Services build on these instead of
//! growing their own copies, so both topologies behave the same everywhere.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod changes;
pub mod clock;
pub mod config;
pub mod context;
pub mod crypto;
pub mod db;
pub mod error;
pub mod events;
pub mod http;
pub mod page;
pub mod ratelimit;
pub mod schema;
pub mod service;
pub mod storage;
pub mod tasks;
pub mod telemetry;
pub mod turn;
pub mod unit;
pub mod validate;
pub mod work;

pub use error::{ApiError, ApiResult};
