//! The worker pool: N tasks that take jobs from the queue the moment they are added (or come
//! due), run them, and record the outcome — all against the shared SQLite queue, so any
//! number of processes can run pools on one data dir and each job succeeds once.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use rand::Rng;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, info_span, warn, Instrument};

use crate::clock::{self, Clock};
use crate::events::{Changed, EventBody};
use crate::grading::GradeError;
use crate::pacing::{Gate, RateLimits};
use crate::queue::{self, pause, ClaimedJob, JobKind, PauseScope, QueueStatus};
use crate::recorder::{self, Completion, Entry, Outcome, Recorder, RecorderTask};
use crate::store::{Store, StoreError};
use crate::workspace::Workspace;

/// How the pool runs.
#[derive(Clone)]
pub struct PoolConfig {
    pub concurrency: usize,
    /// How long a claim holds without renewal; a crashed worker's jobs return after this
    /// (see [`queue::policy::LEASE`]).
    pub lease: Duration,
    /// How often other processes' commits are looked for (enqueues, cancels).
    pub watch_every: Duration,
    pub limits: RateLimits,
    pub clock: Arc<dyn Clock>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            lease: queue::policy::lease_from(
                std::env::var(queue::policy::LEASE_ENV).ok().as_deref(),
            ),
            watch_every: Duration::from_millis(200),
            limits: RateLimits::default(),
            clock: clock::system(),
        }
    }
}

/// Runs one kind of work; the pool owns claiming, leases, retries and recording.
#[async_trait]
pub trait JobRunner: Send + Sync {
    /// Runs a claimed job. Calls to the provider must first pass `gate`.
    async fn run(&self, job: &ClaimedJob, gate: &Gate) -> Result<Completion, GradeError>;
}

/// After how many of this process's commits a pool moves the WAL into the database file,
/// off the job commits' path. Not on a timer: a checkpointed WAL restarts on the next
/// commit, which cost an idle pool's next enqueue ~0.3 ms when it happened every second.
const CHECKPOINT_AFTER_COMMITS: u64 = 100;

/// Where the recorder writes: its own thread, or the executor under tokio's test clock.
enum RecorderRun {
    Thread(std::thread::JoinHandle<()>),
    Executor(tokio::task::JoinHandle<()>),
}

/// One process's pool.
pub struct Pool {
    store: Store,
    workspace: Arc<Workspace>,
    runner: Arc<dyn JobRunner>,
    gate: Gate,
    config: PoolConfig,
    wake: Arc<Notify>,
    halted: Mutex<Option<String>>,
    owner_prefix: String,
    held: Mutex<HashMap<i64, (String, CancellationToken)>>,
    progress_dirty: AtomicBool,
    /// Idle workers claiming right now (see `worker_loop`).
    idle_claimers: AtomicUsize,
    /// Writes outcomes in groups (see `recorder`); its task runs while [`Pool::run`] does.
    recorder: Recorder,
    recorder_task: Mutex<Option<RecorderTask>>,
}

impl Pool {
    /// A pool over a workspace's queue.
    pub fn new(
        workspace: Arc<Workspace>,
        runner: Arc<dyn JobRunner>,
        config: PoolConfig,
    ) -> Arc<Self> {
        let owner_prefix = format!(
            "pid{}-{:06x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>() & 0xff_ffff
        );
        let (recorder, recorder_task) =
            recorder::recorder(workspace.store.clone(), config.lease.as_millis() as i64);
        Arc::new(Self {
            recorder,
            recorder_task: Mutex::new(Some(recorder_task)),
            idle_claimers: AtomicUsize::new(0),
            store: workspace.store.clone(),
            wake: workspace.wake.clone(),
            gate: Gate::new(config.clock.clone(), config.limits),
            workspace,
            runner,
            config,
            halted: Mutex::new(None),
            owner_prefix,
            held: Mutex::new(HashMap::new()),
            progress_dirty: AtomicBool::new(true),
        })
    }

    fn now(&self) -> i64 {
        self.config.clock.now_ms()
    }

    fn lease_ms(&self) -> i64 {
        self.config.lease.as_millis() as i64
    }

    /// Why grading is stopped until the teacher acts, if it is.
    pub fn halted(&self) -> Option<String> {
        self.halted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Lets a halted pool take jobs again (the teacher fixed the key, say).
    pub fn resume(&self) {
        *self.halted.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.mark_progress();
        self.wake.notify_waiters();
    }

    fn halt(&self, reason: &str) {
        let mut halted = self.halted.lock().unwrap_or_else(|p| p.into_inner());
        if halted.is_none() {
            warn!(reason, "grading halted until the teacher acts");
            *halted = Some(reason.to_string());
        }
    }

    fn mark_progress(&self) {
        self.progress_dirty.store(true, Ordering::SeqCst);
    }

    /// The queue's state for displays.
    pub async fn status(&self) -> Result<QueueStatus, StoreError> {
        let now = self.now();
        let (progress, pauses) = self
            .store
            .run(move |conn| -> Result<_, StoreError> {
                Ok((queue::progress(conn, now)?, queue::pauses(conn, now)?))
            })
            .await?;
        Ok(QueueStatus {
            progress,
            pauses,
            provider: self.gate.status(),
            halted: self.halted(),
        })
    }

    /// Cancels a job; if this process runs it, its provider call is aborted at once.
    pub async fn cancel(&self, job_id: i64) -> Result<bool, StoreError> {
        let now = self.now();
        let cancelled = self
            .store
            .run(move |conn| queue::cancel(conn, job_id, now))
            .await?;
        if let Some((_, token)) = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&job_id)
        {
            token.cancel();
        }
        self.mark_progress();
        Ok(cancelled)
    }

    /// Runs the workers and the watcher until `shutdown` is cancelled. A worker that panics
    /// releases its job and carries on; a task that dies all the same is replaced.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        if let Err(e) = self.rescue().await {
            warn!(error = %e, "could not rescue expired jobs at start-up");
        }
        let task = self
            .recorder_task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let recorder = match task {
            Some(task) if self.config.clock.follows_tokio_time() => {
                Some(RecorderRun::Executor(tokio::spawn(task.run_on_executor())))
            }
            Some(task) => match task.spawn_thread() {
                Ok(thread) => Some(RecorderRun::Thread(thread)),
                Err(e) => {
                    warn!(error = %e, "could not start the recorder thread; outcomes cannot be stored");
                    None
                }
            },
            None => None,
        };
        let mut tasks = JoinSet::new();
        for index in 0..self.config.concurrency.max(1) {
            tasks.spawn(self.clone().worker_loop(index, shutdown.clone()));
        }
        let watcher = tokio::spawn(self.clone().watch_loop(shutdown.clone()));
        while let Some(joined) = tasks.join_next().await {
            if shutdown.is_cancelled() {
                continue;
            }
            let index = match joined {
                Ok(index) => index,
                Err(_) => {
                    warn!("a worker task died; starting a replacement");
                    self.config.concurrency
                }
            };
            tasks.spawn(self.clone().worker_loop(index, shutdown.clone()));
        }
        let _ = watcher.await;
        // Every worker has stopped: nothing more will be recorded.
        self.recorder.stop();
        match recorder {
            Some(RecorderRun::Thread(thread)) => {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
            Some(RecorderRun::Executor(task)) => {
                let _ = task.await;
            }
            None => {}
        }
    }

    async fn rescue(&self) -> Result<(), StoreError> {
        let now = self.now();
        let rescued = self
            .store
            .run(move |conn| queue::rescue_expired(conn, now))
            .await?;
        if !rescued.is_empty() {
            info!(count = rescued.len(), "rescued jobs whose worker stopped");
            for item_id in rescued.iter().filter_map(|(_, item)| *item) {
                self.workspace.emit_item(item_id).await;
            }
            self.mark_progress();
            self.wake.notify_waiters();
        }
        Ok(())
    }

    /// Notices other processes' commits (enqueues, cancels of jobs held here), sweeps
    /// expired leases, and sends coalesced progress events (at most ~4 a second).
    async fn watch_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let mut last_version = self.store.data_version().unwrap_or(0);
        let sweep_every = (self.config.lease / 2).max(self.config.watch_every);
        let mut last_sweep = tokio::time::Instant::now();
        let mut checkpointer = match self.store.checkpointer() {
            Ok(c) => Some(c),
            Err(e) => {
                warn!(error = %e, "no checkpoint connection; writers will checkpoint themselves");
                None
            }
        };
        let mut checkpointed_at = self.store.commits();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.config.watch_every) => {}
            }
            if let Ok(version) = self.store.data_version() {
                if version != last_version {
                    last_version = version;
                    self.wake.notify_waiters();
                    self.workspace.note_external_change();
                    self.mark_progress();
                    self.stop_lost_jobs().await;
                }
            }
            if last_sweep.elapsed() >= sweep_every {
                last_sweep = tokio::time::Instant::now();
                if let Err(e) = self.rescue().await {
                    warn!(error = %e, "lease sweep failed");
                }
            }
            if self.store.commits() - checkpointed_at >= CHECKPOINT_AFTER_COMMITS {
                checkpointed_at = self.store.commits();
                if let Some(mut c) = checkpointer.take() {
                    checkpointer = tokio::task::spawn_blocking(move || {
                        if let Err(e) = c.passive() {
                            warn!(error = %e, "checkpoint failed; will try again");
                        }
                        c
                    })
                    .await
                    .ok();
                }
            }
            if self.progress_dirty.swap(false, Ordering::SeqCst) {
                if let Ok(status) = self.status().await {
                    self.workspace.events.emit(EventBody::Queue { status });
                }
            }
        }
    }

    async fn stop_lost_jobs(&self) {
        let held: Vec<(i64, String)> = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(id, (owner, _))| (*id, owner.clone()))
            .collect();
        if held.is_empty() {
            return;
        }
        if let Ok(lost) = self
            .store
            .run(move |conn| queue::lost_leases(conn, &held))
            .await
        {
            let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            for id in lost {
                if let Some((_, token)) = held.get(&id) {
                    token.cancel();
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
            let sleep_for = if self.halted().is_some() {
                Duration::from_secs(3600)
            } else if let Some(hold) = self.gate_hold() {
                hold
            } else {
                let (me, now) = (owner.clone(), self.now());
                // The first idle worker to look claims on this thread when the connection
                // is free (the quickest start for a lone enqueue); the others woken with it
                // claim through the recorder and share one commit.
                let first = self.idle_claimers.fetch_add(1, Ordering::SeqCst) == 0;
                let inline = if first {
                    self.store
                        .try_now(|conn| queue::claim(conn, &me, now, self.lease_ms()))
                } else {
                    None
                };
                let claimed = match inline {
                    Some(claimed) => claimed,
                    None => self
                        .recorder
                        .record(Entry {
                            job_id: 0,
                            owner: me,
                            now,
                            outcome: Outcome::Idle,
                            claim_next: true,
                        })
                        .await
                        .map(|recorded| recorded.next),
                };
                self.idle_claimers.fetch_sub(1, Ordering::SeqCst);
                match claimed {
                    Ok(Some(mut job)) => {
                        // Each finished job hands back the next one, claimed in the same
                        // transaction that recorded the outcome.
                        loop {
                            let span = info_span!("job", id = job.id, kind = ?job.kind, attempt = job.attempts);
                            match self.process(job, &owner, &shutdown).instrument(span).await {
                                Some(next) => job = next,
                                None => break,
                            }
                        }
                        continue;
                    }
                    Ok(None) => self.until_next_due().await,
                    Err(e) => {
                        warn!(error = %e, "could not claim a job");
                        Duration::from_millis(500)
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return index,
                _ = &mut notified => {}
                _ = tokio::time::sleep(sleep_for) => {}
            }
        }
    }

    /// Whether the provider is held (cool-down, breaker, offline): then no job is claimed,
    /// so answers show "queued" with the reason rather than a "grading" that is only waiting.
    fn gate_hold(&self) -> Option<Duration> {
        let status = self.gate.status();
        status.hold?;
        let until = status.next_try_at_ms?;
        let wait = until - self.now();
        (wait > 0).then(|| Duration::from_millis(wait as u64))
    }

    async fn until_next_due(&self) -> Duration {
        let now = self.now();
        match self.store.run(move |conn| queue::next_due(conn, now)).await {
            Ok(Some(at)) => Duration::from_millis((at - now).clamp(1, 60_000) as u64),
            _ => Duration::from_secs(60),
        }
    }

    /// Runs one job to its outcome and records it; returns the next job when the recording
    /// transaction could claim one.
    async fn process(
        &self,
        job: ClaimedJob,
        owner: &str,
        shutdown: &CancellationToken,
    ) -> Option<ClaimedJob> {
        let lost = CancellationToken::new();
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(job.id, (owner.to_string(), lost.clone()));
        self.mark_progress();
        if let Some(item_id) = job.item_id {
            self.workspace.emit_item(item_id).await;
        }
        let run = AssertUnwindSafe(self.runner.run(&job, &self.gate)).catch_unwind();
        tokio::pin!(run);
        let every = self.config.lease / 3;
        let mut renew_at = tokio::time::Instant::now() + every;
        let outcome = loop {
            tokio::select! {
                outcome = &mut run => break Some(outcome.unwrap_or_else(|_| Err(GradeError::Transient {
                    message: "GradeDesk hit an internal error on this answer; trying again".into(),
                    retry_after: None,
                }))),
                _ = tokio::time::sleep_until(renew_at) => {
                    renew_at += every;
                    if !self.renew(job.id, owner).await {
                        break None;
                    }
                }
                _ = lost.cancelled() => break None,
                _ = shutdown.cancelled() => {
                    let (id, owner, now) = (job.id, owner.to_string(), self.now());
                    let released = self.store.run(move |c| queue::release(c, id, &owner, now, now, None)).await;
                    if let Err(e) = released { warn!(error = %e, "could not release the job at shutdown"); }
                    info!("released at shutdown");
                    break None;
                }
            }
        };
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&job.id);
        let next = match outcome {
            Some(outcome) => match self.record(&job, owner, outcome, shutdown).await {
                Ok(next) => next,
                Err(e) => {
                    warn!(error = %e, "could not record the outcome; the lease will expire and the job will run again");
                    None
                }
            },
            None if !shutdown.is_cancelled() => {
                info!("lease lost (cancelled or rescued); attempt dropped");
                None
            }
            None => None,
        };
        self.mark_progress();
        if let Some(item_id) = job.item_id {
            self.workspace.emit_item(item_id).await;
        }
        if job.kind == JobKind::ReadName {
            // A reading may have matched scripts: the matching screen and every list refetch.
            self.workspace.events.emit(EventBody::Changed {
                what: Changed::Roster,
            });
        }
        next
    }

    /// Extends a held lease; `false` when it was lost (cancelled, or rescued elsewhere).
    async fn renew(&self, id: i64, owner: &str) -> bool {
        let (owner, now, lease_ms) = (
            owner.to_string(),
            self.now(),
            self.config.lease.as_millis() as i64,
        );
        match self
            .store
            .run(move |conn| queue::renew(conn, id, &owner, now, lease_ms))
            .await
        {
            Ok(held) => held,
            Err(e) => {
                warn!(error = %e, "could not renew the lease; will retry");
                true
            }
        }
    }

    /// Whether a worker may take another job right after this one.
    fn may_claim(&self, shutdown: &CancellationToken) -> bool {
        !shutdown.is_cancelled() && self.halted().is_none() && self.gate_hold().is_none()
    }

    async fn record(
        &self,
        job: &ClaimedJob,
        owner: &str,
        outcome: Result<Completion, GradeError>,
        shutdown: &CancellationToken,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        use queue::policy::{self, Decision};
        let now = self.now();
        let (outcome, claim_next) = match outcome {
            Ok(completion) => (Outcome::Succeeded(completion), self.may_claim(shutdown)),
            Err(error) => {
                let message = error.to_string();
                let jitter = rand::thread_rng().gen();
                let decision = policy::decide(&error, job.attempts, job.max_attempts, now, jitter);
                if decision == Decision::Halt {
                    self.halt(&message);
                }
                info!(?decision, %message, "attempt failed");
                if let Decision::PauseAll { until } = decision {
                    let reason = message.clone();
                    self.store
                        .run(move |conn| pause(conn, PauseScope::All, &reason, Some(until), now))
                        .await?;
                }
                let claim_next = self.may_claim(shutdown)
                    && matches!(decision, Decision::RetryAt(_) | Decision::Bury);
                let outcome = match decision {
                    Decision::RetryAt(run_at) => Outcome::RetryAt { run_at, message },
                    Decision::Release(run_at) => Outcome::Release { run_at, message },
                    Decision::Halt => Outcome::Release {
                        run_at: now,
                        message,
                    },
                    Decision::PauseAll { until } => Outcome::Release {
                        run_at: until,
                        message,
                    },
                    Decision::Bury => Outcome::Bury { message },
                };
                (outcome, claim_next)
            }
        };
        let succeeded = matches!(outcome, Outcome::Succeeded(_));
        let recorded = self
            .recorder
            .record(Entry {
                job_id: job.id,
                owner: owner.to_string(),
                now,
                outcome,
                claim_next,
            })
            .await?;
        if !recorded.stored {
            warn!("lease lost before the outcome was stored; discarded");
        } else if succeeded {
            info!("succeeded");
        }
        Ok(recorded.next)
    }
}
