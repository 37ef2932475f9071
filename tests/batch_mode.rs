//! Grading later through Gemini Batch Mode, against the fake over real HTTP: inline and
//! file batches end to end, results matched by key whatever their order or metadata,
//! per-request errors, batches that fail, expire or are cancelled, processes killed while a
//! batch runs and while its results are written, two workers on one batch, and an upload
//! whose connection drops mid-file.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fake_gemini::{expected_grade, BatchFaults, FakeConfig, FakeGemini, Fault};
use gradedesk::batching::BatchConfig;
use gradedesk::exams::{Bbox, QuestionInput};
use gradedesk::grading::ApiKey;
use gradedesk::queue::batches::GradingMode;
use gradedesk::workspace::Workspace;
use support::*;

fn key() -> ApiKey {
    ApiKey::new(Some("test-key".into()))
}

/// Polls every 50 ms at first (up to 200 ms), leases of 2 s: a test batch takes seconds.
fn fast() -> BatchConfig {
    BatchConfig {
        first_poll: Duration::from_millis(50),
        max_poll: Duration::from_millis(200),
        lease: Duration::from_secs(2),
        ..BatchConfig::default()
    }
}

const POLL_ENV: &str = "100,300";

/// An exam graded later with `students` × `questions` answers waiting for a batch; the
/// workspace's base URL is the fake's.
async fn later_answers(
    data: &Path,
    base_url: &str,
    students: u32,
    questions: u32,
) -> (Arc<Workspace>, i64, Vec<i64>) {
    let ws = Workspace::open(data).unwrap();
    ws.set_setting("base_url".into(), base_url.into(), None)
        .await
        .unwrap();
    let qs: Vec<QuestionInput> = (1..=questions)
        .map(|i| {
            QuestionInput::plain(
                &format!("Q{i}"),
                &format!("Question {i}"),
                2.0 + f64::from(i % 3),
            )
        })
        .collect();
    let exam = ws.create_exam("Later".into(), qs).await.unwrap();
    ws.set_grading_mode(exam, GradingMode::Later).await.unwrap();
    let mut items = Vec::new();
    for s in 0..students {
        let sub = ws
            .import_bytes(
                exam,
                &format!("student-{s}.png"),
                scans::level_page_png(s + 1, 1240, 1760),
            )
            .await
            .unwrap();
        for q in 0..questions {
            let bbox = Bbox {
                x: 0.05,
                y: f64::from(q) / f64::from(questions),
                w: 0.9,
                h: 1.0 / f64::from(questions),
            };
            let crop = ws
                .create_item(sub.submission_id, 1, &format!("Q{}", q + 1), bbox)
                .await
                .unwrap();
            items.push(crop.item_id);
        }
    }
    (ws, exam, items)
}

fn sent_image(crop: &Path) -> Vec<u8> {
    let bytes = std::fs::read(crop).unwrap();
    gradedesk::grading::image_prep::prepare(&bytes)
        .unwrap()
        .bytes
}

/// Every graded answer holds the grade the fake gives its own crop; returns how many are graded.
fn check_grades_are_their_own(data: &Path) -> usize {
    let conn = db(data);
    let mut n = 0;
    for (item, crop, max, score, transcription) in graded(&conn) {
        let Some(score) = score else { continue };
        let (want, want_text, _) = expected_grade(&sent_image(&crop), max);
        assert_eq!(score, want, "answer {item} holds the grade of its own crop");
        assert_eq!(transcription.as_deref(), Some(want_text.as_str()));
        n += 1;
    }
    let doubled: i64 = conn
        .query_row(
            "SELECT count(*) - count(DISTINCT item_id) FROM grades",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(doubled, 0, "no answer graded twice");
    n
}

/// The state of each answer's job: (state, channel, in a batch, last_error).
fn job_states(data: &Path) -> Vec<(String, String, bool, Option<String>)> {
    let conn = db(data);
    let mut stmt = conn
        .prepare("SELECT state, channel, batch_id IS NOT NULL, last_error FROM jobs WHERE kind = 'GRADE_ITEM' ORDER BY item_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn waiting_count(data: &Path) -> usize {
    job_states(data)
        .iter()
        .filter(|(s, c, b, _)| s == "queued" && c == "batch" && !b)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_is_graded_by_an_inline_batch_from_the_cli_at_half_the_price() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 6, 3).await;
    drop(ws);
    let gd = Cli::new(&data, &fake.base_url()).env("GRADEDESK_BATCH_POLL_MS", POLL_ENV);
    let exam_s = exam.to_string();
    // Waiting answers are no online worker's: a worker leaves them alone.
    let status = stdout_json(&gd.run(&["status", "--json"], None).await);
    assert_eq!(status["counts"]["queued"], 0);
    assert_eq!(status["counts"]["batch"], items.len());
    assert!(status["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "waiting"));

    // Without --yes (and no terminal): the estimate, nothing sent, exit status 2.
    let asked = gd
        .run(&["batch", "send", "--exam", &exam_s], Some("test-key"))
        .await;
    assert_eq!(asked.status.code(), Some(2), "{}", stderr(&asked));
    let told = stderr(&asked);
    assert!(
        told.contains("18 answers") && told.contains("in a batch") && told.contains("24 hours"),
        "{told}"
    );
    assert!(fake.batches().is_empty(), "nothing was sent");

    let sent = stdout_json(
        &gd.run(
            &["batch", "send", "--exam", &exam_s, "--yes"],
            Some("test-key"),
        )
        .await,
    );
    let name = sent["batch"].as_str().unwrap().to_string();
    assert!(name.starts_with("batches/"), "{sent}");
    assert_eq!(sent["answers"], 18);
    let estimate = &sent["estimate"];
    let (online, batch) = (
        estimate["cost_online"].as_f64().unwrap(),
        estimate["cost_batch"].as_f64().unwrap(),
    );
    assert!(
        (batch - online / 2.0).abs() < 1e-12,
        "the batch costs half: {estimate}"
    );
    assert!(
        estimate["input_tokens"].as_u64().unwrap() > 0
            && estimate["output_tokens"].as_u64().unwrap() > 0
    );
    let fb = fake.batches();
    assert_eq!(
        (fb.len(), fb[0].requests, fb[0].keyed, fb[0].input.as_str()),
        (1, 18, 18, "inline")
    );
    let status = stdout_json(&gd.run(&["status", "--json"], None).await);
    assert!(status["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "in_batch"));

    let waited = gd
        .run(&["batch", "wait", "--timeout", "60"], Some("test-key"))
        .await;
    assert!(waited.status.success(), "{}", stderr(&waited));
    assert_eq!(check_grades_are_their_own(&data), 18);

    // Each batch request was the online request: the same prompt, image and schema.
    for request in fake.requests() {
        assert!(request.key_accepted);
        let body = &request.body;
        assert_eq!(
            body["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert!(
            body["generationConfig"]["responseJsonSchema"]["properties"]["score"]["maximum"]
                .is_number()
        );
        assert!(body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("transcribe"));
        assert!(request.image_sha256.is_some() && request.question_text.contains("Maximum points"));
    }
    assert_eq!(
        fake.requests().len(),
        18,
        "graded once each, in the batch only"
    );

    let list = stdout_json(&gd.run(&["batch", "status", "--json"], None).await);
    let b = &list[0];
    let mut fields: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "answers",
            "batch",
            "cost_actual",
            "cost_estimated",
            "created_at",
            "exam_id",
            "failed",
            "state",
            "succeeded"
        ],
        "the documented fields, exactly"
    );
    assert_eq!(
        (
            b["batch"].as_str(),
            b["exam_id"].as_i64(),
            b["state"].as_str()
        ),
        (Some(name.as_str()), Some(exam), Some("succeeded"))
    );
    assert_eq!(
        (
            b["answers"].as_i64(),
            b["succeeded"].as_i64(),
            b["failed"].as_i64()
        ),
        (Some(18), Some(18), Some(0))
    );
    assert!(b["created_at"].as_i64().unwrap() > 0);
    let (est, actual) = (
        b["cost_estimated"].as_f64().unwrap(),
        b["cost_actual"].as_f64().unwrap(),
    );
    // The actual cost is the stored grades' usageMetadata at half the online price.
    let conn = db(&data);
    let online_actual: f64 = conn
        .query_row(
            "SELECT sum((prompt_tokens * 0.30 + (output_tokens + thoughts_tokens) * 2.50) / 1000000.0) FROM grades",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        (actual - online_actual / 2.0).abs() < 1e-9,
        "{actual} vs {online_actual}"
    );
    eprintln!(
        "FIGURE batch: a class of 6 students x 3 questions (18 answers, gemini-2.5-flash) graded by one inline batch against the fake: estimated ${est:.6} (online ${online:.6}), actual ${actual:.6} (online ${online_actual:.6})"
    );
    let status = stdout_json(&gd.run(&["status", "--json"], None).await);
    assert!(status["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "done"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_goes_as_a_file_and_its_upload_resumes_after_a_dropped_connection() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    fake.set_batch_faults(BatchFaults {
        drop_upload_after: Some(20_000),
        shuffle: true,
        ..BatchFaults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 4, 2).await;
    let config = BatchConfig {
        inline_limit: 10_000,
        ..fast()
    };
    let sent = ws.send_batch(exam, key(), &config).await.unwrap();
    let fb = fake.batches();
    assert!(fb[0].input.starts_with("files/"), "sent as a file: {fb:?}");
    assert_eq!((fb[0].requests, fb[0].keyed), (items.len(), items.len()));
    assert!(
        fake.upload_requests() >= 2,
        "the upload was resumed after the drop"
    );
    assert!(ws
        .wait_for_batches(key(), config, Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(
        check_grades_are_their_own(&data),
        items.len(),
        "shuffled file results land on their answers"
    );
    let list = ws.batches().await.unwrap();
    assert_eq!(
        (list[0].batch.as_str(), list[0].succeeded),
        (sent.batch.as_str(), items.len() as i64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shuffled_results_and_per_request_errors_each_reach_their_own_answer() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    fake.set_batch_faults(BatchFaults {
        shuffle: true,
        job_state_names: true,
        ..BatchFaults::default()
    });
    // The batch's first request is refused by the safety filter, its second meets an
    // overloaded model, its third an invalid argument.
    fake.script(&[Fault::Safety, Fault::Overloaded, Fault::ScoreOutOfRange]);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 4, 2).await;
    ws.send_batch(exam, key(), &fast()).await.unwrap();
    assert!(ws
        .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(check_grades_are_their_own(&data), items.len() - 3);
    let states = job_states(&data);
    // Refused: for the teacher, with the reason.
    assert_eq!(states[0].0, "dead");
    assert!(
        states[0].3.as_deref().unwrap().contains("safety"),
        "{:?}",
        states[0]
    );
    // Retryable: back to waiting for the next batch, with the reason.
    for s in &states[1..3] {
        assert_eq!(
            (s.0.as_str(), s.1.as_str(), s.2),
            ("queued", "batch", false),
            "{s:?}"
        );
        assert!(s.3.as_deref().unwrap().contains("in the batch"), "{s:?}");
    }
    let views = ws.items(None).await.unwrap();
    assert_eq!(views[1].state, gradedesk::exams::ItemState::Waiting);
    assert!(views[1].error.is_some());
    let list = ws.batches().await.unwrap();
    assert_eq!(
        (list[0].state.as_str(), list[0].succeeded, list[0].failed),
        ("succeeded", items.len() as i64 - 3, 3)
    );

    // The teacher's choice: grade the two waiting answers online now.
    assert_eq!(
        ws.set_grading_mode(exam, GradingMode::Now).await.unwrap(),
        2
    );
    let pool = gemini_pool(&ws, fake.base_url(), 2);
    run_until_drained(pool, &data, Duration::from_secs(60)).await;
    assert_eq!(check_grades_are_their_own(&data), items.len() - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_results_without_metadata_are_placed_by_position_only_when_none_has_it() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    fake.set_batch_faults(BatchFaults {
        drop_metadata: true,
        ..BatchFaults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 3, 2).await;
    ws.send_batch(exam, key(), &fast()).await.unwrap();
    assert!(ws
        .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(
        check_grades_are_their_own(&data),
        items.len(),
        "in request order, as Gemini documents"
    );
    let by_position: i64 = db(&data)
        .query_row("SELECT matched_by_position FROM batches", [], |r| r.get(0))
        .unwrap();
    assert_eq!(by_position, 1);

    // Some with keys, some without: the keyless ones are never guessed; they wait again.
    let tmp2 = tempfile::tempdir().unwrap();
    let data2 = tmp2.path().join("data");
    fake.set_batch_faults(BatchFaults {
        drop_some_metadata: true,
        shuffle: true,
        ..BatchFaults::default()
    });
    let (ws2, exam2, items2) = later_answers(&data2, &fake.base_url(), 3, 2).await;
    ws2.send_batch(exam2, key(), &fast()).await.unwrap();
    assert!(ws2
        .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(check_grades_are_their_own(&data2), items2.len() / 2);
    assert_eq!(waiting_count(&data2), items2.len() / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_expired_or_cancelled_batch_loses_nothing_and_the_next_one_grades_it_all() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 3, 2).await;
    for (end, reason) in [("FAILED", "failed"), ("EXPIRED", "expired")] {
        fake.set_batch_faults(BatchFaults {
            end_state: Some(end.into()),
            ..BatchFaults::default()
        });
        ws.send_batch(exam, key(), &fast()).await.unwrap();
        assert!(ws
            .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
            .await
            .unwrap());
        assert_eq!(
            waiting_count(&data),
            items.len(),
            "every answer waits again after {end}"
        );
        assert!(job_states(&data)
            .iter()
            .all(|s| s.3.as_deref().unwrap_or("").contains(reason)));
        assert_eq!(
            ws.batches().await.unwrap()[0].state,
            end.to_ascii_lowercase()
        );
    }
    // A batch that stays pending, cancelled by the teacher.
    fake.set_batch_faults(BatchFaults {
        pending_polls: 1_000,
        ..BatchFaults::default()
    });
    let sent = ws.send_batch(exam, key(), &fast()).await.unwrap();
    // Sending again while the answers are in a batch sends nothing.
    assert!(ws.send_batch(exam, key(), &fast()).await.is_err());
    ws.cancel_batch(&sent.batch, key()).await.unwrap();
    assert!(ws
        .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(waiting_count(&data), items.len());
    assert_eq!(ws.batches().await.unwrap()[0].state, "cancelled");

    fake.set_batch_faults(BatchFaults::default());
    ws.send_batch(exam, key(), &fast()).await.unwrap();
    assert!(ws
        .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(check_grades_are_their_own(&data), items.len());
    assert_eq!(fake.batches().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_senders_at_once_submit_one_batch() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, _) = later_answers(&data, &fake.base_url(), 2, 2).await;
    // A paused exam sends no batch (a pause holds batches as it holds the workers).
    ws.pause(gradedesk::queue::PauseScope::Exam(exam), "held".into())
        .await
        .unwrap();
    let held = ws.send_batch(exam, key(), &fast()).await.unwrap_err();
    assert!(held.to_string().contains("paused (held)"), "{held}");
    assert!(fake.batches().is_empty());
    ws.resume(gradedesk::queue::PauseScope::Exam(exam))
        .await
        .unwrap();
    let other = Workspace::open(&data).unwrap();
    let config = fast();
    let (a, b) = tokio::join!(
        ws.send_batch(exam, key(), &config),
        other.send_batch(exam, key(), &config)
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one sends: {a:?} {b:?}");
    assert_eq!(fake.batches().len(), 1);
}

/// Grades, answers and the open batches of a data dir, for a test's failure message.
fn progress(data: &Path) -> String {
    let conn = db(data);
    let (grades, open): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM grades), (SELECT count(*) FROM batches WHERE results_stored_at IS NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    format!("{grades} grades, {open} open batches")
}

fn grades(data: &Path) -> i64 {
    db(data)
        .query_row("SELECT count(*) FROM grades", [], |r| r.get(0))
        .unwrap()
}

fn batch_done(data: &Path) -> bool {
    db(data)
        .query_row(
            "SELECT count(*) = 0 FROM batches WHERE results_stored_at IS NULL",
            [],
            |r| r.get::<_, bool>(0),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_while_a_batch_runs_and_while_its_results_are_written_finish_it_once() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    fake.set_batch_faults(BatchFaults {
        pending_polls: 6,
        ..BatchFaults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 6, 2).await;
    ws.send_batch(exam, key(), &fast()).await.unwrap();
    drop(ws);
    let gd = Cli::new(&data, &fake.base_url())
        .env("GRADEDESK_BATCH_POLL_MS", POLL_ENV)
        .env("GRADEDESK_BATCH_LEASE_MS", "1000")
        .env("GRADEDESK_BATCH_RESULTS_PER_COMMIT", "1")
        .env("GRADEDESK_BATCH_COMMIT_PAUSE_MS", "250");
    // Killed while the batch runs: it has polled at least once, and nothing is stored yet.
    let mut first = gd.spawn_worker(1, 5_000, Some("test-key"));
    wait_until(Duration::from_secs(30), "the worker polled the batch", || async {
        let polls: i64 = db(&data)
            .query_row("SELECT count(*) FROM batches WHERE state = 'pending' AND poll_interval_ms > 100", [], |r| r.get(0))
            .unwrap();
        if polls > 0 { Ok(()) } else { Err(progress(&data)) }
    })
    .await;
    signal(&first, "KILL");
    first.wait().unwrap();
    assert_eq!(grades(&data), 0);

    // Killed while the results are being written (one per commit, a pause after each).
    let mut second = gd.spawn_worker(1, 5_000, Some("test-key"));
    wait_until(Duration::from_secs(60), "some results stored", || async {
        if grades(&data) >= 2 {
            Ok(())
        } else {
            Err(progress(&data))
        }
    })
    .await;
    signal(&second, "KILL");
    second.wait().unwrap();
    let part = grades(&data);
    assert!(
        part < items.len() as i64,
        "killed mid-way: {part} of {}",
        items.len()
    );
    assert!(!batch_done(&data));

    // A restart finishes the job: every answer graded exactly once.
    let mut third = gd.spawn_worker(1, 5_000, Some("test-key"));
    wait_until(Duration::from_secs(60), "the batch finished", || async {
        if batch_done(&data) {
            Ok(())
        } else {
            Err(progress(&data))
        }
    })
    .await;
    signal(&third, "TERM");
    third.wait().unwrap();
    assert_eq!(check_grades_are_their_own(&data), items.len());
    let outcomes: i64 = db(&data)
        .query_row(
            "SELECT count(*) FROM batch_requests WHERE outcome = 'graded'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(outcomes, items.len() as i64);
    assert_eq!(fake.batches().len(), 1, "submitted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_poll_one_batch_and_store_its_results_once() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    fake.set_batch_faults(BatchFaults {
        pending_polls: 3,
        running_polls: 2,
        ..BatchFaults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 5, 2).await;
    ws.send_batch(exam, key(), &fast()).await.unwrap();
    drop(ws);
    let gd = Cli::new(&data, &fake.base_url())
        .env("GRADEDESK_BATCH_POLL_MS", "50,100")
        .env("GRADEDESK_BATCH_RESULTS_PER_COMMIT", "2");
    let mut a = gd.spawn_worker(1, 5_000, Some("test-key"));
    let mut b = gd.spawn_worker(1, 5_000, Some("test-key"));
    wait_until(Duration::from_secs(60), "the batch finished", || async {
        if batch_done(&data) {
            Ok(())
        } else {
            Err(progress(&data))
        }
    })
    .await;
    for w in [&mut a, &mut b] {
        signal(w, "TERM");
        w.wait().unwrap();
    }
    assert_eq!(check_grades_are_their_own(&data), items.len());
    assert_eq!(
        fake.requests().len(),
        items.len(),
        "the batch's requests were answered once"
    );
}

/// Records a batch as a sender that died mid-submit would leave it: its answers reserved,
/// `submitting`, its lease already run out. With `remote`, Gemini did get it (same display
/// name, the answers' online requests); returns the display name.
async fn died_while_sending(ws: &Workspace, exam: i64, base_url: &str, remote: bool) -> String {
    use gradedesk::grading::batch_api::BatchClient;
    use gradedesk::grading::gemini::GeminiConfig;
    use gradedesk::grading::GradeRequest;
    use gradedesk::queue::batches::{self, NewBatch, NewRequest};
    // Unique like a real sender's (a random part): two data dirs share this fake.
    let display = format!("gradedesk-exam{exam}-died-{}", rand::random::<u32>());
    let mut requests = Vec::new();
    let mut bodies = Vec::new();
    let client = BatchClient::new(GeminiConfig::new(base_url, "gemini-2.5-flash", key())).unwrap();
    let waiting = {
        let conn = ws.store.lock();
        batches::waiting(&conn, exam).unwrap()
    };
    for w in waiting {
        let (crop, question) = {
            let conn = ws.store.lock();
            gradedesk::exams::grading_context(&conn, w.item_id).unwrap()
        };
        let prepared =
            gradedesk::grading::image_prep::prepare(&std::fs::read(crop).unwrap()).unwrap();
        let request = GradeRequest {
            image: prepared.bytes,
            mime_type: prepared.mime_type,
            question,
            sample: 0,
        };
        let key = format!("item-{}-job-{}", w.item_id, w.job_id);
        bodies.push((key.clone(), client.request_body(&request)));
        requests.push(NewRequest {
            key,
            job_id: w.job_id,
            item_id: w.item_id,
        });
    }
    {
        let mut conn = ws.store.lock();
        let tx = conn.transaction().unwrap();
        let batch = NewBatch {
            exam_id: exam,
            display_name: display.clone(),
            model: "gemini-2.5-flash".into(),
            input: "inline",
            input_tokens: 0,
            output_tokens: 0,
            cost_online: None,
            cost_estimated: None,
        };
        let now = gradedesk::store::now_ms();
        batches::reserve(&tx, &batch, &requests, "a-sender-that-died", now, -1)
            .unwrap()
            .unwrap();
        tx.commit().unwrap();
    }
    if remote {
        client.create(&display, &bodies, usize::MAX).await.unwrap();
    }
    display
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_sender_died_mid_submit_is_adopted_by_name_or_its_answers_wait_again() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, exam, items) = later_answers(&data, &fake.base_url(), 3, 2).await;
    // Gemini got it: the poller finds it by display name and stores its results.
    died_while_sending(&ws, exam, &fake.base_url(), true).await;
    assert!(ws
        .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(check_grades_are_their_own(&data), items.len());
    assert_eq!(fake.batches().len(), 1);
    assert_eq!(ws.batches().await.unwrap()[0].batch, fake.batches()[0].name);

    // Gemini never got it: its answers wait for the next batch.
    let tmp2 = tempfile::tempdir().unwrap();
    let data2 = tmp2.path().join("data");
    let (ws2, exam2, items2) = later_answers(&data2, &fake.base_url(), 2, 2).await;
    died_while_sending(&ws2, exam2, &fake.base_url(), false).await;
    assert_eq!(waiting_count(&data2), 0, "reserved by the dead sender");
    assert!(ws2
        .wait_for_batches(key(), fast(), Some(Duration::from_secs(60)))
        .await
        .unwrap());
    assert_eq!(waiting_count(&data2), items2.len());
    assert_eq!(ws2.batches().await.unwrap()[0].state, "abandoned");
    assert_eq!(fake.batches().len(), 1, "nothing was sent for it");
}
