//! Grading later: the exam's grading mode and the batches, as both front ends call them.
//! The work itself is `batching`'s; this is the data dir's door to it.

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use super::Workspace;
use crate::batching::{self, BatchConfig, BatchPreview, BatchSent, Poller};
use crate::error::CoreError;
use crate::events::{Changed, EventBody};
use crate::exams::ExamError;
use crate::grading::ApiKey;
use crate::queue::batches::{self, BatchSummary, GradingMode};
use crate::store::{now_ms, StoreError};

/// One exam's grading mode and its answers waiting for a batch or in one.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct ExamBatching {
    pub exam_id: i64,
    pub mode: GradingMode,
    /// Answers waiting for the next batch.
    pub waiting: i64,
    /// Answers sent in a batch whose results are not in yet.
    pub in_batch: i64,
}

/// What the window's batch panel shows: each exam's mode and counts, and every batch.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct BatchOverview {
    pub exams: Vec<ExamBatching>,
    pub batches: Vec<BatchSummary>,
}

fn not_found(exam_id: i64) -> CoreError {
    CoreError::Exam(ExamError::NotFound(format!(
        "there is no exam number {exam_id}"
    )))
}

impl Workspace {
    /// Sets how an exam's answers are graded; answers nobody is grading yet move with it
    /// (to `later`: queued ones wait for the batch; to `now`: waiting ones go online).
    /// Returns how many answers moved.
    pub async fn set_grading_mode(
        &self,
        exam_id: i64,
        mode: GradingMode,
    ) -> Result<usize, CoreError> {
        let moved = self
            .store
            .run(move |conn| -> Result<Option<usize>, StoreError> {
                let tx = conn.transaction()?;
                let moved = batches::set_mode(&tx, exam_id, mode, now_ms())?;
                tx.commit()?;
                Ok(moved)
            })
            .await?
            .ok_or_else(|| not_found(exam_id))?;
        self.wake.notify_waiters();
        self.events.emit(EventBody::Changed { what: Changed::All });
        Ok(moved)
    }

    /// Each exam's mode and counts, and every batch, newest first.
    pub async fn batch_overview(&self) -> Result<BatchOverview, CoreError> {
        Ok(self
            .store
            .run(|conn| -> Result<BatchOverview, StoreError> {
                let mut exams = Vec::new();
                for (exam_id, waiting, in_batch) in batches::waiting_counts(conn)? {
                    let mode = batches::mode(conn, exam_id)?.unwrap_or(GradingMode::Now);
                    exams.push(ExamBatching {
                        exam_id,
                        mode,
                        waiting,
                        in_batch,
                    });
                }
                Ok(BatchOverview {
                    exams,
                    batches: batches::list(conn)?,
                })
            })
            .await?)
    }

    /// Polls every open batch at once (after the key or the settings were fixed).
    pub async fn poll_batches_soon(&self) -> Result<(), CoreError> {
        Ok(self
            .store
            .run(|conn| batches::poll_all_soon(conn, now_ms()))
            .await?)
    }

    /// Every batch, newest first (`batch status`).
    pub async fn batches(&self) -> Result<Vec<BatchSummary>, CoreError> {
        Ok(self.store.run(|conn| batches::list(conn)).await?)
    }

    /// What sending the exam's waiting answers would cost (nothing is sent).
    pub async fn batch_estimate(
        &self,
        exam_id: i64,
        key: ApiKey,
    ) -> Result<BatchPreview, CoreError> {
        let settings = self.settings().await?;
        let client = batching::client_for(&settings, key)?;
        batching::estimate(&self.store, &client, &settings, exam_id).await
    }

    /// Sends the exam's waiting answers as one batch.
    pub async fn send_batch(
        &self,
        exam_id: i64,
        key: ApiKey,
        config: &BatchConfig,
    ) -> Result<BatchSent, CoreError> {
        let settings = self.settings().await?;
        let client = batching::client_for(&settings, key)?;
        batching::send(
            &self.store,
            &self.events,
            &client,
            &settings,
            config,
            exam_id,
        )
        .await
    }

    /// Asks Gemini to cancel a batch; the next poll (at once) sees it cancelled and puts its
    /// answers back to waiting.
    pub async fn cancel_batch(&self, name: &str, key: ApiKey) -> Result<(), CoreError> {
        let n = name.to_string();
        let batch = self
            .store
            .run(move |conn| batches::by_name(conn, &n))
            .await?
            .ok_or_else(|| {
                CoreError::Exam(ExamError::NotFound(format!(
                    "there is no batch named {name} (see `gradedesk batch status`)"
                )))
            })?;
        if batch.ended_at.is_some() {
            return Err(CoreError::Invalid(format!(
                "batch {name} has already ended ({})",
                batch.state
            )));
        }
        let client = batching::client(&self.store, key).await?;
        client.cancel(name).await.map_err(|e| match e {
            crate::grading::GradeError::NeedsTeacher { message } => CoreError::ApiKey(message),
            other => CoreError::Invalid(format!("Gemini did not cancel {name}: {other}")),
        })?;
        let id = batch.id;
        self.store
            .run(move |conn| batches::poll_soon(conn, id, now_ms()))
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Batches,
        });
        Ok(())
    }

    /// Polls every open batch in this process until each has ended and its results are
    /// stored (other processes may do part of the work). False when `timeout` ran out first.
    pub async fn wait_for_batches(
        &self,
        key: ApiKey,
        config: BatchConfig,
        timeout: Option<Duration>,
    ) -> Result<bool, CoreError> {
        let poller = Poller::new(self.store.clone(), self.events.clone(), key, config);
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            poller.poll_due().await?;
            if self.store.run(|conn| batches::open_count(conn)).await? == 0 {
                return Ok(true);
            }
            if let Some(why) = poller.halted() {
                return Err(CoreError::ApiKey(format!(
                    "{why}; the batches keep running at Gemini, and `gradedesk batch wait` picks them up once this is fixed"
                )));
            }
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
