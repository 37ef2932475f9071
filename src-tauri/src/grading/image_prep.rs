//! The image actually sent to the model: sized to the fewest Gemini tiles that still keep the
//! handwriting legible, and grayscale when the page is. The crop on disk is never changed.
//!
//! Legibility is measured, not assumed: the line pitch of the writing is read from the rows
//! that hold ink, and the image is only shrunk while each line keeps at least
//! [`MIN_LINE_PX`] pixels. When no line structure can be measured (a blank answer, a
//! drawing, noise) the image keeps its size, because a guess could cost a student marks.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, GrayImage, ImageFormat};

use super::pricing::{tile_tokens, TILE_SIDE};

/// Pixels per line of handwriting below which models start to misread it.
pub const MIN_LINE_PX: f64 = 30.0;
/// The longest side ever sent: beyond this, more tiles buy no legibility for an answer box.
pub const MAX_SIDE: u32 = 3072;

/// The prepared image and what was done to it, for the request and for the figures.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    pub bytes: Vec<u8>,
    pub mime_type: String,
    pub width: u32,
    pub height: u32,
    pub original_width: u32,
    pub original_height: u32,
    pub original_bytes: usize,
    /// Measured distance between lines of writing in the original, in pixels.
    pub line_pitch: Option<f64>,
    pub grayscale: bool,
    /// False when the original bytes are sent unchanged.
    pub reencoded: bool,
}

/// Why an image could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepError {
    #[error("the answer's image could not be read ({0})")]
    Decode(String),
    #[error("the answer's image could not be encoded ({0})")]
    Encode(String),
}

fn sniff_mime(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => "image/jpeg",
        Ok(ImageFormat::WebP) => "image/webp",
        _ => "image/png",
    }
}

/// True when (nearly) every pixel is neutral: a pencil or black-ink scan, or a scan made in
/// colour of a grey page. Coloured ink keeps its colour.
pub fn is_grayscale(image: &DynamicImage) -> bool {
    let rgb = image.to_rgb8();
    let total = (rgb.width() as u64 * rgb.height() as u64).max(1);
    let coloured = rgb
        .pixels()
        .filter(|p| {
            let [r, g, b] = p.0;
            r.max(g).max(b) - r.min(g).min(b) > 30
        })
        .count() as u64;
    coloured * 1000 <= total * 5
}

/// Estimates the line pitch of handwriting from the rows that contain ink. Returns `None`
/// when the ink does not form separate lines.
pub fn line_pitch(gray: &GrayImage) -> Option<f64> {
    let (w, h) = gray.dimensions();
    if w < 8 || h < 8 {
        return None;
    }
    // Paper is the bright majority; ink is well below it.
    let mut histogram = [0u64; 256];
    for p in gray.pixels() {
        histogram[p.0[0] as usize] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let mut seen = 0;
    let mut paper = 255u8;
    for (level, count) in histogram.iter().enumerate().rev() {
        seen += count;
        if seen * 2 >= total {
            paper = level as u8;
            break;
        }
    }
    let threshold = (f64::from(paper) * 0.6) as u8;
    // Frame lines at the crop's sides would mark every row: leave a margin out.
    let margin = w / 33;
    let counts: Vec<usize> = (0..h)
        .map(|y| {
            (margin..w - margin)
                .filter(|&x| gray.get_pixel(x, y).0[0] < threshold)
                .count()
        })
        .collect();
    if counts.iter().all(|&c| c == 0) {
        return None;
    }
    let min_ink = (w as usize / 200).max(2);
    let rows: Vec<bool> = counts.iter().map(|&c| c >= min_ink).collect();
    // Rows with ink or without: a long frame line weighs no more than a line of writing.
    let profile: Vec<usize> = rows.iter().map(|&r| usize::from(r)).collect();
    if let Some(pitch) = periodic_pitch(&profile) {
        return Some(pitch);
    }
    // No repeating lines: a single line of writing is measured by its own height.
    let merge_gap = (h as usize / 100).max(2);
    let mut bands: Vec<(usize, usize)> = Vec::new();
    for (y, &ink) in rows.iter().enumerate() {
        if !ink {
            continue;
        }
        match bands.last_mut() {
            Some((_, end)) if y <= *end + merge_gap => *end = y,
            _ => bands.push((y, y)),
        }
    }
    let bands: Vec<(usize, usize)> = bands.into_iter().filter(|(s, e)| e - s >= 3).collect();
    match bands[..] {
        // One line: its inked height plus the usual interline space.
        [(start, end)] if (end - start + 1) * 10 < h as usize * 9 => {
            Some((end - start + 1) as f64 * 1.5)
        }
        _ => None,
    }
}

/// The line pitch as the period of the rows' ink profile (autocorrelation): written and
/// ruled lines repeat, scattered marks and noise do not. Prefers the fundamental period
/// over its multiples.
fn periodic_pitch(counts: &[usize]) -> Option<f64> {
    let n = counts.len();
    let mean = counts.iter().sum::<usize>() as f64 / n as f64;
    let p: Vec<f64> = counts.iter().map(|&c| c as f64 - mean).collect();
    let r0: f64 = p.iter().map(|v| v * v).sum();
    if r0 <= 0.0 {
        return None;
    }
    let (min_lag, max_lag) = (12, n / 2);
    if max_lag <= min_lag {
        return None;
    }
    let r: Vec<f64> = (min_lag..=max_lag)
        .map(|lag| {
            let sum: f64 = (0..n - lag).map(|i| p[i] * p[i + lag]).sum();
            sum / r0 * n as f64 / (n - lag) as f64
        })
        .collect();
    let best = r.iter().cloned().fold(f64::MIN, f64::max);
    if best < 0.3 {
        return None;
    }
    // The first local peak close to the best one is the fundamental period.
    (1..r.len().saturating_sub(1))
        .find(|&i| r[i] >= 0.8 * best && r[i] >= r[i - 1] && r[i] >= r[i + 1])
        .map(|i| (i + min_lag) as f64)
}

/// The scale (at most 1) that gives the fewest tiles while each line keeps `MIN_LINE_PX`,
/// then grows back to the largest size with that same tile count (more pixels, same price).
pub fn choose_scale(width: u32, height: u32, pitch: Option<f64>) -> f64 {
    let cap = (f64::from(MAX_SIDE) / f64::from(width.max(height))).min(1.0);
    let Some(pitch) = pitch.filter(|p| *p > 0.0) else {
        return cap;
    };
    let floor = (MIN_LINE_PX / pitch).min(cap);
    let (w, h) = (f64::from(width) * floor, f64::from(height) * floor);
    let cols = (w / f64::from(TILE_SIDE)).ceil().max(1.0);
    let rows = (h / f64::from(TILE_SIDE)).ceil().max(1.0);
    let fit = (cols * f64::from(TILE_SIDE) / f64::from(width))
        .min(rows * f64::from(TILE_SIDE) / f64::from(height));
    fit.min(cap).max(floor)
}

/// Prepares the image to send. Sends the original bytes when nothing would change: same size,
/// already as grey as it can be.
pub fn prepare(bytes: &[u8]) -> Result<PreparedImage, PrepError> {
    let image = image::load_from_memory(bytes).map_err(|e| PrepError::Decode(e.to_string()))?;
    let (width, height) = image.dimensions();
    let gray_page = is_grayscale(&image);
    let luma = image.to_luma8();
    let pitch = line_pitch(&luma);
    let scale = choose_scale(width, height, pitch);
    let new_w = ((f64::from(width) * scale).round() as u32).max(1);
    let new_h = ((f64::from(height) * scale).round() as u32).max(1);
    let resized = (new_w, new_h) != (width, height);
    let already_gray = matches!(
        image.color(),
        image::ColorType::L8 | image::ColorType::L16 | image::ColorType::La8
    );
    let to_gray = gray_page && !already_gray;
    // Large files are re-encoded too: bytes are upload time and count toward the 20 MB
    // request limit, though not toward tokens.
    let large = bytes.len() > 512 * 1024;
    if !resized && !to_gray && !large {
        return Ok(PreparedImage {
            bytes: bytes.to_vec(),
            mime_type: sniff_mime(bytes).into(),
            width,
            height,
            original_width: width,
            original_height: height,
            original_bytes: bytes.len(),
            line_pitch: pitch,
            grayscale: already_gray,
            reencoded: false,
        });
    }
    let out: DynamicImage = if gray_page {
        let gray = DynamicImage::ImageLuma8(luma);
        if resized {
            gray.resize_exact(new_w, new_h, FilterType::CatmullRom)
        } else {
            gray
        }
    } else if resized {
        DynamicImage::ImageRgb8(image.to_rgb8()).resize_exact(new_w, new_h, FilterType::CatmullRom)
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let (encoded, mime_type) = smallest_encoding(&out)?;
    Ok(PreparedImage {
        bytes: encoded,
        mime_type: mime_type.into(),
        width: new_w,
        height: new_h,
        original_width: width,
        original_height: height,
        original_bytes: bytes.len(),
        line_pitch: pitch,
        grayscale: gray_page,
        reencoded: true,
    })
}

/// PNG, or JPEG at quality 90 when that is smaller (scanner noise makes PNGs of photos of
/// paper large); either keeps handwriting at 30 px a line legible.
fn smallest_encoding(image: &DynamicImage) -> Result<(Vec<u8>, &'static str), PrepError> {
    let mut png = Cursor::new(Vec::new());
    image
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|e| PrepError::Encode(e.to_string()))?;
    let mut jpeg = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90);
    image
        .write_with_encoder(encoder)
        .map_err(|e| PrepError::Encode(e.to_string()))?;
    let png = png.into_inner();
    Ok(if jpeg.len() < png.len() {
        (jpeg, "image/jpeg")
    } else {
        (png, "image/png")
    })
}

/// Gemini 2.x tokens of the original and of the prepared image, for the figures.
pub fn token_saving(prepared: &PreparedImage) -> (u64, u64) {
    (
        tile_tokens(prepared.original_width, prepared.original_height),
        tile_tokens(prepared.width, prepared.height),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb, RgbImage};

    /// A page with `lines` lines of fake writing `pitch` px apart.
    fn page(width: u32, height: u32, pitch: u32, colour: bool) -> Vec<u8> {
        let mut img = RgbImage::from_pixel(width, height, Rgb([250, 250, 248]));
        let ink = if colour {
            Rgb([20, 30, 160])
        } else {
            Rgb([30, 30, 30])
        };
        let mut y = pitch / 2;
        while y + pitch / 2 < height {
            for x in (20..width - 20).step_by(3) {
                for dy in 0..(pitch / 3) {
                    if (x / 7 + dy) % 4 != 0 {
                        img.put_pixel(x, y + dy, ink);
                    }
                }
            }
            y += pitch;
        }
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn shrinks_to_fewer_tiles_but_keeps_thirty_pixels_a_line() {
        let original = page(2000, 900, 90, false);
        let prepared = prepare(&original).unwrap();
        let pitch = prepared.line_pitch.unwrap();
        assert!((80.0..100.0).contains(&pitch), "{pitch}");
        let scale = f64::from(prepared.width) / 2000.0;
        assert!(pitch * scale >= MIN_LINE_PX - 0.5, "{}", pitch * scale);
        let (before, after) = token_saving(&prepared);
        assert!(after < before, "{before} -> {after}");
        assert!(prepared.grayscale);
        let decoded = image::load_from_memory(&prepared.bytes).unwrap();
        assert_eq!(decoded.color(), image::ColorType::L8);
    }

    #[test]
    fn keeps_colour_ink_and_unmeasurable_images_as_they_are() {
        let original = page(700, 300, 60, true);
        let prepared = prepare(&original).unwrap();
        assert!(!prepared.grayscale);
        assert!(!prepared.reencoded, "already one tile: sent unchanged");
        assert_eq!(prepared.bytes, original);
        // Pure noise has no lines: never shrunk on a guess.
        let mut noise = GrayImage::new(1600, 1600);
        for (x, y, p) in noise.enumerate_pixels_mut() {
            *p = Luma([if (x * 7 + y * 13) % 5 == 0 { 0 } else { 255 }]);
        }
        assert_eq!(line_pitch(&noise), None);
        assert_eq!(choose_scale(1600, 1600, None), 1.0);
    }
}

/// Prints what preparation does to the crops listed in `GD_CROPS` (for the figures):
/// `GD_CROPS="a.png b.png" cargo test --lib report_crops -- --ignored --nocapture`.
#[cfg(test)]
#[test]
#[ignore]
fn report_crops() {
    let paths = std::env::var("GD_CROPS").unwrap_or_default();
    for path in paths.split_whitespace() {
        let bytes = std::fs::read(path).unwrap();
        let p = prepare(&bytes).unwrap();
        let (before, after) = token_saving(&p);
        eprintln!(
            "{}x{} -> {}x{} pitch {:?} gray {} tokens {before} -> {after} bytes {} -> {}",
            p.original_width,
            p.original_height,
            p.width,
            p.height,
            p.line_pitch,
            p.grayscale,
            p.original_bytes,
            p.bytes.len()
        );
    }
}
