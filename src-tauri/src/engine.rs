//! The running core: a workspace with its grading pool, the grader the settings choose and
//! the API key it reads. The window and `gradedesk worker`/`grade` both build one here, so
//! the pool is set up one way, and the operations that touch the running pool (resume
//! after a halt, cancel a running call, swap the grader when settings change) live in one
//! place.

use std::sync::Arc;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::batching::{BatchConfig, BatchPreview, BatchSent, Poller};
use crate::error::CoreError;
use crate::grading::pricing::Price;
use crate::grading::{ApiKey, SwappableGrader};
use crate::jobs::GradingRunner;
use crate::pacing::RateLimits;
use crate::queue::{PauseScope, QueueStatus};
use crate::settings::{self, KeySource, KeyStore, Settings};
use crate::worker::{Pool, PoolConfig};
use crate::workspace::{SettingsView, Snapshot, Workspace};

/// What the caller wants of the pool beyond the stored settings (the CLI's flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolOptions {
    /// Answers graded at once; None: the settings' `concurrency`.
    pub concurrency: Option<u16>,
    /// Requests per minute; None or 0: the settings' `requests_per_minute`.
    pub requests_per_minute: Option<u32>,
    /// Tokens per minute (0: no limit).
    pub tokens_per_minute: u32,
}

/// The snapshot plus the queue's state (progress, pauses, provider, halt): what the
/// window's live view loads.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeskSnapshot {
    #[serde(flatten)]
    pub snapshot: Snapshot,
    pub queue: QueueStatus,
}

/// A workspace whose answers get graded.
pub struct Engine {
    workspace: Arc<Workspace>,
    pool: Arc<Pool>,
    grader: Arc<SwappableGrader>,
    api_key: ApiKey,
    keys: KeyStore,
}

impl Engine {
    /// Builds the grader from the stored settings (with the environment's overrides) and
    /// the key from `keys`, and a pool over the workspace's queue. Nothing runs until
    /// [`Engine::run`].
    pub async fn start(
        workspace: Arc<Workspace>,
        keys: KeyStore,
        options: PoolOptions,
    ) -> Result<Arc<Self>, CoreError> {
        let settings = workspace.settings().await?;
        let api_key = ApiKey::new(keys.load().0);
        let grader = Arc::new(SwappableGrader::new(settings::build_grader(
            &settings,
            api_key.clone(),
        )?));
        let rpm = options
            .requests_per_minute
            .filter(|&rpm| rpm > 0)
            .unwrap_or(settings.requests_per_minute);
        let config = PoolConfig {
            concurrency: usize::from(options.concurrency.unwrap_or(settings.concurrency)),
            limits: RateLimits {
                requests_per_minute: rpm,
                tokens_per_minute: options.tokens_per_minute,
            },
            ..PoolConfig::default()
        };
        let runner = GradingRunner::new(&workspace, grader.clone());
        let pool = Pool::new(workspace.clone(), Arc::new(runner), config);
        Ok(Arc::new(Self {
            workspace,
            pool,
            grader,
            api_key,
            keys,
        }))
    }

    /// The data dir this engine grades.
    pub fn workspace(&self) -> &Arc<Workspace> {
        &self.workspace
    }

    /// Runs the pool and the batch poller until `shutdown` is cancelled.
    pub async fn run(&self, shutdown: CancellationToken) {
        let poller = Poller::new(
            self.workspace.store.clone(),
            self.workspace.events.clone(),
            self.api_key.clone(),
            BatchConfig::from_env(),
        );
        tokio::join!(
            self.pool.clone().run(shutdown.clone()),
            poller.run(shutdown)
        );
    }

    /// What sending an exam's waiting answers as a batch would cost.
    pub async fn batch_estimate(&self, exam_id: i64) -> Result<BatchPreview, CoreError> {
        self.workspace
            .batch_estimate(exam_id, self.api_key.clone())
            .await
    }

    /// Sends an exam's waiting answers as a batch.
    pub async fn send_batch(&self, exam_id: i64) -> Result<BatchSent, CoreError> {
        self.workspace
            .send_batch(exam_id, self.api_key.clone(), &BatchConfig::from_env())
            .await
    }

    /// Asks Gemini to cancel a batch.
    pub async fn cancel_batch(&self, name: &str) -> Result<(), CoreError> {
        self.workspace
            .cancel_batch(name, self.api_key.clone())
            .await
    }

    /// Why grading stopped until the teacher acts (no key, key rejected, model missing).
    pub fn halted(&self) -> Option<String> {
        self.pool.halted()
    }

    /// The queue's progress, pauses, provider state and halt.
    pub async fn queue_status(&self) -> Result<QueueStatus, CoreError> {
        Ok(self.pool.status().await?)
    }

    /// Everything the live view shows, with the queue's state.
    pub async fn desk_snapshot(&self) -> Result<DeskSnapshot, CoreError> {
        let snapshot = self.workspace.snapshot().await?;
        let queue = self.queue_status().await?;
        Ok(DeskSnapshot { snapshot, queue })
    }

    /// Lifts a pause and a halt (the teacher may just have fixed the key); returns whether
    /// something was paused.
    pub async fn resume(&self, scope: PauseScope) -> Result<bool, CoreError> {
        let was = self.workspace.resume(scope).await?;
        self.pool.resume();
        Ok(was)
    }

    /// Cancels an answer's grading; a call this process is making is aborted at once.
    pub async fn cancel_item(&self, item_id: i64) -> Result<(), CoreError> {
        let job = self.workspace.active_job(item_id).await?;
        self.pool.cancel(job).await?;
        self.workspace.emit_item(item_id).await;
        Ok(())
    }

    /// The settings page's view (the key masked).
    pub async fn settings_view(&self) -> Result<SettingsView, CoreError> {
        self.workspace.settings_view(&self.keys).await
    }

    /// Stores the settings and prices, swaps in a grader built from them, and lets a
    /// halted pool try again.
    pub async fn save_settings(
        &self,
        settings: Settings,
        prices: Vec<Price>,
    ) -> Result<SettingsView, CoreError> {
        settings.validate()?;
        let grader =
            settings::build_grader(&settings.clone().with_env_overrides(), self.api_key.clone())?;
        self.workspace.save_settings(settings, prices).await?;
        self.grader.replace(grader);
        self.pool.resume();
        self.workspace.poll_batches_soon().await?;
        self.settings_view().await
    }

    /// Stores the key (keyring, else a private file) and resumes grading halted for want
    /// of it.
    pub async fn set_api_key(&self, key: String) -> Result<KeySource, CoreError> {
        let source = self.keys.save(&key)?;
        self.api_key.set(Some(key.trim().to_string()));
        self.pool.resume();
        self.workspace.poll_batches_soon().await?;
        Ok(source)
    }

    /// Asks the provider whether the key in use and the model work.
    pub async fn test_api_key(&self) -> Result<String, CoreError> {
        self.workspace.test_api_key(self.api_key.clone()).await
    }
}
