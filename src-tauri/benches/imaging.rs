//! Imaging figures, printed side by side (never fails on time):
//! - `gradedesk crop` of one box on a fresh 300-dpi A4 JPEG page, as a whole process, beside
//!   the same crop by Pillow (Image.open → crop → save PNG), also as a whole process;
//! - five boxes on one page in one session against one box;
//! - import of a 30-page scanner PDF (and a 30-page rendered PDF), pages per second;
//! - peak resident memory of importing a 200-page scanner PDF.
//!
//! Run with `make bench` (or `cargo bench --bench imaging`).

#[path = "../../tests/support/scans.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gradedesk::exams::{Bbox, QuestionInput};
use gradedesk::workspace::Workspace;
use image::{DynamicImage, GrayImage, ImageFormat, Luma};

const BIN: &str = env!("CARGO_BIN_EXE_gradedesk");
const RUNS: usize = 7;
const BOX: Bbox = Bbox {
    x: 0.1,
    y: 0.2,
    w: 0.8,
    h: 0.15,
};

fn gradedesk(data: &Path, args: &[&str]) -> (Duration, String) {
    let start = Instant::now();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("gradedesk runs");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "gradedesk {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A text-like grey copier page: ruled lines and word-sized strokes (compresses like a real
/// scan, unlike noise).
fn copier_page(seed: u32) -> Vec<u8> {
    let (w, h) = (2480, 3508);
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let mut img = GrayImage::from_pixel(w, h, Luma([245]));
    for line in 0..60 {
        let y = 200 + line * 54;
        for x in 150..2330 {
            img.put_pixel(x, y, Luma([200]));
        }
        let mut x = 160;
        while x < 2200 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let word = 40 + state % 160;
            for dx in 0..word {
                // A smooth pen stroke: a slow wave through the word.
                let dy = ((f64::from(dx) / 9.0 + f64::from(state % 7)).sin() * 12.0 + 15.0) as u32;
                img.put_pixel(x + dx, y - 35 + dy, Luma([40]));
                img.put_pixel(x + dx, y - 34 + dy, Luma([40]));
            }
            x += word + 30;
        }
    }
    fixtures::encode(&DynamicImage::ImageLuma8(img), ImageFormat::Jpeg)
}

fn questions(dir: &Path) -> PathBuf {
    let path = dir.join("questions.json");
    let qs: Vec<QuestionInput> = (1..=5)
        .map(|i| QuestionInput::plain(&format!("Q{i}"), "p", 1.0))
        .collect();
    let json: Vec<serde_json::Value> = qs
        .iter()
        .map(|q| serde_json::json!({"label": q.label, "prompt": q.prompt, "max_points": q.max_points}))
        .collect();
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    path
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let q = questions(dir);
    let (_, out) = gradedesk(
        &data,
        &[
            "exam",
            "create",
            "--name",
            "bench",
            "--questions",
            q.to_str().unwrap(),
        ],
    );
    let exam: serde_json::Value = serde_json::from_str(&out).unwrap();
    let exam = exam["exam_id"].to_string();

    // 1. One crop, whole process, gradedesk beside Pillow, on fresh pages.
    let page = dir.join("page-300dpi.jpg");
    std::fs::write(&page, fixtures::a4_300dpi_jpeg(1)).unwrap();
    let mut subs = Vec::new();
    for i in 0..RUNS {
        let copy = dir.join(format!("student-{i}.jpg"));
        std::fs::copy(&page, &copy).unwrap();
        let (_, out) = gradedesk(&data, &["import", "--exam", &exam, copy.to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        subs.push(v[0]["submission_id"].to_string());
    }
    let script = dir.join("pil_crop.py");
    std::fs::write(
        &script,
        format!(
            "import sys\nfrom PIL import Image\nim = Image.open(sys.argv[1])\nw, h = im.size\n\
             im.crop((round({x}*w), round({y}*h), round({x1}*w), round({y1}*h))).save(sys.argv[2])\n",
            x = BOX.x,
            y = BOX.y,
            x1 = BOX.x + BOX.w,
            y1 = BOX.y + BOX.h
        ),
    )
    .unwrap();
    let have_pillow = Command::new("/usr/bin/python3")
        .args(["-c", "import PIL"])
        .status()
        .is_ok_and(|s| s.success());
    let bbox = format!("{},{},{},{}", BOX.x, BOX.y, BOX.w, BOX.h);
    let (mut ours, mut pillow) = (Vec::new(), Vec::new());
    for sub in &subs {
        // Interleaved, so both see the same machine load.
        let (t, _) = gradedesk(
            &data,
            &[
                "crop",
                "--submission",
                sub,
                "--page",
                "1",
                "--question",
                "Q1",
                "--bbox",
                &bbox,
            ],
        );
        ours.push(t);
        if have_pillow {
            let start = Instant::now();
            let ok = Command::new("/usr/bin/python3")
                .arg(&script)
                .arg(&page)
                .arg(dir.join("pil-crop.png"))
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                pillow.push(start.elapsed());
            }
        }
    }
    println!("crop of one box on a fresh 300-dpi A4 JPEG page (2480x3508), whole process, median of {RUNS}:");
    println!("  gradedesk crop : {:7.1} ms", ms(median(ours.clone())));
    if pillow.is_empty() {
        println!("  Pillow         : not measured (/usr/bin/python3 with python3-pil missing)");
    } else {
        let (a, b) = (median(ours), median(pillow));
        println!("  Pillow         : {:7.1} ms", ms(b));
        println!(
            "  ratio          : {:.2} (target <= 0.50)",
            a.as_secs_f64() / b.as_secs_f64()
        );
    }

    // 2. Five boxes on one page in one session, in process, against one box. Each run
    // imports two fresh pages (their first box pays the decode); a warm-up crop first, so
    // neither side pays the process's first statement preparations and thread spawns.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ws = Workspace::open(&data).unwrap();
        let exam_id: i64 = exam.parse().unwrap();
        let warm = ws.import_path(exam_id, &page).await.unwrap().submission_id;
        ws.create_item(warm, 1, "Q1", BOX).await.unwrap();
        let (mut ones, mut fives) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let one = ws.import_path(exam_id, &page).await.unwrap().submission_id;
            let five = ws.import_path(exam_id, &page).await.unwrap().submission_id;
            let start = Instant::now();
            ws.create_item(one, 1, "Q1", BOX).await.unwrap();
            ones.push(start.elapsed());
            let start = Instant::now();
            for i in 0..5 {
                let b = Bbox {
                    y: 0.05 + 0.18 * f64::from(i),
                    ..BOX
                };
                ws.create_item(five, 1, &format!("Q{}", i + 1), b)
                    .await
                    .unwrap();
            }
            fives.push(start.elapsed());
        }
        let (t1, t5) = (median(ones), median(fives));
        println!("boxes on a fresh page in one session (decoded page cached), median of {RUNS}:");
        println!("  1 box          : {:7.1} ms", ms(t1));
        println!(
            "  5 boxes        : {:7.1} ms ({:.2}x one box; each box after the first {:.1} ms)",
            ms(t5),
            t5.as_secs_f64() / t1.as_secs_f64(),
            ms(t5.saturating_sub(t1)) / 4.0
        );
    });

    // 3. Import of a 30-page scanner PDF, and of a 30-page PDF that must be rendered.
    let pages: Vec<Vec<u8>> = (0..3).map(copier_page).collect();
    let thirty: Vec<Vec<u8>> = (0..30).map(|i| pages[i % 3].clone()).collect();
    let pdf = dir.join("scanner-30.pdf");
    std::fs::write(&pdf, fixtures::scanner_pdf(&thirty, false)).unwrap();
    let (t, _) = gradedesk(&data, &["import", "--exam", &exam, pdf.to_str().unwrap()]);
    println!(
        "import of a 30-page 300-dpi scanner PDF ({} MB): {:.1} s, {:.1} pages/s",
        std::fs::metadata(&pdf).unwrap().len() / 1_000_000,
        t.as_secs_f64(),
        30.0 / t.as_secs_f64()
    );
    let vector = dir.join("rendered-30.pdf");
    let bytes = fixtures::scanner_pdf(&[], true);
    let one_page = lopdf::Document::load_mem(&bytes).unwrap();
    let mut doc = one_page.clone();
    // 30 copies of the vector page.
    let page_id = *doc.get_pages().values().next().unwrap();
    let pages_id = doc
        .catalog()
        .unwrap()
        .get(b"Pages")
        .unwrap()
        .as_reference()
        .unwrap();
    let kids: Vec<lopdf::Object> = (0..30)
        .map(|_| {
            let copy = doc.get_object(page_id).unwrap().clone();
            lopdf::Object::Reference(doc.add_object(copy))
        })
        .collect();
    if let Ok(lopdf::Object::Dictionary(d)) = doc.get_object_mut(pages_id) {
        d.set("Kids", kids);
        d.set("Count", 30);
    }
    doc.save(&vector).unwrap();
    let (t, _) = gradedesk(
        &data,
        &["import", "--exam", &exam, vector.to_str().unwrap()],
    );
    println!(
        "import of a 30-page vector PDF rendered by pdftoppm at 200 dpi: {:.1} s, {:.1} pages/s",
        t.as_secs_f64(),
        30.0 / t.as_secs_f64()
    );

    // 4. Peak resident memory importing 200 pages.
    let two_hundred: Vec<Vec<u8>> = (0..200).map(|i| pages[i % 3].clone()).collect();
    let big = dir.join("scanner-200.pdf");
    std::fs::write(&big, fixtures::scanner_pdf(&two_hundred, false)).unwrap();
    let time = Command::new("/usr/bin/time")
        .args(["-f", "%M %e"])
        .arg(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["import", "--exam", &exam])
        .arg(&big)
        .output();
    match time {
        Ok(out) if out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("");
            let mut parts = last.split_whitespace();
            let kb: f64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let secs: f64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            println!(
                "import of a 200-page scanner PDF ({} MB): peak RSS {:.0} MB (target < 300 MB), {:.1} s, {:.1} pages/s",
                std::fs::metadata(&big).unwrap().len() / 1_000_000,
                kb / 1024.0,
                secs,
                200.0 / secs
            );
        }
        _ => println!("peak RSS: not measured (/usr/bin/time missing or import failed)"),
    }
}
