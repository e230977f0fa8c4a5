//! The media projection: each product's processed images and the home banners, kept as
//! the newest version media published (an older one arriving late is ignored).

use std::collections::HashMap;

use contracts::media::{BannerSummary, Gallery, ImageSummary};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};
use uuid::Uuid;

use super::products::Product;

fn decode<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> Result<T, DbErr> {
    serde_json::from_value(json).map_err(|e| DbErr::Custom(format!("stored media JSON: {e}")))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, DbErr> {
    serde_json::to_value(value).map_err(|e| DbErr::Custom(e.to_string()))
}

/// Fills in each product's images.
pub async fn attach<C: ConnectionTrait>(db: &C, products: &mut [Product]) -> Result<(), DbErr> {
    if products.is_empty() {
        return Ok(());
    }
    let placeholders = platform::db::placeholders(1, products.len());
    let values: Vec<Value> = products.iter().map(|p| p.id.into()).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT product_id, images FROM product_images WHERE product_id IN ({})",
                placeholders
            ),
            values,
        ))
        .await?;
    let mut by_product: HashMap<Uuid, Vec<ImageSummary>> = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get("", "product_id")?;
        by_product.insert(id, decode(row.try_get("", "images")?)?);
    }
    for p in products {
        p.images = by_product.remove(&p.id).unwrap_or_default();
    }
    Ok(())
}

/// Stores a gallery unless a newer one is held; `true` when it was stored.
pub async fn record_gallery<C: ConnectionTrait>(db: &C, gallery: &Gallery) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO product_images (product_id, version, images) VALUES ($1, $2, $3) \
             ON CONFLICT (product_id) DO UPDATE SET version = excluded.version, images = excluded.images \
             WHERE product_images.version < excluded.version",
            [
                gallery.product_id.into(),
                gallery.version.into(),
                encode(&gallery.images)?.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// The banners customers see, in order.
pub async fn banners<C: ConnectionTrait>(db: &C) -> Result<Vec<BannerSummary>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT banners FROM home_banners WHERE id = 1",
        ))
        .await?;
    match row {
        Some(r) => decode(r.try_get("", "banners")?),
        None => Ok(Vec::new()),
    }
}

/// Stores the banner list unless a newer one is held; `true` when it was stored.
pub async fn record_banners<C: ConnectionTrait>(
    db: &C,
    version: i64,
    banners: &[BannerSummary],
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE home_banners SET version = $1, banners = $2 WHERE id = 1 AND version < $1",
            [version.into(), encode(&banners)?.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}
