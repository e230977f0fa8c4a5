//! What catalog tells other services, built from the stored product, and the events it
//! follows, decoded: each consumer matches on its enum.

use contracts::catalog::{
    ProductArchived, ProductCreated, ProductSnapshot, ProductUpdated, StockChanged, StockReserved,
};
use contracts::media::{BannersChanged, GalleryReordered, ImageDeleted, ImageProcessed};
use contracts::orders::{OrderCancelled, OrderPaid, OrderPaymentFailed, OrderPlaced};

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
        category_ids: p.category_ids.clone(),
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

contracts::decoded_events! {
    /// From orders: what the checkout saga asks of the stock.
    pub(crate) enum FromOrders {
        Placed(OrderPlaced),
        Paid(OrderPaid),
        PaymentFailed(OrderPaymentFailed),
        Cancelled(OrderCancelled),
    }
}

contracts::decoded_events! {
    /// From media: each product's gallery and the home page's banners.
    pub(crate) enum FromMedia {
        ImageProcessed(ImageProcessed),
        ImageDeleted(ImageDeleted),
        GalleryReordered(GalleryReordered),
        BannersChanged(BannersChanged),
    }
}

contracts::decoded_events! {
    /// Catalog's own, as the cache's delayed second pass reads them.
    pub(crate) enum Own {
        ProductCreated(ProductCreated),
        ProductUpdated(ProductUpdated),
        ProductArchived(ProductArchived),
        StockChanged(StockChanged),
        StockReserved(StockReserved),
    }
}
