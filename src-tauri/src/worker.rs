//! The worker pool: N tasks that take jobs from the queue the moment they are added (or come
//! due), grade them, and record the outcome — all against the shared SQLite queue, so any
//! number of processes can run pools on one data dir.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, info_span, warn, Instrument};

use crate::exams::{self, NewGrade};
use crate::grading::{GradeError, GradeOutcome, GradeRequest, Grader};
use crate::queue::{self, ClaimedJob, JobKind};
use crate::store::{now_ms, Store, StoreError};
use crate::workspace::Workspace;

/// How the pool runs.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub concurrency: usize,
    /// How long a claim holds without renewal; a crashed worker's jobs return after this.
    pub lease: Duration,
    /// How often expired leases are looked for and other processes' enqueues noticed.
    pub sweep_every: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            lease: Duration::from_secs(30),
            sweep_every: Duration::from_millis(250),
        }
    }
}

/// Why the pool stopped taking jobs while work remains: the teacher must act.
#[derive(Debug, Clone, Default)]
pub struct PoolStatus {
    pub halted: Option<String>,
}

/// Shared state of one process's pool.
pub struct Pool {
    store: Store,
    workspace: Arc<Workspace>,
    grader: Arc<dyn Grader>,
    config: PoolConfig,
    wake: Arc<Notify>,
    halted: Mutex<Option<String>>,
    cooldown_until_ms: AtomicU64,
    owner_prefix: String,
}

impl Pool {
    /// A pool over a workspace's queue with the given grader.
    pub fn new(
        workspace: Arc<Workspace>,
        grader: Arc<dyn Grader>,
        config: PoolConfig,
    ) -> Arc<Self> {
        let owner_prefix = format!(
            "pid{}-{:06x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>() & 0xff_ffff
        );
        Arc::new(Self {
            store: workspace.store.clone(),
            wake: workspace.wake.clone(),
            workspace,
            grader,
            config,
            halted: Mutex::new(None),
            cooldown_until_ms: AtomicU64::new(0),
            owner_prefix,
        })
    }

    /// Why grading is stopped, if it is.
    pub fn status(&self) -> PoolStatus {
        PoolStatus {
            halted: self
                .halted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// Lets a halted pool take jobs again (after the teacher fixed the key, say).
    pub fn resume(&self) {
        *self.halted.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.wake.notify_waiters();
    }

    fn halt(&self, reason: &str) {
        let mut halted = self.halted.lock().unwrap_or_else(|p| p.into_inner());
        if halted.is_none() {
            warn!(reason, "grading halted until the teacher acts");
            *halted = Some(reason.to_string());
        }
    }

    fn is_halted(&self) -> bool {
        self.halted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Runs the workers and the lease sweeper until `shutdown` is cancelled. A worker that
    /// panics is replaced; its job's lease expires and the sweeper rescues it.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let rescued = self.sweep_once().await;
        if let Err(e) = rescued {
            warn!(error = %e, "could not rescue expired jobs at start-up");
        }
        let mut tasks = JoinSet::new();
        for index in 0..self.config.concurrency.max(1) {
            tasks.spawn(self.clone().worker_loop(index, shutdown.clone()));
        }
        let sweeper = tokio::spawn(self.clone().sweep_loop(shutdown.clone()));
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(index) => {
                    if !shutdown.is_cancelled() {
                        tasks.spawn(self.clone().worker_loop(index, shutdown.clone()));
                    }
                }
                Err(e) if e.is_panic() => {
                    warn!("a worker task panicked; starting a replacement");
                    if !shutdown.is_cancelled() {
                        let index = self.config.concurrency;
                        tasks.spawn(self.clone().worker_loop(index, shutdown.clone()));
                    }
                }
                Err(_) => {}
            }
        }
        let _ = sweeper.await;
    }

    async fn sweep_once(&self) -> Result<(), StoreError> {
        let rescued = self
            .store
            .run(move |conn| queue::rescue_expired(conn, now_ms()))
            .await?;
        if !rescued.is_empty() {
            info!(count = rescued.len(), "rescued jobs whose worker stopped");
            for (_, item_id) in &rescued {
                if let Some(item_id) = item_id {
                    self.workspace.emit_item(*item_id).await;
                }
            }
            self.wake.notify_waiters();
        }
        Ok(())
    }

    async fn sweep_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let mut last_version = self.store.data_version().unwrap_or(0);
        let mut ticks: u64 = 0;
        let lease_ticks =
            (self.config.lease.as_millis() / 2 / self.config.sweep_every.as_millis().max(1)).max(1)
                as u64;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.config.sweep_every) => {}
            }
            ticks += 1;
            // Another process committed (an enqueue from the CLI, a finished job): look again.
            if let Ok(version) = self.store.data_version() {
                if version != last_version {
                    last_version = version;
                    self.wake.notify_waiters();
                    self.workspace.note_external_change();
                }
            }
            if ticks.is_multiple_of(lease_ticks) {
                if let Err(e) = self.sweep_once().await {
                    warn!(error = %e, "lease sweep failed");
                }
            }
        }
    }

    async fn worker_loop(self: Arc<Self>, index: usize, shutdown: CancellationToken) -> usize {
        let owner = format!("{}-w{index}", self.owner_prefix);
        loop {
            // Register for wake-ups before looking, so an enqueue in between is not missed.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if shutdown.is_cancelled() {
                return index;
            }
            let wait = self.wait_before_claim();
            if wait.is_zero() {
                let claimed = {
                    let owner = owner.clone();
                    let lease = self.config.lease.as_millis() as i64;
                    self.store
                        .run(move |conn| queue::claim(conn, &owner, now_ms(), lease))
                        .await
                };
                match claimed {
                    Ok(Some(job)) => {
                        let span = info_span!("job", id = job.id, kind = ?job.kind, attempt = job.attempts);
                        self.process(job, &owner, &shutdown).instrument(span).await;
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        warn!(error = %e, "could not claim a job");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                }
            }
            let sleep_for = if wait.is_zero() {
                self.until_next_due().await
            } else {
                wait
            };
            tokio::select! {
                _ = shutdown.cancelled() => return index,
                _ = &mut notified => {}
                _ = tokio::time::sleep(sleep_for) => {}
            }
        }
    }

    /// How long this worker must hold off: halted (until woken), or a pool-wide cool-down.
    fn wait_before_claim(&self) -> Duration {
        if self.is_halted() {
            return Duration::from_secs(3600);
        }
        let until = self.cooldown_until_ms.load(Ordering::SeqCst) as i64;
        Duration::from_millis((until - now_ms()).max(0) as u64)
    }

    async fn until_next_due(&self) -> Duration {
        let next = self.store.run(|conn| queue::next_run_at(conn)).await;
        match next {
            Ok(Some(at)) => Duration::from_millis((at - now_ms()).clamp(1, 60_000) as u64),
            _ => Duration::from_secs(60),
        }
    }

    async fn process(&self, job: ClaimedJob, owner: &str, shutdown: &CancellationToken) {
        if let Some(item_id) = job.item_id {
            self.workspace.emit_item(item_id).await;
        }
        let lost = CancellationToken::new();
        let renewer = tokio::spawn(renew_lease(
            self.store.clone(),
            job.id,
            owner.to_string(),
            self.config.lease,
            lost.clone(),
        ));
        let outcome = tokio::select! {
            outcome = self.run_job(&job) => Some(outcome),
            _ = lost.cancelled() => None,
            _ = shutdown.cancelled() => {
                renewer.abort();
                let (id, owner) = (job.id, owner.to_string());
                let released = self.store.run(move |c| queue::release(c, id, &owner, now_ms(), now_ms(), None)).await;
                if let Err(e) = released { warn!(error = %e, "could not release the job at shutdown"); }
                info!("released at shutdown");
                if let Some(item_id) = job.item_id { self.workspace.emit_item(item_id).await; }
                return;
            }
        };
        renewer.abort();
        let Some(outcome) = outcome else {
            warn!("lease lost (cancelled or rescued); dropping this attempt");
            return;
        };
        if let Err(e) = self.record(&job, owner, outcome).await {
            warn!(error = %e, "could not record the job's outcome; its lease will expire and it will run again");
        }
        if let Some(item_id) = job.item_id {
            self.workspace.emit_item(item_id).await;
        }
    }

    async fn run_job(&self, job: &ClaimedJob) -> Result<GradeOutcome, GradeError> {
        match job.kind {
            JobKind::GradeItem => {
                let item_id = job.item_id.ok_or_else(|| GradeError::Permanent {
                    message: "this grading job names no answer".into(),
                })?;
                let request = self.load_request(item_id).await?;
                self.grader.grade(&request).await
            }
            JobKind::UpscaleSubmission => Err(GradeError::Permanent {
                message: "this version of GradeDesk cannot upscale pages yet".into(),
            }),
        }
    }

    async fn load_request(&self, item_id: i64) -> Result<GradeRequest, GradeError> {
        let context = self
            .store
            .run(move |conn| exams::grading_context(conn, item_id))
            .await;
        let (crop_path, question) = context.map_err(|e| GradeError::Transient {
            message: format!("could not load the answer: {e}"),
            retry_after: None,
        })?;
        let image = tokio::fs::read(&crop_path)
            .await
            .map_err(|e| GradeError::Permanent {
                message: format!("the answer's image is missing from the data folder ({e})"),
            })?;
        // Sized for the fewest tiles that keep the writing legible; the crop file is untouched.
        let prepared =
            tokio::task::spawn_blocking(move || crate::grading::image_prep::prepare(&image))
                .await
                .map_err(|_| GradeError::Transient {
                    message: "could not prepare the answer's image".into(),
                    retry_after: None,
                })?
                .map_err(|e| GradeError::Permanent {
                    message: e.to_string(),
                })?;
        Ok(GradeRequest {
            image: prepared.bytes,
            mime_type: prepared.mime_type,
            question,
        })
    }

    async fn record(
        &self,
        job: &ClaimedJob,
        owner: &str,
        outcome: Result<GradeOutcome, GradeError>,
    ) -> Result<(), StoreError> {
        let (id, owner) = (job.id, owner.to_string());
        match outcome {
            Ok(grade) => {
                let item_id = job.item_id;
                let committed = self
                    .store
                    .run(move |conn| -> Result<bool, StoreError> {
                        let tx = conn.transaction()?;
                        if !queue::complete(&tx, id, &owner, now_ms())? {
                            return Ok(false);
                        }
                        if let Some(item_id) = item_id {
                            let max_points = exams::grading_context(&tx, item_id)
                                .map(|(_, q)| q.max_points)
                                .unwrap_or(grade.score);
                            let new = NewGrade {
                                score: grade.score,
                                max_points,
                                feedback: grade.feedback,
                                transcription: grade.transcription,
                                confidence: grade.confidence,
                                needs_review: grade.needs_review,
                                review_reason: grade.review_reason,
                                model: grade.model,
                                prompt_tokens: grade.usage.prompt_tokens,
                                output_tokens: grade.usage.output_tokens,
                                thoughts_tokens: grade.usage.thoughts_tokens,
                            };
                            if let Err(e) = exams::insert_grade(&tx, item_id, id, &new) {
                                warn!(error = %e, "grade refused by the database; not completing");
                                return Ok(false);
                            }
                        }
                        tx.commit()?;
                        Ok(true)
                    })
                    .await?;
                if committed {
                    info!("graded");
                } else {
                    warn!("lease lost before the grade was stored; discarded");
                }
            }
            Err(error) => {
                let message = error.to_string();
                let now = now_ms();
                let decision = self.decide(job, &error);
                info!(?decision, %message, "attempt failed");
                self.store
                    .run(move |conn| -> Result<bool, StoreError> {
                        match decision {
                            Decision::RetryAt(at) => {
                                queue::retry_later(conn, id, &owner, now, at, &message)
                            }
                            Decision::Release(at) => {
                                queue::release(conn, id, &owner, now, at, Some(&message))
                            }
                            Decision::Bury => queue::bury(conn, id, &owner, now, &message),
                        }
                    })
                    .await?;
            }
        }
        Ok(())
    }

    fn decide(&self, job: &ClaimedJob, error: &GradeError) -> Decision {
        let now = now_ms();
        let out_of_attempts = job.attempts >= job.max_attempts;
        match error {
            GradeError::NeedsTeacher { message } => {
                self.halt(message);
                Decision::Release(now)
            }
            GradeError::RateLimited {
                retry_after,
                per_day,
                message,
            } => {
                let delay =
                    retry_after.unwrap_or(Duration::from_secs(if *per_day { 3600 } else { 30 }));
                let until = now + delay.as_millis() as i64;
                self.cooldown_until_ms
                    .fetch_max(until as u64, Ordering::SeqCst);
                if *per_day {
                    self.halt(message);
                }
                // The provider said wait: the job did nothing wrong, so no attempt is spent.
                Decision::Release(until)
            }
            GradeError::Refused { .. } | GradeError::Permanent { .. } => Decision::Bury,
            GradeError::Transient { retry_after, .. } => {
                if out_of_attempts {
                    Decision::Bury
                } else {
                    let delay = retry_after.unwrap_or_else(|| backoff(job.attempts));
                    Decision::RetryAt(now + delay.as_millis() as i64)
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Decision {
    RetryAt(i64),
    Release(i64),
    Bury,
}

/// Exponential backoff with ±25% jitter: 2 s, 4 s, 8 s, … capped at 5 minutes, so many
/// failed jobs do not come back at the same instant.
pub fn backoff(attempt: i64) -> Duration {
    let base = 2_000f64 * 2f64.powi((attempt.max(1) - 1).min(16) as i32);
    let capped = base.min(300_000.0);
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    Duration::from_millis((capped * jitter) as u64)
}

async fn renew_lease(
    store: Store,
    id: i64,
    owner: String,
    lease: Duration,
    lost: CancellationToken,
) {
    let every = lease / 3;
    let lease_ms = lease.as_millis() as i64;
    loop {
        tokio::time::sleep(every).await;
        let owner = owner.clone();
        let renewed = store
            .run(move |conn| queue::renew(conn, id, &owner, now_ms(), lease_ms))
            .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            Err(e) => warn!(error = %e, "could not renew the lease; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(1).as_millis();
        assert!((1_500..=2_500).contains(&first), "{first}");
        let fourth = backoff(4).as_millis();
        assert!((12_000..=20_000).contains(&fourth), "{fourth}");
        assert!(backoff(40).as_millis() <= 375_000);
    }
}
