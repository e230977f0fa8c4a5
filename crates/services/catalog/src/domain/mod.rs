//! Catalog rules, free of I/O: what a valid product, slug or price is, how categories
//! form a tree, and how stock may move.

pub mod category;
pub mod product;
pub mod stock;
