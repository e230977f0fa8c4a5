//! Images made on the spot, and the calls the media suites share.

use std::path::Path;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use serde_json::{Value, json};
use testkit::{TestApp, TestResponse};

pub const PNG: &str = "image/png";

pub use testkit::images::{encoded, picture, png};

/// A small transparent PNG (alpha must survive into the WebP).
pub fn transparent_png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_pixel(width, height, Rgba([10, 200, 10, 100]));
    encoded(&DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

/// A PNG header claiming `width`×`height` pixels around almost no data: what a
/// decompression bomb looks like before anyone decodes it.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).expect("short").to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32(&out[start..]).to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn images_path(product_id: &str) -> String {
    format!("/api/v1/products/{product_id}/images")
}

/// A product made by `token`, returning its id.
pub async fn product(app: &TestApp, token: &str, name: &str) -> String {
    let res = app
        .post(
            "/api/v1/products",
            Some(token),
            json!({"name": name, "description": "For pictures.", "price": 1000, "currency": "USD",
                   "weight_grams": 100, "length_mm": 10, "width_mm": 10, "height_mm": 10, "stock": 3}),
        )
        .await;
    res.assert_status(201);
    res.body["id"].as_str().expect("id").to_owned()
}

pub async fn upload_png(
    app: &TestApp,
    token: &str,
    product_id: &str,
    bytes: Vec<u8>,
) -> TestResponse {
    app.upload(
        &images_path(product_id),
        Some(token),
        ("photo.png", PNG, bytes),
        &[],
    )
    .await
}

/// Polls `check` until it yields a value, for what happens through the bus.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The product as a customer sees it once it shows `count` images.
pub async fn product_with_images(app: &TestApp, product_id: &str, count: usize) -> Value {
    eventually("the product's images", || async {
        let res = app
            .get(&format!("/api/v1/products/{product_id}"), None)
            .await;
        let n = res.body["images"].as_array().map_or(0, Vec::len);
        (n == count).then_some(res.body)
    })
    .await
}

/// Every file under the app's media directory.
pub fn stored_files(app: &TestApp) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.settings.data_dir.join("media"), &mut out);
    out
}
