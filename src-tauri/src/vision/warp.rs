//! Cutting a template region out of a student's page through the fitted transform: the
//! crop comes out upright and in the template's frame, the same size for every student,
//! however the page was shifted, turned, scaled or photographed.

use image::{Rgb, RgbImage};

use super::Homography;

/// A template page's width in crop pixels: a region spanning the whole width comes out
/// this wide (about 240 dpi on A4), whatever the template's or the scan's resolution.
pub const CROP_PAGE_WIDTH: f64 = 2000.0;

/// A region as fractions of its template page (origin top left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// The region's four corners on the page (top-left, top-right, bottom-right, bottom-left),
/// in the page's pixel-centre coordinates; None if the transform is degenerate there.
pub fn region_quad(
    region: RegionBox,
    template: (u32, u32),
    to_page: &Homography,
) -> Option<[[f64; 2]; 4]> {
    let (tw, th) = (f64::from(template.0), f64::from(template.1));
    let (x0, y0) = (region.x * tw, region.y * th);
    let (x1, y1) = ((region.x + region.w) * tw, (region.y + region.h) * th);
    let mut out = [[0.0; 2]; 4];
    for (slot, (x, y)) in out.iter_mut().zip([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]) {
        let (px, py) = to_page.apply(x, y)?;
        *slot = [px - 0.5, py - 0.5];
    }
    Some(out)
}

/// The crop's size in pixels for `region` of a `template`-sized page.
pub fn crop_size(region: RegionBox, template: (u32, u32)) -> (u32, u32) {
    let aspect = f64::from(template.1) / f64::from(template.0.max(1));
    let w = (region.w * CROP_PAGE_WIDTH).round().max(1.0);
    let h = (region.h * CROP_PAGE_WIDTH * aspect).round().max(1.0);
    (w as u32, h as u32)
}

/// Cuts `region` out of `page` through `to_page` (template pixels to page pixels, edge
/// coordinates), bilinear, into an upright crop of [`crop_size`]. Whatever falls beyond the
/// page's edge is white, as paper is. The page is RGB: a caller cutting several regions
/// converts it once, not once per region.
pub fn warp_region(
    page: &RgbImage,
    to_page: &Homography,
    region: RegionBox,
    template: (u32, u32),
) -> RgbImage {
    let (out_w, out_h) = crop_size(region, template);
    let (tw, th) = (f64::from(template.0), f64::from(template.1));
    let step_x = region.w * tw / f64::from(out_w);
    let step_y = region.h * th / f64::from(out_h);
    let (pw, ph) = page.dimensions();
    let mut out = RgbImage::from_pixel(out_w, out_h, Rgb([255, 255, 255]));
    for (i, j, pixel) in out.enumerate_pixels_mut() {
        let u = region.x * tw + (f64::from(i) + 0.5) * step_x;
        let v = region.y * th + (f64::from(j) + 0.5) * step_y;
        if let Some((x, y)) = to_page.apply(u, v) {
            if let Some(value) = bilinear(page, pw, ph, x - 0.5, y - 0.5) {
                *pixel = value;
            }
        }
    }
    out
}

/// The colour at pixel-centre coordinates (`x`, `y`); None off the page.
fn bilinear(image: &RgbImage, width: u32, height: u32, x: f64, y: f64) -> Option<Rgb<u8>> {
    if !(x > -0.5 && y > -0.5 && x < f64::from(width) - 0.5 && y < f64::from(height) - 0.5) {
        return None;
    }
    let (x, y) = (
        x.clamp(0.0, f64::from(width - 1)),
        y.clamp(0.0, f64::from(height - 1)),
    );
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
    let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
    let (a, b) = (image.get_pixel(x0, y0).0, image.get_pixel(x1, y0).0);
    let (c, d) = (image.get_pixel(x0, y1).0, image.get_pixel(x1, y1).0);
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = f64::from(a[k]) * (1.0 - fx) + f64::from(b[k]) * fx;
        let bottom = f64::from(c[k]) * (1.0 - fx) + f64::from(d[k]) * fx;
        out[k] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    Some(Rgb(out))
}

/// Several crops of one answer (a question with regions on two pages) as one image, top to
/// bottom in order, with a thin grey rule between them so the model sees where one ends.
pub fn stack(crops: &[RgbImage]) -> RgbImage {
    const GAP: u32 = 12;
    let width = crops.iter().map(RgbImage::width).max().unwrap_or(1);
    let height = crops.iter().map(RgbImage::height).sum::<u32>()
        + GAP * (crops.len().saturating_sub(1) as u32);
    let mut out = RgbImage::from_pixel(width, height.max(1), Rgb([255, 255, 255]));
    let mut top = 0;
    for (k, crop) in crops.iter().enumerate() {
        if k > 0 {
            for x in 0..width {
                out.put_pixel(x, top - GAP / 2, Rgb([160, 160, 160]));
            }
        }
        image::imageops::replace(&mut out, crop, 0, i64::from(top));
        top += crop.height() + GAP;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with a black square whose top-left corner sits at template pixel (200, 300).
    fn page_with_square(to_page: &Homography, size: (u32, u32)) -> RgbImage {
        let inverse = to_page.inverse().unwrap();
        RgbImage::from_fn(size.0, size.1, |x, y| {
            let (u, v) = inverse
                .apply(f64::from(x) + 0.5, f64::from(y) + 0.5)
                .unwrap();
            let inside = (200.0..300.0).contains(&u) && (300.0..400.0).contains(&v);
            if inside {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        })
    }

    #[test]
    fn a_turned_and_shifted_page_gives_the_same_upright_crop() {
        let template = (1000, 1400);
        let region = RegionBox {
            x: 0.15,
            y: 0.2,
            w: 0.2,
            h: 0.1,
        };
        let straight = page_with_square(&Homography::IDENTITY, template);
        let turned_fit = Homography::translation(40.0, -25.0)
            .then_after(Homography::rotation_about(3.0, 500.0, 700.0))
            .then_after(Homography::scale(1.2, 1.2));
        let turned = page_with_square(&turned_fit, (1300, 1750));
        let a = warp_region(&straight, &Homography::IDENTITY, region, template);
        let b = warp_region(&turned, &turned_fit, region, template);
        assert_eq!(a.dimensions(), b.dimensions());
        assert_eq!(a.dimensions(), crop_size(region, template));
        let differ = a
            .pixels()
            .zip(b.pixels())
            .filter(|(p, q)| (i32::from(p.0[0]) - i32::from(q.0[0])).abs() > 128)
            .count();
        // Only the square's anti-aliased edge may differ.
        assert!(
            differ < (a.width() * a.height()) as usize / 50,
            "{differ} pixels differ"
        );
        // The square starts at template x 200: (200 - 150) / 200 of the crop's width.
        let row = a.height() / 2 + a.height() / 4;
        let first_black = (0..a.width())
            .find(|&x| a.get_pixel(x, row).0[0] < 128)
            .unwrap();
        let want = (50.0 / 200.0 * f64::from(a.width())) as u32;
        assert!(first_black.abs_diff(want) <= 2, "{first_black} vs {want}");
    }

    #[test]
    fn the_quad_is_in_pixel_centres_and_beyond_the_page_is_white() {
        let quad = region_quad(
            RegionBox {
                x: 0.0,
                y: 0.0,
                w: 1.0,
                h: 0.5,
            },
            (100, 200),
            &Homography::scale(2.0, 2.0),
        )
        .unwrap();
        assert_eq!(
            quad,
            [[-0.5, -0.5], [199.5, -0.5], [199.5, 199.5], [-0.5, 199.5]]
        );
        let page = RgbImage::from_pixel(10, 10, Rgb([0, 0, 0]));
        let crop = warp_region(
            &page,
            &Homography::translation(-5.0, 0.0),
            RegionBox {
                x: 0.0,
                y: 0.0,
                w: 1.0,
                h: 1.0,
            },
            (10, 10),
        );
        assert_eq!(crop.get_pixel(2, crop.height() / 2).0, [255, 255, 255]);
        assert_eq!(
            crop.get_pixel(crop.width() - 3, crop.height() / 2).0,
            [0, 0, 0]
        );
    }

    #[test]
    fn stacked_crops_keep_their_order() {
        let a = RgbImage::from_pixel(20, 5, Rgb([0, 0, 0]));
        let b = RgbImage::from_pixel(10, 7, Rgb([200, 0, 0]));
        let s = stack(&[a, b]);
        assert_eq!(s.dimensions(), (20, 5 + 12 + 7));
        assert_eq!(s.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(s.get_pixel(0, 5 + 12).0, [200, 0, 0]);
    }
}
