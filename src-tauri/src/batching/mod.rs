//! Grading later, at half the price: Gemini Batch Mode as a durable, restartable batch.
//!
//! `send` turns an exam's answers waiting for a batch into one batch (the online request of
//! each, keyed by answer) and records it before and after the submit; `poll` is what any
//! running process (the window's engine, `gradedesk worker`, `batch wait`) does with the
//! open batches: one process at a time holds a batch's lease, polls it with backoff, and
//! when it has ended writes its results (`results`): matched by key, each through the
//! online grade's parsing and validation, each exactly once.

mod poll;
mod results;
mod send;

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

pub use poll::Poller;
pub use results::{match_results, Matched};
pub use send::{estimate, send};

use crate::error::CoreError;
use crate::grading::batch_api::{BatchClient, INLINE_LIMIT_BYTES};
use crate::grading::ApiKey;
use crate::settings::{Provider, Settings};
use crate::store::Store;

/// A batch costs this share of the online price (Google's Batch Mode: 50%).
pub const BATCH_PRICE_FACTOR: f64 = 0.5;

/// How often batches are polled, how long a lease holds, when a batch goes as a file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchConfig {
    /// The first wait after a submit, and after each change of state.
    pub first_poll: Duration,
    /// The wait doubles up to this.
    pub max_poll: Duration,
    /// How long a process holds a batch (submit, poll, results) before another may take it.
    pub lease: Duration,
    /// A batch whose whole inline request would reach this many bytes is sent as a file.
    pub inline_limit: usize,
    /// Results written per transaction.
    pub results_per_commit: usize,
    /// A pause after each results commit: zero, except in the test that kills a process
    /// while results are being written (`GRADEDESK_BATCH_COMMIT_PAUSE_MS`).
    pub commit_pause: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            first_poll: Duration::from_secs(30),
            max_poll: Duration::from_secs(600),
            lease: Duration::from_secs(120),
            inline_limit: INLINE_LIMIT_BYTES,
            results_per_commit: 100,
            commit_pause: Duration::ZERO,
        }
    }
}

impl BatchConfig {
    /// The defaults, changed by `GRADEDESK_BATCH_POLL_MS=FIRST,MAX`,
    /// `GRADEDESK_BATCH_LEASE_MS`, `GRADEDESK_BATCH_INLINE_LIMIT` (bytes),
    /// `GRADEDESK_BATCH_RESULTS_PER_COMMIT` and `GRADEDESK_BATCH_COMMIT_PAUSE_MS`: the tests
    /// poll every few hundred milliseconds, force a file batch with a small limit, and
    /// slow the results down to kill a process while they are written.
    pub fn from_env() -> Self {
        let mut config = Self::default();
        let ms = |v: &str| v.trim().parse::<u64>().ok().map(Duration::from_millis);
        if let Ok(poll) = std::env::var("GRADEDESK_BATCH_POLL_MS") {
            let mut parts = poll.split(',');
            if let Some(first) = parts.next().and_then(ms) {
                config.first_poll = first.max(Duration::from_millis(10));
                config.max_poll = config.first_poll;
            }
            if let Some(max) = parts.next().and_then(ms) {
                config.max_poll = max.max(config.first_poll);
            }
        }
        if let Some(lease) = std::env::var("GRADEDESK_BATCH_LEASE_MS")
            .ok()
            .as_deref()
            .and_then(ms)
        {
            config.lease = lease.max(Duration::from_millis(100));
        }
        if let Some(limit) = std::env::var("GRADEDESK_BATCH_INLINE_LIMIT")
            .ok()
            .and_then(|v| v.trim().parse().ok())
        {
            config.inline_limit = limit;
        }
        if let Some(n) = std::env::var("GRADEDESK_BATCH_RESULTS_PER_COMMIT")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            config.results_per_commit = n.max(1);
        }
        if let Some(pause) = std::env::var("GRADEDESK_BATCH_COMMIT_PAUSE_MS")
            .ok()
            .as_deref()
            .and_then(ms)
        {
            config.commit_pause = pause;
        }
        config
    }

    /// The next wait after `current` (doubling, capped).
    pub fn backoff(&self, current: Duration) -> Duration {
        (current * 2).clamp(self.first_poll, self.max_poll)
    }
}

/// What a batch is estimated to cost before it is sent.
#[derive(Debug, Clone, Default, Serialize, PartialEq, TS)]
pub struct SendEstimate {
    pub input_tokens: u64,
    /// Answer and thinking tokens.
    pub output_tokens: u64,
    /// Dollars at the online price (None: the model has no price).
    pub cost_online: Option<f64>,
    /// Dollars at the batch price.
    pub cost_batch: Option<f64>,
}

/// The estimate the teacher sees before sending: how many answers and what they cost.
#[derive(Debug, Clone, Default, Serialize, PartialEq, TS)]
pub struct BatchPreview {
    pub exam_id: i64,
    pub answers: u64,
    pub estimate: SendEstimate,
    /// Answers whose crop could not be read (they stay waiting).
    pub unreadable: u64,
}

/// A batch just sent (`batch send` prints it).
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct BatchSent {
    /// Gemini's name for it, `batches/…`.
    pub batch: String,
    pub answers: u64,
    pub estimate: SendEstimate,
}

/// The Batch Mode client the stored settings (with the environment's overrides) and `key`
/// describe; refused when grading goes to another provider or the base URL may not
/// receive the key (the online rules).
pub async fn client(store: &Store, key: ApiKey) -> Result<BatchClient, CoreError> {
    let settings = store
        .run(|conn| Settings::load(conn))
        .await?
        .with_env_overrides();
    client_for(&settings, key)
}

/// The client for given settings.
pub fn client_for(settings: &Settings, key: ApiKey) -> Result<BatchClient, CoreError> {
    if settings.provider != Provider::Gemini {
        return Err(CoreError::Invalid(
            "batches go to Gemini only: set the provider to gemini in Settings".into(),
        ));
    }
    settings.check_base_url("base_url")?;
    BatchClient::new(settings.gemini_config(key)).map_err(|e| CoreError::Invalid(e.to_string()))
}

/// A lease owner name unique to this process and call.
pub fn owner_name(role: &str) -> String {
    format!(
        "{role}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}
