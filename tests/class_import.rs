//! The class workflow through the CLI contract, on classes generated with known truth: a
//! 2-page template with its regions drawn once, then one scanner PDF for the whole class
//! (shifted, turned, scaled pages, one at 200 dpi, a reversed pair, an upside-down page, a
//! stray blank page, a page of another exam, a missing page), split, aligned and queued.
//! The answers' quads are compared with where the truth puts the regions.

mod support;

use std::path::Path;

use gradedesk::vision::synth::{corners, scan_of, scan_transform, template_page, Frame};
use gradedesk::vision::Homography;
use image::{DynamicImage, GrayImage, ImageFormat};
use serde_json::Value;
use support::cli::{stderr, stdout_json, Cli};
use support::scans::{encode, scanner_pdf};

/// The template's size (150 dpi A4) and a 300 dpi and a 200 dpi scan's.
const TEMPLATE: (u32, u32) = (1240, 1754);
const SCAN_300: (u32, u32) = (2480, 3508);
const SCAN_200: (u32, u32) = (1654, 2339);

/// A scanned sheet: which template page (0-based), under which transform, at which size.
type Sheet = (usize, Homography, (u32, u32));

struct Exam {
    cli: Cli,
    _dir: tempfile::TempDir,
    exam: String,
    pages: Vec<(GrayImage, Vec<Frame>)>,
}

fn run(cli: &Cli, args: &[&str]) -> Value {
    stdout_json(&cli.command(args, None).output().unwrap())
}

/// An exam with questions Q1..Q3 and a 2-page template: Q1 on page 1, Q2 on page 1 and
/// continued on page 2 (two regions), Q3 on page 2, and a name region.
fn exam_with_template() -> Exam {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&dir.path().join("data"), "http://127.0.0.1:9");
    let questions = dir.path().join("q.json");
    std::fs::write(
        &questions,
        r#"[{"label":"Q1","prompt":"a","max_points":2},{"label":"Q2","prompt":"b","max_points":3},{"label":"Q3","prompt":"c","max_points":1}]"#,
    )
    .unwrap();
    let created = run(
        &cli,
        &[
            "exam",
            "create",
            "--name",
            "Class",
            "--questions",
            questions.to_str().unwrap(),
        ],
    );
    let exam = created["exam_id"].to_string();
    let pages = vec![
        template_page(TEMPLATE.0, TEMPLATE.1, 7),
        template_page(TEMPLATE.0, TEMPLATE.1, 8),
    ];
    let mut files = Vec::new();
    for (k, (page, _)) in pages.iter().enumerate() {
        let path = dir.path().join(format!("blank-{k}.png"));
        DynamicImage::ImageLuma8(page.clone()).save(&path).unwrap();
        files.push(path);
    }
    let mut args = vec!["template", "set", "--exam", &exam];
    let names: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    args.extend(names);
    assert_eq!(run(&cli, &args)["pages"], 2);
    let region = |page: &str, question: &str, frame: &Frame| {
        let bbox = format!("{},{},{},{}", frame[0], frame[1], frame[2], frame[3]);
        let out = run(
            &cli,
            &[
                "region",
                "add",
                "--exam",
                &exam,
                "--page",
                page,
                "--question",
                question,
                "--bbox",
                &bbox,
            ],
        );
        assert!(out["region_id"].as_i64().unwrap() > 0);
    };
    region("1", "Q1", &pages[0].1[1]);
    region("1", "Q2", &pages[0].1[2]);
    region("2", "Q2", &pages[1].1[1]);
    region("2", "Q3", &pages[1].1[2]);
    let name = pages[0].1[0];
    let bbox = format!("{},{},{},{}", name[0], name[1], name[2], name[3]);
    run(
        &cli,
        &[
            "region", "add", "--exam", &exam, "--page", "1", "--kind", "name", "--bbox", &bbox,
        ],
    );
    Exam {
        cli,
        _dir: dir,
        exam,
        pages,
    }
}

/// One scanned sheet: template page `page` (0-based) under `truth`, as a JPEG.
fn sheet(exam: &Exam, page: usize, truth: &Homography, size: (u32, u32), seed: u64) -> Vec<u8> {
    sheet_with(exam, page, truth, size, seed, &[])
}

/// [`sheet`], with handwriting in `extra` places too (outside the answer frames).
fn sheet_with(
    exam: &Exam,
    page: usize,
    truth: &Homography,
    size: (u32, u32),
    seed: u64,
    extra: &[Frame],
) -> Vec<u8> {
    // The student writes in the two answer frames the regions cover (and in `extra`).
    let (template, frames) = &exam.pages[page];
    let mut written = frames[1..3].to_vec();
    written.extend_from_slice(extra);
    let scan = scan_of(template, &written, truth, size, seed);
    encode(&DynamicImage::ImageLuma8(scan), ImageFormat::Jpeg)
}

fn write_pdf(dir: &Path, name: &str, jpegs: &[Vec<u8>]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, scanner_pdf(jpegs, false)).unwrap();
    path.to_string_lossy().into_owned()
}

/// Where the truth puts a template rectangle's corners, in pixel centres.
fn true_quad(truth: &Homography, frame: &Frame) -> Vec<[f64; 2]> {
    corners(frame, TEMPLATE)
        .iter()
        .map(|&(x, y)| {
            let (px, py) = truth.apply(x, y).unwrap();
            [px - 0.5, py - 0.5]
        })
        .collect()
}

fn flag_kinds(submission: &Value) -> Vec<String> {
    submission["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_class_pdf_is_split_aligned_and_queued_with_every_oddity_caught() {
    let exam = exam_with_template();
    let t =
        |dx, dy, deg, scale, flip, size| scan_transform(TEMPLATE, size, dx, dy, deg, scale, flip);
    // Student by student, (template page, truth, scan size), in scan order.
    let students: Vec<Vec<Sheet>> = vec![
        vec![
            (0, t(40.0, -30.0, 1.5, 1.02, false, SCAN_300), SCAN_300),
            (1, t(-20.0, 50.0, -2.0, 0.98, false, SCAN_300), SCAN_300),
        ],
        // Reversed pair, at 200 dpi.
        vec![
            (1, t(15.0, 10.0, 0.5, 1.0, false, SCAN_200), SCAN_200),
            (0, t(-35.0, 25.0, 2.5, 1.01, false, SCAN_200), SCAN_200),
        ],
        // Page 2 upside down.
        vec![
            (0, t(0.0, 60.0, -1.0, 0.99, false, SCAN_300), SCAN_300),
            (1, t(30.0, -40.0, 1.0, 1.0, true, SCAN_300), SCAN_300),
        ],
        // Page 2 missing.
        vec![(0, t(-60.0, 0.0, 3.0, 1.03, false, SCAN_300), SCAN_300)],
        vec![
            (0, t(10.0, 10.0, -3.0, 0.97, false, SCAN_300), SCAN_300),
            (1, t(5.0, -5.0, 0.0, 1.0, false, SCAN_300), SCAN_300),
        ],
    ];
    let mut jpegs = Vec::new();
    let mut truths = Vec::new();
    for (s, pages) in students.iter().enumerate() {
        for (k, (page, truth, size)) in pages.iter().enumerate() {
            // The last student also wrote between the instructions and question 1.
            let extra: &[Frame] = if s == 4 && *page == 0 {
                &[[0.3, 0.118, 0.4, 0.03]]
            } else {
                &[]
            };
            jpegs.push(sheet_with(
                &exam,
                *page,
                truth,
                *size,
                (s * 10 + k) as u64,
                extra,
            ));
            truths.push((s, *page, *truth));
        }
        if s == 2 {
            // A blank back side, then a page of another exam.
            jpegs.push(encode(
                &DynamicImage::ImageLuma8(GrayImage::from_pixel(1240, 1754, image::Luma([240]))),
                ImageFormat::Jpeg,
            ));
            let (other, frames) = template_page(TEMPLATE.0, TEMPLATE.1, 99);
            jpegs.push(encode(
                &DynamicImage::ImageLuma8(scan_of(
                    &other,
                    &frames,
                    &Homography::IDENTITY,
                    TEMPLATE,
                    5,
                )),
                ImageFormat::Jpeg,
            ));
        }
    }
    let pdf = write_pdf(exam._dir.path(), "class.pdf", &jpegs);
    let report = run(
        &exam.cli,
        &["import", "--exam", &exam.exam, "--class", &pdf],
    );
    let submissions = report["submissions"].as_array().unwrap();
    assert_eq!(submissions.len(), 5, "{report:#}");
    // Source pages in template order: the reversed pair is put back.
    let pages_of = |s: &Value| -> Vec<u64> {
        s["source_pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["page"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(pages_of(&submissions[0]), vec![1, 2]);
    assert_eq!(pages_of(&submissions[1]), vec![4, 3]);
    assert_eq!(flag_kinds(&submissions[1]), vec!["out_of_order"]);
    assert_eq!(flag_kinds(&submissions[2]), vec!["upside_down"]);
    assert_eq!(flag_kinds(&submissions[3]), vec!["missing_page"]);
    assert!(flag_kinds(&submissions[0]).is_empty(), "{report:#}");
    // Writing outside the boxes is found on that page, and on no other page of the class.
    assert_eq!(
        flag_kinds(&submissions[4]),
        vec!["writing_outside"],
        "{report:#}"
    );
    assert_eq!(submissions[4]["flags"][0]["page"], 1);
    let conn = support::db(&exam.cli.data);
    let exam_id: i64 = exam.exam.parse().unwrap();
    for row in gradedesk::exams::review_rows(&conn, exam_id, "Q1").unwrap() {
        let expected = (row.submission_id == submissions[4]["submission_id"].as_i64().unwrap())
            .then(|| "writing outside the boxes on page 1".to_string());
        assert_eq!(row.outside_writing, expected, "{}", row.student);
    }
    // The blank and the foreign page are listed, not given to a student.
    let unassigned: Vec<(u64, String)> = report["unassigned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["page"].as_u64().unwrap(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(unassigned.len(), 2, "{report:#}");
    assert_eq!(unassigned[0].0, 7);
    assert!(unassigned[0].1.contains("blank"));
    assert_eq!(unassigned[1].0, 8);
    assert!(unassigned[1].1.contains("no page of the 2-page template"));
    // Three answers per complete student; the one missing page 2 still has Q1 and Q2 (its
    // page-1 part), not Q3.
    let answers: Vec<u64> = submissions
        .iter()
        .map(|s| s["answers"].as_u64().unwrap())
        .collect();
    assert_eq!(answers, vec![3, 3, 3, 2, 3]);

    // Every answer's quad against the truth: the first region of each question.
    let items: Vec<Value> = run(&exam.cli, &["items", "--exam", &exam.exam, "--json"])
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 14);
    let first_region = |label: &str| -> (usize, Frame) {
        match label {
            "Q1" => (0, exam.pages[0].1[1]),
            "Q2" => (0, exam.pages[0].1[2]),
            _ => (1, exam.pages[1].1[2]),
        }
    };
    let mut errors = Vec::new();
    for item in &items {
        let label = item["question_label"].as_str().unwrap();
        let student = submissions
            .iter()
            .position(|s| s["submission_id"] == item["submission_id"])
            .unwrap();
        let (page, frame) = first_region(label);
        let truth = truths
            .iter()
            .find(|(s, p, _)| *s == student && *p == page)
            .unwrap()
            .2;
        let want = true_quad(&truth, &frame);
        let got = item["source_quad"].as_array().unwrap();
        for (g, w) in got.iter().zip(&want) {
            let (gx, gy) = (g[0].as_f64().unwrap(), g[1].as_f64().unwrap());
            errors.push(((gx - w[0]).powi(2) + (gy - w[1]).powi(2)).sqrt());
        }
        assert!(!item["alignment"]["flagged"].as_bool().unwrap(), "{item}");
        assert!(
            item["alignment"]["quality"].as_f64().unwrap() > 0.5,
            "{item}"
        );
        let size = item["source_size"].as_array().unwrap();
        assert!(size[0].as_u64().unwrap() == 2480 || size[0].as_u64().unwrap() == 1654);
    }
    errors.sort_by(f64::total_cmp);
    let (median, max) = (errors[errors.len() / 2], errors[errors.len() - 1]);
    println!(
        "corner error over {} corners: median {median:.2} px, max {max:.2} px",
        errors.len()
    );
    assert!(
        median <= 3.0 && max <= 10.0,
        "median {median:.2} max {max:.2}"
    );
    // Every answer is queued for grading.
    let status = run(&exam.cli, &["status", "--json"]);
    assert_eq!(status["counts"]["queued"], 14, "{status}");

    // The writing outside the boxes, added to the last student's Q1: the answer is cut
    // again with it below the region (a taller crop), and the flag goes.
    let last = submissions[4]["submission_id"].as_i64().unwrap();
    let rows = gradedesk::exams::review_rows(&conn, exam_id, "Q1").unwrap();
    let row = rows.iter().find(|r| r.submission_id == last).unwrap();
    assert_eq!(row.outside.len(), 1, "{:?}", row.outside);
    let piece = &row.outside[0];
    // Shown where the student wrote it: inside the truth's frame [0.3, 0.118, 0.4, 0.03],
    // mapped onto the scan (a margin for the fit and the strokes' thickness).
    let truth = truths
        .iter()
        .find(|(s, p, _)| *s == 4 && *p == 0)
        .unwrap()
        .2;
    let on_scan = |u: f64, v: f64| {
        let (x, y) = truth.apply(u * 1240.0, v * 1754.0).unwrap();
        (x / 2480.0, y / 3508.0)
    };
    let (x0, y0) = on_scan(0.3, 0.118);
    let (x1, y1) = on_scan(0.7, 0.148);
    let b = piece.page_box;
    let m = 0.02;
    assert!(
        b.x >= x0.min(x1) - m
            && b.x + b.w <= x0.max(x1) + m
            && b.y >= y0.min(y1) - m
            && b.y + b.h <= y0.max(y1) + m,
        "{piece:?} is not inside the frame ({x0:.3}, {y0:.3}) - ({x1:.3}, {y1:.3})"
    );
    let crop_height = |item: i64| {
        let path: String = conn
            .query_row("SELECT crop_path FROM items WHERE id = ?1", [item], |r| {
                r.get(0)
            })
            .unwrap();
        image::image_dimensions(path).unwrap().1
    };
    let before = crop_height(row.item_id);
    let added = run(
        &exam.cli,
        &[
            "split",
            "outside",
            "--item",
            &row.item_id.to_string(),
            "--page",
            &piece.page_id.to_string(),
            "--index",
            &piece.index.to_string(),
        ],
    );
    assert_eq!(added["answers_recut"], 1);
    let rows = gradedesk::exams::review_rows(&conn, exam_id, "Q1").unwrap();
    let row = rows.iter().find(|r| r.submission_id == last).unwrap();
    assert!(
        row.outside.is_empty() && row.outside_writing.is_none(),
        "{row:?}"
    );
    assert!(
        crop_height(row.item_id) > before + 20,
        "the writing is stacked below the region"
    );
    let review = run(
        &exam.cli,
        &["split", "show", "--exam", &exam.exam, "--json"],
    );
    let flags = review["students"][4]["flags"].to_string();
    assert!(!flags.contains("writing_outside"), "{flags}");
}

#[test]
fn a_damaged_page_a_short_template_an_empty_pdf_and_bad_regions_are_each_a_sentence() {
    let exam = exam_with_template();
    let ok =
        |page: usize, seed: u64| sheet(&exam, page, &Homography::scale(2.0, 2.0), SCAN_300, seed);
    // A damaged page in the middle: the rest of the class survives.
    let mut broken = ok(0, 1);
    broken.truncate(broken.len() / 3);
    let pdf = write_pdf(
        exam._dir.path(),
        "damaged.pdf",
        &[ok(0, 2), ok(1, 3), broken, ok(1, 4), ok(0, 5), ok(1, 6)],
    );
    let report = run(
        &exam.cli,
        &["import", "--exam", &exam.exam, "--class", &pdf],
    );
    assert_eq!(
        report["submissions"].as_array().unwrap().len(),
        3,
        "{report:#}"
    );
    let unassigned = report["unassigned"].as_array().unwrap();
    assert_eq!(unassigned.len(), 1);
    assert_eq!(unassigned[0]["page"], 3);
    assert!(
        unassigned[0]["reason"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{report:#}"
    );
    // The student who lost that page is flagged, not merged with the next.
    assert_eq!(flag_kinds(&report["submissions"][1]), vec!["missing_page"]);

    // A 3-page script against the 2-page template: every third page is foreign, and said so.
    let (third, frames) = template_page(TEMPLATE.0, TEMPLATE.1, 31);
    let third_jpeg = |seed| {
        encode(
            &DynamicImage::ImageLuma8(scan_of(
                &third,
                &frames,
                &Homography::scale(2.0, 2.0),
                SCAN_300,
                seed,
            )),
            ImageFormat::Jpeg,
        )
    };
    let pdf = write_pdf(
        exam._dir.path(),
        "three.pdf",
        &[
            ok(0, 7),
            ok(1, 8),
            third_jpeg(9),
            ok(0, 10),
            ok(1, 11),
            third_jpeg(12),
        ],
    );
    let report = run(
        &exam.cli,
        &["import", "--exam", &exam.exam, "--class", &pdf],
    );
    assert_eq!(report["unassigned"].as_array().unwrap().len(), 2);
    let warning = report["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("2-page template"), "{report:#}");

    // An empty PDF: a sentence, and nothing imported.
    let before = run(&exam.cli, &["items", "--exam", &exam.exam, "--json"])
        .as_array()
        .unwrap()
        .len();
    let empty = exam._dir.path().join("empty.pdf");
    std::fs::write(&empty, support::scans::empty_pdf()).unwrap();
    let out = exam
        .cli
        .command(
            &[
                "import",
                "--exam",
                &exam.exam,
                "--class",
                empty.to_str().unwrap(),
            ],
            None,
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("empty.pdf"), "{}", stderr(&out));
    let after = run(&exam.cli, &["items", "--exam", &exam.exam, "--json"])
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    // Regions off the page, empty, on a page the template lacks, for a question it lacks.
    for (page, bbox, question, want) in [
        ("1", "0.8,0.1,0.5,0.1", "Q1", "off the page"),
        ("1", "0.1,0.1,0,0.1", "Q1", "empty"),
        ("3", "0.1,0.1,0.2,0.1", "Q1", "no page 3"),
        ("1", "0.1,0.1,0.2,0.1", "Q9", "Q9"),
    ] {
        let out = exam
            .cli
            .command(
                &[
                    "region",
                    "add",
                    "--exam",
                    &exam.exam,
                    "--page",
                    page,
                    "--question",
                    question,
                    "--bbox",
                    bbox,
                ],
                None,
            )
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(stderr(&out).contains(want), "{want}: {}", stderr(&out));
    }
    // A class import without a template says how to set one.
    let questions = exam._dir.path().join("q.json");
    let created = run(
        &exam.cli,
        &[
            "exam",
            "create",
            "--name",
            "No template",
            "--questions",
            questions.to_str().unwrap(),
        ],
    );
    let bare = created["exam_id"].to_string();
    let out = exam
        .cli
        .command(&["import", "--exam", &bare, "--class", &pdf], None)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("template set"), "{}", stderr(&out));
}

fn ids_of(review: &Value) -> Vec<i64> {
    review["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["submission_id"].as_i64().unwrap())
        .collect()
}

/// The current answers' labels of one student, in question order.
fn labels_of(items: &Value, student: i64) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["submission_id"] == student)
        .map(|i| i["question_label"].as_str().unwrap().to_string())
        .collect()
}

/// The largest distance between a quad the CLI printed and the truth's.
fn worst_corner(item: &Value, want: &[[f64; 2]]) -> f64 {
    item["source_quad"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want)
        .map(|(g, w)| {
            let (gx, gy) = (g[0].as_f64().unwrap(), g[1].as_f64().unwrap());
            ((gx - w[0]).powi(2) + (gy - w[1]).powi(2)).sqrt()
        })
        .fold(0.0, f64::max)
}

fn answer<'a>(items: &'a Value, student: i64, label: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["submission_id"] == student && i["question_label"] == label)
        .unwrap()
}

/// The split review's corrections through the CLI, on a class whose second student's
/// page 2 is missing and whose last student's page 2 was scanned sideways: a page is moved
/// from one student to another, the sideways page is (set aside if need be and) placed on
/// its student, aligned turned, a student is split in two and merged back, and a region
/// moved is re-applied to every student. Each leaves exactly the answers the pages hold, each queued, each where the
/// truth puts it.
#[test]
fn the_split_review_merges_sets_aside_places_splits_and_re_applies_regions() {
    let exam = exam_with_template();
    let t = |dx, dy, deg, scale| scan_transform(TEMPLATE, SCAN_300, dx, dy, deg, scale, false);
    // (template page, truth) in scan order: S1 p1, S1 p2, S2 p1, S3 p1, S3 p2, S4 p1,
    // S4 p2 (sideways).
    let sheets: Vec<(usize, Homography)> = vec![
        (0, t(20.0, -10.0, 1.0, 1.01)),
        (1, t(-15.0, 30.0, -1.5, 0.99)),
        (0, t(35.0, 5.0, 0.5, 1.0)),
        (0, t(0.0, 15.0, -2.5, 0.98)),
        (1, t(-25.0, -20.0, 2.0, 1.02)),
        (0, t(-10.0, 25.0, 1.5, 1.0)),
        (1, t(15.0, -15.0, -1.0, 1.01)),
    ];
    let mut jpegs = Vec::new();
    let mut sideways_truth = Homography::IDENTITY;
    for (k, (page, truth)) in sheets.iter().enumerate() {
        if k == 6 {
            // Turned a quarter clockwise: (x, y) -> (h - y, x) on the 300 dpi sheet.
            let (template, frames) = &exam.pages[*page];
            let scan = scan_of(template, &frames[1..3], truth, SCAN_300, k as u64);
            let turned = DynamicImage::ImageLuma8(scan).rotate90();
            jpegs.push(encode(&turned, ImageFormat::Jpeg));
            let h = f64::from(SCAN_300.1);
            sideways_truth =
                Homography([[0.0, -1.0, h], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).then_after(*truth);
        } else {
            jpegs.push(sheet(&exam, *page, truth, SCAN_300, k as u64));
        }
    }
    let pdf = write_pdf(exam._dir.path(), "class.pdf", &jpegs);
    run(
        &exam.cli,
        &["import", "--exam", &exam.exam, "--class", &pdf],
    );
    let show = |cli: &Cli| run(cli, &["split", "show", "--exam", &exam.exam, "--json"]);
    let items_now = |cli: &Cli| run(cli, &["items", "--exam", &exam.exam, "--json"]);
    let review = show(&exam.cli);
    let students = ids_of(&review);
    assert_eq!(students.len(), 4, "{review:#}");
    assert_eq!(flag_kinds(&review["students"][1]), vec!["missing_page"]);
    assert_eq!(review["students"][1]["flags"][0]["page"], 2);

    // The third student's page 2 moved to the second student: the second is complete,
    // the third misses it.
    let third_page2 = review["students"][2]["pages"][1]["page_id"].to_string();
    let second = students[1].to_string();
    run(
        &exam.cli,
        &[
            "split",
            "move",
            "--page",
            &third_page2,
            "--student",
            &second,
            "--slot",
            "2",
        ],
    );
    let review = show(&exam.cli);
    assert_eq!(ids_of(&review), students);
    assert!(flag_kinds(&review["students"][1]).is_empty(), "{review:#}");
    assert_eq!(flag_kinds(&review["students"][2]), vec!["missing_page"]);
    let items = items_now(&exam.cli);
    assert_eq!(labels_of(&items, students[1]), vec!["Q1", "Q2", "Q3"]);
    assert_eq!(labels_of(&items, students[2]), vec!["Q1", "Q2"]);
    let want = true_quad(&sheets[4].1, &exam.pages[1].1[2]);
    assert!(worst_corner(answer(&items, students[1], "Q3"), &want) <= 10.0);

    // Moving a page where the student already has one is refused, with a sentence.
    let third_page2 = review["students"][1]["pages"][1]["page_id"].to_string();
    let first = students[0].to_string();
    let refused = exam
        .cli
        .command(
            &[
                "split",
                "move",
                "--page",
                &third_page2,
                "--student",
                &first,
                "--slot",
                "2",
            ],
            None,
        )
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("already has page 2"));

    // The sideways page: set aside when the import placed it, then placed on the last
    // student as page 2 from the loose pages, aligned turned.
    let last = &review["students"][3];
    if let Some(page) = last["pages"].as_array().unwrap().get(1) {
        run(
            &exam.cli,
            &["split", "aside", "--page", &page["page_id"].to_string()],
        );
        let items = items_now(&exam.cli);
        assert_eq!(labels_of(&items, students[3]), vec!["Q1", "Q2"]);
    }
    let review = show(&exam.cli);
    let loose = review["unassigned"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["source"]["page"] == 7)
        .expect("the sideways page is listed");
    assert_eq!(loose["readable"], true);
    assert_eq!(flag_kinds(&review["students"][3]), vec!["missing_page"]);
    let (last, unassigned) = (students[3].to_string(), loose["unassigned_id"].to_string());
    run(
        &exam.cli,
        &[
            "split",
            "place",
            "--unassigned",
            &unassigned,
            "--student",
            &last,
            "--slot",
            "2",
        ],
    );
    let review = show(&exam.cli);
    assert!(review["unassigned"].as_array().unwrap().is_empty());
    let items = items_now(&exam.cli);
    assert_eq!(labels_of(&items, students[3]), vec!["Q1", "Q2", "Q3"]);
    let want = true_quad(&sideways_truth, &exam.pages[1].1[2]);
    let off = worst_corner(answer(&items, students[3], "Q3"), &want);
    assert!(off <= 10.0, "the placed page's Q3 is {off:.1} px off");

    // Turned over by hand, the upright page does not look like its template page: refused
    // with a sentence, and nothing changes.
    let page2 = review["students"][3]["pages"][1]["page_id"].to_string();
    let turned = exam
        .cli
        .command(
            &["split", "turn", "--page", &page2, "--quarters", "2"],
            None,
        )
        .output()
        .unwrap();
    assert_eq!(turned.status.code(), Some(2), "{}", stderr(&turned));
    let said = stderr(&turned);
    assert!(
        said.contains("half a turn") && said.contains("does not look like page 2"),
        "{said}"
    );
    let unchanged = items_now(&exam.cli);
    assert_eq!(
        answer(&unchanged, students[3], "Q3")["source_quad"],
        answer(&items, students[3], "Q3")["source_quad"]
    );

    // The first student split at page 2, then merged back.
    let divided = run(
        &exam.cli,
        &["split", "divide", "--student", &first, "--from", "2"],
    );
    let new_student = divided["submission_id"].as_i64().unwrap();
    let items = items_now(&exam.cli);
    assert_eq!(labels_of(&items, students[0]), vec!["Q1", "Q2"]);
    assert_eq!(labels_of(&items, new_student), vec!["Q2", "Q3"]);
    run(
        &exam.cli,
        &[
            "split",
            "merge",
            "--into",
            &first,
            "--from",
            &new_student.to_string(),
        ],
    );
    assert_eq!(ids_of(&show(&exam.cli)), students);
    let items = items_now(&exam.cli);
    assert_eq!(labels_of(&items, students[0]), vec!["Q1", "Q2", "Q3"]);

    // Q1's region moved down a little: every student's Q1 is cut again, at the new place.
    let regions = run(
        &exam.cli,
        &["region", "list", "--exam", &exam.exam, "--json"],
    );
    let q1 = regions
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["question_label"] == "Q1")
        .unwrap();
    let frame = exam.pages[0].1[1];
    let moved: Frame = [frame[0], frame[1] + 0.01, frame[2], frame[3]];
    let bbox = format!("{},{},{},{}", moved[0], moved[1], moved[2], moved[3]);
    let recut = run(
        &exam.cli,
        &[
            "region",
            "move",
            "--region",
            &q1["region_id"].to_string(),
            "--bbox",
            &bbox,
        ],
    );
    assert_eq!(recut["answers_recut"], 4);
    let items = items_now(&exam.cli);
    let want = true_quad(&sheets[0].1, &moved);
    assert!(worst_corner(answer(&items, students[0], "Q1"), &want) <= 10.0);
    // The first student's page 1 lined up by hand (the overlay dragged 30 px right and
    // 12 px up): its answers move by exactly that, and are cut again.
    let before = answer(&items, students[0], "Q1")["source_quad"].clone();
    let page1 = show(&exam.cli)["students"][0]["pages"][0]["page_id"].to_string();
    let shifted = run(
        &exam.cli,
        &[
            "split", "shift", "--page", &page1, "--dx", "30", "--dy", "-12",
        ],
    );
    assert_eq!(shifted["answers_recut"], 2, "Q1 and Q2 start on page 1");
    let items = items_now(&exam.cli);
    let after = &answer(&items, students[0], "Q1")["source_quad"];
    for k in 0..4 {
        let (bx, by) = (
            before[k][0].as_f64().unwrap(),
            before[k][1].as_f64().unwrap(),
        );
        let (ax, ay) = (after[k][0].as_f64().unwrap(), after[k][1].as_f64().unwrap());
        assert!(
            (ax - bx - 30.0).abs() < 0.01 && (ay - by + 12.0).abs() < 0.01,
            "{before} -> {after}"
        );
    }
    // Exactly one queued job per current answer, whatever was cut and cut again.
    let current = items.as_array().unwrap().len();
    assert_eq!(current, 11);
    let status = run(&exam.cli, &["status", "--json"]);
    assert_eq!(status["counts"]["queued"], current as i64, "{status}");
}

/// The demo generator's class (realistic ruled answer boxes, handwriting, scanner skew and
/// noise: the pages a teacher's scanner makes), through the CLI: every page identified and
/// lined up, none flagged for alignment. Ruled boxes once made the coarsest fit lock onto the
/// wrong line (4 of 30 pages unidentified).
#[test]
fn a_demo_class_of_ruled_handwritten_pages_is_identified_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("class");
    let root = env!("CARGO_MANIFEST_DIR");
    let made = std::process::Command::new("/usr/bin/python3")
        .args([&format!("{root}/assets/demo/make_demo.py"), "--out"])
        .arg(&out)
        .args(["--students", "8", "--class", "--seed", "3", "--quiet"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("template.json")).unwrap()).unwrap();
    let cli = Cli::new(&dir.path().join("data"), "http://127.0.0.1:9");
    let questions = format!("{root}/assets/demo/questions.json");
    let exam = run(
        &cli,
        &[
            "exam",
            "create",
            "--name",
            "Demo",
            "--questions",
            &questions,
        ],
    )["exam_id"]
        .to_string();
    let blank = out.join("blank.png");
    run(
        &cli,
        &["template", "set", "--exam", &exam, blank.to_str().unwrap()],
    );
    for (key, bbox) in truth["regions"].as_object().unwrap() {
        let b: Vec<String> = bbox
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect();
        let bbox = b.join(",");
        let mut args = vec![
            "region", "add", "--exam", &exam, "--page", "1", "--bbox", &bbox,
        ];
        if key == "name" {
            args.extend(["--kind", "name"]);
        } else {
            args.extend(["--question", key]);
        }
        run(&cli, &args);
    }
    let pdf = out.join("class.pdf");
    let report = run(
        &cli,
        &["import", "--exam", &exam, "--class", pdf.to_str().unwrap()],
    );
    let submissions = report["submissions"].as_array().unwrap();
    println!(
        "demo class: {} of 8 students identified, {} pages unassigned",
        submissions.len(),
        report["unassigned"].as_array().unwrap().len()
    );
    assert_eq!(submissions.len(), 8, "{report:#}");
    assert!(
        report["unassigned"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    for s in submissions {
        assert_eq!(s["answers"], 4, "{s}");
        assert!(
            !flag_kinds(s).contains(&"check_alignment".to_string()),
            "{s}"
        );
    }
    // The handwritten class and date beside the name are writing outside the boxes; set
    // aside as no answer's, they are no longer listed, and the flag goes with the last.
    let first = submissions[0]["submission_id"].as_i64().unwrap();
    let student_of = |review: &Value| {
        review["students"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["submission_id"] == first)
            .unwrap()
            .clone()
    };
    let student = student_of(&run(&cli, &["split", "show", "--exam", &exam, "--json"]));
    let page = student["pages"][0]["page_id"].to_string();
    let pieces = student["pages"][0]["outside_ink"].as_array().unwrap().len();
    assert!(
        pieces > 0,
        "the class and date fields are written in: {student}"
    );
    for _ in 0..pieces {
        run(&cli, &["split", "ignore", "--page", &page, "--index", "0"]);
    }
    let student = student_of(&run(&cli, &["split", "show", "--exam", &exam, "--json"]));
    assert!(flag_kinds(&student).is_empty(), "{student}");
    let again = cli
        .command(&["split", "ignore", "--page", &page, "--index", "0"], None)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
}
