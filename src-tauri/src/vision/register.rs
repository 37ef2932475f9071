//! Registration of a scanned page to its template page: the homography that maps the
//! template onto the scan, found by inverse-compositional Lucas-Kanade on a pyramid of
//! blurred ink images, then checked patch by patch.
//!
//! Why intensity-based rather than feature matching: a printed page is full of repeated
//! letter shapes, so corner descriptors match the wrong "e" as often as the right one. The
//! page's own rules, frames and text blocks, blurred at coarse scale, give one smooth basin
//! around the true fit; Lucas-Kanade slides down it and refines at finer scales. Only the
//! template's textured pixels are used (where its gradient is strong), the error is
//! normalised for brightness and contrast each step (a grey scan of a white template), and
//! Huber weights keep the student's handwriting, which the template lacks, from pulling the
//! fit. The fit is then verified independently: textured patches of the template are
//! looked for in the aligned scan, and the residual is how far they are found from where
//! the fit puts them.

use super::homography::{solve, Homography};
use super::plane::Plane;

/// The width the patch check works at (finer than the fit, so it can see the fit's error).
const CHECK_WIDTH: usize = 800;
/// Pyramid levels below the finest fitting level (half the check width, 400 px).
const LEVELS: usize = 3;
/// At most this many template pixels take part at each level (a sample of the textured ones).
const MAX_PIXELS: usize = 30_000;
/// A page is flagged "check alignment" when the check's residual exceeds this many pixels
/// of the template (at its own resolution) ...
pub const FLAG_RESIDUAL_PX: f64 = 4.0;
/// ... or fewer than this share of the patches are found.
pub const FLAG_INLIER_SHARE: f64 = 0.5;

/// Below this correlation a scan is not taken for this template page (another page of the
/// exam, another exam, a blank page): a scan of the right page, handwriting and all,
/// correlates 0.9 and more; another exam's page with the same frames about 0.5.
pub const MIN_SIMILARITY: f64 = 0.7;

/// How a scan lines up with a template page.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// Template pixel coordinates (edge convention, at the template's full resolution) to
    /// scan pixel coordinates (the scan as given, full resolution).
    pub homography: Homography,
    /// The fit turned the page half a turn.
    pub upside_down: bool,
    /// Correlation of the aligned scan with the template over its textured pixels, 0..1:
    /// how much this scan looks like this template page (page identification uses it).
    pub similarity: f64,
    /// Patches of the template found in the aligned scan, of `patches` looked for.
    pub inliers: usize,
    pub patches: usize,
    /// Root-mean-square distance, in template pixels, between where the fit puts the
    /// found patches and where they are.
    pub residual_px: f64,
    /// Worth a look by the teacher: too few patches found, too large a residual, or too
    /// little likeness to be this page at all.
    pub flagged: bool,
}

/// Maps normalised page coordinates (centred, divided by half the width) to edge pixel
/// coordinates of an image `width` × `height`; the same for every resolution of a page.
fn to_pixels(width: usize, height: usize) -> Homography {
    let s = width as f64 / 2.0;
    Homography::translation(width as f64 / 2.0, height as f64 / 2.0)
        .then_after(Homography::scale(s, s))
}

/// A pyramid, finest first.
fn pyramid(finest: &Plane) -> Vec<Plane> {
    let mut levels = vec![finest.clone()];
    for _ in 0..LEVELS {
        let next = levels
            .last()
            .map(Plane::halved)
            .unwrap_or_else(|| finest.clone());
        levels.push(next);
    }
    levels.iter().map(|p| p.blurred(1.2)).collect()
}

/// The template's textured pixels at one level, with their steepest-descent images.
struct Texture {
    /// Normalised coordinates (u, v) of each pixel centre.
    points: Vec<(f64, f64)>,
    /// The template's value at each, normalised to zero mean and unit variance.
    values: Vec<f64>,
    /// ∇T · ∂W/∂p for each, the eight columns of the Jacobian.
    steepest: Vec<[f64; 8]>,
}

impl Texture {
    fn of(template: &Plane) -> Option<Self> {
        let (gx, gy) = template.gradients();
        let mut strength: Vec<(f32, usize)> = gx
            .data
            .iter()
            .zip(&gy.data)
            .enumerate()
            .map(|(i, (a, b))| (a * a + b * b, i))
            .filter(|(g, _)| *g > 1e-6)
            .collect();
        if strength.len() < 200 {
            return None; // a blank page: nothing to align on
        }
        // The strongest quarter of the textured pixels, thinned to MAX_PIXELS evenly.
        strength.sort_by(|a, b| b.0.total_cmp(&a.0));
        strength.truncate((strength.len() / 4).max(200));
        strength.sort_by_key(|&(_, i)| i);
        let step = strength.len().div_ceil(MAX_PIXELS).max(1);
        let to_norm = to_pixels(template.width, template.height).inverse()?;
        let s = template.width as f64 / 2.0;
        let mut texture = Texture {
            points: Vec::new(),
            values: Vec::new(),
            steepest: Vec::new(),
        };
        for &(_, i) in strength.iter().step_by(step) {
            let (x, y) = (i % template.width, i / template.width);
            let (u, v) = to_norm.apply(x as f64 + 0.5, y as f64 + 0.5)?;
            let (gu, gv) = (f64::from(gx.data[i]) * s, f64::from(gy.data[i]) * s);
            let r = gu * u + gv * v;
            texture.points.push((u, v));
            texture.values.push(f64::from(template.data[i]));
            texture
                .steepest
                .push([gu * u, gv * u, gu * v, gv * v, gu, gv, -u * r, -v * r]);
        }
        let (mean, sd) = mean_sd(&texture.values);
        if sd < 1e-6 {
            return None;
        }
        texture
            .values
            .iter_mut()
            .for_each(|t| *t = (*t - mean) / sd);
        texture
            .steepest
            .iter_mut()
            .for_each(|row| row.iter_mut().for_each(|c| *c /= sd));
        Some(texture)
    }

    /// The scan's values at the template's points under `warp` (normalised template →
    /// normalised scan), None where they fall outside the scan.
    fn sample(&self, scan: &Plane, warp: &Homography) -> Vec<Option<f64>> {
        let to_scan = to_pixels(scan.width, scan.height).then_after(*warp);
        self.points
            .iter()
            .map(|&(u, v)| {
                let (x, y) = to_scan.apply(u, v)?;
                scan.sample(x, y).map(f64::from)
            })
            .collect()
    }

    /// The correlation of the scan under `warp` with the template, over the points that
    /// land on the scan (0 when too few do).
    fn correlation(&self, scan: &Plane, warp: &Homography) -> f64 {
        let sampled = self.sample(scan, warp);
        let pairs: Vec<(f64, f64)> = sampled
            .iter()
            .zip(&self.values)
            .filter_map(|(s, &t)| s.map(|s| (s, t)))
            .collect();
        if pairs.len() < self.values.len() / 2 {
            return 0.0;
        }
        let (ms, ss) = mean_sd(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
        if ss < 1e-9 {
            return 0.0;
        }
        let n = pairs.len() as f64;
        pairs.iter().map(|(s, t)| (s - ms) / ss * t).sum::<f64>() / n
    }

    /// Inverse-compositional Lucas-Kanade from `warp`: returns the refined warp.
    fn refine(&self, scan: &Plane, mut warp: Homography, iterations: usize) -> Homography {
        for _ in 0..iterations {
            let sampled = self.sample(scan, &warp);
            let inside: Vec<f64> = sampled.iter().flatten().copied().collect();
            if inside.len() < self.values.len() / 3 {
                return warp; // the guess left the page
            }
            let (mean, sd) = mean_sd(&inside);
            if sd < 1e-9 {
                return warp;
            }
            let errors: Vec<Option<f64>> = sampled
                .iter()
                .zip(&self.values)
                .map(|(s, t)| s.map(|s| (s - mean) / sd - t))
                .collect();
            // Huber weights at 1.345 robust standard deviations.
            let mut abs: Vec<f64> = errors.iter().flatten().map(|e| e.abs()).collect();
            abs.sort_by(f64::total_cmp);
            let k = (1.345 * 1.4826 * abs[abs.len() / 2]).max(1e-3);
            let mut hessian = [[0.0; 8]; 8];
            let mut rhs = [0.0; 8];
            for (e, sdi) in errors.iter().zip(&self.steepest) {
                let Some(e) = *e else { continue };
                let w = if e.abs() <= k { 1.0 } else { k / e.abs() };
                for r in 0..8 {
                    rhs[r] += w * sdi[r] * e;
                    for c in r..8 {
                        hessian[r][c] += w * sdi[r] * sdi[c];
                    }
                }
            }
            let upper = hessian;
            for (r, row) in hessian.iter_mut().enumerate() {
                for (c, cell) in row.iter_mut().enumerate().take(r) {
                    *cell = upper[c][r];
                }
            }
            let Some(dp) = solve(hessian, rhs) else {
                return warp;
            };
            let Some(step) = Homography::from_increment(&dp).inverse() else {
                return warp;
            };
            warp = warp.then_after(step);
            if dp.iter().map(|d| d * d).sum::<f64>().sqrt() < 1e-5 {
                break;
            }
        }
        warp
    }
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The starting guesses: upright and half a turn (or only the one `only` names), each
/// straight and turned a little (a fit from straight converges for small turns; the turned
/// starts catch larger ones).
fn starts(only: Option<bool>) -> Vec<(bool, Homography)> {
    let mut out = Vec::new();
    for upside_down in [false, true] {
        if only.is_some_and(|o| o != upside_down) {
            continue;
        }
        for degrees in [0.0, -3.5, 3.5] {
            let turn = if upside_down {
                180.0 + degrees
            } else {
                degrees
            };
            out.push((upside_down, Homography::rotation_about(turn, 0.0, 0.0)));
        }
    }
    out
}

/// The best start for the scan at the coarsest level: (correlation, upside down, warp).
fn coarse_fit(
    template: &Texture,
    scan: &Plane,
    only: Option<bool>,
) -> Option<(f64, bool, Homography)> {
    let mut best: Option<(f64, bool, Homography)> = None;
    for (upside_down, start) in starts(only) {
        let warp = template.refine(scan, start, 30);
        let score = template.correlation(scan, &warp);
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, upside_down, warp));
        }
    }
    best
}

/// Below this final correlation the fit is tried again from upright and from half a turn,
/// skipping the coarsest level: on pages of evenly ruled answer boxes the coarsest level can
/// lock onto the wrong line, or even prefer the page turned (measured on a generated class of
/// 30: 5 pages at 0.14–0.37 from the coarse fit, 0.95 and more from the start), while a good
/// fit is 0.95 and more, so good pages pay nothing extra.
const SECOND_TRY_BELOW: f64 = 0.9;

/// Refines a coarse warp level by level; returns it with its correlation at the finest.
fn fine_fit(textures: &[Texture], scan: &[Plane], coarse: Homography) -> (Homography, f64) {
    let mut warp = coarse;
    for level in (0..LEVELS).rev() {
        warp = textures[level].refine(&scan[level], warp, 20);
    }
    let score = textures[0].correlation(&scan[0], &warp);
    (warp, score)
}

/// The patch check: textured template patches looked for in the scan warped by `warp`
/// within a few pixels. Returns (found, looked for, RMS offset in check-level pixels).
fn check(template: &Plane, scan: &Plane, warp: &Homography) -> (usize, usize, f64) {
    const PATCH: usize = 24;
    const SEARCH: isize = 5;
    let to_scan = to_pixels(scan.width, scan.height)
        .then_after(*warp)
        .then_after(match to_pixels(template.width, template.height).inverse() {
            Some(h) => h,
            None => return (0, 0, f64::INFINITY),
        });
    let (gx, gy) = template.gradients();
    let (cols, rows) = (6, 8);
    // The scan resampled into the template's frame, only around the patches looked at.
    let mut aligned = Plane::new(template.width, template.height);
    let mut found = Vec::new();
    let mut looked = 0;
    for row in 0..rows {
        for col in 0..cols {
            let x0 = (template.width - PATCH) * (2 * col + 1) / (2 * cols);
            let y0 = (template.height - PATCH) * (2 * row + 1) / (2 * rows);
            let (x0, y0) = (x0 as isize, y0 as isize);
            // Texture in both directions, or the patch cannot pin a 2-D offset.
            let (mut sx, mut sy) = (0.0, 0.0);
            for y in y0..y0 + PATCH as isize {
                for x in x0..x0 + PATCH as isize {
                    let i = y as usize * template.width + x as usize;
                    sx += gx.data[i].abs();
                    sy += gy.data[i].abs();
                }
            }
            if sx.min(sy) < 1.5 {
                continue;
            }
            looked += 1;
            resample_window(&mut aligned, scan, &to_scan, x0, y0, PATCH, SEARCH);
            if let Some(offset) = best_offset(template, &aligned, x0, y0, PATCH, SEARCH) {
                found.push(offset);
            }
        }
    }
    let rms = if found.is_empty() {
        f64::INFINITY
    } else {
        (found.iter().map(|(dx, dy)| dx * dx + dy * dy).sum::<f64>() / found.len() as f64).sqrt()
    };
    (found.len(), looked, rms)
}

/// Fills the window around the patch at (x0, y0) of `aligned` (the template's frame) with
/// the scan seen through `to_scan`.
fn resample_window(
    aligned: &mut Plane,
    scan: &Plane,
    to_scan: &Homography,
    x0: isize,
    y0: isize,
    patch: usize,
    search: isize,
) {
    let lo = |v: isize| (v - search).max(0) as usize;
    let x1 = ((x0 + patch as isize + search) as usize).min(aligned.width);
    let y1 = ((y0 + patch as isize + search) as usize).min(aligned.height);
    for y in lo(y0)..y1 {
        for x in lo(x0)..x1 {
            if let Some(v) = to_scan
                .apply(x as f64 + 0.5, y as f64 + 0.5)
                .and_then(|(sx, sy)| scan.sample(sx, sy))
            {
                aligned.data[y * aligned.width + x] = v;
            }
        }
    }
}

/// Where the template patch at (x0, y0) is in `aligned`, within ±`search` pixels, to a
/// fraction of a pixel (a parabola through the best correlation and its neighbours);
/// None when no offset correlates well.
fn best_offset(
    template: &Plane,
    aligned: &Plane,
    x0: isize,
    y0: isize,
    size: usize,
    search: isize,
) -> Option<(f64, f64)> {
    let side = (2 * search + 1) as usize;
    let mut scores = vec![f64::NEG_INFINITY; side * side];
    let patch: Vec<f64> = (0..size * size)
        .map(|k| {
            let (x, y) = (x0 as usize + k % size, y0 as usize + k / size);
            f64::from(template.at(x, y))
        })
        .collect();
    let (pm, ps) = mean_sd(&patch);
    if ps < 1e-6 {
        return None;
    }
    for dy in -search..=search {
        for dx in -search..=search {
            let (ax, ay) = (x0 + dx, y0 + dy);
            if ax < 0 || ay < 0 {
                continue;
            }
            let (ax, ay) = (ax as usize, ay as usize);
            if ax + size > aligned.width || ay + size > aligned.height {
                continue;
            }
            let window: Vec<f64> = (0..size * size)
                .map(|k| f64::from(aligned.at(ax + k % size, ay + k / size)))
                .collect();
            let (wm, ws) = mean_sd(&window);
            if ws < 1e-6 {
                continue;
            }
            let ncc = patch
                .iter()
                .zip(&window)
                .map(|(p, w)| (p - pm) * (w - wm))
                .sum::<f64>()
                / (ps * ws * (size * size) as f64);
            scores[(dy + search) as usize * side + (dx + search) as usize] = ncc;
        }
    }
    let (best, &score) = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    let (bx, by) = (best % side, best / side);
    if score < 0.6 || bx == 0 || by == 0 || bx == side - 1 || by == side - 1 {
        return None; // poor, or on the edge of the search: not a trustworthy find
    }
    let parabola = |l: f64, c: f64, r: f64| {
        let d = l - 2.0 * c + r;
        if d.abs() < 1e-9 {
            0.0
        } else {
            (0.5 * (l - r) / d).clamp(-0.5, 0.5)
        }
    };
    let s = |x: usize, y: usize| scores[y * side + x];
    let fx = parabola(s(bx - 1, by), score, s(bx + 1, by));
    let fy = parabola(s(bx, by - 1), score, s(bx, by + 1));
    Some((
        bx as f64 - search as f64 + fx,
        by as f64 - search as f64 + fy,
    ))
}

/// The planes registration needs of one page image: the fitting pyramid, its textured
/// pixels (when the page is a template), and the finer plane the check uses. Built once
/// per page and reused for every registration.
pub struct PreparedPage {
    pub width: u32,
    pub height: u32,
    fit: Vec<Plane>,
    textures: Option<Vec<Texture>>,
    check: Plane,
}

impl PreparedPage {
    /// Prepares a page (decoded, any resolution): one SIMD shrink to the check width, the
    /// fitting levels halved from it.
    pub fn new(image: &image::DynamicImage) -> Self {
        let (w, h) = (image.width().max(1), image.height().max(1));
        let longest = w.max(h);
        let side = (u64::from(CHECK_WIDTH as u32) * u64::from(longest)).div_ceil(u64::from(w));
        let small = crate::imaging::resize::shrink_to_fit(image, side.max(1) as u32);
        let ink = Plane::ink_of_grey(&small.to_luma8());
        let fit = pyramid(&ink.halved());
        let textures = fit.iter().map(Texture::of).collect::<Option<Vec<_>>>();
        Self {
            width: w,
            height: h,
            check: ink.blurred(0.8),
            fit,
            textures,
        }
    }

    /// How much ink the page carries (mean ink at the check level): a blank page is near 0.
    pub fn ink(&self) -> f64 {
        f64::from(self.check.mean())
    }

    /// True for a blank sheet (a scanner's empty back side, grey paper and dust included):
    /// under 0.2% of it is clearly darker than its paper. A printed exam page is several %.
    pub fn is_blank(&self) -> bool {
        self.check.marked_share(0.25) < 0.002
    }
}

impl std::fmt::Debug for PreparedPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPage")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

/// Registers `scan` to whichever of `templates` it matches best: every template page is
/// tried at the coarsest level only, and the fine fit and the check run for the most
/// similar. Returns its index and the registration; None when no template page has
/// anything to align on or no start converges.
pub fn register_best(
    templates: &[PreparedPage],
    scan: &PreparedPage,
) -> Option<(usize, Registration)> {
    register_among(templates, scan, None)
}

/// [`register_best`], trying only upright starts or only upside-down ones when `only` says.
fn register_among(
    templates: &[PreparedPage],
    scan: &PreparedPage,
    only: Option<bool>,
) -> Option<(usize, Registration)> {
    let (index, (_, mut upside_down, coarse)) = templates
        .iter()
        .enumerate()
        .filter_map(|(k, t)| {
            let textures = t.textures.as_ref()?;
            coarse_fit(&textures[LEVELS], &scan.fit[LEVELS], only).map(|fit| (k, fit))
        })
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))?;
    let template = &templates[index];
    let textures = template.textures.as_ref()?;
    let (mut warp, mut similarity) = fine_fit(textures, &scan.fit, coarse);
    if similarity < SECOND_TRY_BELOW {
        // Straight from upright and from half a turn, skipping the coarsest level.
        for (flipped, degrees) in [(false, 0.0), (true, 180.0)] {
            if only.is_some_and(|o| o != flipped) {
                continue;
            }
            let start = Homography::rotation_about(degrees, 0.0, 0.0);
            let (again, again_similarity) = fine_fit(textures, &scan.fit, start);
            if again_similarity > similarity {
                (warp, similarity, upside_down) = (again, again_similarity, flipped);
            }
        }
    }
    Some((
        index,
        finish(template, scan, warp, upside_down, similarity)?,
    ))
}

/// Registers `scan` to `template`; None when the template has nothing to align on (a
/// blank page) or no start converges onto the scan.
pub fn register(template: &PreparedPage, scan: &PreparedPage) -> Option<Registration> {
    register_best(std::slice::from_ref(template), scan).map(|(_, r)| r)
}

/// Registers `scan` to `template` the way up the teacher says (`upside_down` or not), never
/// the other: a page whose automatic fit chose the wrong way up is fitted again as told.
pub fn register_turned(
    template: &PreparedPage,
    scan: &PreparedPage,
    upside_down: bool,
) -> Option<Registration> {
    register_among(std::slice::from_ref(template), scan, Some(upside_down)).map(|(_, r)| r)
}

/// The check and the figures of a fitted warp (normalised coordinates).
fn finish(
    template: &PreparedPage,
    scan: &PreparedPage,
    warp: Homography,
    upside_down: bool,
    similarity: f64,
) -> Option<Registration> {
    let (inliers, patches, rms_check) = check(&template.check, &scan.check, &warp);
    // Check-level pixels → template pixels.
    let residual_px = rms_check * f64::from(template.width) / template.check.width as f64;
    let to_template_norm =
        to_pixels(template.width as usize, template.height as usize).inverse()?;
    let homography = to_pixels(scan.width as usize, scan.height as usize)
        .then_after(warp)
        .then_after(to_template_norm);
    let flagged = patches == 0
        || similarity < MIN_SIMILARITY
        || residual_px > FLAG_RESIDUAL_PX
        || (inliers as f64) < FLAG_INLIER_SHARE * patches as f64;
    Some(Registration {
        homography,
        upside_down,
        similarity,
        inliers,
        patches,
        residual_px,
        flagged,
    })
}
