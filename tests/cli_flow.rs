//! The whole CLI flow on a temporary data dir against the fake Gemini over real HTTP.

mod support;

use std::path::{Path, PathBuf};

use fake_gemini::{expected_grade, FakeConfig, FakeGemini};
use sha2::{Digest, Sha256};
use support::*;

fn questions_file(dir: &Path) -> PathBuf {
    let path = dir.join("questions.json");
    std::fs::write(
        &path,
        r#"[{"label": "Q1", "prompt": "Solve 3x + 7 = 22.", "max_points": 2, "rubric": "1 point for 3x = 15, 1 for x = 5", "reference_answer": "x = 5"},
            {"label": "Q2", "prompt": "Name the powerhouse of the cell.", "max_points": 3, "rubric": "3 for mitochondria", "reference_answer": "The mitochondria"}]"#,
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_grades_every_crop_with_what_gemini_answered() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let base = fake.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data ünïcode");
    let gd = Cli::new(&data, &base).env("GRADEDESK_MODEL", "gemini-2.5-flash");
    let questions = questions_file(tmp.path());

    let exam = stdout_json(
        &gd.run(
            &[
                "exam",
                "create",
                "--name",
                "Algebra 1",
                "--questions",
                questions.to_str().unwrap(),
            ],
            None,
        )
        .await,
    );
    let exam_id = exam["exam_id"].as_i64().unwrap().to_string();

    let scan_paths: Vec<PathBuf> = (0..3)
        .map(|i| tmp.path().join(format!("student {i} — scan.jpg")))
        .collect();
    for (i, scan) in scan_paths.iter().enumerate() {
        scans::page(1240, 1754, i as u32 + 1).save(scan).unwrap();
    }
    let garbage = tmp.path().join("notes.jpg");
    std::fs::write(&garbage, "this is not a scan").unwrap();
    let mut import_args = vec!["import", "--exam", &exam_id];
    let scan_strs: Vec<&str> = scan_paths.iter().map(|p| p.to_str().unwrap()).collect();
    import_args.extend(scan_strs.iter().copied());
    import_args.push(garbage.to_str().unwrap());
    let import = gd.run(&import_args, None).await;
    assert!(
        !import.status.success(),
        "one bad file makes the import exit non-zero"
    );
    let stderr = String::from_utf8_lossy(&import.stderr);
    assert!(
        stderr.contains("notes.jpg"),
        "the bad file is named: {stderr}"
    );
    let imported: serde_json::Value = serde_json::from_slice(&import.stdout).unwrap();
    let imported = imported.as_array().unwrap();
    assert_eq!(imported.len(), 3, "every good file is kept");
    assert_eq!(imported[0]["pages"], 1);

    let mut items = Vec::new();
    for entry in imported {
        let submission = entry["submission_id"].as_i64().unwrap().to_string();
        for (label, bbox) in [("Q1", "0.1,0.1,0.5,0.2"), ("Q2", "0.05,0.5,0.9,0.3")] {
            let crop = stdout_json(
                &gd.run(
                    &[
                        "crop",
                        "--submission",
                        &submission,
                        "--page",
                        "1",
                        "--question",
                        label,
                        "--bbox",
                        bbox,
                    ],
                    None,
                )
                .await,
            );
            assert!(crop["job_id"].as_i64().is_some());
            items.push(crop["item_id"].as_i64().unwrap());
        }
    }

    let graded = gd
        .run(&["grade", "--wait", "--concurrency", "3"], Some("test-key"))
        .await;
    assert!(
        graded.status.success(),
        "grade --wait: {}",
        String::from_utf8_lossy(&graded.stderr)
    );

    let status = stdout_json(&gd.run(&["status", "--json"], None).await);
    // Page enhancement jobs may have run too; the six answers are what counts here.
    let states: Vec<&str> = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["done"; 6]);
    assert_eq!(status["counts"]["queued"], 0);

    // Every stored grade is what the fake answered for that very crop.
    let requests = fake.requests();
    assert_eq!(requests.len(), 6, "one request per answer");
    let conn = rusqlite::Connection::open(data.join("gradedesk.sqlite3")).unwrap();
    for item_id in &items {
        let (crop_path, max_points, score, transcription, feedback, prompt): (String, f64, f64, String, String, String) = conn
            .query_row(
                "SELECT i.crop_path, q.max_points, g.score, g.transcription, g.feedback, q.prompt
                 FROM items i JOIN questions q ON q.id = i.question_id JOIN grades g ON g.item_id = i.id WHERE i.id = ?1",
                [item_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap();
        let crop = std::fs::read(&crop_path).unwrap();
        assert!(crop.starts_with(b"\x89PNG"), "crops are stored as PNG");
        // What was sent is the crop prepared for the model (sized, greyed); the file stays.
        let prepared = gradedesk::grading::image_prep::prepare(&crop).unwrap();
        let sent = prepared.bytes.clone();
        let (want_score, want_transcription, want_feedback) = expected_grade(&sent, max_points);
        assert_eq!(
            (score, &transcription, &feedback),
            (want_score, &want_transcription, &want_feedback)
        );
        let sha = hex::encode(Sha256::digest(&sent));
        let request = requests
            .iter()
            .find(|r| r.image_sha256.as_deref() == Some(sha.as_str()))
            .expect("the fake received this crop");
        assert!(
            request.question_text.contains(&prompt),
            "the request carries the question"
        );
        assert!(request.question_text.contains("Maximum points"));
        assert_eq!(
            request.image_mime_type.as_deref(),
            Some(prepared.mime_type.as_str())
        );
        assert!(request.key_accepted && !request.key_in_url);
        let answered: serde_json::Value = serde_json::from_str(
            request.response["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(answered["score"].as_f64().unwrap(), score);
    }

    // The teacher overrides one answer; a score above the question's points is refused.
    let item0 = items[0].to_string();
    let too_high = gd
        .run(&["override", "--item", &item0, "--score", "99"], None)
        .await;
    assert!(!too_high.status.success());
    assert!(
        String::from_utf8_lossy(&too_high.stderr).contains("must be between 0 and"),
        "{}",
        String::from_utf8_lossy(&too_high.stderr)
    );
    let set = gd
        .run(
            &[
                "override", "--item", &item0, "--score", "0.5", "--note", "partial",
            ],
            None,
        )
        .await;
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );

    let csv_path = tmp.path().join("grades.csv");
    let export = gd
        .run(
            &[
                "export",
                "--exam",
                &exam_id,
                "--out",
                csv_path.to_str().unwrap(),
            ],
            None,
        )
        .await;
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
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
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| &r[7] == "done"));
    // The override is the final score; the AI's stays in ai_score. Other rows are untouched.
    let ai0: f64 = conn
        .query_row(
            "SELECT score FROM grades WHERE item_id = ?1",
            [items[0]],
            |r| r.get(0),
        )
        .unwrap();
    let changed: Vec<&csv::StringRecord> = rows.iter().filter(|r| r[3] != r[8]).collect();
    assert_eq!(changed.len(), usize::from(ai0 != 0.5), "{rows:?}");
    let overridden = rows
        .iter()
        .filter(|r| &r[3] == "0.5" && r[8].parse::<f64>().ok() == Some(ai0))
        .count();
    assert!(overridden >= 1, "{rows:?}");
    assert_eq!(&rows[0][1], "student 0 — scan");

    // The key never lands in the data dir.
    assert_no_key_in(&data, "test-key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_grading_stops_for_a_bad_or_missing_key() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let base = fake.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let gd = Cli::new(&data, &base).env("GRADEDESK_MODEL", "gemini-2.5-flash");
    let questions = questions_file(tmp.path());
    let exam = stdout_json(
        &gd.run(
            &[
                "exam",
                "create",
                "--name",
                "E",
                "--questions",
                questions.to_str().unwrap(),
            ],
            None,
        )
        .await,
    );
    let exam_id = exam["exam_id"].to_string();
    let scan = tmp.path().join("a.png");
    scans::page(1240, 1754, 9).save(&scan).unwrap();
    let imported = stdout_json(
        &gd.run(
            &["import", "--exam", &exam_id, scan.to_str().unwrap()],
            None,
        )
        .await,
    );
    let sub = imported[0]["submission_id"].to_string();

    let cases: [(&[&str], &str); 6] = [
        (
            &["--page", "1", "--question", "Q1", "--bbox", "0.1,0.1,0,0.2"],
            "empty",
        ),
        (
            &[
                "--page",
                "1",
                "--question",
                "Q1",
                "--bbox",
                "1.5,0.1,0.2,0.2",
            ],
            "outside the page",
        ),
        (
            &[
                "--page",
                "2",
                "--question",
                "Q1",
                "--bbox",
                "0.1,0.1,0.2,0.2",
            ],
            "no page 2",
        ),
        (
            &[
                "--page",
                "1",
                "--question",
                "Q9",
                "--bbox",
                "0.1,0.1,0.2,0.2",
            ],
            "no question labelled",
        ),
        (
            &["--page", "1", "--question", "Q1", "--bbox", "0.1,0.1"],
            "four numbers",
        ),
        (
            &["--page", "1", "--question", "Q1", "--bbox", "a,b,c,d"],
            "four numbers",
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["crop", "--submission", &sub];
        full.extend_from_slice(args);
        let out = gd.run(&full, None).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let unknown_exam = gd
        .run(&["import", "--exam", "999", scan.to_str().unwrap()], None)
        .await;
    assert!(String::from_utf8_lossy(&unknown_exam.stderr).contains("no exam number 999"));

    // A box partly off the page is clamped and accepted.
    let crop = stdout_json(
        &gd.run(
            &[
                "crop",
                "--submission",
                &sub,
                "--page",
                "1",
                "--question",
                "Q1",
                "--bbox",
                "0.8,0.8,0.5,0.5",
            ],
            None,
        )
        .await,
    );
    assert!(crop["item_id"].as_i64().is_some());

    let no_key = gd.run(&["grade", "--wait"], None).await;
    assert_eq!(no_key.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&no_key.stderr).contains("API key"),
        "{}",
        String::from_utf8_lossy(&no_key.stderr)
    );
    let bad_key = gd.run(&["grade", "--wait"], Some("wrong-key")).await;
    assert_eq!(bad_key.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("API key rejected"));
    let status = stdout_json(&gd.run(&["status", "--json"], None).await);
    assert_eq!(
        status["counts"]["queued"], 1,
        "the answer stays queued for later"
    );
    let attempts: i64 = rusqlite::Connection::open(data.join("gradedesk.sqlite3"))
        .unwrap()
        .query_row("SELECT attempts FROM jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(attempts, 0, "a key problem spends no attempt");
    assert_no_key_in(&data, "wrong-key");
}
