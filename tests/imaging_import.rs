//! Import of every format, pixel-exact crops, clear errors with nothing left behind, and the
//! enhancement of coarse and skewed pages, through the same core the window and CLI use.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gradedesk::error::CoreError;
use gradedesk::exams::{self, Bbox, QuestionInput};
use gradedesk::imaging;
use gradedesk::workspace::Workspace;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use support::scans as fixtures;

async fn workspace(dir: &Path) -> (Arc<Workspace>, i64) {
    let ws = Workspace::open(&dir.join("data")).unwrap();
    let questions = (1..=9)
        .map(|i| QuestionInput::plain(&format!("Q{i}"), "p", 1.0))
        .collect();
    let exam = ws.create_exam("Imaging".into(), questions).await.unwrap();
    (ws, exam)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn crop(ws: &Workspace, sub: i64, page: i64, q: &str, bbox: Bbox) -> RgbImage {
    let item = ws.create_item(sub, page, q, bbox).await.unwrap();
    let path = exams::crop_path(&ws.store.lock(), item.item_id).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "crops are stored losslessly as PNG"
    );
    image::load_from_memory(&bytes).unwrap().to_rgb8()
}

fn region(img: &RgbImage, bbox: Bbox) -> RgbImage {
    let (x, y, w, h) = imaging::pixel_rect(bbox, img.width(), img.height()).unwrap();
    image::imageops::crop_imm(img, x, y, w, h).to_image()
}

fn page_paths(ws: &Workspace, sub: i64) -> Vec<exams::PageFiles> {
    let conn = ws.store.lock();
    let pages = exams::pages(&conn, sub).unwrap();
    pages
        .iter()
        .map(|p| exams::page_by_id(&conn, p.id).unwrap())
        .collect()
}

const BOX: Bbox = Bbox {
    x: 0.1,
    y: 0.2,
    w: 0.6,
    h: 0.15,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_imports_one_page_per_page_and_crops_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, exam) = workspace(tmp.path()).await;

    // PNG, 16-bit with transparency: flattened on white paper, cropped exactly.
    let paper = fixtures::page(1300, 1800, 3);
    let rgba = RgbaImage::from_fn(1300, 1800, |x, y| {
        let p = paper.get_pixel(x, y).0;
        Rgba([p[0], p[1], p[2], if x < 650 { 255 } else { 128 }])
    });
    let png16 = fixtures::encode(
        &DynamicImage::ImageRgba16(DynamicImage::ImageRgba8(rgba.clone()).to_rgba16()),
        ImageFormat::Png,
    );
    let path = write(tmp.path(), "élève ünïcode 😀.png", &png16);
    let r = ws.import_path(exam, &path).await.unwrap();
    assert_eq!(r.pages, 1);
    assert_eq!(r.file, "élève ünïcode 😀.png");
    let expected = RgbImage::from_fn(1300, 1800, |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        let f = |v: u8| ((u32::from(v) * a + 255 * (255 - a) + 127) / 255) as u8;
        Rgb([f(p[0]), f(p[1]), f(p[2])])
    });
    let got = crop(&ws, r.submission_id, 1, "Q1", BOX).await;
    assert_eq!(got, region(&expected, BOX), "PNG crop is pixel-exact");

    // A phone JPEG with EXIF orientation 6: the page is upright, the original kept as is.
    let stored = fixtures::page(2400, 1800, 4);
    let jpeg = fixtures::exif_rotated_jpeg(&stored);
    let r = ws
        .import_path(exam, &write(tmp.path(), "phone.jpg", &jpeg))
        .await
        .unwrap();
    let pages = page_paths(&ws, r.submission_id);
    assert_eq!(
        (pages[0].width, pages[0].height),
        (1800, 2400),
        "rotated upright"
    );
    assert_eq!(
        std::fs::read(&pages[0].path).unwrap(),
        jpeg,
        "JPEG kept without re-encoding"
    );
    let upright = image::load_from_memory(&jpeg).unwrap().rotate90().to_rgb8();
    let got = crop(&ws, r.submission_id, 1, "Q1", BOX).await;
    assert_eq!(
        got,
        region(&upright, BOX),
        "EXIF-rotated crop is pixel-exact"
    );

    // WebP (lossless).
    let webp_page = fixtures::page(1240, 1754, 5);
    let webp = fixtures::encode(
        &DynamicImage::ImageRgb8(webp_page.clone()),
        ImageFormat::WebP,
    );
    let r = ws
        .import_path(exam, &write(tmp.path(), "scan.webp", &webp))
        .await
        .unwrap();
    let got = crop(&ws, r.submission_id, 1, "Q1", BOX).await;
    assert_eq!(got, region(&webp_page, BOX), "WebP crop is pixel-exact");

    // A three-page TIFF: RGB, 16-bit grey, CMYK; one page per page, in order.
    let tiff_pages: Vec<RgbImage> = (0..3).map(|i| fixtures::page(1240, 1754, 10 + i)).collect();
    let tiff = tmp.path().join("class.tiff");
    fixtures::multipage_tiff(&tiff, &tiff_pages);
    let r = ws.import_path(exam, &tiff).await.unwrap();
    assert_eq!(r.pages, 3);
    let got = crop(&ws, r.submission_id, 1, "Q1", BOX).await;
    assert_eq!(
        got,
        region(&tiff_pages[0], BOX),
        "TIFF page 1 crop is pixel-exact"
    );
    let grey = DynamicImage::ImageRgb8(tiff_pages[1].clone()).to_luma16();
    let grey8 = DynamicImage::ImageLuma16(grey).to_luma8();
    let got = crop(&ws, r.submission_id, 2, "Q2", BOX).await;
    assert_eq!(
        got,
        region(&DynamicImage::ImageLuma8(grey8).to_rgb8(), BOX),
        "16-bit grey page 2 crop is pixel-exact"
    );
    let cmyk_crop = crop(&ws, r.submission_id, 3, "Q3", BOX).await;
    let want = region(&tiff_pages[2], BOX);
    let max_diff = cmyk_crop
        .as_raw()
        .iter()
        .zip(want.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(
        max_diff <= 2,
        "CMYK page converts to the right colours (off by {max_diff})"
    );

    // A scanner PDF: two embedded JPEG pages (taken out byte for byte) and one vector page
    // (rendered by poppler).
    let jpegs: Vec<Vec<u8>> = (0..2).map(|i| fixtures::a4_300dpi_jpeg(20 + i)).collect();
    let pdf = fixtures::scanner_pdf(&jpegs, true);
    let r = ws.import_bytes(exam, "copier scan.pdf", pdf).await.unwrap();
    assert_eq!(r.pages, 3);
    let pages = page_paths(&ws, r.submission_id);
    assert_eq!(std::fs::read(&pages[0].path).unwrap(), jpegs[0]);
    assert_eq!(std::fs::read(&pages[1].path).unwrap(), jpegs[1]);
    assert_eq!((pages[0].width, pages[0].height), (2480, 3508));
    assert_eq!(
        (pages[2].width, pages[2].height),
        (1653, 2339),
        "vector page rendered at 200 dpi"
    );
    for p in &pages {
        let preview = image::open(&p.preview_path).unwrap();
        assert!(preview.width().max(preview.height()) <= imaging::PREVIEW_MAX_SIDE);
        let thumb = image::open(p.thumb_path.as_ref().unwrap()).unwrap();
        assert!(thumb.width().max(thumb.height()) <= imaging::THUMB_MAX_SIDE);
    }
    let decoded = image::load_from_memory(&jpegs[1]).unwrap().to_rgb8();
    let got = crop(&ws, r.submission_id, 2, "Q1", BOX).await;
    assert_eq!(got, region(&decoded, BOX), "PDF page 2 crop is pixel-exact");
    let rendered = crop(
        &ws,
        r.submission_id,
        3,
        "Q2",
        Bbox {
            x: 0.0,
            y: 0.0,
            w: 1.0,
            h: 1.0,
        },
    )
    .await;
    // The vector page's blue rectangle and black strokes are really drawn.
    assert!(rendered.pixels().any(|p| p.0[2] > 150 && p.0[0] < 100));
    assert!(rendered.pixels().any(|p| p.0.iter().all(|&c| c < 60)));

    // A box partly off the page is clamped; an empty or wholly-off box is refused.
    let got = crop(
        &ws,
        r.submission_id,
        2,
        "Q4",
        Bbox {
            x: 0.8,
            y: -0.1,
            w: 0.5,
            h: 0.3,
        },
    )
    .await;
    assert_eq!(
        got,
        region(
            &decoded,
            Bbox {
                x: 0.8,
                y: 0.0,
                w: 0.2,
                h: 0.2
            }
        )
    );
    let crops_before = std::fs::read_dir(tmp.path().join("data/crops"))
        .unwrap()
        .count();
    for bad in [
        Bbox {
            x: 0.2,
            y: 0.2,
            w: 0.0,
            h: 0.1,
        },
        Bbox {
            x: 1.2,
            y: 0.2,
            w: 0.3,
            h: 0.1,
        },
        Bbox {
            x: f64::NAN,
            y: 0.2,
            w: 0.3,
            h: 0.1,
        },
    ] {
        let err = ws
            .create_item(r.submission_id, 2, "Q5", bad)
            .await
            .unwrap_err();
        assert_eq!(err.code(), gradedesk::error::ErrorCode::BadBox, "{err}");
    }
    assert_eq!(
        std::fs::read_dir(tmp.path().join("data/crops"))
            .unwrap()
            .count(),
        crops_before,
        "a refused box leaves no file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_clear_errors_and_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, exam) = workspace(tmp.path()).await;
    let good = fixtures::encode(
        &DynamicImage::ImageRgb8(fixtures::page(1240, 1754, 1)),
        ImageFormat::Jpeg,
    );
    let png = fixtures::encode(
        &DynamicImage::ImageRgb8(fixtures::page(1240, 1754, 2)),
        ImageFormat::Png,
    );
    let pdf = fixtures::scanner_pdf(&[good.clone(), good.clone()], false);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bomb.png", fixtures::png_bomb(), "megapixels"),
        (
            "cut.jpg",
            good[..good.len() / 2].to_vec(),
            "damaged or cut short",
        ),
        (
            "cut.png",
            png[..png.len() / 3].to_vec(),
            "damaged or cut short",
        ),
        (
            "notes.png",
            b"these are my notes, not a scan\n".to_vec(),
            "text file",
        ),
        ("empty.jpg", Vec::new(), "empty"),
        ("nothing.pdf", fixtures::empty_pdf(), "no pages"),
        (
            "random.bin",
            (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            "not a scan",
        ),
        ("cut.pdf", pdf[..pdf.len() / 2].to_vec(), "pdf"),
    ];
    for (name, bytes, expected) in cases {
        let path = write(tmp.path(), name, &bytes);
        let err = ws.import_path(exam, &path).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(name),
            "{name}: error names the file: {text}"
        );
        assert!(
            text.to_lowercase().contains(expected),
            "{name}: expected \"{expected}\" in: {text}"
        );
        assert!(matches!(err, CoreError::Imaging(_)), "{name}: {err:?}");
        // Bytes from the window take the same path.
        let err = ws.import_bytes(exam, name, bytes).await.unwrap_err();
        assert!(err.to_string().to_lowercase().contains(expected), "{err}");
    }
    let submissions: i64 = ws
        .store
        .lock()
        .query_row("SELECT count(*) FROM submissions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(submissions, 0, "no rows for failed imports");
    let scans = tmp.path().join("data/scans");
    let left: Vec<_> = std::fs::read_dir(&scans)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no files for failed imports: {left:?}");

    // A good file after all that still imports, and an unknown exam is refused first.
    let r = ws
        .import_path(exam, &write(tmp.path(), "good.jpg", &good))
        .await
        .unwrap();
    assert_eq!(r.pages, 1);
    let err = ws
        .import_path(exam + 100, &write(tmp.path(), "good2.jpg", &good))
        .await
        .unwrap_err();
    assert_eq!(err.code(), gradedesk::error::ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coarse_and_skewed_pages_are_enhanced_before_any_crop() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, exam) = workspace(tmp.path()).await;

    // A phone photo from afar: 800 × 1130 for an A4 page is about 97 dpi.
    let small = fixtures::page(800, 1130, 7);
    let path = write(
        tmp.path(),
        "far.jpg",
        &fixtures::encode(&DynamicImage::ImageRgb8(small), ImageFormat::Jpeg),
    );
    let far = ws.import_path(exam, &path).await.unwrap();
    // A page tilted by 3 degrees.
    let tilted = fixtures::lined_page(1654, 2339, 3.0);
    let path = write(
        tmp.path(),
        "tilted.png",
        &fixtures::encode(&DynamicImage::ImageLuma8(tilted), ImageFormat::Png),
    );
    let skewed = ws.import_path(exam, &path).await.unwrap();
    // A fine page needs nothing.
    let fine = ws
        .import_bytes(exam, "fine.jpg", fixtures::a4_300dpi_jpeg(1))
        .await
        .unwrap();

    let jobs = |sub: i64| -> i64 {
        ws.store
            .lock()
            .query_row(
                "SELECT count(*) FROM jobs WHERE kind = 'UPSCALE_SUBMISSION' AND submission_id = ?1 AND priority > 0",
                [sub],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(
        jobs(far.submission_id),
        1,
        "a coarse page queues its enhancement"
    );
    assert_eq!(
        jobs(skewed.submission_id),
        1,
        "a skewed page queues its enhancement"
    );
    assert_eq!(jobs(fine.submission_id), 0);
    let measured: (f64, f64) = ws
        .store
        .lock()
        .query_row(
            "SELECT dpi, skew_deg FROM pages WHERE submission_id = ?1",
            [skewed.submission_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        (measured.1 - 3.0).abs() <= 0.3,
        "skew measured: {measured:?}"
    );

    // The job body enhances the skewed page: straightened, same size.
    gradedesk::jobs::upscale_submission(&ws, skewed.submission_id)
        .await
        .unwrap();
    let page = &page_paths(&ws, skewed.submission_id)[0];
    assert!(!page.enhancement_pending);
    let straight = image::open(&page.path).unwrap();
    assert_eq!((straight.width(), straight.height()), (1654, 2339));
    let residual = imaging::enhance::estimate_skew(&straight);
    assert!(
        residual.abs() <= 0.3,
        "deskewed page still tilted by {residual}°"
    );

    // A crop on the coarse page before its job ran: enhanced first, then cut from the
    // upscaled page; the job then finds nothing left to do.
    let before = &page_paths(&ws, far.submission_id)[0];
    assert!(before.enhancement_pending);
    let got = crop(&ws, far.submission_id, 1, "Q1", BOX).await;
    let after = &page_paths(&ws, far.submission_id)[0];
    assert!(!after.enhancement_pending);
    assert!(
        after.width > 1500,
        "upscaled to about 200 dpi: {}",
        after.width
    );
    let page_img = image::open(&after.path).unwrap().to_rgb8();
    assert_eq!(
        got,
        region(&page_img, BOX),
        "crop cut from the enhanced page"
    );
    gradedesk::jobs::upscale_submission(&ws, far.submission_id)
        .await
        .unwrap();
    assert_eq!(page_paths(&ws, far.submission_id)[0].path, after.path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heic_photos_import() {
    // `make deps` installs libheif-examples; without it this test fails rather than skips.
    let tmp = tempfile::tempdir().unwrap();
    let (ws, exam) = workspace(tmp.path()).await;
    let src = write(
        tmp.path(),
        "src.png",
        &fixtures::encode(
            &DynamicImage::ImageRgb8(fixtures::page(1200, 1600, 9)),
            ImageFormat::Png,
        ),
    );
    let heic = tmp.path().join("IMG_0001.HEIC");
    let out = std::process::Command::new("heif-enc")
        .arg("-q")
        .arg("90")
        .arg(&src)
        .arg("-o")
        .arg(&heic)
        .output()
        .expect("heif-enc runs (Debian package libheif-examples; make deps installs it)");
    assert!(
        out.status.success() && heic.exists(),
        "heif-enc could not encode a HEIC photo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = ws.import_path(exam, &heic).await.unwrap();
    assert_eq!(r.pages, 1);
    let page = &page_paths(&ws, r.submission_id)[0];
    assert_eq!((page.width, page.height), (1200, 1600));
    // A truncated HEIC is refused clearly.
    let bytes = std::fs::read(&heic).unwrap();
    let err = ws
        .import_bytes(exam, "cut.heic", bytes[..bytes.len() / 2].to_vec())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("cut.heic"), "{err}");
}
