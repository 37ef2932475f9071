//! The UPSCALE_SUBMISSION job: pages photographed from afar (below about 150 dpi
//! effective resolution) are upscaled and contrast-normalised, and pages skewed by more
//! than [`SKEW_MIN_DEG`] are straightened, before anything is cut from them.
//!
//! Import judges each page ([`assess`]) and queues the job when one needs it. A crop on a
//! page still waiting runs the same enhancement first ([`enhance_page`]), so a crop is
//! always cut from the enhanced page; whichever runs first wins, the other finds nothing
//! left to do (the row update is conditional on the page still being pending).

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, GrayImage, Luma, Rgb, RgbImage};
use rand::Rng;

use super::limits::MAX_PIXELS;
use super::pages::{load_upright, save, write_previews};
use super::{cache, ImagingError};
use crate::exams;
use crate::store::Store;

/// Below this effective resolution handwriting loses strokes: the page is upscaled.
pub const LOW_DPI: f64 = 150.0;
/// Resolution an upscaled page is brought to.
pub const TARGET_DPI: f64 = 200.0;
/// Smaller skews are left alone: rotating resamples (softens) the whole page, and boxes
/// drawn on it would move.
pub const SKEW_MIN_DEG: f64 = 1.5;
/// Largest skew searched for; beyond it the page is probably not text lines at all.
pub const SKEW_MAX_DEG: f64 = 8.0;
/// Long side of an A4 page in inches: a raster page is assumed to be a whole page.
const PAGE_LONG_SIDE_IN: f64 = 11.69;

/// What import found about a page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    /// Pixels per inch if the image spans a whole A4 page (or as the PDF says).
    pub dpi: f64,
    /// Angle of the text lines in degrees (positive: falling to the right).
    pub skew_deg: f64,
}

impl Assessment {
    /// True when the page is too coarse to read well.
    pub fn needs_upscale(&self) -> bool {
        self.dpi < LOW_DPI
    }
    /// True when the page is visibly tilted.
    pub fn needs_deskew(&self) -> bool {
        self.skew_deg.abs() >= SKEW_MIN_DEG
    }
    /// True when the UPSCALE_SUBMISSION job has work on this page.
    pub fn needs_enhance(&self) -> bool {
        self.needs_upscale() || self.needs_deskew()
    }
}

/// Judges a page's resolution (from `dpi` when the file says it, e.g. a PDF) and skew.
pub fn assess(image: &DynamicImage, dpi: Option<f64>) -> Assessment {
    let (w, h) = image.dimensions();
    let dpi = dpi.unwrap_or_else(|| f64::from(w.max(h)) / PAGE_LONG_SIDE_IN);
    Assessment {
        dpi,
        skew_deg: estimate_skew(image),
    }
}

/// Estimates the angle of text lines by projection profiles: dark pixels of a small grey
/// copy are projected along candidate angles; the angle whose profile is sharpest (largest
/// sum of squared bin counts) is the one the lines run at.
pub fn estimate_skew(image: &DynamicImage) -> f64 {
    let small = super::resize::shrink_to_fit(image, 600).to_luma8();
    let threshold = otsu(&small);
    let mut dark: Vec<(f64, f64)> = Vec::new();
    for (x, y, p) in small.enumerate_pixels() {
        if p.0[0] < threshold {
            dark.push((f64::from(x), f64::from(y)));
        }
    }
    let (w, h) = small.dimensions();
    // Nearly blank or nearly black pages have no lines to find.
    let area = (w as usize) * (h as usize);
    if dark.len() < 200 || dark.len() > area / 2 {
        return 0.0;
    }
    if dark.len() > 40_000 {
        let step = dark.len() / 40_000 + 1;
        dark = dark.into_iter().step_by(step).collect();
    }
    let height = f64::from(h);
    let width = f64::from(w);
    let score = |deg: f64| -> f64 {
        let t = deg.to_radians().tan();
        let offset = width * t.abs() + 1.0;
        let bins = (height + 2.0 * offset) as usize + 2;
        let mut counts = vec![0u32; bins];
        for &(x, y) in &dark {
            let b = (y - x * t + offset) as usize;
            if let Some(c) = counts.get_mut(b) {
                *c += 1;
            }
        }
        counts.iter().map(|&c| f64::from(c) * f64::from(c)).sum()
    };
    let mut best = (0.0, score(0.0));
    let mut deg = -SKEW_MAX_DEG;
    while deg <= SKEW_MAX_DEG {
        let s = score(deg);
        if s > best.1 * 1.000_001 {
            best = (deg, s);
        }
        deg += 0.5;
    }
    let coarse = best.0;
    let mut deg = coarse - 0.5;
    while deg <= coarse + 0.5 {
        let s = score(deg);
        if s > best.1 * 1.000_001 {
            best = (deg, s);
        }
        deg += 0.1;
    }
    (best.0 * 10.0_f64).round() / 10.0
}

fn otsu(image: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for p in image.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut sum_b, mut w_b, mut best, mut threshold) = (0.0, 0u64, 0.0, 128u8);
    for (t, &count) in hist.iter().enumerate() {
        w_b += count;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * count as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            threshold = t as u8 + 1;
        }
    }
    threshold
}

/// Stretches the levels so the darkest 1% becomes black and the lightest 1% white: faint
/// pencil on grey paper becomes legible. Colour is kept (one curve for all channels).
pub fn normalize_contrast(image: &mut DynamicImage) {
    let grey = super::resize::shrink_to_fit(image, 800).to_luma8();
    let mut hist = [0u64; 256];
    for p in grey.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    let total: u64 = hist.iter().sum();
    let percentile = |q: f64| -> u8 {
        let target = (total as f64 * q) as u64;
        let mut seen = 0;
        for (v, &c) in hist.iter().enumerate() {
            seen += c;
            if seen > target {
                return v as u8;
            }
        }
        255
    };
    let (lo, hi) = (percentile(0.01), percentile(0.99));
    if hi <= lo.saturating_add(16) {
        return;
    }
    let (lo, span) = (f64::from(lo), f64::from(hi) - f64::from(lo));
    let lut: Vec<u8> = (0..256)
        .map(|v| (((f64::from(v) - lo) * 255.0 / span).round()).clamp(0.0, 255.0) as u8)
        .collect();
    let bytes: &mut [u8] = match image {
        DynamicImage::ImageLuma8(i) => i,
        DynamicImage::ImageRgb8(i) => i,
        _ => return,
    };
    for b in bytes.iter_mut() {
        *b = lut[usize::from(*b)];
    }
}

/// Rotates the page by `-skew_deg` about its centre (bilinear, white outside), keeping its
/// size so boxes drawn as fractions stay where they were meant.
pub fn deskew(image: &DynamicImage, skew_deg: f64) -> DynamicImage {
    let (sin, cos) = skew_deg.to_radians().sin_cos();
    let (w, h) = image.dimensions();
    let (cx, cy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let source = |x: u32, y: u32| {
        let (dx, dy) = (f64::from(x) + 0.5 - cx, f64::from(y) + 0.5 - cy);
        (
            cx + dx * cos - dy * sin - 0.5,
            cy + dx * sin + dy * cos - 0.5,
        )
    };
    match image {
        DynamicImage::ImageLuma8(src) => {
            DynamicImage::ImageLuma8(GrayImage::from_fn(w, h, |x, y| {
                let (sx, sy) = source(x, y);
                Luma(sample::<1>(src.as_raw(), w, h, sx, sy))
            }))
        }
        other => {
            let rgb = other.to_rgb8();
            DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
                let (sx, sy) = source(x, y);
                Rgb(sample::<3>(rgb.as_raw(), w, h, sx, sy))
            }))
        }
    }
}

fn sample<const N: usize>(data: &[u8], w: u32, h: u32, x: f64, y: f64) -> [u8; N] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f64, yi: f64, c: usize| -> f64 {
        if xi < 0.0 || yi < 0.0 || xi >= f64::from(w) || yi >= f64::from(h) {
            255.0
        } else {
            f64::from(data[(yi as usize * w as usize + xi as usize) * N + c])
        }
    };
    let mut out = [255u8; N];
    for (c, o) in out.iter_mut().enumerate() {
        let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1.0, y0, c) * fx;
        let bottom = at(x0, y0 + 1.0, c) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0, c) * fx;
        *o = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// The whole enhancement of one page, as the assessment asks.
pub fn enhance(image: &DynamicImage, assessment: &Assessment) -> DynamicImage {
    let mut out = if assessment.needs_deskew() {
        deskew(image, assessment.skew_deg)
    } else {
        image.clone()
    };
    if assessment.needs_upscale() && assessment.dpi > 0.0 {
        let factor = (TARGET_DPI / assessment.dpi).min(4.0);
        let (w, h) = out.dimensions();
        let (mut nw, mut nh) = (
            (f64::from(w) * factor).round() as u32,
            (f64::from(h) * factor).round() as u32,
        );
        while u64::from(nw) * u64::from(nh) > MAX_PIXELS {
            nw = nw * 9 / 10;
            nh = nh * 9 / 10;
        }
        if nw > w && nh > h {
            out = out.resize_exact(nw, nh, FilterType::CatmullRom);
        }
        normalize_contrast(&mut out);
    }
    out
}

/// Enhances one page if it is still pending: writes the new page and previews beside the
/// old ones, then swaps the row in one conditional update (the original page file is kept
/// as `original_path`). Returns whether this call did the work. Blocking: run it off the
/// async executor.
pub fn enhance_page(store: &Store, page_id: i64) -> Result<bool, ImagingError> {
    let pending = {
        let conn = store.lock();
        exams::pending_enhancement(&conn, page_id)
            .map_err(|e| ImagingError::Store(e.to_string()))?
    };
    let Some(pending) = pending else {
        return Ok(false);
    };
    let started = std::time::Instant::now();
    let page_path = PathBuf::from(&pending.page.path);
    let image = load_upright(&page_path)?;
    let assessment = Assessment {
        dpi: pending.dpi,
        skew_deg: pending.skew_deg,
    };
    let enhanced = enhance(&image, &assessment);
    drop(image);
    let dir = page_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let stem = format!(
        "page-{}-enhanced-{:08x}",
        pending.number,
        rand::thread_rng().gen::<u32>()
    );
    let new_path = dir.join(format!("{stem}.png"));
    let written = save(&enhanced, &new_path, image::ImageFormat::Png)
        .and_then(|_| write_previews(&dir, &stem, &enhanced));
    let (preview, thumb) = match written {
        Ok(files) => files,
        Err(e) => {
            remove_all(&[new_path.clone(), dir.join(format!("{stem}.preview.jpg"))]);
            return Err(e);
        }
    };
    let (w, h) = enhanced.dimensions();
    let swapped = {
        let conn = store.lock();
        exams::mark_page_enhanced(
            &conn,
            page_id,
            &exams::EnhancedFiles {
                path: new_path.to_string_lossy().into_owned(),
                preview_path: preview.to_string_lossy().into_owned(),
                thumb_path: thumb.to_string_lossy().into_owned(),
                width: w,
                height: h,
            },
        )
    };
    match swapped {
        Ok(true) => {
            cache::forget(&page_path);
            let mut old = vec![PathBuf::from(&pending.page.preview_path)];
            old.extend(pending.page.thumb_path.as_ref().map(PathBuf::from));
            remove_all(&old);
            tracing::info!(
                page_id,
                dpi = pending.dpi,
                skew = pending.skew_deg,
                width = w,
                height = h,
                ms = started.elapsed().as_millis() as u64,
                "page enhanced"
            );
            Ok(true)
        }
        Ok(false) => {
            // Someone else enhanced it meanwhile: keep theirs.
            remove_all(&[new_path, preview, thumb]);
            Ok(false)
        }
        Err(e) => {
            remove_all(&[new_path, preview, thumb]);
            Err(ImagingError::Store(e.to_string()))
        }
    }
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}
