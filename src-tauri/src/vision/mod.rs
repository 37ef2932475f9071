//! Computer vision for the class workflow: registering a scanned page to its template page
//! ([`register`]), so a region drawn once on the blank exam lands on every student's
//! answer however the scanner shifted, turned or scaled the page, or a phone tilted it.
//!
//! [`homography`] is the transform and its algebra, [`plane`] the float images the fit
//! works on, [`register`] the fit and its check, [`synth`] pages with known truth for the
//! tests and the bench. Pure functions of images: no database, no files.

pub mod homography;
pub mod outside;
pub mod plane;
pub mod register;
pub mod synth;
pub mod warp;

pub use homography::Homography;
pub use register::{register, register_best, register_turned, PreparedPage, Registration};

/// The distance between where two transforms put each of `points` (for accuracy figures).
pub fn corner_errors(a: &Homography, b: &Homography, points: &[(f64, f64)]) -> Vec<f64> {
    points
        .iter()
        .map(|&(x, y)| match (a.apply(x, y), b.apply(x, y)) {
            (Some(p), Some(q)) => ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt(),
            _ => f64::INFINITY,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use image::DynamicImage;

    use super::synth::{corners, keystone, scan_of, scan_transform, template_page};
    use super::*;

    /// Registers a synthetic scan made with `truth`; returns the result and the worst
    /// corner error over all frames, in scan pixels.
    fn run(
        template: &image::GrayImage,
        frames: &[synth::Frame],
        truth: Homography,
        scan_size: (u32, u32),
        seed: u64,
    ) -> (Registration, f64) {
        let scan = scan_of(template, frames, &truth, scan_size, seed);
        let t = PreparedPage::new(&DynamicImage::ImageLuma8(template.clone()));
        let s = PreparedPage::new(&DynamicImage::ImageLuma8(scan));
        let reg = register(&t, &s).expect("the scan registers");
        let size = (template.width(), template.height());
        let points: Vec<(f64, f64)> = frames.iter().flat_map(|f| corners(f, size)).collect();
        let worst = corner_errors(&reg.homography, &truth, &points)
            .into_iter()
            .fold(0.0, f64::max);
        (reg, worst)
    }

    #[test]
    fn shifted_turned_scaled_and_upside_down_scans_register_within_a_few_pixels() {
        let (template, frames) = template_page(1240, 1754, 7);
        let size = (1240, 1754);
        let cases = [
            (30.0, -25.0, 1.5, 1.02, false),
            (-30.0, 20.0, -2.5, 0.98, false),
            (10.0, 15.0, 0.8, 1.0, true),
            (0.0, 0.0, 4.5, 1.0, false),
        ];
        for (k, &(dx, dy, deg, scale, flip)) in cases.iter().enumerate() {
            let truth = scan_transform(size, size, dx, dy, deg, scale, flip);
            let (reg, worst) = run(&template, &frames, truth, size, k as u64);
            assert_eq!(reg.upside_down, flip, "case {k}");
            assert!(
                worst < 5.0,
                "case {k}: worst corner {worst:.2} px ({reg:?})"
            );
            assert!(!reg.flagged, "case {k}: {reg:?}");
            assert!(reg.residual_px < 3.0, "case {k}: {reg:?}");
        }
    }

    #[test]
    fn a_scan_at_another_resolution_and_a_tilted_photo_register() {
        let (template, frames) = template_page(1240, 1754, 3);
        // 200 dpi scan of a 150 dpi template, moved and turned.
        let big = (1654, 2339);
        let truth = scan_transform((1240, 1754), big, 25.0, -40.0, -1.5, 1.01, false);
        let (reg, worst) = run(&template, &frames, truth, big, 11);
        assert!(worst < 6.0, "200 dpi: worst corner {worst:.2} px ({reg:?})");
        // A phone photo: the top of the page farther away.
        let size = (1240, 1754);
        let truth =
            keystone(size, 0.04).then_after(scan_transform(size, size, 5.0, 10.0, 1.0, 1.0, false));
        let (reg, worst) = run(&template, &frames, truth, size, 12);
        assert!(worst < 6.0, "photo: worst corner {worst:.2} px ({reg:?})");
    }

    #[test]
    fn another_exam_correlates_less_than_the_right_template() {
        let size = (1240, 1754);
        let (template, frames) = template_page(1240, 1754, 7);
        let (other, _) = template_page(1240, 1754, 8);
        let truth = scan_transform(size, size, 10.0, 10.0, 1.0, 1.0, false);
        let scan = scan_of(&template, &frames, &truth, size, 1);
        let s = PreparedPage::new(&DynamicImage::ImageLuma8(scan));
        let right = register(&PreparedPage::new(&DynamicImage::ImageLuma8(template)), &s).unwrap();
        let wrong = register(&PreparedPage::new(&DynamicImage::ImageLuma8(other)), &s);
        let wrong_similarity = wrong.as_ref().map_or(0.0, |r| r.similarity);
        assert!(
            right.similarity > wrong_similarity + 0.15,
            "right {:.2} vs other exam {wrong_similarity:.2}",
            right.similarity
        );
        assert!(right.similarity >= register::MIN_SIMILARITY && !right.flagged);
        assert!(
            wrong.is_none_or(|r| r.flagged),
            "another exam's page is flagged"
        );
    }

    /// Told the way up, the fit keeps to it: an upside-down scan fitted "upside down" is
    /// the automatic fit; fitted "upright" it does not look like the template.
    #[test]
    fn a_fit_told_the_way_up_keeps_to_it() {
        let size = (1240, 1754);
        let (template, frames) = template_page(1240, 1754, 7);
        let truth = scan_transform(size, size, 10.0, -15.0, 1.0, 1.0, true);
        let scan = PreparedPage::new(&DynamicImage::ImageLuma8(scan_of(
            &template, &frames, &truth, size, 4,
        )));
        let template = PreparedPage::new(&DynamicImage::ImageLuma8(template));
        let auto = register(&template, &scan).unwrap();
        let told = register_turned(&template, &scan, true).unwrap();
        assert!(auto.upside_down && told.upside_down);
        let corners = [(0.0, 0.0), (1240.0, 1754.0)];
        let apart = corner_errors(&auto.homography, &told.homography, &corners);
        assert!(apart.iter().all(|&e| e < 1.0), "{apart:?}");
        let wrong = register_turned(&template, &scan, false);
        assert!(
            wrong
                .as_ref()
                .is_none_or(|r| r.similarity < register::MIN_SIMILARITY),
            "{wrong:?}"
        );
    }

    #[test]
    fn a_blank_template_cannot_be_registered_to() {
        let blank =
            DynamicImage::ImageLuma8(image::GrayImage::from_pixel(600, 800, image::Luma([255])));
        let page = PreparedPage::new(&blank);
        assert!(register(&page, &page).is_none());
        assert!(page.ink() < 0.01);
        assert!(page.is_blank());
        // Grey recycled paper with sensor noise and a speck of dust is still blank...
        let grey = image::GrayImage::from_fn(600, 800, |x, y| {
            let noise = ((x * 7919 + y * 104729) % 13) as u8;
            let dust = (300..303).contains(&x) && (400..403).contains(&y);
            image::Luma([if dust { 40 } else { 228 + noise }])
        });
        assert!(PreparedPage::new(&DynamicImage::ImageLuma8(grey)).is_blank());
        // ... and a printed page, however light its print, is not.
        let (printed, _) = template_page(600, 800, 3);
        assert!(!PreparedPage::new(&DynamicImage::ImageLuma8(printed)).is_blank());
    }
}
