//! Checking uploads and rendering their WebP variants. Pure functions over bytes, run on
//! blocking threads by the callers.
//!
//! An upload is judged by its content, never its name: the format comes from the magic
//! bytes, the size from the header (so a decompression bomb is refused before a pixel
//! is decoded), and the whole image is decoded once so a truncated file is refused
//! before anything is stored.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// libwebp cannot encode a side longer than this.
const WEBP_MAX_SIDE: u32 = 16_383;

/// What an upload turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inspected {
    pub format: &'static str,
    /// After applying the EXIF orientation.
    pub width: u32,
    pub height: u32,
}

/// Why an upload was refused; each is the uploader's fault, so a 4xx.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not JPEG, PNG, WebP or GIF by content.
    UnsupportedFormat,
    /// More pixels (or a longer side) than the shop accepts.
    TooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// Looks like an image but does not decode: truncated or corrupt.
    Corrupt(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedFormat => {
                f.write_str("the file is not a JPEG, PNG, WebP or GIF image")
            }
            Self::TooLarge {
                width,
                height,
                max_pixels,
            } => write!(
                f,
                "the image is {width}×{height} pixels; at most {max_pixels} pixels and {WEBP_MAX_SIDE} per side are accepted"
            ),
            Self::Corrupt(why) => write!(f, "the image cannot be decoded: {why}"),
        }
    }
}

fn format_name(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Jpeg => Some("jpeg"),
        ImageFormat::Png => Some("png"),
        ImageFormat::WebP => Some("webp"),
        ImageFormat::Gif => Some("gif"),
        _ => None,
    }
}

/// What an image's header says, read without decoding a pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub format: &'static str,
    /// As stored, before the EXIF orientation.
    pub width: u32,
    pub height: u32,
    /// The decoded bitmap's layout.
    pub color: ColorType,
}

impl Header {
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// The memory decoding and rendering this image takes at its peak, in bytes.
    ///
    /// Measured (`VmHWM`, 6000×4000 pictures) as bytes a pixel: the decoded bitmap (3
    /// for RGB, 4 for RGBA, 6 for 16-bit RGB), an 8-bit copy for the encoder unless the
    /// bitmap is 8-bit RGB or RGBA already, and libwebp's lossy encoder: about 6 for an
    /// opaque picture and 14 with alpha (its YUV and alpha planes and their analysis),
    /// plus 7 when converting from 16 bits. Peaks seen: RGB 8.9, RGBA 17.9, 16-bit RGB
    /// 21.9, JPEG 9.0; the estimate adds a byte a pixel and a few MiB of fixed state.
    pub fn decode_cost(&self) -> u64 {
        let decoded = u64::from(self.color.bytes_per_pixel());
        let alpha = self.color.has_alpha();
        let eight_bit = matches!(self.color, ColorType::Rgb8 | ColorType::Rgba8);
        let converted = match (eight_bit, alpha) {
            (true, _) => 0,
            (false, true) => 4,
            (false, false) => 3,
        };
        let webp = if alpha { 14 } else { 6 };
        let wide =
            if u64::from(self.color.bytes_per_pixel()) > u64::from(self.color.channel_count()) {
                7
            } else {
                0
            };
        self.pixels() * (decoded + converted + webp + wide + 1) + FIXED_COST
    }
}

/// Decoder and encoder state that does not grow with the picture.
const FIXED_COST: u64 = 4 * 1024 * 1024;

/// Reads the format and size from the header, and checks the limits and that a JPEG
/// is complete, all before any pixel is decoded.
pub fn read_header(bytes: &[u8], max_pixels: u64) -> Result<Header, Rejection> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Rejection::Corrupt(e.to_string()))?;
    let format = reader
        .format()
        .and_then(format_name)
        .ok_or(Rejection::UnsupportedFormat)?;
    let decoder = reader
        .into_decoder()
        .map_err(|e| Rejection::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels
        || width > WEBP_MAX_SIDE
        || height > WEBP_MAX_SIDE
    {
        return Err(Rejection::TooLarge {
            width,
            height,
            max_pixels,
        });
    }
    if format == "jpeg" && !jpeg_is_complete(bytes) {
        return Err(Rejection::Corrupt(
            "the JPEG ends before its image data does (truncated upload?)".into(),
        ));
    }
    Ok(Header {
        format,
        width,
        height,
        color: decoder.color_type(),
    })
}

/// Whether a JPEG's entropy-coded data ends with the end-of-image marker. JPEG decoders
/// fill a truncated scan with grey rather than fail, so completeness is checked here:
/// inside scan data a 0xFF byte is always followed by 0x00 or a restart marker, so
/// `FF D9` after the first start-of-scan can only be the real end of the image.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Decodes `bytes` fully within the limits and applies the EXIF orientation. The
/// result carries no metadata: only pixels survive.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<(DynamicImage, &'static str), Rejection> {
    let header = read_header(bytes, max_pixels)?;
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Rejection::Corrupt(e.to_string()))?
        .into_decoder()
        .map_err(|e| Rejection::Corrupt(e.to_string()))?;
    // The header was checked; this bounds what a lying header could still allocate.
    let mut limits = Limits::default();
    limits.max_image_width = Some(WEBP_MAX_SIDE);
    limits.max_image_height = Some(WEBP_MAX_SIDE);
    limits.max_alloc = Some(header.decode_cost());
    decoder
        .set_limits(limits)
        .map_err(|e| Rejection::Corrupt(e.to_string()))?;
    // A missing or unreadable orientation tag means "as stored".
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image =
        DynamicImage::from_decoder(decoder).map_err(|e| Rejection::Corrupt(e.to_string()))?;
    image.apply_orientation(orientation);
    Ok((image, header.format))
}

/// Checks an upload: the format by content, the pixel limit, and that it decodes.
pub fn inspect(bytes: &[u8], max_pixels: u64) -> Result<Inspected, Rejection> {
    let (image, format) = decode(bytes, max_pixels)?;
    Ok(Inspected {
        format,
        width: image.width(),
        height: image.height(),
    })
}

/// One encoded variant.
#[derive(Debug)]
pub struct Rendered {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub webp: Vec<u8>,
}

/// Every variant of [`contracts::media::VARIANTS`] as lossy WebP, largest first. Each is
/// scaled down from the previous one (never up), which costs far less than scaling
/// each from the original and looks the same at these ratios.
pub fn render(image: DynamicImage, quality: f32) -> Result<Vec<Rendered>, String> {
    let mut by_size: Vec<_> = contracts::media::VARIANTS.to_vec();
    by_size.sort_by_key(|(_, max)| std::cmp::Reverse(max.unwrap_or(u32::MAX)));
    let mut current = image;
    let mut out = Vec::with_capacity(by_size.len());
    for (name, max_side) in by_size {
        if let Some(max) = max_side
            && current.width().max(current.height()) > max
        {
            current = current.resize(max, max, FilterType::CatmullRom);
        }
        out.push(Rendered {
            name,
            width: current.width(),
            height: current.height(),
            webp: encode_webp(&current, quality)?,
        });
    }
    Ok(out)
}

fn encode_webp(image: &DynamicImage, quality: f32) -> Result<Vec<u8>, String> {
    // 8-bit bitmaps go to the encoder as they are; others are converted first (a copy
    // the size of the picture, which the memory estimate counts).
    let converted;
    let image = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => image,
        other if other.color().has_alpha() => {
            converted = DynamicImage::ImageRgba8(other.to_rgba8());
            &converted
        }
        other => {
            converted = DynamicImage::ImageRgb8(other.to_rgb8());
            &converted
        }
    };
    let (w, h) = (image.width(), image.height());
    let encoder = match image {
        DynamicImage::ImageRgba8(rgba) => webp::Encoder::from_rgba(rgba.as_raw(), w, h),
        DynamicImage::ImageRgb8(rgb) => webp::Encoder::from_rgb(rgb.as_raw(), w, h),
        _ => return Err("the bitmap was not converted to 8 bits".into()),
    };
    encoder
        .encode_simple(false, quality)
        .map(|m| m.to_vec())
        .map_err(|e| format!("encoding WebP: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
            .expect("encode png");
        out
    }

    #[test]
    fn a_png_is_recognised_by_content() {
        let found = inspect(&png(30, 20), 1_000_000).expect("valid");
        assert_eq!(
            found,
            Inspected {
                format: "png",
                width: 30,
                height: 20
            }
        );
    }

    #[test]
    fn text_is_not_an_image_whatever_its_name() {
        assert_eq!(
            inspect(b"just some text, named photo.png", 1_000_000),
            Err(Rejection::UnsupportedFormat)
        );
    }

    #[test]
    fn a_truncated_png_is_corrupt() {
        let bytes = png(64, 64);
        let cut = &bytes[..bytes.len() / 2];
        assert!(matches!(
            inspect(cut, 1_000_000),
            Err(Rejection::Corrupt(_))
        ));
    }

    #[test]
    fn a_truncated_jpeg_is_corrupt_though_decoders_would_fill_it_in() {
        let img = RgbImage::from_fn(64, 64, |x, y| Rgb([x as u8 * 4, y as u8 * 4, 90]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .write_image(img.as_raw(), 64, 64, image::ExtendedColorType::Rgb8)
            .expect("encode jpeg");
        assert!(inspect(&jpeg, 1_000_000).is_ok());
        let cut = &jpeg[..jpeg.len() * 2 / 3];
        assert!(matches!(
            inspect(cut, 1_000_000),
            Err(Rejection::Corrupt(_))
        ));
    }

    #[test]
    fn the_decode_cost_grows_with_pixels_depth_and_alpha() {
        let rgb = read_header(&png(100, 100), 1_000_000).expect("header");
        assert_eq!((rgb.format, rgb.color), ("png", ColorType::Rgb8));
        assert_eq!(rgb.decode_cost(), 100 * 100 * 10 + FIXED_COST);
        let rgba = Header {
            color: ColorType::Rgba8,
            ..rgb
        };
        let wide = Header {
            color: ColorType::Rgb16,
            ..rgb
        };
        let grey = Header {
            color: ColorType::L8,
            ..rgb
        };
        assert!(rgba.decode_cost() > rgb.decode_cost());
        assert!(wide.decode_cost() > rgba.decode_cost());
        assert!(
            grey.decode_cost() >= rgb.decode_cost(),
            "grey is converted to RGB"
        );
    }

    #[test]
    fn the_pixel_limit_is_checked_before_decoding() {
        let bytes = png(100, 100);
        assert!(matches!(
            inspect(&bytes, 9_999),
            Err(Rejection::TooLarge {
                width: 100,
                height: 100,
                ..
            })
        ));
    }

    /// A JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6).
    fn rotated_jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_pixel(width, height, Rgb([200, 30, 30]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
            .expect("encode jpeg");
        // APP1: "Exif\0\0", little-endian TIFF header, one IFD entry 0x0112 SHORT = 6.
        let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = u16::try_from(app1.len() + 2).expect("short segment");
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn exif_orientation_is_applied() {
        let found = inspect(&rotated_jpeg(40, 20), 1_000_000).expect("valid");
        assert_eq!((found.format, found.width, found.height), ("jpeg", 20, 40));
    }

    #[test]
    fn variants_scale_down_keep_the_aspect_and_never_scale_up() {
        let (img, _) = decode(&png(2000, 1000), 10_000_000).expect("decode");
        let variants = render(img, 80.0).expect("render");
        let sizes: Vec<_> = variants
            .iter()
            .map(|v| (v.name, v.width, v.height))
            .collect();
        assert_eq!(
            sizes,
            [
                ("original", 2000, 1000),
                ("large", 1600, 800),
                ("medium", 640, 320),
                ("thumb", 160, 80)
            ]
        );
        for v in &variants {
            assert_eq!(image::guess_format(&v.webp).ok(), Some(ImageFormat::WebP));
        }
        let (small, _) = decode(&png(100, 50), 10_000_000).expect("decode");
        let variants = render(small, 80.0).expect("render");
        assert!(variants.iter().all(|v| (v.width, v.height) == (100, 50)));
    }

    #[test]
    fn lossy_webp_is_much_smaller_than_the_png() {
        // A photo-like picture: smooth shapes plus sensor noise, which PNG cannot shrink.
        let mut seed = 7u32;
        let img = RgbImage::from_fn(640, 640, |x, y| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 28) as u8;
            Rgb([
                (x / 3) as u8 + noise,
                (y / 3) as u8 + noise,
                ((x + y) / 6) as u8,
            ])
        });
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(img.as_raw(), 640, 640, image::ExtendedColorType::Rgb8)
            .expect("encode png");
        let (img, _) = decode(&bytes, 10_000_000).expect("decode");
        let variants = render(img, 80.0).expect("render");
        let original = variants
            .iter()
            .find(|v| v.name == "original")
            .expect("original");
        assert!(
            original.webp.len() < bytes.len() / 2,
            "{} vs {}",
            original.webp.len(),
            bytes.len()
        );
    }
}
