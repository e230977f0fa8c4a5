//! How a product looks over HTTP: the public view, and the stock counts staff see.

use chrono::{DateTime, Utc};
use contracts::media::ImageSummary;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::products::Product;

/// Stock counts, for staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// The stock's own version: stock edits send it back.
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rating {
    /// Mean of the visible reviews, 0 when there are none.
    pub average: f64,
    pub count: i64,
}

/// Where an image's WebP variants are served.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageUrls {
    /// 160 px on the longer side.
    pub thumb: String,
    /// 640 px.
    pub medium: String,
    /// 1600 px.
    pub large: String,
    /// Full size.
    pub original: String,
}

/// A processed image; the first of a product's images is its primary one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub id: Uuid,
    pub alt: String,
    pub width: u32,
    pub height: u32,
    pub urls: ImageUrls,
}

pub(crate) fn image_view(i: ImageSummary) -> ImageView {
    let url = |variant: &str| contracts::media::variant_url(i.image_id, variant);
    ImageView {
        urls: ImageUrls {
            thumb: url("thumb"),
            medium: url("medium"),
            large: url("large"),
            original: url("original"),
        },
        id: i.image_id,
        alt: i.alt,
        width: i.width,
        height: i.height,
    }
}

/// A product as the shop shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// Minor units of `currency`.
    pub price: i64,
    pub currency: String,
    pub weight_grams: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub category_ids: Vec<Uuid>,
    pub active: bool,
    pub in_stock: bool,
    pub available: i64,
    /// Present for staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<StockView>,
    pub images: Vec<ImageView>,
    pub rating: Rating,
    pub units_sold: i64,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

pub(crate) fn view(p: Product, staff: bool) -> ProductView {
    let available = p.stock.available();
    ProductView {
        id: p.id,
        slug: p.slug,
        name: p.name,
        description: p.description,
        price: p.price,
        currency: p.currency,
        weight_grams: p.weight_grams,
        length_mm: p.length_mm,
        width_mm: p.width_mm,
        height_mm: p.height_mm,
        category_ids: p.category_ids,
        active: p.active,
        in_stock: available > 0,
        available,
        stock: staff.then_some(StockView {
            on_hand: p.stock.on_hand,
            reserved: p.stock.reserved,
            available,
            version: p.stock_version,
        }),
        images: p.images.into_iter().map(image_view).collect(),
        rating: Rating {
            average: if p.rating_count > 0 {
                p.rating_sum as f64 / p.rating_count as f64
            } else {
                0.0
            },
            count: p.rating_count,
        },
        units_sold: p.units_sold,
        created_at: p.created_at,
        version: p.version,
    }
}
