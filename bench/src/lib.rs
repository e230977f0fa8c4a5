//! What the benchmarks share. Each load binary measures one kind of work against a
//! ceiling measured in the same run (`mercato-bench`: catalog reads against a bare axum
//! route; `mercato-bench-checkout`: checkouts against pgbench doing the same essential
//! writes), and `mercato-bench-idle` what the shop costs with no load at all; they
//! start the same real shop, fill it through the same staff API calls and keep
//! latencies the same way, so their figures read alike.
//!
//! - [`shop`]: a real Mercato in this process, on SQLite or PostgreSQL (+ NATS);
//! - [`api`]: signing staff in and creating resources through the public API;
//! - [`cpu`]: CPU time and peak memory over a measured window, from `/proc`;
//! - [`hops`]: the saga's per-hop delays over a window, from the shop's `/metrics`;
//! - [`load`]: the closed-loop GET load generator and the percentiles every report uses.

pub mod api;
pub mod cpu;
pub mod hops;
pub mod load;
mod settle;
pub mod shop;
