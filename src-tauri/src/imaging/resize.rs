//! Shrinking pages for previews, thumbnails and analysis. A 300-dpi page is 8.7 million
//! pixels; `image`'s own `thumbnail` spent more than half of an import on it, so this goes
//! through `fast_image_resize` (SIMD convolution) and falls back to `image` only for pixel
//! types that crate does not know.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

/// The size that fits `width × height` inside `max_side` with the aspect ratio kept (never
/// larger than the original, never zero).
pub fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max_side || longest == 0 {
        return (width, height);
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, max_side);
    (side(width), side(height))
}

/// A copy of `image` no larger than `max_side` on its longest side, averaged over the
/// source pixels (a box filter: what a downscale of text needs, no ringing).
pub fn shrink_to_fit(image: &DynamicImage, max_side: u32) -> DynamicImage {
    let (w, h) = fit_within(image.width(), image.height(), max_side);
    if (w, h) == (image.width(), image.height()) {
        return image.clone();
    }
    let mut out = DynamicImage::new(w, h, image.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
    match Resizer::new().resize(image, &mut out, &options) {
        Ok(()) => out,
        Err(_) => image.thumbnail(max_side, max_side),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, RgbImage};

    #[test]
    fn fits_the_longest_side_and_keeps_the_aspect_ratio() {
        assert_eq!(fit_within(2480, 3508, 2000), (1414, 2000));
        assert_eq!(fit_within(3508, 2480, 2000), (2000, 1414));
        assert_eq!(fit_within(800, 600, 2000), (800, 600));
        assert_eq!(fit_within(10_000, 1, 100), (100, 1));
    }

    #[test]
    fn shrinking_averages_the_pixels() {
        // Left half black, right half white: the shrunk image keeps the halves apart.
        let img = GrayImage::from_fn(400, 200, |x, _| Luma([if x < 200 { 0 } else { 255 }]));
        let small = shrink_to_fit(&DynamicImage::ImageLuma8(img), 100).to_luma8();
        assert_eq!(small.dimensions(), (100, 50));
        assert!(small.get_pixel(10, 25)[0] < 5);
        assert!(small.get_pixel(90, 25)[0] > 250);
    }

    #[test]
    fn keeps_the_colour_type() {
        let img =
            DynamicImage::ImageRgb8(RgbImage::from_pixel(3000, 1000, image::Rgb([10, 200, 30])));
        let small = shrink_to_fit(&img, 300);
        assert_eq!((small.width(), small.height()), (300, 100));
        assert_eq!(
            small.to_rgb8().get_pixel(150, 50),
            &image::Rgb([10, 200, 30])
        );
    }
}
