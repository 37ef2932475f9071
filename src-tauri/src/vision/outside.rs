//! Writing outside the regions: after a page is aligned, ink that is neither printed on
//! the template nor inside a region (answers, name, ID) is where a student went on beyond
//! the box — the answer the model would otherwise never see.
//!
//! Compared at a coarse grid in the template's frame: the scan is sampled through the fit
//! (the darkest of 3 × 3 samples per cell, so a thin pen stroke is not missed), the
//! template's print is spread by two cells (so a fit off by a pixel or two does not turn
//! print into "writing"), and what is left is grouped into blobs; specks are ignored.

use image::{DynamicImage, GenericImageView};

use super::plane::Plane;
use super::warp::RegionBox;
use super::Homography;

/// The grid's width in cells (a cell is about 6 px of a 300-dpi A4 page).
pub const GRID_WIDTH: u32 = 400;
/// A cell counts as written when the scan is this much darker than its paper there...
const WRITTEN: f32 = 0.35;
/// ... and the (spread) template has no more print than this.
const PRINTED: f32 = 0.06;
/// Blobs smaller than this many cells are specks (dust, a stray dot).
const MIN_CELLS: usize = 40;
/// Regions are widened by this share of the page, so a stroke just past a frame's line
/// (still the answer's) is not reported.
const REGION_MARGIN: f64 = 0.012;
/// The page's outer band is ignored (scanner edges, staples, punched holes).
const PAGE_MARGIN: f64 = 0.03;

/// The template page as the comparison needs it: its print at grid size, spread.
#[derive(Debug, Clone)]
pub struct PrintMask {
    print: Plane,
    template: (u32, u32),
}

impl PrintMask {
    /// Built once per template page.
    pub fn new(template: &DynamicImage) -> Self {
        let ink = Plane::ink_of(template, GRID_WIDTH);
        Self {
            print: spread(&spread(&ink)),
            template: template.dimensions(),
        }
    }
}

/// Writing found outside every region, as a box in template-page fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InkBlob {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Its size in grid cells.
    pub cells: usize,
}

/// The blobs of writing on `scan` (aligned by `to_scan`, template pixels to scan pixels)
/// that lie outside `regions` and off the template's print, largest first.
pub fn writing_outside(
    mask: &PrintMask,
    scan: &DynamicImage,
    to_scan: &Homography,
    regions: &[RegionBox],
) -> Vec<InkBlob> {
    let (gw, gh) = (mask.print.width, mask.print.height);
    let (tw, th) = (f64::from(mask.template.0), f64::from(mask.template.1));
    let (cell_w, cell_h) = (tw / gw as f64, th / gh as f64);
    let grey = scan.to_luma8();
    let (sw, sh) = grey.dimensions();
    let ink_at = |x: f64, y: f64| -> Option<f32> {
        if x < 0.0 || y < 0.0 || x >= f64::from(sw) || y >= f64::from(sh) {
            return None;
        }
        Some(1.0 - f32::from(grey.get_pixel(x as u32, y as u32).0[0]) / 255.0)
    };
    // The scan's ink per cell: the darkest of 3 × 3 samples.
    let mut scanned = Plane::new(gw, gh);
    for j in 0..gh {
        for i in 0..gw {
            let mut darkest = 0.0f32;
            for (a, b) in [
                (0.17, 0.17),
                (0.5, 0.17),
                (0.83, 0.17),
                (0.17, 0.5),
                (0.5, 0.5),
                (0.83, 0.5),
                (0.17, 0.83),
                (0.5, 0.83),
                (0.83, 0.83),
            ] {
                let (u, v) = ((i as f64 + a) * cell_w, (j as f64 + b) * cell_h);
                if let Some(value) = to_scan.apply(u, v).and_then(|(x, y)| ink_at(x, y)) {
                    darkest = darkest.max(value);
                }
            }
            scanned.data[j * gw + i] = darkest;
        }
    }
    let paper = median(&scanned.data);
    let outside = |i: usize, j: usize| -> bool {
        let (fx, fy) = ((i as f64 + 0.5) / gw as f64, (j as f64 + 0.5) / gh as f64);
        let in_margin = fx < PAGE_MARGIN
            || fy < PAGE_MARGIN
            || fx > 1.0 - PAGE_MARGIN
            || fy > 1.0 - PAGE_MARGIN;
        let in_region = regions.iter().any(|r| {
            fx >= r.x - REGION_MARGIN
                && fx <= r.x + r.w + REGION_MARGIN
                && fy >= r.y - REGION_MARGIN
                && fy <= r.y + r.h + REGION_MARGIN
        });
        !in_margin && !in_region
    };
    let written: Vec<bool> = (0..gw * gh)
        .map(|k| {
            let (i, j) = (k % gw, k / gw);
            scanned.data[k] - paper > WRITTEN && mask.print.data[k] <= PRINTED && outside(i, j)
        })
        .collect();
    // A pen stroke comes out of the grid in pieces (its thin, steep parts fall below the
    // threshold): pieces within two cells of each other are one blob.
    let joined = grow(&grow(&written, gw, gh), gw, gh);
    let mut blobs = blobs(&joined, &written, gw, gh);
    blobs.retain(|b| b.cells >= MIN_CELLS);
    blobs.sort_by_key(|b| std::cmp::Reverse(b.cells));
    blobs
}

/// Each cell the largest value of itself and its 8 neighbours.
fn spread(plane: &Plane) -> Plane {
    let (w, h) = (plane.width, plane.height);
    let mut out = Plane::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let mut most = 0.0f32;
            for yy in y.saturating_sub(1)..(y + 2).min(h) {
                for xx in x.saturating_sub(1)..(x + 2).min(w) {
                    most = most.max(plane.data[yy * w + xx]);
                }
            }
            out.data[y * w + x] = most;
        }
    }
    out
}

fn median(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    let middle = sorted.len() / 2;
    *sorted.select_nth_unstable_by(middle, f32::total_cmp).1
}

/// Each cell set when it or one of its 8 neighbours is.
fn grow(set: &[bool], w: usize, h: usize) -> Vec<bool> {
    (0..set.len())
        .map(|k| {
            let (x, y) = (k % w, k / w);
            (y.saturating_sub(1)..(y + 2).min(h))
                .any(|yy| (x.saturating_sub(1)..(x + 2).min(w)).any(|xx| set[yy * w + xx]))
        })
        .collect()
}

/// The 8-connected groups of `joined` cells, each as the box of its `set` cells (in page
/// fractions) with their count.
fn blobs(joined: &[bool], set: &[bool], w: usize, h: usize) -> Vec<InkBlob> {
    let mut seen = vec![false; set.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..set.len() {
        if !set[start] || seen[start] {
            continue;
        }
        // Grown from a written cell, over the joined cells; only written cells count.
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1, mut cells) = (w, h, 0, 0, 0);
        while let Some(k) = stack.pop() {
            let (x, y) = (k % w, k / w);
            if set[k] {
                cells += 1;
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
            for yy in y.saturating_sub(1)..(y + 2).min(h) {
                for xx in x.saturating_sub(1)..(x + 2).min(w) {
                    let n = yy * w + xx;
                    if joined[n] && !seen[n] {
                        seen[n] = true;
                        stack.push(n);
                    }
                }
            }
        }
        out.push(InkBlob {
            x: x0 as f64 / w as f64,
            y: y0 as f64 / h as f64,
            w: (x1 + 1 - x0) as f64 / w as f64,
            h: (y1 + 1 - y0) as f64 / h as f64,
            cells,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::synth::{scan_of, scan_transform, template_page};
    use super::*;

    fn regions(frames: &[[f64; 4]]) -> Vec<RegionBox> {
        frames
            .iter()
            .map(|f| RegionBox {
                x: f[0],
                y: f[1],
                w: f[2],
                h: f[3],
            })
            .collect()
    }

    #[test]
    fn writing_beside_a_box_is_found_and_writing_inside_is_not() {
        let size = (1240, 1754);
        let (template, frames) = template_page(size.0, size.1, 7);
        let mask = PrintMask::new(&DynamicImage::ImageLuma8(template.clone()));
        for truth in [
            scan_transform(size, (2480, 3508), 30.0, -20.0, 1.5, 1.01, false),
            scan_transform(size, (2480, 3508), 10.0, 10.0, -3.0, 0.97, false),
        ] {
            check(&template, &frames, &mask, &truth);
        }
    }

    fn check(
        template: &image::GrayImage,
        frames: &[[f64; 4]],
        mask: &PrintMask,
        truth: &Homography,
    ) {
        let truth = *truth;
        // Through JPEG, as a scanner sends it.
        let scanned = |written: &[[f64; 4]], seed: u64| {
            let scan = scan_of(template, written, &truth, (2480, 3508), seed);
            let mut jpeg = Vec::new();
            DynamicImage::ImageLuma8(scan)
                .write_to(
                    &mut std::io::Cursor::new(&mut jpeg),
                    image::ImageFormat::Jpeg,
                )
                .unwrap();
            image::load_from_memory(&jpeg).unwrap()
        };
        // Handwriting in every frame: nothing outside.
        let found = writing_outside(mask, &scanned(&frames[1..], 3), &truth, &regions(frames));
        assert!(found.is_empty(), "{found:?}");
        // The same, plus a few lines in the gap between the instructions and question 1.
        let between = [0.3, 0.118, 0.4, 0.03];
        let mut written: Vec<[f64; 4]> = frames[1..].to_vec();
        written.push(between);
        let found = writing_outside(mask, &scanned(&written, 40), &truth, &regions(frames));
        assert!(!found.is_empty(), "the writing between the boxes is missed");
        let blob = found[0];
        assert!(
            blob.y > 0.1 && blob.y + blob.h < 0.17 && blob.x > 0.28 && blob.x + blob.w < 0.72,
            "{blob:?} is not where the writing is ({between:?})"
        );
    }
}
