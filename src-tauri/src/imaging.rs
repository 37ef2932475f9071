//! Scans in, crops out: import checks and copies a page, makes its preview, and cuts answer
//! regions out of it losslessly.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GenericImageView, ImageDecoder, ImageFormat, ImageReader};

use crate::exams::Bbox;

/// Largest scan file accepted: far above a 600-dpi A4 JPEG, far below what hurts.
pub const MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;
/// Largest page accepted, checked from the header before decoding (a decompression bomb
/// declares a huge size in a tiny file). 100 Mpx is A3 at 600 dpi with room to spare.
pub const MAX_PIXELS: u64 = 100_000_000;
/// Longest side of the preview the window shows (never the full original).
pub const PREVIEW_MAX_SIDE: u32 = 2000;

/// What went wrong with a scan, said so a teacher knows which file and why.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    #[error("{file}: {reason}")]
    BadInput { file: String, reason: String },
    #[error("the box {0}")]
    BadBox(String),
    #[error("could not write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not save an image: {0}")]
    Encode(String),
}

fn bad(file: &str, reason: impl Into<String>) -> ImagingError {
    ImagingError::BadInput {
        file: file.to_string(),
        reason: reason.into(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ImagingError + '_ {
    move |source| ImagingError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One page of a scan, decoded and upright.
#[derive(Debug)]
pub struct DecodedPage {
    pub image: DynamicImage,
    pub format: ImageFormat,
}

/// Checks a scan's bytes and decodes its page(s), refusing garbage before it costs memory.
/// `name` is only for messages.
pub fn decode_scan(name: &str, bytes: &[u8]) -> Result<Vec<DecodedPage>, ImagingError> {
    if bytes.is_empty() {
        return Err(bad(name, "the file is empty"));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(bad(
            name,
            format!(
                "the file is larger than {} MB",
                MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(name, format!("could not be read: {e}")))?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png)) => f,
        Some(other) => {
            return Err(bad(
                name,
                format!("{other:?} files are not supported yet; use JPEG or PNG"),
            ))
        }
        None => {
            return Err(bad(
                name,
                "is not an image GradeDesk can read (expected a JPEG or PNG scan)",
            ))
        }
    };
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| bad(name, format!("is damaged or not really an image ({e})")))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(bad(name, "the image has no pixels"));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(bad(
            name,
            format!(
                "the image is {w}×{h} pixels, more than the {} megapixels GradeDesk accepts",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|e| bad(name, format!("is damaged or cut short ({e})")))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(vec![DecodedPage { image, format }])
}

/// Writes the untouched original and a preview of one page; returns their paths and size.
pub struct StoredPage {
    pub path: PathBuf,
    pub preview_path: PathBuf,
    pub width: u32,
    pub height: u32,
}

/// Keeps the original file untouched (crops are cut from it, so nothing is lost to
/// re-encoding) and writes a preview JPEG no larger than [`PREVIEW_MAX_SIDE`].
pub fn store_page(
    original: &[u8],
    page: &DecodedPage,
    dir: &Path,
    stem: &str,
) -> Result<StoredPage, ImagingError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (width, height) = page.image.dimensions();
    let extension = page
        .format
        .extensions_str()
        .first()
        .copied()
        .unwrap_or("img");
    let path = dir.join(format!("{stem}.{extension}"));
    write_atomically(&path, original)?;
    let preview = if width.max(height) > PREVIEW_MAX_SIDE {
        page.image.thumbnail(PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE)
    } else {
        page.image.clone()
    };
    let preview_path = dir.join(format!("{stem}.preview.jpg"));
    save(
        &DynamicImage::ImageRgb8(preview.to_rgb8()),
        &preview_path,
        ImageFormat::Jpeg,
    )?;
    Ok(StoredPage {
        path,
        preview_path,
        width,
        height,
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ImagingError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Decodes a stored original with its orientation applied, as the teacher saw it.
pub fn load_upright(path: &Path) -> Result<DynamicImage, ImagingError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(io(path))?;
    let mut pages = decode_scan(&name, &bytes)?;
    Ok(pages.remove(0).image)
}

fn save(image: &DynamicImage, path: &Path, format: ImageFormat) -> Result<(), ImagingError> {
    let tmp = path.with_extension("tmp");
    image
        .save_with_format(&tmp, format)
        .map_err(|e| ImagingError::Encode(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// The pixel rectangle of a fractional box, clamped to the page. A box wholly off the page,
/// or with no area, is refused.
pub fn pixel_rect(
    bbox: Bbox,
    width: u32,
    height: u32,
) -> Result<(u32, u32, u32, u32), ImagingError> {
    let values = [bbox.x, bbox.y, bbox.w, bbox.h];
    if values.iter().any(|v| !v.is_finite()) {
        return Err(ImagingError::BadBox(
            "has a value that is not a number".into(),
        ));
    }
    if bbox.w <= 0.0 || bbox.h <= 0.0 {
        return Err(ImagingError::BadBox(
            "is empty: its width and height must be above 0".into(),
        ));
    }
    let x0 = bbox.x.max(0.0);
    let y0 = bbox.y.max(0.0);
    let x1 = (bbox.x + bbox.w).min(1.0);
    let y1 = (bbox.y + bbox.h).min(1.0);
    if x0 >= x1 || y0 >= y1 {
        return Err(ImagingError::BadBox(
            "lies wholly outside the page (fractions run from 0 to 1, origin top left)".into(),
        ));
    }
    let px = |f: f64, n: u32| ((f * f64::from(n)).round() as u32).min(n);
    let (left, top) = (px(x0, width), px(y0, height));
    let (right, bottom) = (px(x1, width), px(y1, height));
    if right <= left || bottom <= top {
        return Err(ImagingError::BadBox("is smaller than one pixel".into()));
    }
    Ok((left, top, right - left, bottom - top))
}

/// The box after clamping, as fractions: what is stored with the item.
pub fn clamp_bbox(bbox: Bbox) -> Bbox {
    let x = bbox.x.clamp(0.0, 1.0);
    let y = bbox.y.clamp(0.0, 1.0);
    Bbox {
        x,
        y,
        w: ((bbox.x + bbox.w).min(1.0) - x).max(0.0),
        h: ((bbox.y + bbox.h).min(1.0) - y).max(0.0),
    }
}

/// Cuts the box out of a stored page and saves it losslessly as PNG.
pub fn crop_to_file(page_path: &Path, bbox: Bbox, out: &Path) -> Result<(), ImagingError> {
    let image = load_upright(page_path)?;
    let (x, y, w, h) = pixel_rect(bbox, image.width(), image.height())?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    save(&image.crop_imm(x, y, w, h), out, ImageFormat::Png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_clamped_or_refused() {
        let full = pixel_rect(
            Bbox {
                x: 0.0,
                y: 0.0,
                w: 1.0,
                h: 1.0,
            },
            100,
            50,
        )
        .unwrap();
        assert_eq!(full, (0, 0, 100, 50));
        let partly_off = pixel_rect(
            Bbox {
                x: 0.9,
                y: -0.2,
                w: 0.5,
                h: 0.4,
            },
            100,
            50,
        )
        .unwrap();
        assert_eq!(partly_off, (90, 0, 10, 10));
        assert!(pixel_rect(
            Bbox {
                x: 0.2,
                y: 0.2,
                w: 0.0,
                h: 0.1
            },
            100,
            50
        )
        .is_err());
        assert!(pixel_rect(
            Bbox {
                x: 1.2,
                y: 0.2,
                w: 0.3,
                h: 0.1
            },
            100,
            50
        )
        .is_err());
        assert!(pixel_rect(
            Bbox {
                x: f64::NAN,
                y: 0.2,
                w: 0.3,
                h: 0.1
            },
            100,
            50
        )
        .is_err());
    }

    #[test]
    fn refuses_text_named_like_an_image_and_empty_files() {
        assert!(decode_scan("a.jpg", b"").is_err());
        let err = decode_scan("notes.png", b"hello, this is text").unwrap_err();
        assert!(err.to_string().starts_with("notes.png:"), "{err}");
    }

    #[test]
    fn refuses_a_decompression_bomb_from_its_header() {
        // A PNG header declaring 60000×60000 pixels, with no data behind it.
        let mut png = Vec::new();
        png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&60_000u32.to_be_bytes());
        ihdr.extend_from_slice(&60_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
        png.extend_from_slice(&(ihdr.len() as u32).to_be_bytes());
        let mut chunk = b"IHDR".to_vec();
        chunk.extend_from_slice(&ihdr);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
        // A few bytes of compressed data and the end: tiny on disk, enormous when decoded.
        for (kind, data) in [
            (
                &b"IDAT"[..],
                &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01][..],
            ),
            (&b"IEND"[..], &[][..]),
        ] {
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut chunk = kind.to_vec();
            chunk.extend_from_slice(data);
            png.extend_from_slice(&chunk);
            png.extend_from_slice(&crc32(&chunk).to_be_bytes());
        }
        let err = decode_scan("bomb.png", &png).unwrap_err().to_string();
        assert!(err.contains("megapixels"), "{err}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
