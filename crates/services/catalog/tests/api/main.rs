//! Black-box HTTP tests of the catalog service: each file covers one resource, and
//! every test runs on both back-ends (embedded, and PostgreSQL + NATS + Redis).

mod helpers;

mod caching;
mod categories;
mod concurrency;
mod listing;
mod own_reviews;
mod products;
mod review_queue;
mod reviews;
mod search;
mod stock;
mod stock_summary;
