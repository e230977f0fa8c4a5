//! What catalog tells other services, built from the stored product.

use contracts::catalog::{ProductSnapshot, StockChanged};

use crate::store::products::Product;

pub(crate) fn snapshot(p: &Product) -> ProductSnapshot {
    ProductSnapshot {
        product_id: p.id,
        slug: p.slug.clone(),
        name: p.name.clone(),
        price: p.price,
        currency: p.currency.clone(),
        weight_grams: p.weight_grams,
        length_mm: p.length_mm,
        width_mm: p.width_mm,
        height_mm: p.height_mm,
        active: p.active,
        version: p.version,
    }
}

pub(crate) fn stock_changed(p: &Product) -> StockChanged {
    StockChanged {
        product_id: p.id,
        on_hand: p.stock.on_hand,
        reserved: p.stock.reserved,
        available: p.stock.available(),
        version: p.stock_version,
    }
}
