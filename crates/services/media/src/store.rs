//! The media database: images with their owners and status, the product projection,
//! and banners.

use chrono::{DateTime, Utc};
use contracts::media::{BannerSummary, Gallery, ImageSummary};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, Statement,
};
use uuid::Uuid;

pub mod entities {
    pub mod image {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "images")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub owner_kind: String,
            pub owner_id: Uuid,
            pub position: i32,
            pub alt: String,
            pub status: String,
            pub format: String,
            pub bytes: i64,
            pub width: i32,
            pub height: i32,
            pub variants: Option<Json>,
            pub created_at: DateTimeUtc,
            pub processed_at: Option<DateTimeUtc>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod banner {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "banners")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub title: String,
            pub link: String,
            pub position: i32,
            pub image_id: Uuid,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            pub version: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }
}

pub use entities::banner::Model as Banner;
pub use entities::image::Model as Image;
use entities::{banner, image};

pub const PROCESSING: &str = "processing";
pub const READY: &str = "ready";
pub const FAILED: &str = "failed";

/// Who an image belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Product(Uuid),
    Banner(Uuid),
}

impl Owner {
    pub fn of(image: &Image) -> Self {
        if image.owner_kind == "banner" {
            Self::Banner(image.owner_id)
        } else {
            Self::Product(image.owner_id)
        }
    }

    fn parts(self) -> (&'static str, Uuid) {
        match self {
            Self::Product(id) => ("product", id),
            Self::Banner(id) => ("banner", id),
        }
    }
}

fn summary(image: &Image) -> ImageSummary {
    ImageSummary {
        image_id: image.id,
        alt: image.alt.clone(),
        width: u32::try_from(image.width).unwrap_or(0),
        height: u32::try_from(image.height).unwrap_or(0),
    }
}

// --- the product projection -------------------------------------------------------

/// Whether media has heard of the product, and if so whether it takes images.
pub async fn product_active<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<bool>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT active FROM products WHERE id = $1",
            [id.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<bool>("", "active")).transpose()
}

/// Records what a catalog event says of a product, unless media already holds a newer
/// version (events may arrive out of order after a redelivery).
pub async fn record_product<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    active: bool,
    version: i64,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO products (id, active, catalog_version, gallery_version) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (id) DO UPDATE SET active = excluded.active, catalog_version = excluded.catalog_version \
         WHERE products.catalog_version < excluded.catalog_version",
        [id.into(), active.into(), version.into()],
    ))
    .await?;
    Ok(())
}

/// Bumps a product's gallery version and returns the new one. On PostgreSQL the update
/// also locks the product's row, which serialises concurrent changes to one gallery.
pub async fn bump_gallery<C: ConnectionTrait>(db: &C, product_id: Uuid) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE products SET gallery_version = gallery_version + 1 WHERE id = $1 RETURNING gallery_version",
            [product_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("product {product_id}")))?;
    row.try_get("", "gallery_version")
}

/// A product's processed images in order, as of `version`.
pub async fn gallery<C: ConnectionTrait>(
    db: &C,
    product_id: Uuid,
    version: i64,
) -> Result<Gallery, DbErr> {
    let images = images_of(db, product_id).await?;
    Ok(Gallery {
        product_id,
        version,
        images: images
            .iter()
            .filter(|i| i.status == READY)
            .map(summary)
            .collect(),
    })
}

// --- images --------------------------------------------------------------------------

/// Every image of an owner, processed or not, in display order.
pub async fn images_of<C: ConnectionTrait>(db: &C, owner_id: Uuid) -> Result<Vec<Image>, DbErr> {
    image::Entity::find()
        .filter(image::Column::OwnerId.eq(owner_id))
        .order_by_asc(image::Column::Position)
        .order_by_asc(image::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn get_image<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Image>, DbErr> {
    image::Entity::find_by_id(id).one(db).await
}

/// What an accepted upload is stored as.
pub struct NewImage {
    pub id: Uuid,
    pub owner: Owner,
    pub alt: String,
    pub format: &'static str,
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
}

/// Adds an image after the owner's others, still processing.
pub async fn insert_image<C: ConnectionTrait>(
    db: &C,
    new: NewImage,
    now: DateTime<Utc>,
) -> Result<Image, DbErr> {
    let (kind, owner_id) = new.owner.parts();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT COALESCE(MAX(position) + 1, 0) AS next FROM images WHERE owner_id = $1",
            [owner_id.into()],
        ))
        .await?;
    let position: i32 = match row {
        Some(r) => r.try_get("", "next")?,
        None => 0,
    };
    image::ActiveModel {
        id: Set(new.id),
        owner_kind: Set(kind.into()),
        owner_id: Set(owner_id),
        position: Set(position),
        alt: Set(new.alt),
        status: Set(PROCESSING.into()),
        format: Set(new.format.into()),
        bytes: Set(i64::try_from(new.bytes).unwrap_or(i64::MAX)),
        width: Set(i32::try_from(new.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(new.height).unwrap_or(i32::MAX)),
        variants: Set(None),
        created_at: Set(now),
        processed_at: Set(None),
    }
    .insert(db)
    .await
}

/// Records the variants of an image still processing; `false` when it is not (already
/// done by an earlier delivery, or deleted meanwhile).
pub async fn finish_processing<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    status: &str,
    variants: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE images SET status = $1, variants = $2, processed_at = $3 WHERE id = $4 AND status = $5",
            [
                status.into(),
                variants.into(),
                now.into(),
                id.into(),
                PROCESSING.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn delete_image<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    image::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Puts an owner's images in the given order (the caller checked it names each once).
pub async fn set_positions<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<(), DbErr> {
    for (position, id) in ids.iter().enumerate() {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE images SET position = $1 WHERE id = $2",
            [
                i32::try_from(position).unwrap_or(i32::MAX).into(),
                (*id).into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

// --- banners -------------------------------------------------------------------------

pub async fn insert_banner<C: ConnectionTrait>(db: &C, b: Banner) -> Result<Banner, DbErr> {
    banner::ActiveModel {
        id: Set(b.id),
        title: Set(b.title),
        link: Set(b.link),
        position: Set(b.position),
        image_id: Set(b.image_id),
        created_at: Set(b.created_at),
        updated_at: Set(b.updated_at),
        version: Set(b.version),
    }
    .insert(db)
    .await
}

pub async fn get_banner<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Banner>, DbErr> {
    banner::Entity::find_by_id(id).one(db).await
}

/// Writes an edited banner if it is still at `expected`; `false` when someone was first.
pub async fn update_banner<C: ConnectionTrait>(
    db: &C,
    b: &Banner,
    expected: i64,
) -> Result<bool, DbErr> {
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE banners SET title = $1, link = $2, position = $3, updated_at = $4, version = $5 \
             WHERE id = $6 AND version = $7",
            [
                b.title.clone().into(),
                b.link.clone().into(),
                b.position.into(),
                b.updated_at.into(),
                b.version.into(),
                b.id.into(),
                expected.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn delete_banner<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    banner::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Every banner with its image, in display order.
pub async fn banners<C: ConnectionTrait>(db: &C) -> Result<Vec<(Banner, Option<Image>)>, DbErr> {
    let banners = banner::Entity::find()
        .order_by_asc(banner::Column::Position)
        .order_by_asc(banner::Column::CreatedAt)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = banners.iter().map(|b| b.image_id).collect();
    let images = image::Entity::find()
        .filter(image::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(banners
        .into_iter()
        .map(|b| {
            let img = images.iter().find(|i| i.id == b.image_id).cloned();
            (b, img)
        })
        .collect())
}

/// Bumps the banner list's version and returns what customers now see.
pub async fn banner_list_changed<C: ConnectionTrait>(
    db: &C,
) -> Result<(i64, Vec<BannerSummary>), DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE banner_list SET version = version + 1 WHERE id = 1 RETURNING version",
            [],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("banner_list".into()))?;
    let version: i64 = row.try_get("", "version")?;
    let visible = banners(db)
        .await?
        .into_iter()
        .filter_map(|(b, img)| {
            let img = img.filter(|i| i.status == READY)?;
            Some(BannerSummary {
                banner_id: b.id,
                title: b.title,
                link: b.link,
                position: b.position,
                image: summary(&img),
            })
        })
        .collect();
    Ok((version, visible))
}
