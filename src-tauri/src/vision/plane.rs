//! A grey image as floats (ink = high), with what registration does to one: shrink,
//! blur, sample between pixels, and take gradients.

use image::{imageops::FilterType, DynamicImage, GrayImage};

/// A single-channel float image, row-major. Values are "ink": 0 for paper, 1 for black.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    /// A plane of zeros.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// The page as ink, shrunk so its width is at most `max_width` (area-averaging, so thin
    /// printed lines survive as grey instead of vanishing between samples).
    pub fn ink_of(image: &DynamicImage, max_width: u32) -> Self {
        let grey = image.to_luma8();
        let grey = if grey.width() > max_width {
            let height = (u64::from(grey.height()) * u64::from(max_width) / u64::from(grey.width()))
                .max(1) as u32;
            image::imageops::resize(&grey, max_width, height, FilterType::Triangle)
        } else {
            grey
        };
        Self::ink_of_grey(&grey)
    }

    /// The ink of an 8-bit grey image at its own size.
    pub fn ink_of_grey(grey: &GrayImage) -> Self {
        Self {
            width: grey.width() as usize,
            height: grey.height() as usize,
            data: grey
                .as_raw()
                .iter()
                .map(|&v| 1.0 - f32::from(v) / 255.0)
                .collect(),
        }
    }

    /// The value at pixel (x, y).
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Bilinear sample at continuous edge coordinates (pixel `i`'s centre is `i + 0.5`);
    /// None outside the image.
    pub fn sample(&self, x: f64, y: f64) -> Option<f32> {
        let (fx, fy) = (x - 0.5, y - 0.5);
        if !(fx >= 0.0 && fy >= 0.0) {
            return None;
        }
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        if x0 + 1 >= self.width || y0 + 1 >= self.height {
            return None;
        }
        let (tx, ty) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
        let i = y0 * self.width + x0;
        let d = &self.data;
        let top = d[i] + (d[i + 1] - d[i]) * tx;
        let bottom = d[i + self.width] + (d[i + self.width + 1] - d[i + self.width]) * tx;
        Some(top + (bottom - top) * ty)
    }

    /// Half the size, each pixel the mean of a 2×2 block.
    pub fn halved(&self) -> Self {
        let (w, h) = (self.width / 2, self.height / 2);
        let mut out = Plane::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = 2 * y * self.width + 2 * x;
                let d = &self.data;
                out.data[y * w + x] =
                    (d[i] + d[i + 1] + d[i + self.width] + d[i + self.width + 1]) * 0.25;
            }
        }
        out
    }

    /// A Gaussian blur of standard deviation `sigma` pixels (separable, edges clamped):
    /// it widens the basin in which the fit converges and evens out scanner noise.
    pub fn blurred(&self, sigma: f32) -> Self {
        let radius = (sigma * 3.0).ceil() as isize;
        let kernel: Vec<f32> = (-radius..=radius)
            .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
            .collect();
        let sum: f32 = kernel.iter().sum();
        let kernel: Vec<f32> = kernel.iter().map(|k| k / sum).collect();
        self.convolved(&kernel, true).convolved(&kernel, false)
    }

    /// One pass of a centred 1-D kernel along rows (`across`) or columns, edges clamped.
    fn convolved(&self, kernel: &[f32], across: bool) -> Self {
        let radius = (kernel.len() / 2) as isize;
        let (w, h) = (self.width as isize, self.height as isize);
        let mut out = Plane::new(self.width, self.height);
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, weight) in kernel.iter().enumerate() {
                    let offset = k as isize - radius;
                    let (sx, sy) = if across {
                        ((x + offset).clamp(0, w - 1), y)
                    } else {
                        (x, (y + offset).clamp(0, h - 1))
                    };
                    acc += weight * self.data[(sy * w + sx) as usize];
                }
                out.data[(y * w + x) as usize] = acc;
            }
        }
        out
    }

    /// Central-difference gradients (x, y), zero on the border.
    pub fn gradients(&self) -> (Plane, Plane) {
        let (w, h) = (self.width, self.height);
        let (mut gx, mut gy) = (Plane::new(w, h), Plane::new(w, h));
        for y in 1..h.saturating_sub(1) {
            for x in 1..w.saturating_sub(1) {
                let i = y * w + x;
                gx.data[i] = (self.data[i + 1] - self.data[i - 1]) * 0.5;
                gy.data[i] = (self.data[i + w] - self.data[i - w]) * 0.5;
            }
        }
        (gx, gy)
    }

    /// The mean of all pixels.
    pub fn mean(&self) -> f32 {
        self.data.iter().sum::<f32>() / self.data.len().max(1) as f32
    }

    /// The share of pixels clearly darker than the paper (its median shade) by `margin`:
    /// print and handwriting, whatever the paper's own grey. A blank sheet is near 0.
    pub fn marked_share(&self, margin: f32) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        let mut sorted = self.data.clone();
        let middle = sorted.len() / 2;
        let paper = *sorted.select_nth_unstable_by(middle, f32::total_cmp).1;
        let marked = self.data.iter().filter(|&&v| v > paper + margin).count();
        marked as f64 / self.data.len() as f64
    }

    /// This plane turned half a turn (an upside-down page).
    pub fn rotated_half_turn(&self) -> Self {
        let mut data = self.data.clone();
        data.reverse();
        Self {
            width: self.width,
            height: self.height,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_interpolates_between_pixel_centres_and_refuses_outside() {
        let mut p = Plane::new(3, 3);
        p.data[4] = 1.0; // the centre pixel
        assert_eq!(p.sample(1.5, 1.5), Some(1.0));
        assert_eq!(p.sample(1.0, 1.5), Some(0.5));
        assert_eq!(p.sample(0.2, 1.5), None);
        assert_eq!(p.sample(2.6, 1.5), None);
    }

    #[test]
    fn blur_keeps_the_total_ink_and_halving_keeps_the_mean() {
        let mut p = Plane::new(40, 30);
        for x in 10..30 {
            p.data[15 * 40 + x] = 1.0;
        }
        let blurred = p.blurred(2.0);
        assert!((blurred.mean() - p.mean()).abs() < 1e-4);
        assert!(blurred.at(20, 15) < 0.5 && blurred.at(20, 17) > 0.0);
        let mut even = Plane::new(40, 30);
        even.data
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = (i % 7) as f32);
        let half = even.halved();
        assert_eq!((half.width, half.height), (20, 15));
    }
}
