//! The pool's timing: a 429's RetryInfo delay holds every worker (real HTTP against the
//! fake Gemini), and retries wait their backoff (on tokio's paused clock, no real sleeping).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use fake_gemini::{FakeConfig, FakeGemini, Fault};
use gradedesk::clock::{Clock, TokioClock};
use gradedesk::grading::GradeError;
use gradedesk::pacing::Gate;
use gradedesk::queue::{ClaimedJob, JobKind};
use gradedesk::recorder::Completion;
use gradedesk::worker::{JobRunner, Pool, PoolConfig};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_info_holds_every_worker_until_the_delay_ends() {
    let fake = FakeGemini::start(FakeConfig::default(), 0).await.unwrap();
    fake.script(&[Fault::RateLimited]); // RetryInfo: "2s"
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, items) = queued_answers(&data, 3, 4).await;
    let pool = gemini_pool(&ws, fake.base_url(), 4);
    run_until_drained(pool, &data, Duration::from_secs(60)).await;

    let requests = fake.requests();
    assert_eq!(
        requests.iter().filter(|r| r.status == 200).count(),
        items.len(),
        "every answer graded"
    );
    let limited = requests
        .iter()
        .find(|r| r.status == 429)
        .expect("the scripted 429");
    // Requests already on the wire when the 429 came back may land; nothing is *sent* after.
    let in_flight = 100;
    for r in &requests {
        let after = r.received_at_ms - limited.received_at_ms;
        assert!(
            after <= in_flight || after >= 2_000,
            "a request went out {after} ms after the 429"
        );
    }
    let attempts: i64 = db(&data)
        .query_row("SELECT max(attempts) FROM jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(attempts, 1, "the rate-limited job spent no attempt");
}

/// Fails the first two attempts of every job with a transient error, recording when each
/// attempt started.
struct Flaky {
    clock: TokioClock,
    starts: Mutex<Vec<(i64, i64)>>,
}

#[async_trait]
impl JobRunner for Flaky {
    async fn run(&self, job: &ClaimedJob, _gate: &Gate) -> Result<Completion, GradeError> {
        if job.kind != JobKind::GradeItem {
            return Ok(Completion::Done); // the small test pages' enhancement job
        }
        self.starts
            .lock()
            .unwrap()
            .push((job.attempts, self.clock.now_ms()));
        if job.attempts < 3 {
            Err(GradeError::Transient {
                message: "overloaded".into(),
                retry_after: None,
            })
        } else {
            Ok(Completion::Done)
        }
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn retries_wait_their_backoff_on_a_virtual_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, _items) = queued_answers(&data, 1, 1).await;
    let clock = TokioClock::new();
    let runner = Arc::new(Flaky {
        clock,
        starts: Mutex::new(Vec::new()),
    });
    let config = PoolConfig {
        concurrency: 1,
        clock: Arc::new(clock),
        lease: Duration::from_secs(3_600),
        ..PoolConfig::default()
    };
    let pool = Pool::new(ws.clone(), runner.clone(), config);
    let real = std::time::Instant::now();
    run_until_drained(pool, &data, Duration::from_secs(600)).await;
    let starts = runner.starts.lock().unwrap().clone();
    assert_eq!(
        starts.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let first_wait = starts[1].1 - starts[0].1;
    let second_wait = starts[2].1 - starts[1].1;
    assert!(
        (1_500..=4_000).contains(&first_wait),
        "first backoff {first_wait} ms (2 s ± 25%)"
    );
    assert!(
        (3_000..=8_000).contains(&second_wait),
        "second backoff {second_wait} ms (4 s ± 25%)"
    );
    assert!(
        real.elapsed() < Duration::from_secs(3),
        "virtual time, not real sleeping"
    );
}
