//! Catalog rules, free of I/O: what a valid product, slug or price is, how categories
//! form a tree, how stock may move, and what a review is and adds to a rating.

pub mod category;
pub mod product;
pub mod review;
pub mod stock;
