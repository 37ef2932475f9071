//! The class import end to end, through the real `gradedesk` binary (issue 13): a 60-page
//! 300-dpi scanner PDF (30 students × 2 pages, 5 answers each; pages shifted up to ±60 px,
//! turned up to ±3°, scaled up to ±3%, every fifth at 200 dpi, one upside down, one
//! student's pages swapped) from `import --class` to 150 queued answers. Prints pages per
//! second, the process's peak RSS (VmHWM, read from /proc while it runs), whether every page
//! went to the right student, and the answers' corner errors against the truth (in pixels of
//! the page as scanned). Never fails on time.

#[path = "../../tests/support/scans.rs"]
mod scans;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gradedesk::vision::synth::{corners, scan_of, scan_transform, template_page, Frame};
use gradedesk::vision::Homography;
use image::{DynamicImage, ImageFormat};
use rand::{Rng, SeedableRng};
use serde_json::Value;

const STUDENTS: usize = 30;
const TEMPLATE: (u32, u32) = (1240, 1754);
const A4_300: (u32, u32) = (2480, 3508);
const A4_200: (u32, u32) = (1654, 2339);

fn cli(data: &std::path::Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gradedesk"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("GRADEDESK_KEYRING", "off")
        .output()
        .expect("gradedesk runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let questions = dir.path().join("q.json");
    let list: Vec<String> = (1..=5)
        .map(|q| format!(r#"{{"label":"Q{q}","prompt":"p","max_points":2}}"#))
        .collect();
    std::fs::write(&questions, format!("[{}]", list.join(","))).unwrap();
    let exam = cli(
        &data,
        &[
            "exam",
            "create",
            "--name",
            "Bench",
            "--questions",
            questions.to_str().unwrap(),
        ],
    )["exam_id"]
        .to_string();
    let pages: Vec<(image::GrayImage, Vec<Frame>)> = vec![
        template_page(TEMPLATE.0, TEMPLATE.1, 7),
        template_page(TEMPLATE.0, TEMPLATE.1, 8),
    ];
    let mut args = vec![
        "template".to_string(),
        "set".into(),
        "--exam".into(),
        exam.clone(),
    ];
    for (k, (page, _)) in pages.iter().enumerate() {
        let path = dir.path().join(format!("blank-{k}.png"));
        DynamicImage::ImageLuma8(page.clone()).save(&path).unwrap();
        args.push(path.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(&data, &args);
    // Q1-Q3 on page 1, Q4-Q5 on page 2: (template page, frame).
    let regions: Vec<(usize, Frame)> = vec![
        (0, pages[0].1[1]),
        (0, pages[0].1[2]),
        (0, pages[0].1[3]),
        (1, pages[1].1[1]),
        (1, pages[1].1[2]),
    ];
    for (q, (page, f)) in regions.iter().enumerate() {
        let (page, label, bbox) = (
            (page + 1).to_string(),
            format!("Q{}", q + 1),
            format!("{},{},{},{}", f[0], f[1], f[2], f[3]),
        );
        cli(
            &data,
            &[
                "region",
                "add",
                "--exam",
                &exam,
                "--page",
                &page,
                "--question",
                &label,
                "--bbox",
                &bbox,
            ],
        );
    }
    // The class, with its truth: (student, template page, transform) per scanned page.
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut jpegs = Vec::new();
    let mut truth = Vec::new();
    let generated = Instant::now();
    for student in 0..STUDENTS {
        let mut order = [0usize, 1];
        if student == 7 {
            order.reverse();
        }
        for (slot, &page) in order.iter().enumerate() {
            let size = if (student + slot) % 5 == 0 {
                A4_200
            } else {
                A4_300
            };
            let t = scan_transform(
                TEMPLATE,
                size,
                rng.gen_range(-60.0..60.0),
                rng.gen_range(-60.0..60.0),
                rng.gen_range(-3.0..3.0),
                rng.gen_range(0.97..1.03),
                student == 12 && slot == 1,
            );
            // The student writes in this page's answer regions only.
            let (template, _) = &pages[page];
            let written: Vec<Frame> = regions
                .iter()
                .filter(|r| r.0 == page)
                .map(|r| r.1)
                .collect();
            let scan = scan_of(template, &written, &t, size, (student * 2 + slot) as u64);
            jpegs.push(scans::encode(
                &DynamicImage::ImageLuma8(scan),
                ImageFormat::Jpeg,
            ));
            truth.push((student, page, t, size));
        }
    }
    let pdf = dir.path().join("class.pdf");
    std::fs::write(&pdf, scans::scanner_pdf(&jpegs, false)).unwrap();
    drop(jpegs);
    println!(
        "class generated: {} pages in {:.1} s",
        truth.len(),
        generated.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_gradedesk"))
        .arg("--data-dir")
        .arg(&data)
        .args(["import", "--exam", &exam, "--class", pdf.to_str().unwrap()])
        .env("GRADEDESK_KEYRING", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    let mut peak_kb = 0u64;
    while !waiter.is_finished() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = waiter.join().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let submissions = report["submissions"].as_array().unwrap();

    // Identification: student k's source pages are scan pages 2k+1 and 2k+2, in template order.
    let mut right = 0;
    for (k, s) in submissions.iter().enumerate() {
        let got: Vec<u64> = s["source_pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["page"].as_u64().unwrap())
            .collect();
        let want: Vec<u64> = (0..2)
            .map(|page| (truth.iter().position(|t| t.0 == k && t.1 == page).unwrap() + 1) as u64)
            .collect();
        if got == want {
            right += 1;
        }
    }
    let items = cli(&data, &["items", "--exam", &exam, "--json"]);
    let items = items.as_array().unwrap();
    let queued = cli(&data, &["status", "--json"])["counts"]["queued"]
        .as_i64()
        .unwrap();
    let mut errors = Vec::new();
    for item in items {
        let student = submissions
            .iter()
            .position(|s| s["submission_id"] == item["submission_id"])
            .unwrap();
        let q: usize = item["question_label"].as_str().unwrap()[1..]
            .parse::<usize>()
            .unwrap()
            - 1;
        let (page, f) = regions[q];
        let (_, _, t, size) = truth
            .iter()
            .find(|t| t.0 == student && t.1 == page)
            .unwrap();
        // Errors in pixels of a 300-dpi page, whatever the scan's resolution.
        let to_300 = f64::from(A4_300.0) / f64::from(size.0);
        for (c, got) in corners(&f, TEMPLATE)
            .iter()
            .zip(item["source_quad"].as_array().unwrap())
        {
            let (x, y) = apply(t, c.0, c.1);
            let (gx, gy) = (
                got[0].as_f64().unwrap() + 0.5,
                got[1].as_f64().unwrap() + 0.5,
            );
            errors.push(((gx - x).powi(2) + (gy - y).powi(2)).sqrt() * to_300);
        }
    }
    errors.sort_by(f64::total_cmp);
    let pct = |p: f64| errors[((errors.len() - 1) as f64 * p).round() as usize];
    println!("class import: {} pages in {seconds:.1} s = {:.2} pages/s (goal 4 on 2 cores); peak RSS {} MB (goal < 400)", truth.len(), truth.len() as f64 / seconds, peak_kb / 1024);
    let outside = submissions
        .iter()
        .flat_map(|s| s["flags"].as_array().unwrap())
        .filter(|f| f["kind"] == "writing_outside")
        .count();
    println!("students {} of {STUDENTS}, every page to the right student: {right} of {STUDENTS}; answers queued {queued} (150 expected); unassigned {}; pages flagged for writing outside the boxes: {outside} (nobody wrote outside)", submissions.len(), report["unassigned"].as_array().unwrap().len());
    println!("corner error over {} corners (300-dpi px): median {:.2}, p95 {:.2}, max {:.2} (goal: median <= 3, max <= 10)", errors.len(), pct(0.5), pct(0.95), pct(1.0));
}

fn apply(h: &Homography, x: f64, y: f64) -> (f64, f64) {
    h.apply(x, y).unwrap_or((f64::NAN, f64::NAN))
}
