//! Composition of Mercato's services into a process. The binary (`main.rs`) parses the
//! command line and calls into here; the test kit builds apps the same way, so tests
//! run exactly what `mercato serve` runs.

pub mod allocator;
pub mod app;
pub mod openapi;
pub mod routes;

pub use app::{App, AppOptions, ServiceName};
