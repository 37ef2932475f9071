//! Queue and pool benchmarks (`make bench`): each prints its figure; none fails on time.
//!
//! (a) enqueue 10,000 jobs, one transaction each and in one bulk call;
//! (b) 10,000 no-op jobs end to end, enqueued while the pool runs and drained from a
//!     pre-loaded queue;
//! (c) 200 jobs sleeping 200 ms at concurrency 8 (ideal 5.0 s): overhead;
//! (d) dispatch latency into an idle pool, median and p90 of 50;
//! (e) 300 grading jobs against the fake Gemini (300 ms latency, 120 requests/minute
//!     enforced by the fake) at concurrency 8 under a 120 RPM limit: wall time against the
//!     ideal 150 s, and 429s received;
//! (f) drain cost per job with 100,000 queued against 1,000 queued.
//!
//! Pass names to run a subset: `cargo bench --bench queue -- a b d`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fake_gemini::{FakeConfig, FakeGemini};
use gradedesk::exams::{self, NewPage, QuestionInput};
use gradedesk::grading::gemini::{GeminiConfig, GeminiGrader};
use gradedesk::grading::{ApiKey, GradeError};
use gradedesk::jobs::GradingRunner;
use gradedesk::pacing::{Gate, RateLimits};
use gradedesk::queue::{self, ClaimedJob, JobKind, NewJob};
use gradedesk::recorder::Completion;
use gradedesk::store::now_ms;
use gradedesk::worker::{JobRunner, Pool, PoolConfig};
use gradedesk::workspace::Workspace;
use rand::Rng;
use tokio_util::sync::CancellationToken;

/// Succeeds at once, or after a fixed sleep; reports when each body starts.
struct TestRunner {
    sleep: Duration,
    started: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Instant>>>,
    runs: AtomicU64,
    /// When each body started, in order: throughput over a window, free of start-up.
    stamps: Mutex<Vec<Instant>>,
}

impl TestRunner {
    fn new(sleep: Duration) -> Arc<Self> {
        Arc::new(Self {
            sleep,
            started: Mutex::new(None),
            runs: AtomicU64::new(0),
            stamps: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl JobRunner for TestRunner {
    async fn run(&self, _job: &ClaimedJob, _gate: &Gate) -> Result<Completion, GradeError> {
        if let Some(tx) = self.started.lock().unwrap().as_ref() {
            let _ = tx.send(Instant::now());
        }
        self.stamps.lock().unwrap().push(Instant::now());
        self.runs.fetch_add(1, Ordering::Relaxed);
        if !self.sleep.is_zero() {
            tokio::time::sleep(self.sleep).await;
        }
        Ok(Completion::Done)
    }
}

fn fresh() -> (tempfile::TempDir, Arc<Workspace>, i64) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(&dir.path().join("data")).unwrap();
    let submission = {
        let mut conn = ws.store.lock();
        let tx = conn.transaction().unwrap();
        let q = QuestionInput::plain("Q1", "p", 1.0);
        let exam = exams::create_exam(&tx, "bench", &[q]).unwrap();
        let page = NewPage::new("p", "p", 1, 1);
        let sub = exams::insert_submission(&tx, exam, "s", "s", &[page]).unwrap();
        tx.commit().unwrap();
        sub
    };
    (dir, ws, submission)
}

fn job(submission: i64) -> NewJob {
    NewJob {
        kind: JobKind::UpscaleSubmission,
        item_id: None,
        submission_id: Some(submission),
        priority: 0,
        max_attempts: 3,
    }
}

fn enqueue_one(ws: &Workspace, submission: i64) {
    let mut conn = ws.store.lock();
    let tx = conn.transaction().unwrap();
    queue::enqueue(&tx, &job(submission), now_ms()).unwrap();
    tx.commit().unwrap();
}

fn enqueue_bulk(ws: &Workspace, submission: i64, n: usize) {
    let jobs = vec![job(submission); n];
    let mut conn = ws.store.lock();
    let tx = conn.transaction().unwrap();
    queue::enqueue_many(&tx, &jobs, now_ms()).unwrap();
    tx.commit().unwrap();
}

fn pool(ws: &Arc<Workspace>, runner: Arc<dyn JobRunner>, concurrency: usize) -> Arc<Pool> {
    Pool::new(
        ws.clone(),
        runner,
        PoolConfig {
            concurrency,
            ..PoolConfig::default()
        },
    )
}

/// Waits until `expected_done` no-op jobs have succeeded in the database. The runner's own
/// count (an atomic) is watched first: querying SQLite every few milliseconds while the pool
/// drains would take a core of this 2-core machine away from the pool being measured.
async fn wait_drained(ws: &Workspace, runner: &TestRunner, expected_done: i64) {
    while (runner.runs.load(Ordering::Relaxed) as i64) < expected_done {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    wait_drained_kind(ws, "UPSCALE_SUBMISSION", expected_done).await;
}

/// Waits until `expected_done` jobs of `kind` have succeeded (page enhancement jobs of the
/// grading benchmark do not count as graded answers).
async fn wait_drained_kind(ws: &Workspace, kind: &str, expected_done: i64) {
    let mut conn = rusqlite::Connection::open(ws.store.path()).unwrap();
    let kind = kind.to_string();
    loop {
        // Off the executor the pool runs on.
        let kind2 = kind.clone();
        let (back, done) = tokio::task::spawn_blocking(move || {
            let done: i64 = conn
                .query_row(
                    "SELECT count(*) FROM jobs WHERE state = 'succeeded' AND kind = ?1",
                    [kind2],
                    |r| r.get(0),
                )
                .unwrap();
            (conn, done)
        })
        .await
        .unwrap();
        conn = back;
        if done >= expected_done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn bench_a() {
    let (_d, ws, sub) = fresh();
    let n = 10_000;
    let t = Instant::now();
    for _ in 0..n {
        enqueue_one(&ws, sub);
    }
    let each = t.elapsed();
    let (_d2, ws2, sub2) = fresh();
    let t = Instant::now();
    enqueue_bulk(&ws2, sub2, n);
    let bulk = t.elapsed();
    println!(
        "(a) enqueue {n}: one transaction each {:.0}/s ({:.1} µs/job); one bulk call {:.0}/s ({:.2} µs/job)",
        n as f64 / each.as_secs_f64(),
        each.as_secs_f64() * 1e6 / n as f64,
        n as f64 / bulk.as_secs_f64(),
        bulk.as_secs_f64() * 1e6 / n as f64
    );
}

async fn bench_b() {
    let n = 10_000;
    // Live: enqueued one transaction at a time while the pool drains.
    let (_d, ws, sub) = fresh();
    let shutdown = CancellationToken::new();
    let runner = TestRunner::new(Duration::ZERO);
    let running = tokio::spawn(pool(&ws, runner.clone(), 8).run(shutdown.clone()));
    let t = Instant::now();
    let producer = {
        let ws = ws.clone();
        tokio::task::spawn_blocking(move || {
            for _ in 0..n {
                enqueue_one(&ws, sub);
                ws.wake.notify_waiters();
            }
        })
    };
    producer.await.unwrap();
    wait_drained(&ws, &runner, n).await;
    let live = t.elapsed();
    shutdown.cancel();
    running.await.unwrap();
    // Drained: pre-loaded, then the pool starts.
    let (_d2, ws2, sub2) = fresh();
    enqueue_bulk(&ws2, sub2, n as usize);
    let shutdown = CancellationToken::new();
    let t = Instant::now();
    let runner = TestRunner::new(Duration::ZERO);
    let running = tokio::spawn(pool(&ws2, runner.clone(), 8).run(shutdown.clone()));
    wait_drained(&ws2, &runner, n).await;
    let drained = t.elapsed();
    shutdown.cancel();
    running.await.unwrap();
    println!(
        "(b) {n} no-op jobs end to end: live {:.0}/s ({:.2} s); drained from a pre-loaded queue {:.0}/s ({:.2} s)",
        n as f64 / live.as_secs_f64(),
        live.as_secs_f64(),
        n as f64 / drained.as_secs_f64(),
        drained.as_secs_f64()
    );
}

async fn bench_c() {
    let (_d, ws, sub) = fresh();
    enqueue_bulk(&ws, sub, 200);
    let shutdown = CancellationToken::new();
    let t = Instant::now();
    let runner = TestRunner::new(Duration::from_millis(200));
    let running = tokio::spawn(pool(&ws, runner.clone(), 8).run(shutdown.clone()));
    wait_drained(&ws, &runner, 200).await;
    let wall = t.elapsed().as_secs_f64();
    shutdown.cancel();
    running.await.unwrap();
    println!("(c) 200 jobs × 200 ms at concurrency 8: {wall:.3} s against the ideal 5.000 s: overhead {:.2}%", (wall / 5.0 - 1.0) * 100.0);
}

async fn bench_d() {
    let (_d, ws, sub) = fresh();
    let runner = TestRunner::new(Duration::ZERO);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    *runner.started.lock().unwrap() = Some(tx);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(pool(&ws, runner, 4).run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut samples, mut enqueue_part) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let gap = rand::thread_rng().gen_range(500..1500);
        tokio::time::sleep(Duration::from_millis(gap)).await;
        let t = Instant::now();
        let ws2 = ws.clone();
        let committed = tokio::task::spawn_blocking(move || {
            enqueue_one(&ws2, sub);
            let committed = Instant::now();
            ws2.wake.notify_waiters();
            committed
        })
        .await
        .unwrap();
        let started = rx.recv().await.unwrap();
        samples.push(started.duration_since(t).as_secs_f64() * 1e3);
        enqueue_part.push(committed.duration_since(t).as_secs_f64() * 1e3);
    }
    shutdown.cancel();
    running.await.unwrap();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "(d) dispatch latency into an idle pool (50 samples, idle gaps 0.5-1.5 s): median {:.3} ms, p90 {:.3} ms",
        samples[24],
        samples[44]
    );
    enqueue_part.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "    of which the enqueue itself (hand-off + commit): median {:.3} ms; the rest is wake-up, claim and start",
        enqueue_part[24]
    );
}

async fn bench_e() {
    let fake = FakeGemini::start(
        FakeConfig {
            latency: Duration::from_millis(300),
            rpm_limit: Some(120),
            ..FakeConfig::default()
        },
        0,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(&dir.path().join("data")).unwrap();
    let qs: Vec<QuestionInput> = (1..=10)
        .map(|i| QuestionInput::plain(&format!("Q{i}"), "p", 2.0))
        .collect();
    let exam = ws.create_exam("bench".into(), qs).await.unwrap();
    // Items without grading first (paused), so the clock starts with a full queue.
    let conn = ws.store.clone();
    conn.run(move |c| queue::pause(c, queue::PauseScope::All, "loading", None, now_ms()))
        .await
        .unwrap();
    for s in 0..30u32 {
        let png = {
            let img = image::RgbImage::from_fn(300, 400, |x, y| {
                image::Rgb([((x * 7 + y * s) % 251) as u8, 200, 200])
            });
            let mut bytes = Vec::new();
            img.write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
            bytes
        };
        let sub = ws
            .import_bytes(exam, &format!("s{s}.png"), png)
            .await
            .unwrap();
        for q in 1..=10 {
            let bbox = exams::Bbox {
                x: 0.0,
                y: f64::from(q - 1) / 10.0,
                w: 1.0,
                h: 0.1,
            };
            ws.create_item(sub.submission_id, 1, &format!("Q{q}"), bbox)
                .await
                .unwrap();
        }
    }
    let grader = GeminiGrader::new(GeminiConfig {
        timeout: Duration::from_secs(30),
        ..GeminiConfig::new(
            fake.base_url(),
            "gemini-2.5-flash",
            ApiKey::new(Some("test-key".into())),
        )
    })
    .unwrap();
    let runner = Arc::new(GradingRunner::new(&ws, Arc::new(grader)));
    let config = PoolConfig {
        concurrency: 8,
        limits: RateLimits {
            requests_per_minute: 120,
            tokens_per_minute: 0,
        },
        ..PoolConfig::default()
    };
    let p = Pool::new(ws.clone(), runner, config);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(p.run(shutdown.clone()));
    conn.run(|c| queue::resume(c, queue::PauseScope::All))
        .await
        .unwrap();
    let t = Instant::now();
    ws.wake.notify_waiters();
    wait_drained_kind(&ws, "GRADE_ITEM", 300).await;
    let wall = t.elapsed().as_secs_f64();
    shutdown.cancel();
    running.await.unwrap();
    let limited = fake.requests().iter().filter(|r| r.status == 429).count();
    println!(
        "(e) 300 grading jobs, fake Gemini at 300 ms and 120 RPM, concurrency 8: {wall:.1} s against the ideal 150 s ({:.1}% of ideal speed), {limited} × 429 received",
        150.0 / wall * 100.0
    );
}

/// Cost per job while 1,000 or 100,000 jobs are queued: the time between the 200th and the
/// 900th job starting (after start-up, before the smaller queue runs dry), median of five.
async fn bench_f() {
    let mut per_job = Vec::new();
    for queued in [1_000usize, 100_000] {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let (_d, ws, sub) = fresh();
            enqueue_bulk(&ws, sub, queued);
            let shutdown = CancellationToken::new();
            let runner = TestRunner::new(Duration::ZERO);
            let running = tokio::spawn(pool(&ws, runner.clone(), 8).run(shutdown.clone()));
            wait_drained(&ws, &runner, 1_000).await;
            shutdown.cancel();
            running.await.unwrap();
            let stamps = runner.stamps.lock().unwrap();
            samples.push(stamps[900].duration_since(stamps[200]).as_secs_f64() * 1e6 / 700.0);
        }
        samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
        per_job.push(samples[2]);
    }
    println!(
        "(f) cost per job (jobs 200-900, median of 5): {:.1} µs/job with 1,000 queued, {:.1} µs/job with 100,000 queued ({:+.1}%)",
        per_job[0],
        per_job[1],
        (per_job[1] / per_job[0] - 1.0) * 100.0
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("a") {
        bench_a();
    }
    if want("b") {
        bench_b().await;
    }
    if want("c") {
        bench_c().await;
    }
    if want("d") {
        bench_d().await;
    }
    if want("f") {
        bench_f().await;
    }
    if want("e") {
        bench_e().await;
    }
}
