//! Who wrote it, through the CLI contract and the fake Gemini over real HTTP: a class whose
//! name boxes read with a typo and a missing accent, "Last, First", an initial, a wrong ID
//! digit, two scripts that read the same name, and a blank box; a roster with two students
//! who share a first name and one who was absent. The matching is one-to-one over the class,
//! makes only the safe pairs, and leaves the rest to the teacher, who confirms, changes and
//! unmatches; the gradebook then carries the roster's names and IDs.
//!
//! And the figure: the demo generator's realistic class of 30, read and matched: how many
//! automatically, how many left to the teacher, how many automatic matches wrong.

mod support;

use std::collections::HashMap;

use fake_gemini::names::{code_cells, CODE_CELLS, CODE_X, CODE_Y};
use fake_gemini::{FakeConfig, FakeGemini, NameReply, NameTable};
use gradedesk::vision::synth::{scan_of, scan_transform, template_page};
use image::{DynamicImage, GrayImage, ImageFormat, Luma};
use serde_json::Value;
use support::cli::{stderr, stdout_json, Cli};
use support::scans::{encode, scanner_pdf};

const KEY: &str = "test-key";
const TEMPLATE: (u32, u32) = (1240, 1754);
const SCAN: (u32, u32) = (2480, 3508);

async fn run(cli: &Cli, args: &[&str]) -> Value {
    stdout_json(&cli.run(args, Some(KEY)).await)
}

/// Prints a student number's code in the top-right corner of the name box `frame`.
fn print_code(page: &mut GrayImage, frame: &[f64; 4], number: u32) {
    let (w, h) = (f64::from(page.width()), f64::from(page.height()));
    let (bx, by, bw, bh) = (frame[0] * w, frame[1] * h, frame[2] * w, frame[3] * h);
    let cell = (CODE_X.1 - CODE_X.0) * bw / CODE_CELLS as f64;
    for (k, on) in code_cells(number).into_iter().enumerate() {
        if !on {
            continue;
        }
        let x0 = bx + CODE_X.0 * bw + cell * k as f64;
        for y in (by + CODE_Y.0 * bh) as u32..(by + CODE_Y.1 * bh) as u32 {
            for x in x0 as u32..(x0 + cell) as u32 {
                page.put_pixel(x, y, Luma([0]));
            }
        }
    }
}

fn reply(name: &str, id: &str) -> NameReply {
    NameReply {
        name: name.into(),
        student_id: id.into(),
        confidence: 0.9,
    }
}

/// An exam with a one-page template (Q1 and the name box), and a class PDF of `students`
/// sheets, sheet k carrying student number k + 1 in its name box.
async fn class(cli: &Cli, dir: &std::path::Path, students: u32) -> (String, String) {
    let questions = dir.join("q.json");
    std::fs::write(
        &questions,
        r#"[{"label":"Q1","prompt":"a","max_points":2}]"#,
    )
    .unwrap();
    let exam = run(
        cli,
        &[
            "exam",
            "create",
            "--name",
            "Roster",
            "--questions",
            questions.to_str().unwrap(),
        ],
    )
    .await["exam_id"]
        .to_string();
    let (template, frames) = template_page(TEMPLATE.0, TEMPLATE.1, 7);
    let blank = dir.join("blank.png");
    DynamicImage::ImageLuma8(template.clone())
        .save(&blank)
        .unwrap();
    run(
        cli,
        &["template", "set", "--exam", &exam, blank.to_str().unwrap()],
    )
    .await;
    let bbox = |f: &[f64; 4]| format!("{},{},{},{}", f[0], f[1], f[2], f[3]);
    run(
        cli,
        &[
            "region",
            "add",
            "--exam",
            &exam,
            "--page",
            "1",
            "--question",
            "Q1",
            "--bbox",
            &bbox(&frames[1]),
        ],
    )
    .await;
    run(
        cli,
        &[
            "region",
            "add",
            "--exam",
            &exam,
            "--page",
            "1",
            "--kind",
            "name",
            "--bbox",
            &bbox(&frames[0]),
        ],
    )
    .await;
    let sheets: Vec<Vec<u8>> = (0..students)
        .map(|k| {
            let mut page = template.clone();
            print_code(&mut page, &frames[0], k + 1);
            let truth = scan_transform(
                TEMPLATE,
                SCAN,
                12.0,
                -8.0,
                0.6 - 0.2 * f64::from(k % 5),
                1.0,
                false,
            );
            let scan = scan_of(&page, &frames[1..2], &truth, SCAN, 40 + u64::from(k));
            encode(&DynamicImage::ImageLuma8(scan), ImageFormat::Jpeg)
        })
        .collect();
    let pdf = dir.join("class.pdf");
    std::fs::write(&pdf, scanner_pdf(&sheets, false)).unwrap();
    (exam, pdf.to_string_lossy().into_owned())
}

fn row(rows: &Value, submission: i64) -> &Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["submission_id"] == submission)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_class_is_matched_one_to_one_and_only_the_safe_pairs_alone() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let table: NameTable = HashMap::from([
        (1, reply("Zoe Mulker", "")),         // a typo, the accents dropped
        (2, reply("Schmidt, Emma", "")),      // "Last, First"
        (3, reply("E. Weber", "")),           // an initial; the other Emma is Schmidt
        (4, reply("Jose Nunez", "20261007")), // one digit of 20261004 wrong
        (5, reply("Lukas Becker", "")),       // 5 and 6 read the same name
        (6, reply("Lukas Becker", "")),
        // 7: the name box is blank (no reply scripted: the fake reads nothing)
        (8, reply("Hana Kaya", "20261008")), // a typo, and the exact ID
    ]);
    fake.set_names(table);
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&dir.path().join("data"), &fake.base_url());
    let (exam, pdf) = class(&cli, dir.path(), 8).await;

    // The roster: Canvas's export, with its points row; two Emmas; Clara was absent.
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "Student,ID,SIS User ID,SIS Login ID,Section\n    Points Possible,,,,\n\
         \"Müller, Zoë\",11,20261001,zmuller,P2\n\"Schmidt, Emma\",12,20261002,eschmidt,P2\n\
         \"Weber, Emma\",13,20261003,eweber,P2\n\"Núñez, José\",14,20261004,jnunez,P2\n\
         \"Becker, Lukas\",15,20261005,lbecker,P2\n\"Rossi, Clara\",16,20261006,crossi,P2\n\
         \"Kaya, Hannah\",17,20261008,hkaya,P2\n\"O'Neil, Seán\",18,20261009,soneil,P2\n\
         \"Broken, Row\",19,20261001,dup,P2\n",
    )
    .unwrap();
    let imported = run(
        &cli,
        &[
            "roster",
            "import",
            "--exam",
            &exam,
            roster.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(imported["students"], 8, "{imported}");
    let skipped = imported["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{imported}");
    assert_eq!(skipped[0]["line"], 2);
    assert_eq!(skipped[1]["line"], 11);
    assert!(
        skipped[1]["reason"].as_str().unwrap().contains("line 3"),
        "{imported}"
    );

    let report = run(&cli, &["import", "--exam", &exam, "--class", &pdf]).await;
    let scripts: Vec<i64> = report["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["submission_id"].as_i64().unwrap())
        .collect();
    assert_eq!(scripts.len(), 8, "{report:#}");
    let graded = cli
        .run(&["grade", "--wait", "--concurrency", "2"], Some(KEY))
        .await;
    assert!(graded.status.success(), "{}", stderr(&graded));
    // Every name box went through the queue to the fake as a name reading.
    let readings = fake
        .requests()
        .iter()
        .filter(|r| r.question_text.contains("name box"))
        .count();
    assert_eq!(readings, 8);

    let rows = run(&cli, &["match", "--exam", &exam, "--json"]).await;
    let by = |k: usize| row(&rows, scripts[k]);
    let expect_auto = [
        (0, "Müller, Zoë", "20261001"),
        (1, "Schmidt, Emma", "20261002"),
        (2, "Weber, Emma", "20261003"),
        (3, "Núñez, José", "20261004"),
        (7, "Kaya, Hannah", "20261008"),
    ];
    for (k, student, id) in expect_auto {
        let r = by(k);
        assert_eq!(r["status"], "auto", "{r}");
        assert_eq!(r["student"], student, "{r}");
        assert_eq!(r["roster_id"], id, "{r}");
        assert!(r["confidence"].as_f64().unwrap() >= 0.85, "{r}");
    }
    assert_eq!(by(0)["read_name"], "Zoe Mulker");
    assert_eq!(by(3)["read_id"], "20261007");
    // The two "Lukas Becker": neither is given him by itself; one holds the suggestion.
    for k in [4, 5] {
        assert_eq!(by(k)["status"], "unmatched", "{}", by(k));
        assert!(by(k)["student"].is_null());
    }
    let suggested: Vec<_> = [4, 5]
        .iter()
        .filter(|&&k| by(k)["suggestion"]["roster_id"] == "20261005")
        .collect();
    assert_eq!(suggested.len(), 1, "{rows:#}");
    // The blank box: nothing read, nothing suggested.
    assert_eq!(by(6)["read_name"], "");
    assert_eq!(by(6)["status"], "unmatched");
    assert!(by(6)["suggestion"].is_null(), "{}", by(6));

    // The teacher: script 6 is Lukas; the other reads the same but is Seán (who wrote
    // badly); the blank one is nobody on the roster.
    let s = |k: usize| scripts[k].to_string();
    let confirmed = run(
        &cli,
        &[
            "match",
            "--exam",
            &exam,
            "--submission",
            &s(5),
            "--student",
            "20261005",
        ],
    )
    .await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["student"], "Becker, Lukas");
    // Lukas has his script: giving him another is refused, with which one.
    let twice = cli
        .run(
            &[
                "match",
                "--exam",
                &exam,
                "--submission",
                &s(4),
                "--student",
                "20261005",
            ],
            Some(KEY),
        )
        .await;
    assert_eq!(twice.status.code(), Some(2), "{}", stderr(&twice));
    assert!(
        stderr(&twice).contains(&format!("script {}", scripts[5])),
        "{}",
        stderr(&twice)
    );
    run(
        &cli,
        &[
            "match",
            "--exam",
            &exam,
            "--submission",
            &s(4),
            "--student",
            "20261009",
        ],
    )
    .await;
    let none = run(
        &cli,
        &["match", "--exam", &exam, "--submission", &s(6), "--none"],
    )
    .await;
    assert_eq!(none["status"], "unmatched");
    assert_eq!(none["no_student"], true);
    // Taking an auto match's student for another script moves it; the first waits again.
    let moved = run(
        &cli,
        &[
            "match",
            "--exam",
            &exam,
            "--submission",
            &s(6),
            "--student",
            "20261003",
        ],
    )
    .await;
    assert_eq!(moved["student"], "Weber, Emma");
    let rows = run(&cli, &["match", "--exam", &exam, "--json"]).await;
    assert_eq!(row(&rows, scripts[2])["status"], "unmatched", "{rows:#}");
    run(
        &cli,
        &["match", "--exam", &exam, "--submission", &s(6), "--none"],
    )
    .await;
    run(
        &cli,
        &[
            "match",
            "--exam",
            &exam,
            "--submission",
            &s(2),
            "--student",
            "20261003",
        ],
    )
    .await;
    let unknown = cli
        .run(
            &[
                "match",
                "--exam",
                &exam,
                "--submission",
                &s(2),
                "--student",
                "nobody-42",
            ],
            Some(KEY),
        )
        .await;
    assert_eq!(unknown.status.code(), Some(4), "{}", stderr(&unknown));

    // No roster entry holds two scripts; Clara (absent) holds none.
    let roster = run(&cli, &["roster", "list", "--exam", &exam]).await;
    let mut held: Vec<i64> = roster
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["submission_id"].as_i64())
        .collect();
    let count = held.len();
    held.dedup();
    assert_eq!(held.len(), count);
    let clara = roster
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Rossi, Clara")
        .unwrap();
    assert!(clara["submission_id"].is_null());

    // The gradebook names the roster's students with their IDs; Canvas's layout its IDs.
    let csv_path = dir.path().join("grades.csv");
    let exported = cli
        .run(
            &[
                "export",
                "--exam",
                &exam,
                "--format",
                "csv",
                "--out",
                csv_path.to_str().unwrap(),
            ],
            None,
        )
        .await;
    assert!(exported.status.success(), "{}", stderr(&exported));
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(text.contains("\"Müller, Zoë\",20261001"), "{text}");
    assert!(text.contains("\"O'Neil, Seán\",20261009"), "{text}");
    let canvas = dir.path().join("canvas.csv");
    let exported = cli
        .run(
            &[
                "export",
                "--exam",
                &exam,
                "--format",
                "canvas",
                "--out",
                canvas.to_str().unwrap(),
            ],
            None,
        )
        .await;
    assert!(exported.status.success(), "{}", stderr(&exported));
    let text = std::fs::read_to_string(&canvas).unwrap();
    assert!(
        text.contains("\"Núñez, José\",14,20261004,jnunez,P2"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_roster_is_a_sentence_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&dir.path().join("data"), "http://127.0.0.1:9");
    let questions = dir.path().join("q.json");
    std::fs::write(
        &questions,
        r#"[{"label":"Q1","prompt":"a","max_points":2}]"#,
    )
    .unwrap();
    let exam = run(
        &cli,
        &[
            "exam",
            "create",
            "--name",
            "R",
            "--questions",
            questions.to_str().unwrap(),
        ],
    )
    .await["exam_id"]
        .to_string();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "Ada Lovelace\nAlan Turing\n").unwrap();
    assert_eq!(
        run(
            &cli,
            &["roster", "import", "--exam", &exam, good.to_str().unwrap()]
        )
        .await["students"],
        2
    );
    for (name, bytes) in [
        ("empty.csv", Vec::new()),
        ("numbers.csv", b"1\n2\n".to_vec()),
        ("labels.csv", b"Student,ID\n    Points Possible,\n".to_vec()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = cli
            .run(
                &["roster", "import", "--exam", &exam, path.to_str().unwrap()],
                None,
            )
            .await;
        assert_eq!(out.status.code(), Some(5), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains("roster"), "{name}: {}", stderr(&out));
    }
    let missing = cli
        .run(
            &["roster", "import", "--exam", &exam, "/nonexistent/r.csv"],
            None,
        )
        .await;
    assert_eq!(missing.status.code(), Some(5));
    let wrong_exam = cli
        .run(
            &["roster", "import", "--exam", "999", good.to_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(wrong_exam.status.code(), Some(4), "{}", stderr(&wrong_exam));
    let roster = run(&cli, &["roster", "list", "--exam", &exam]).await;
    let names: Vec<&str> = roster
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Lovelace, Ada", "Turing, Alan"]);
    assert_eq!(roster[0]["roster_id"], "R1");
}

/// The figure: the demo generator's class of 30 (handwritten names in ruled boxes, the
/// reading a model makes of them: mostly as written, some initials, a misread letter, the
/// order turned) against its roster (accents the hand dropped, two absent students).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_class_of_30_is_matched_with_no_wrong_automatic_match() {
    let students: usize = std::env::var("GRADEDESK_ROSTER_CLASS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("class");
    let root = env!("CARGO_MANIFEST_DIR");
    let made = std::process::Command::new("/usr/bin/python3")
        .args([&format!("{root}/assets/demo/make_demo.py"), "--out"])
        .arg(&out)
        .args([
            "--students",
            &students.to_string(),
            "--class",
            "--seed",
            "5",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("template.json")).unwrap()).unwrap();
    let table: NameTable =
        serde_json::from_str(&std::fs::read_to_string(out.join("names.json")).unwrap()).unwrap();
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    fake.set_names(table);
    let cli = Cli::new(&dir.path().join("data"), &fake.base_url());
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
    )
    .await["exam_id"]
        .to_string();
    let blank = out.join("blank.png");
    run(
        &cli,
        &["template", "set", "--exam", &exam, blank.to_str().unwrap()],
    )
    .await;
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
        run(&cli, &args).await;
    }
    let roster = out.join("roster.csv");
    run(
        &cli,
        &[
            "roster",
            "import",
            "--exam",
            &exam,
            roster.to_str().unwrap(),
        ],
    )
    .await;
    let pdf = out.join("class.pdf");
    let report = run(
        &cli,
        &["import", "--exam", &exam, "--class", pdf.to_str().unwrap()],
    )
    .await;
    let scripts = report["submissions"].as_array().unwrap();
    assert_eq!(scripts.len(), students, "{report:#}");
    let graded = cli
        .run(&["grade", "--wait", "--concurrency", "4"], Some(KEY))
        .await;
    assert!(graded.status.success(), "{}", stderr(&graded));
    let rows = run(&cli, &["match", "--exam", &exam, "--json"]).await;
    // Script k (in scan order) is student k of the generator's list.
    let written: Vec<String> = truth["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let (mut auto, mut wrong, mut waiting) = (0, 0, 0);
    for (k, script) in scripts.iter().enumerate() {
        let r = row(&rows, script["submission_id"].as_i64().unwrap());
        let (first, last) = written[k].split_once(' ').unwrap();
        let fold = |s: &str| gradedesk::roster::names::tokens(s).join(" ");
        let right = r["student"]
            .as_str()
            .is_some_and(|s| fold(s) == fold(&format!("{last}, {first}")));
        match r["status"].as_str().unwrap() {
            "auto" => {
                auto += 1;
                if !right {
                    wrong += 1;
                    println!("wrong automatic match: {r}");
                }
            }
            _ => {
                waiting += 1;
                println!("left to the teacher: {r}");
            }
        }
    }
    println!(
        "roster matching, demo class of {students}: {auto} automatic ({:.0}%), {waiting} left to the teacher, {wrong} automatic matches wrong",
        100.0 * auto as f64 / students as f64
    );
    assert_eq!(wrong, 0);
    assert!(auto * 10 >= students * 9, "{auto} of {students} automatic");
}
