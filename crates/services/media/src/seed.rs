//! Pictures for `mercato seed demo`: a drawn "product shot" per demo product in the
//! colour its name promises, and a few home-page banners. They enter the same pipeline
//! as an upload (source blob, image row, `media.image.uploaded.v1`), so the WebP
//! variants are rendered by the running shop. Owners that already have pictures are
//! skipped, so a second run changes nothing.

use std::io::Cursor;

use bytes::Bytes;
use contracts::media::ImageUploaded;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use platform::clock::Clock;
use platform::config::Settings;
use platform::unit::UnitOfWork;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::pipeline::source_path;
use crate::store::{self, Banner, NewImage, Owner};

/// Large enough for three distinct sizes (160, 640 and 800 px), small enough to render
/// two hundred quickly.
const SHOT: u32 = 800;
const BANNER: (u32, u32) = (1600, 500);

pub struct DemoProduct {
    pub id: Uuid,
    pub name: String,
    pub rgb: [u8; 3],
}

pub struct DemoBanner {
    pub title: String,
    pub link: String,
    pub rgb: [u8; 3],
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub images_created: usize,
    pub banners_created: usize,
}

pub async fn demo(
    settings: &Settings,
    db: &DatabaseConnection,
    clock: &dyn Clock,
    products: &[DemoProduct],
    banners: &[DemoBanner],
) -> anyhow::Result<SeedReport> {
    let blobs = crate::blob_store(settings)?;
    let mut report = SeedReport::default();
    for (n, p) in products.iter().enumerate() {
        // Catalog's own event says the same once the shop runs; version 1 never
        // overrides anything newer.
        store::record_product(db, p.id, true, 1).await?;
        if !store::images_of(db, p.id).await?.is_empty() {
            continue;
        }
        let rgb = p.rgb;
        let png = tokio::task::spawn_blocking(move || product_shot(rgb, n)).await??;
        let new = NewImage {
            id: Uuid::now_v7(),
            owner: Owner::Product(p.id),
            alt: p.name.clone(),
            format: "png",
            bytes: png.len(),
            width: SHOT,
            height: SHOT,
        };
        blobs.put(&source_path(new.id), png).await?;
        let work = UnitOfWork::begin(db, clock.now(), None).await?;
        let image_id = new.id;
        store::insert_image(&work, new, work.now()).await?;
        work.emit(&ImageUploaded { image_id }, 1).await?;
        work.commit().await?;
        report.images_created += 1;
    }

    let existing: Vec<String> = store::banners(db)
        .await?
        .into_iter()
        .map(|(b, _)| b.title)
        .collect();
    for (position, b) in banners.iter().enumerate() {
        if existing.contains(&b.title) {
            continue;
        }
        let rgb = b.rgb;
        let png = tokio::task::spawn_blocking(move || banner_picture(rgb)).await??;
        let (banner_id, image_id) = (Uuid::now_v7(), Uuid::now_v7());
        let new = NewImage {
            id: image_id,
            owner: Owner::Banner(banner_id),
            alt: b.title.clone(),
            format: "png",
            bytes: png.len(),
            width: BANNER.0,
            height: BANNER.1,
        };
        blobs.put(&source_path(image_id), png).await?;
        let work = UnitOfWork::begin(db, clock.now(), None).await?;
        let now = work.now();
        store::insert_image(&work, new, now).await?;
        let banner = Banner {
            id: banner_id,
            title: b.title.clone(),
            link: b.link.clone(),
            position: i32::try_from(position).unwrap_or(i32::MAX),
            image_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        store::insert_banner(&work, banner).await?;
        work.emit(&ImageUploaded { image_id }, 1).await?;
        work.commit().await?;
        report.banners_created += 1;
    }
    Ok(report)
}

fn png_bytes(image: RgbImage) -> anyhow::Result<Bytes> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image).write_to(&mut out, ImageFormat::Png)?;
    Ok(Bytes::from(out.into_inner()))
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0);
    Rgb(std::array::from_fn(|i| {
        (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t) as u8
    }))
}

/// A shaded ball on a soft backdrop with its shadow; `variety` moves the light.
fn product_shot(rgb: [u8; 3], variety: usize) -> anyhow::Result<Bytes> {
    let size = SHOT as f32;
    let (cx, cy, r) = (size / 2.0, size * 0.46, size * 0.3);
    let light = (cx - r * 0.4 + (variety % 5) as f32 * 12.0, cy - r * 0.45);
    let backdrop = [246, 244, 240];
    let image = RgbImage::from_fn(SHOT, SHOT, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
        if d <= r {
            let glare = ((x - light.0).powi(2) + (y - light.1).powi(2)).sqrt() / (2.0 * r);
            let lit = mix([255, 255, 255], rgb, 0.35 + glare);
            mix(lit.0, [0, 0, 0], glare - 0.6)
        } else {
            let shadow =
                ((x - cx) / (r * 1.1)).powi(2) + ((y - (cy + r * 1.05)) / (r * 0.18)).powi(2);
            let floor = mix(backdrop, [225, 222, 216], y / size);
            mix(floor.0, [150, 150, 150], 0.6 * (1.0 - shadow))
        }
    });
    png_bytes(image)
}

/// A diagonal sweep from the colour to a lighter shade of it.
fn banner_picture(rgb: [u8; 3]) -> anyhow::Result<Bytes> {
    let (w, h) = BANNER;
    let pale = mix(rgb, [255, 255, 255], 0.7).0;
    let image = RgbImage::from_fn(w, h, |x, y| {
        mix(
            rgb,
            pale,
            (x as f32 / w as f32) * 0.8 + (y as f32 / h as f32) * 0.2,
        )
    });
    png_bytes(image)
}
