//! Cutting an answer box out of a page: the box is fractions of the upright page, clamped
//! to it, and the crop is saved losslessly (PNG) from the cached decoded page.

use std::path::Path;

use crate::exams::Bbox;

use super::pages::save;
use super::{cache, io, ImagingError};

/// The pixel rectangle (x, y, w, h) of a fractional box, clamped to the page. A box wholly
/// off the page, or with no area, is refused.
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

/// Cuts the box out of a stored page and saves it losslessly as PNG at `out`. The decoded
/// page stays in the [`cache`], so the next box on it costs only the cut and the save.
pub fn crop_to_file(page_path: &Path, bbox: Bbox, out: &Path) -> Result<(), ImagingError> {
    let image = cache::page(page_path)?;
    let (x, y, w, h) = pixel_rect(bbox, image.width(), image.height())?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    save(&image.crop_imm(x, y, w, h), out, image::ImageFormat::Png)
}
