//! The hand-back (issue 16) end to end on a graded class: every export format read back by
//! a reader of that format's documented layout, the accented name with an apostrophe intact
//! in each, no cell that a spreadsheet would run as a formula in any, the feedback PDFs'
//! text (pdftotext) and pages (pdftoppm, kept in artifacts/handback/ to look at), and the CLI's
//! `export --format`, `feedback` and `stats` contracts.

#[path = "fixtures/handback_class.rs"]
mod class_fixture;

use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{open_workbook, Data, Reader, Xlsx};
use class_fixture::{ai_score, feedback, graded_class, NAMES};
use gradedesk::export::{is_safe, Format, CANVAS_FIXED, LONG_HEADER};

const STUDENTS: usize = 6;
const ACCENTED: &str = NAMES[0];

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn read_xlsx(path: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            Data::Float(f) => f.to_string(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {header:?}"))
}

/// Every cell of every row is safe, and the accented name is there as it was typed.
fn check_cells(format: &str, rows: &[Vec<String>]) {
    for row in rows {
        for cell in row {
            assert!(is_safe(cell), "{format}: a cell starts a formula: {cell:?}");
        }
    }
    assert!(
        rows.iter().flatten().any(|c| c == ACCENTED),
        "{format}: the name {ACCENTED:?} is not intact"
    );
    // The formula-like names are kept, neutralised by the apostrophe.
    assert!(
        rows.iter()
            .flatten()
            .any(|c| c == &format!("'{}", NAMES[1])),
        "{format}"
    );
}

/// The student's final total: the teacher's scores where given, else the AI's.
fn expected_total(s: usize) -> f64 {
    let q1 = ai_score(s, 0);
    let q2 = if s.is_multiple_of(2) {
        (ai_score(s, 1) + 1.0).min(3.0)
    } else {
        ai_score(s, 1)
    };
    let q3 = if s + 1 == STUDENTS {
        0.0
    } else {
        ai_score(s, 2)
    };
    q1 + q2 + q3
}

fn num(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

fn student_row(rows: &[Vec<String>], col: usize, s: usize) -> &Vec<String> {
    let name = NAMES
        .get(s)
        .map_or(format!("Student {s}"), |n| n.to_string());
    let guarded = gradedesk::export::guard(&name).into_owned();
    rows.iter()
        .find(|r| r[col] == guarded)
        .unwrap_or_else(|| panic!("no row for {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_reads_back_with_names_scores_and_no_formula() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, exam, _) = graded_class(dir.path(), STUDENTS).await;
    let out = |name: &str| dir.path().join(name);

    // Today's file, through the one entry point, is byte for byte the old export's.
    ws.export_csv(exam, &out("old.csv")).await.unwrap();
    ws.export(exam, Format::Answers, &out("answers.csv"))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(out("old.csv")).unwrap(),
        std::fs::read(out("answers.csv")).unwrap()
    );
    let answers = read_csv(&out("answers.csv"));
    assert_eq!(
        answers[0],
        [
            "submission",
            "student",
            "question",
            "score",
            "max_points",
            "feedback",
            "transcription",
            "state",
            "ai_score"
        ]
    );
    check_cells("answers", &answers);

    // Wide: a row per student, each question's score, the total and the percent.
    assert_eq!(
        ws.export(exam, Format::Csv, &out("wide.csv"))
            .await
            .unwrap(),
        STUDENTS
    );
    let wide = read_csv(&out("wide.csv"));
    assert_eq!(
        wide[0],
        [
            "Student",
            "ID",
            "Email",
            "Q1 (2 pts)",
            "Q2 (3 pts)",
            "Q3 (1 pt)",
            "Total (6 pts)",
            "Percent"
        ]
    );
    check_cells("csv", &wide);
    for s in 0..STUDENTS {
        let row = student_row(&wide, 0, s);
        assert_eq!(num(&row[6]), expected_total(s), "student {s}");
        assert!((num(&row[7]) - (expected_total(s) / 6.0 * 1000.0).round() / 10.0).abs() < 1e-9);
        assert_eq!(
            (row[1].as_str(), row[2].as_str()),
            ("", ""),
            "ID and email wait for the roster"
        );
    }
    assert_eq!(
        student_row(&wide, 0, STUDENTS - 1)[5],
        "",
        "no box, no score"
    );

    // Long: a row per answer, with both scores, the rubric lines, feedback and note.
    let long_rows = ws
        .export(exam, Format::CsvLong, &out("long.csv"))
        .await
        .unwrap();
    assert_eq!(long_rows, STUDENTS * 3 - 1);
    let long = read_csv(&out("long.csv"));
    assert_eq!(long[0], LONG_HEADER);
    check_cells("csv-long", &long);
    let h = &long[0];
    let first_q2 = long
        .iter()
        .find(|r| r[column(h, "student")] == ACCENTED && r[column(h, "question")] == "Q2")
        .unwrap();
    assert_eq!(num(&first_q2[column(h, "ai_score")]), ai_score(0, 1));
    assert_eq!(
        num(&first_q2[column(h, "teacher_score")]),
        (ai_score(0, 1) + 1.0).min(3.0)
    );
    assert_eq!(
        first_q2[column(h, "note")],
        "Good reasoning — the units were there after all."
    );
    // The rubric cell lists the items the answer's score is made of.
    assert_eq!(
        first_q2[column(h, "rubric")],
        applied_lines(1, ai_score(0, 1))
    );
    assert_eq!(first_q2[column(h, "feedback")], feedback(0, 1));
    assert!(long
        .iter()
        .any(|r| r[column(h, "feedback")] == format!("'{}", feedback(1, 0))));

    // Canvas: the fixed columns, the assignment column and the "Points Possible" row.
    ws.export(exam, Format::Canvas, &out("canvas.csv"))
        .await
        .unwrap();
    let canvas = read_csv(&out("canvas.csv"));
    assert_eq!(&canvas[0][..5], CANVAS_FIXED);
    assert_eq!(
        canvas[0][5], "Physics — mid-term",
        "a new assignment: no (id) in the header"
    );
    assert_eq!(canvas[1][0].trim(), "Points Possible");
    assert!(canvas[1][1..5].iter().all(String::is_empty));
    assert_eq!(num(&canvas[1][5]), 6.0);
    check_cells("canvas", &canvas);
    for s in 0..STUDENTS {
        assert_eq!(num(&student_row(&canvas[2..], 0, s)[5]), expected_total(s));
    }
    assert_eq!(canvas.len(), STUDENTS + 2);

    // Moodle: an identifier column to map from (ID number or email) and the grade.
    ws.export(exam, Format::Moodle, &out("moodle.csv"))
        .await
        .unwrap();
    let moodle = read_csv(&out("moodle.csv"));
    let mh = &moodle[0];
    let (id, email, grade) = (
        column(mh, "ID number"),
        column(mh, "Email address"),
        column(mh, "Physics — mid-term"),
    );
    check_cells("moodle", &moodle);
    for s in 0..STUDENTS {
        let row = student_row(&moodle[1..], column(mh, "Full name"), s);
        assert_eq!(num(&row[grade]), expected_total(s));
        assert_eq!((row[id].as_str(), row[email].as_str()), ("", ""));
    }
    assert!(moodle[1][column(mh, "Feedback")].starts_with("Q1 "));

    // Google Classroom: email and grade under the assignment's name.
    ws.export(exam, Format::Classroom, &out("classroom.csv"))
        .await
        .unwrap();
    let classroom = read_csv(&out("classroom.csv"));
    assert_eq!(
        classroom[0],
        ["Email Address", "Name", "Physics — mid-term"]
    );
    check_cells("classroom", &classroom);
    for s in 0..STUDENTS {
        assert_eq!(
            num(&student_row(&classroom[1..], 1, s)[2]),
            expected_total(s)
        );
    }

    // XLSX: a sheet per view, scores as numbers.
    ws.export(exam, Format::Xlsx, &out("book.xlsx"))
        .await
        .unwrap();
    let sheets = read_xlsx(&out("book.xlsx"));
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Gradebook", "Answers", "Statistics"]);
    for (name, rows) in &sheets[..2] {
        check_cells(&format!("xlsx {name}"), rows);
    }
    let gradebook = &sheets[0].1;
    assert_eq!(gradebook[0], wide[0]);
    for s in 0..STUDENTS {
        assert_eq!(num(&student_row(gradebook, 0, s)[6]), expected_total(s));
    }
    assert_eq!(sheets[1].1.len(), STUDENTS * 3);
    assert_eq!(sheets[2].1[1][0], "Q1");

    // Nothing is left under a temporary name.
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The rubric items the fixture's AI applied for `score` on question `q` (Q1 or Q2), as
/// the hand-back lists them: greedily the largest that fit, shown in the rubric's order.
fn applied_lines(q: usize, score: f64) -> String {
    let rubric: [&[(&str, f64)]; 2] = [
        &[("States F = ma", 1.0), ("Names each quantity", 1.0)],
        &[("Correct set-up", 1.0), ("Correct result with units", 2.0)],
    ];
    let items = rubric[q];
    let mut by_size: Vec<usize> = (0..items.len()).collect();
    by_size.sort_by(|a, b| items[*b].1.total_cmp(&items[*a].1));
    let mut left = score;
    let mut chosen = Vec::new();
    for k in by_size {
        if items[k].1 <= left + 1e-9 {
            left -= items[k].1;
            chosen.push(k);
        }
    }
    (0..items.len())
        .filter(|k| chosen.contains(k))
        .map(|k| {
            let (text, points) = items[k];
            let unit = if points == 1.0 { "pt" } else { "pts" };
            format!("{text} (+{points} {unit})")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feedback_pdfs_hold_each_students_name_scores_and_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, exam, _) = graded_class(dir.path(), STUDENTS).await;
    let report = ws
        .feedback_pdfs(exam, &dir.path().join("feedback"))
        .await
        .unwrap();
    assert_eq!(report.students, STUDENTS);
    assert_eq!(report.files.len(), STUDENTS);

    let first = pdftotext(Path::new(&report.files[0]));
    assert!(first.contains(ACCENTED), "{first}");
    assert!(
        first.contains(&format!("Total: {} / 6 points", expected_total(0))),
        "{first}"
    );
    let q2 = (ai_score(0, 1) + 1.0).min(3.0);
    assert!(first.contains(&format!("{q2} / 3 points")), "{first}");
    // Long lines are wrapped, so compare without the line breaks.
    let flat = first.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&feedback(0, 0)), "{flat}");
    assert!(
        flat.contains("Good reasoning — the units were there after all."),
        "{flat}"
    );
    assert!(flat.contains(&format!(
        "The teacher changed the score from {} to {q2}.",
        ai_score(0, 1)
    )));
    assert!(flat.contains("Rubric items applied"), "{flat}");
    assert!(flat.contains(&applied_lines(1, ai_score(0, 1))), "{flat}");
    assert!(
        !flat.contains(&NAMES[1][..10]),
        "another student's name in the first PDF"
    );

    let class = pdftotext(Path::new(&report.class_pdf));
    for s in 0..STUDENTS {
        let name = NAMES
            .get(s)
            .map_or(format!("Student {s}"), |n| n.to_string());
        assert!(class.contains(&name), "{name} missing from the class PDF");
        assert!(class.contains(&format!("Total: {} / 6 points", expected_total(s))));
    }
    assert!(
        class.contains("no answer · 0 / 1 points"),
        "the blank answer says so"
    );

    // The pages as a student sees them, kept to look at.
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/handback");
    std::fs::create_dir_all(&artifacts).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "80", &report.files[0]])
        .arg(artifacts.join("feedback-first-student"))
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let pages: Vec<_> = std::fs::read_dir(&artifacts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("feedback-first-student"))
        .collect();
    assert!(!pages.is_empty());
    for page in pages {
        let img = image::open(&page).unwrap().to_luma8();
        let inked = img.pixels().filter(|p| p.0[0] < 128).count();
        assert!(inked > 2000, "{} looks empty", page.display());
    }
}

fn gradedesk(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradedesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("GEMINI_API_KEY")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exports_every_format_writes_feedback_and_prints_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, exam, _) = graded_class(dir.path(), STUDENTS).await;
    let data = ws.data_dir.clone();
    drop(ws);
    let exam_arg = exam.to_string();
    for format in ["csv", "csv-long", "canvas", "moodle", "classroom", "xlsx"] {
        let file = dir.path().join(format!("out-{format}"));
        let out = gradedesk(
            &data,
            &[
                "export",
                "--exam",
                &exam_arg,
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(file.metadata().unwrap().len() > 0);
    }
    let bad = gradedesk(
        &data,
        &[
            "export", "--exam", &exam_arg, "--format", "pdf", "--out", "x",
        ],
    );
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown format is the teacher's mistake"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("csv-long"));
    let missing = gradedesk(&data, &["stats", "--exam", "999", "--json"]);
    assert_eq!(missing.status.code(), Some(4));

    let folder = dir.path().join("pdfs");
    let out = gradedesk(
        &data,
        &[
            "feedback",
            "--exam",
            &exam_arg,
            "--out",
            folder.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["students"], STUDENTS);
    assert_eq!(report["files"].as_array().unwrap().len(), STUDENTS);
    assert!(Path::new(report["class_pdf"].as_str().unwrap()).exists());

    let out = gradedesk(&data, &["stats", "--exam", &exam_arg, "--json"]);
    assert!(out.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let questions = stats["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 3);
    for q in questions {
        for key in [
            "label",
            "n",
            "mean",
            "median",
            "sd",
            "facility",
            "discrimination",
            "blank_share",
            "histogram",
            "agreement",
        ] {
            assert!(q.get(key).is_some(), "{key} missing");
        }
        for key in ["n", "exact", "within_one", "mae", "qwk"] {
            assert!(q["agreement"].get(key).is_some(), "agreement {key} missing");
        }
    }
    // Q1 was accepted as is on every other student: all exact; Q2 overridden by a point.
    let reviewed = STUDENTS.div_ceil(2) as u64;
    assert_eq!(questions[0]["agreement"]["n"], reviewed);
    assert_eq!(questions[0]["agreement"]["exact"], 1.0);
    assert_eq!(questions[1]["agreement"]["n"], reviewed);
    assert_eq!(questions[2]["agreement"]["n"], 0);
    assert_eq!(questions[2]["n"], STUDENTS as u64, "the blank counts, at 0");
    assert!((questions[2]["blank_share"].as_f64().unwrap() - 1.0 / STUDENTS as f64).abs() < 1e-9);
    // Student 2's empty Q2 transcription is blank too.
    assert!((questions[1]["blank_share"].as_f64().unwrap() - 1.0 / STUDENTS as f64).abs() < 1e-9);
    for key in ["n", "mean", "sd", "alpha", "histogram"] {
        assert!(stats["exam"].get(key).is_some(), "exam {key} missing");
    }
    assert_eq!(stats["exam"]["n"], STUDENTS as u64);
    let total: f64 = (0..STUDENTS).map(expected_total).sum::<f64>() / STUDENTS as f64;
    assert!((stats["exam"]["mean"].as_f64().unwrap() - total).abs() < 1e-9);

    let out = gradedesk(&data, &["stats", "--exam", &exam_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Cronbach's alpha") && text.contains('#'),
        "{text}"
    );
}
