//! Synthetic exam pages with known truth, for the registration tests and the bench: a
//! printed template page (title, question lines, answer frames, a name box), and scans of
//! it under a chosen transform with handwriting, grey paper and noise. Nothing here is
//! used by the app itself.

use image::{GrayImage, Luma};
use rand::{Rng, SeedableRng};

use super::homography::Homography;
use super::plane::Plane;

/// A region of a synthetic page, as fractions of the page (x, y, w, h).
pub type Frame = [f64; 4];

/// A printed page: `seed` changes the wording (so pages and exams differ), `page` the
/// layout a little. Returns the page and its answer frames.
pub fn template_page(width: u32, height: u32, seed: u64) -> (GrayImage, Vec<Frame>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut img = GrayImage::from_pixel(width, height, Luma([255]));
    let (w, h) = (f64::from(width), f64::from(height));
    let line = (h * 0.011).max(4.0);
    let stroke = (w / 600.0).round().max(1.0) as u32;
    // Title and instructions: rows of "words".
    words(&mut img, &mut rng, 0.08 * w, 0.05 * h, 0.6 * w, line * 1.6);
    words(&mut img, &mut rng, 0.08 * w, 0.09 * h, 0.84 * w, line);
    words(&mut img, &mut rng, 0.08 * w, 0.11 * h, 0.7 * w, line);
    // The name box, top right.
    frame(&mut img, 0.66 * w, 0.035 * h, 0.26 * w, 0.04 * h, stroke);
    let mut frames = vec![[0.66, 0.035, 0.26, 0.04]];
    // Questions: a line of text, then an answer frame.
    let count = 4 + (seed % 2) as usize;
    let top = 0.15;
    let band = (0.93 - top) / count as f64;
    for q in 0..count {
        let y = top + band * q as f64;
        let text = rng.gen_range(0.5..0.84) * w;
        words(&mut img, &mut rng, 0.08 * w, y * h, text, line);
        let fy = y + 0.03;
        let fh = band - 0.045;
        frame(&mut img, 0.08 * w, fy * h, 0.84 * w, fh * h, stroke);
        frames.push([0.08, fy, 0.84, fh]);
    }
    // A footer with the page number.
    words(&mut img, &mut rng, 0.45 * w, 0.96 * h, 0.1 * w, line * 0.8);
    (img, frames)
}

fn fill(img: &mut GrayImage, x: f64, y: f64, w: f64, h: f64, value: u8) {
    let (x0, y0) = (x.max(0.0) as u32, y.max(0.0) as u32);
    let (x1, y1) = (
        ((x + w) as u32).min(img.width()),
        ((y + h) as u32).min(img.height()),
    );
    for yy in y0..y1 {
        for xx in x0..x1 {
            img.put_pixel(xx, yy, Luma([value]));
        }
    }
}

fn frame(img: &mut GrayImage, x: f64, y: f64, w: f64, h: f64, stroke: u32) {
    let s = f64::from(stroke);
    fill(img, x, y, w, s, 0);
    fill(img, x, y + h - s, w, s, 0);
    fill(img, x, y, s, h, 0);
    fill(img, x + w - s, y, s, h, 0);
}

/// A line of "words": dark blocks of letter height with gaps, like printed text at a
/// distance.
fn words(img: &mut GrayImage, rng: &mut impl Rng, x: f64, y: f64, width: f64, height: f64) {
    let mut at = x;
    while at < x + width {
        let len = height * rng.gen_range(1.5..6.0);
        let len = len.min(x + width - at);
        // Letters: thin vertical bars inside the word box, so the word has texture.
        let mut letter = at;
        while letter < at + len {
            let lw = height * rng.gen_range(0.35..0.7);
            let lh = height * rng.gen_range(0.6..1.0);
            fill(img, letter, y + height - lh, (lw * 0.8).max(1.0), lh, 20);
            letter += lw;
        }
        at += len + height * rng.gen_range(0.6..1.0);
    }
}

/// The transform of a scan of a `template` page: the page scaled to the scan's size, then
/// moved by (`dx`, `dy`) scan pixels, turned by `degrees` and scaled by `scale` about the
/// scan's centre, and turned half a turn when `upside_down`.
pub fn scan_transform(
    template: (u32, u32),
    scan: (u32, u32),
    dx: f64,
    dy: f64,
    degrees: f64,
    scale: f64,
    upside_down: bool,
) -> Homography {
    let (cx, cy) = (f64::from(scan.0) / 2.0, f64::from(scan.1) / 2.0);
    let fit = Homography::scale(
        f64::from(scan.0) / f64::from(template.0),
        f64::from(scan.1) / f64::from(template.1),
    );
    let turn = degrees + if upside_down { 180.0 } else { 0.0 };
    Homography::translation(dx, dy)
        .then_after(Homography::rotation_about(turn, cx, cy))
        .then_after(Homography::translation(cx, cy))
        .then_after(Homography::scale(scale, scale))
        .then_after(Homography::translation(-cx, -cy))
        .then_after(fit)
}

/// A perspective tilt (a phone photo): the top edge `squeeze` narrower than the bottom.
pub fn keystone(scan: (u32, u32), squeeze: f64) -> Homography {
    let (w, h) = (f64::from(scan.0), f64::from(scan.1));
    // x' = cx + (x - cx) * (1 - squeeze (1 - y/h)) approximated projectively.
    let k = squeeze / h;
    Homography::translation(w / 2.0, 0.0)
        .then_after(Homography([
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, -k, 1.0 + squeeze],
        ]))
        .then_after(Homography::translation(-w / 2.0, 0.0))
}

/// A scan of `template` under `truth` (template edge pixels → scan edge pixels), of size
/// `scan`, with handwriting in the `frames` (drawn on the page, so it moves with it), grey
/// paper and sensor noise.
pub fn scan_of(
    template: &GrayImage,
    frames: &[Frame],
    truth: &Homography,
    scan: (u32, u32),
    seed: u64,
) -> GrayImage {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut written = template.clone();
    let (w, h) = (f64::from(template.width()), f64::from(template.height()));
    let pen = (w / 500.0).max(1.5);
    for f in frames {
        // A few lines of cursive-ish strokes inside the frame.
        let lines = rng.gen_range(1..4);
        for l in 0..lines {
            let y = (f[1] + f[3] * (0.25 + 0.25 * l as f64)) * h;
            let mut x = (f[0] + 0.03) * w;
            let end = (f[0] + f[2] * rng.gen_range(0.4..0.9)) * w;
            let mut phase: f64 = rng.gen_range(0.0..6.0);
            while x < end {
                let yy = y + (phase.sin() * 0.012 * h);
                fill(&mut written, x, yy, pen, pen, 40);
                x += pen * 0.5;
                phase += 0.35;
            }
        }
    }
    let ink = Plane::ink_of_grey(&written);
    let back = truth.inverse().unwrap_or(Homography::IDENTITY);
    GrayImage::from_fn(scan.0, scan.1, |x, y| {
        let v = back
            .apply(f64::from(x) + 0.5, f64::from(y) + 0.5)
            .and_then(|(tx, ty)| ink.sample(tx, ty))
            .unwrap_or(0.0);
        let paper = 238.0 + rng.gen_range(-6.0..6.0);
        Luma([(paper * (1.0 - f64::from(v) * 0.9)).clamp(0.0, 255.0) as u8])
    })
}

/// The corners of a frame in template edge pixels (top-left, top-right, bottom-right,
/// bottom-left).
pub fn corners(frame: &Frame, template: (u32, u32)) -> [(f64, f64); 4] {
    let (w, h) = (f64::from(template.0), f64::from(template.1));
    let (x0, y0, x1, y1) = (
        frame[0] * w,
        frame[1] * h,
        (frame[0] + frame[2]) * w,
        (frame[1] + frame[3]) * h,
    );
    [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
}
