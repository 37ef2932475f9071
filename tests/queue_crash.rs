//! Durability: real worker processes killed with SIGKILL mid-batch lose nothing and grade
//! every answer exactly once; two processes draining one queue never run a job twice.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use fake_gemini::{expected_grade, FakeConfig, FakeGemini};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use support::*;

/// What the grader sends for a crop: the crop prepared for the model (sized, maybe grey).
fn sent_image(crop: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(crop).unwrap();
    gradedesk::grading::image_prep::prepare(&bytes)
        .unwrap()
        .bytes
}

fn assert_every_answer_graded_once(conn: &rusqlite::Connection, expected: usize) {
    let rows = graded(conn);
    assert_eq!(rows.len(), expected);
    for (item, crop, max, score, transcription) in rows {
        let bytes = sent_image(&crop);
        let (want, want_transcription, _) = expected_grade(&bytes, max);
        assert_eq!(
            score,
            Some(want),
            "answer {item} has the grade of its own crop"
        );
        assert_eq!(transcription.as_deref(), Some(want_transcription.as_str()));
    }
    let (jobs, succeeded, grades): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM jobs WHERE kind = 'GRADE_ITEM'),
                    (SELECT count(*) FROM jobs WHERE kind = 'GRADE_ITEM' AND state = 'succeeded'),
                    (SELECT count(*) FROM grades)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (jobs, succeeded, grades),
        (expected as i64, expected as i64, expected as i64),
        "no job lost, none doubled"
    );
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

/// The lease owner of every running GRADE_ITEM job. A killed worker's leases stay until
/// another worker rescues them.
fn running_leases(data: &std::path::Path) -> Vec<String> {
    let conn = db(data);
    let mut stmt = conn
        .prepare("SELECT lease_owner FROM jobs WHERE kind = 'GRADE_ITEM' AND state = 'running'")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_workers_lose_nothing_and_grade_each_answer_once() {
    let fake = FakeGemini::start(
        FakeConfig {
            latency: Duration::from_millis(40),
            ..FakeConfig::default()
        },
        0,
    )
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (_ws, items) = queued_answers(&data, 20, 10).await;
    assert_eq!(items.len(), 200);
    let cli = Cli::new(&data, &fake.base_url());
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    for round in 0..5 {
        // Leases of the workers killed before; this round's worker holds any other.
        let killed_before: HashSet<String> = running_leases(&data).into_iter().collect();
        let held = || {
            running_leases(&data)
                .iter()
                .filter(|owner| !killed_before.contains(*owner))
                .count()
        };
        let mut worker = cli.spawn_worker(4, 1_000, Some("test-key"));
        // Killed at a random moment while it grades.
        wait_until(Duration::from_secs(30), "the worker grades", || async {
            match held() {
                0 => Err("no answer running under its lease".into()),
                _ => Ok(()),
            }
        })
        .await;
        let after = Duration::from_millis(rng.gen_range(0..300));
        tokio::time::sleep(after).await;
        signal(&worker, "KILL");
        worker.wait().unwrap();
        // Its leases outlive it: the answers running under them were being graded as it died.
        let held = held();
        let done: i64 = db(&data)
            .query_row("SELECT count(*) FROM grades", [], |r| r.get(0))
            .unwrap();
        eprintln!(
            "round {round}: killed {after:?} into grading, {held} answers in hand, {done} graded so far"
        );
        assert!(
            held > 0,
            "round {round}: no answer was being graded when the worker was killed"
        );
    }
    // A last worker finishes the batch, rescuing what the killed ones held.
    let mut worker = cli.spawn_worker(4, 1_000, Some("test-key"));
    drained(&data, Duration::from_secs(120)).await;
    signal(&worker, "TERM");
    worker.wait().unwrap();
    assert_every_answer_graded_once(&db(&data), 200);
    assert!(fake.requests().len() >= 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_never_run_a_job_twice() {
    let fake = FakeGemini::start(
        FakeConfig {
            latency: Duration::from_millis(20),
            ..FakeConfig::default()
        },
        0,
    )
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (_ws, items) = queued_answers(&data, 10, 10).await;
    let cli = Cli::new(&data, &fake.base_url());
    let mut a = cli.spawn_worker(4, 30_000, Some("test-key"));
    let mut b = cli.spawn_worker(4, 30_000, Some("test-key"));
    drained(&data, Duration::from_secs(120)).await;
    for w in [&a, &b] {
        signal(w, "TERM");
    }
    a.wait().unwrap();
    b.wait().unwrap();
    assert_every_answer_graded_once(&db(&data), items.len());
    // Every crop reached Gemini exactly once: no job ran twice, not even without success.
    let mut sent: HashMap<String, usize> = HashMap::new();
    for request in fake.requests() {
        *sent.entry(request.image_sha256.unwrap()).or_default() += 1;
    }
    for (_, crop, ..) in graded(&db(&data)) {
        let sha = hex::encode(Sha256::digest(sent_image(&crop)));
        assert_eq!(sent.get(&sha), Some(&1));
    }
    let owners: i64 = db(&data)
        .query_row(
            "SELECT count(*) FROM jobs WHERE kind = 'GRADE_ITEM' AND attempts <> 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(owners, 0, "every job started exactly once");
}
