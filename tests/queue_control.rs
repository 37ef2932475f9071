//! The teacher's controls over the queue, through the CLI as real processes: pause and
//! resume (all and one exam), cancel, "grade this one now", dead jobs with reasons, retry.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use fake_gemini::{FakeConfig, FakeGemini, Fault};
use sha2::{Digest, Sha256};
use support::*;

/// `gradedesk ARGS` with the test key.
async fn cli(gd: &Cli, args: &[&str]) -> Output {
    gd.run(args, Some("test-key")).await
}

fn crop_sha(data: &Path, item: i64) -> String {
    let path: String = db(data)
        .query_row("SELECT crop_path FROM items WHERE id = ?1", [item], |r| {
            r.get(0)
        })
        .unwrap();
    let sent = gradedesk::grading::image_prep::prepare(&std::fs::read(path).unwrap()).unwrap();
    hex::encode(Sha256::digest(sent.bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_cancel_prioritize_dead_and_retry() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    let base = fake.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (_ws, items) = queued_answers(&data, 2, 3).await;
    let gd = Cli::new(&data, &base);

    // Paused: nothing is sent, and grade --wait says why instead of waiting forever.
    assert!(cli(&gd, &["pause"]).await.status.success());
    let waited = cli(&gd, &["grade", "--wait"]).await;
    assert_eq!(waited.status.code(), Some(3), "{}", stderr(&waited));
    assert!(
        stderr(&waited).contains("paused by the teacher"),
        "{}",
        stderr(&waited)
    );
    assert!(fake.requests().is_empty());
    assert!(cli(&gd, &["resume"]).await.status.success());

    // One exam paused holds its answers the same way.
    assert!(cli(
        &gd,
        &["pause", "--exam", "1", "--reason", "rubric under review"]
    )
    .await
    .status
    .success());
    let waited = cli(&gd, &["grade", "--wait"]).await;
    assert!(
        stderr(&waited).contains("rubric under review"),
        "{}",
        stderr(&waited)
    );
    assert!(cli(&gd, &["resume", "--exam", "1"]).await.status.success());

    // Cancel one, move the last to the front, and make another fail for good (SAFETY).
    let cancelled = items[1];
    assert!(cli(&gd, &["cancel", "--item", &cancelled.to_string()])
        .await
        .status
        .success());
    let urgent = *items.last().unwrap();
    assert!(cli(&gd, &["prioritize", "--item", &urgent.to_string()])
        .await
        .status
        .success());
    fake.script(&[Fault::None, Fault::Safety]);
    let graded = cli(&gd, &["grade", "--wait", "--concurrency", "1"]).await;
    assert_eq!(
        graded.status.code(),
        Some(1),
        "a failed answer makes grade exit 1: {}",
        stderr(&graded)
    );
    assert!(
        stderr(&graded).contains("please grade it by hand"),
        "{}",
        stderr(&graded)
    );
    let requests = fake.requests();
    assert_eq!(
        requests[0].image_sha256.as_deref(),
        Some(crop_sha(&data, urgent).as_str()),
        "the prioritized answer went first"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.image_sha256.as_deref() != Some(crop_sha(&data, cancelled).as_str())),
        "the cancelled answer was never sent"
    );
    assert_eq!(requests.len(), items.len() - 1);

    let dead: serde_json::Value =
        serde_json::from_slice(&cli(&gd, &["dead", "--json"]).await.stdout).unwrap();
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0]["error"].as_str().unwrap().contains("SAFETY"));
    let status: serde_json::Value =
        serde_json::from_slice(&cli(&gd, &["status", "--json"]).await.stdout).unwrap();
    let states: Vec<&str> = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.iter().filter(|s| **s == "cancelled").count(), 1);
    assert_eq!(states.iter().filter(|s| **s == "failed").count(), 1);

    // Retry: the failed answer is graded this time.
    assert!(cli(&gd, &["retry", "--all"]).await.status.success());
    let graded = cli(&gd, &["grade", "--wait"]).await;
    assert!(graded.status.success(), "{}", stderr(&graded));
    let status: serde_json::Value =
        serde_json::from_slice(&cli(&gd, &["status", "--json"]).await.stdout).unwrap();
    let done = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["state"] == "done")
        .count();
    assert_eq!(
        done,
        items.len() - 1,
        "all but the cancelled answer are graded"
    );
}

/// The teacher cancels, from another process, an answer a `gradedesk worker` is grading:
/// the worker drops its provider call at once (it takes the next answer within a second
/// instead of waiting out the 30 s call), and the cancelled answer never gets a grade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_answer_from_another_process_aborts_its_call() {
    let fake = FakeGemini::start(
        FakeConfig {
            latency: std::time::Duration::from_secs(30),
            ..FakeConfig::default()
        },
        0,
    )
    .await
    .unwrap();
    let base = fake.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (_ws, items) = queued_answers(&data, 1, 2).await;
    let gd = Cli::new(&data, &base);
    let mut worker = gd.spawn_worker(1, 30_000, Some("test-key"));

    let state_of = |item: i64| -> String {
        db(&data)
            .query_row(
                "SELECT state FROM jobs WHERE item_id = ?1 ORDER BY id DESC LIMIT 1",
                [item],
                |r| r.get(0),
            )
            .unwrap()
    };
    let running = wait_until(
        Duration::from_secs(20),
        "an answer is sent to Gemini",
        || async {
            let states: Vec<String> = items.iter().map(|i| state_of(*i)).collect();
            match states.iter().position(|s| s == "running") {
                Some(pos) if fake.arrived() == 1 => Ok(items[pos]),
                _ => Err(format!(
                    "states {states:?}, {} calls arrived",
                    fake.arrived()
                )),
            }
        },
    )
    .await;
    let other = *items.iter().find(|i| **i != running).unwrap();
    assert_eq!(
        state_of(other),
        "queued",
        "concurrency 1: the other answer waits"
    );

    let cancelled = cli(&gd, &["cancel", "--item", &running.to_string()]).await;
    assert!(cancelled.status.success(), "{}", stderr(&cancelled));
    // The worker notices (data_version, every 200 ms), aborts the call, takes the next one.
    wait_until(
        Duration::from_secs(5),
        "the worker drops the cancelled answer's call and sends the next",
        || async {
            match fake.arrived() {
                n if n >= 2 => Ok(()),
                n => Err(format!("{n} calls arrived")),
            }
        },
    )
    .await;
    assert_eq!(state_of(running), "cancelled");
    assert_eq!(state_of(other), "running");
    let grades: i64 = db(&data)
        .query_row(
            "SELECT count(*) FROM grades WHERE item_id = ?1",
            [running],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(grades, 0, "a cancelled answer is never graded");
    worker.kill().unwrap();
    worker.wait().unwrap();
}
