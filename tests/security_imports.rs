//! What a stranger's scan cannot do to the helpers GradeDesk runs on it: read the API key
//! from their environment, pass itself off as an option by its name, or bring more pixels
//! in one file than a class's worth.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use gradedesk::imaging::pdf::PdfScan;
use gradedesk::imaging::subprocess;

/// A PDF of `pages` vector pages of `width × height` points (rendered by poppler on import).
fn vector_pdf(pages: usize, width: u32, height: u32) -> Vec<u8> {
    let mut objects: Vec<String> = vec![
        "<</Type/Catalog/Pages 2 0 R>>".into(),
        String::new(), // the page tree, once the kids are known
    ];
    let mut kids = Vec::new();
    for _ in 0..pages {
        let content = "0.1 0.1 0.5 RG 4 w 20 20 m 180 180 l S 20 180 m 180 20 l S";
        let content_id = objects.len() + 2;
        objects.push(format!(
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 {width} {height}]/Contents {content_id} 0 R>>"
        ));
        kids.push(format!("{} 0 R", objects.len()));
        objects.push(format!(
            "<</Length {}>>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    objects[1] = format!("<</Type/Pages/Kids[{}]/Count {pages}>>", kids.join(" "));
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

fn cli(dir: &Path, args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradedesk"))
        .current_dir(dir)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env("GRADEDESK_CONFIG_DIR", dir.join("config"))
        .env("GRADEDESK_KEYRING", "off")
        .output()
        .unwrap()
}

fn exam(dir: &Path) -> String {
    let questions = dir.join("questions.json");
    std::fs::write(
        &questions,
        r#"[{"label": "Q1", "prompt": "p", "max_points": 1}]"#,
    )
    .unwrap();
    let out = cli(
        dir,
        &[
            OsStr::new("exam"),
            OsStr::new("create"),
            OsStr::new("--name"),
            OsStr::new("E"),
            OsStr::new("--questions"),
            questions.as_os_str(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["exam_id"].to_string()
}

/// `gradedesk import --exam ID -- NAME`, run in `dir` with the file named as given.
fn import(dir: &Path, exam: &str, name: &str) -> Output {
    cli(
        dir,
        &[
            OsStr::new("import"),
            OsStr::new("--exam"),
            OsStr::new(exam),
            OsStr::new("--"),
            OsStr::new(name),
        ],
    )
}

#[test]
fn files_named_like_options_import() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let exam = exam(dir);
    // `-h.pdf` as the issue names it, and a PDF named exactly like one of pdftoppm's
    // options, which poppler would otherwise take as that option.
    for name in ["-h.pdf", "-png", "-singlefile"] {
        std::fs::write(dir.join(name), vector_pdf(1, 200, 200)).unwrap();
        let out = import(dir, &exam, name);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got[0]["file"], name);
        assert_eq!(got[0]["pages"], 1);
    }
    // libheif's tools read `-h.heic` as -h (getopt) unless told where options end.
    let png = dir.join("src.png");
    image::RgbImage::from_pixel(400, 560, image::Rgb([240, 240, 236]))
        .save(&png)
        .unwrap();
    let encoded = Command::new("heif-enc")
        .arg("-o")
        .arg(dir.join("photo.heic"))
        .arg(&png)
        .output()
        .expect("heif-enc is needed for this test (Debian package libheif-examples)");
    assert!(encoded.status.success(), "heif-enc could not encode");
    std::fs::rename(dir.join("photo.heic"), dir.join("-h.heic")).unwrap();
    let out = import(dir, &exam, "-h.heic");
    assert!(
        out.status.success(),
        "-h.heic: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_helper_inherits_no_api_key_nor_anything_else_of_ours() {
    // This test binary is its own process: setting the variables here reaches nothing else.
    std::env::set_var("GEMINI_API_KEY", "AIzaSy-helper-must-not-see-this");
    std::env::set_var("GRADEDESK_OPENAI_API_KEY", "sk-helper-must-not-see-this");
    std::env::set_var("LD_PRELOAD", "/nonexistent/evil.so");
    let out = subprocess::run("env", &[], Duration::from_secs(10))
        .ok()
        .unwrap();
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(!env.contains("must-not-see-this"), "{env}");
    assert!(!env.contains("LD_PRELOAD"), "{env}");
    let names: Vec<&str> = env.lines().filter_map(|l| l.split('=').next()).collect();
    for name in &names {
        assert!(
            ["PATH", "LC_ALL", "HOME", "TMPDIR"].contains(name),
            "{name} reached the helper: {env}"
        );
    }
    assert!(env.contains("PATH=/usr/bin:/bin"), "{env}");
    // And helpers are found only in the system's folders, never through PATH.
    let found = subprocess::locate("pdftoppm").expect("poppler-utils is installed");
    assert!(
        found.starts_with("/usr/bin") || found.starts_with("/bin"),
        "{found:?}"
    );
}

#[test]
fn a_file_has_a_total_pixel_budget_not_only_one_per_page() {
    let tmp = tempfile::tempdir().unwrap();
    // Each page is under the per-page limit (rendered at about 83 Mpx); 60 of them are not.
    let pdf = tmp.path().join("posters.pdf");
    std::fs::write(&pdf, vector_pdf(60, 4000, 3500)).unwrap();
    let refused = PdfScan::open("posters.pdf", &pdf).err().expect("refused");
    let text = refused.to_string();
    assert!(
        text.starts_with("posters.pdf: its pages together are more than"),
        "{text}"
    );
    // A few such pages are fine.
    let few = tmp.path().join("few.pdf");
    std::fs::write(&few, vector_pdf(3, 4000, 3500)).unwrap();
    assert_eq!(PdfScan::open("few.pdf", &few).unwrap().pages.len(), 3);
}
