//! Polling open batches, in whatever process runs: the window's engine, `gradedesk worker`
//! and `batch wait` each run a [`Poller`]. A poll takes the batch's lease (a row lease with
//! an expiry, like a job's), so two processes never poll or write one batch at once; a
//! process that dies mid-way leaves a lease that runs out, and the next poller carries on
//! from what was committed. Waits start at 30 s and double up to 10 min; they are wall-clock
//! times in the database, so a restart, a night asleep or a lost network only make the next
//! poll due at once.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::results::{match_results, return_the_rest, store_results};
use super::BatchConfig;
use crate::error::CoreError;
use crate::events::{Changed, EventBody, EventHub};
use crate::exams;
use crate::grading::batch_api::{BatchClient, BatchState, Results};
use crate::grading::{ApiKey, GradeError};
use crate::queue::batches::{self, BatchRow};
use crate::store::{now_ms, Store};

/// Polls the data dir's open batches and writes their results.
pub struct Poller {
    store: Store,
    events: Arc<EventHub>,
    key: ApiKey,
    config: BatchConfig,
    owner: String,
    /// Why the last poll could not go on until the teacher acts (no key, key rejected).
    halted: std::sync::Mutex<Option<String>>,
}

impl Poller {
    /// A poller over a data dir's batches, calling Gemini with `key`.
    pub fn new(store: Store, events: Arc<EventHub>, key: ApiKey, config: BatchConfig) -> Self {
        Self {
            store,
            events,
            key,
            config,
            owner: super::owner_name("poll"),
            halted: std::sync::Mutex::new(None),
        }
    }

    /// Why polling cannot go on until the teacher acts, if the last poll said so.
    pub fn halted(&self) -> Option<String> {
        self.halted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_halted(&self, why: Option<String>) {
        *self.halted.lock().unwrap_or_else(|p| p.into_inner()) = why;
    }

    /// Polls until `shutdown`: every due batch, then sleeps until the next is due (looking
    /// at least every second, for batches other processes sent).
    pub async fn run(&self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.poll_due().await {
                tracing::warn!(error = %e, "batch poll failed; trying again later");
            }
            let wait = match self.store.run(|conn| batches::next_poll_at(conn)).await {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).clamp(20, 1000) as u64),
                _ => Duration::from_secs(1),
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Polls every batch that is due now; returns how many were looked at.
    pub async fn poll_due(&self) -> Result<usize, CoreError> {
        let mut polled = 0;
        let lease_ms = self.lease_ms();
        loop {
            if !self
                .store
                .run(|conn| batches::any_due(conn, now_ms()))
                .await?
            {
                return Ok(polled);
            }
            let owner = self.owner.clone();
            let Some(batch) = self
                .store
                .run(move |conn| batches::claim_due(conn, &owner, now_ms(), lease_ms))
                .await?
            else {
                return Ok(polled);
            };
            polled += 1;
            let span = tracing::info_span!(
                "batch",
                id = batch.id,
                exam = batch.exam_id,
                name = batch.name.as_deref().unwrap_or("")
            );
            let result = self.poll_one(&batch).instrument(span).await;
            if let Err(e) = result {
                tracing::warn!(batch = batch.id, error = %e, "batch poll failed");
                self.back_off(&batch, &batch.state).await?;
            }
        }
    }

    fn lease_ms(&self) -> i64 {
        self.config.lease.as_millis() as i64
    }

    /// Lets go of the batch and looks again after the next, longer wait.
    async fn back_off(&self, batch: &BatchRow, state: &str) -> Result<(), CoreError> {
        let interval = self
            .config
            .backoff(Duration::from_millis(batch.poll_interval_ms.max(0) as u64))
            .as_millis() as i64;
        let (id, owner, state) = (batch.id, self.owner.clone(), state.to_string());
        self.store
            .run(move |conn| {
                let now = now_ms();
                batches::record_poll(
                    conn,
                    id,
                    &owner,
                    &state,
                    None,
                    now + interval,
                    interval,
                    now,
                )
            })
            .await?;
        Ok(())
    }

    async fn poll_one(&self, batch: &BatchRow) -> Result<(), CoreError> {
        let client = match super::client(&self.store, self.key.clone()).await {
            Ok(client) => client,
            Err(e) => {
                self.set_halted(Some(e.to_string()));
                return Err(e);
            }
        };
        let Some(name) = batch.name.clone() else {
            return self.recover_submitting(&client, batch).await;
        };
        let status = match client.get(&name).await {
            Ok(status) => {
                self.set_halted(None);
                status
            }
            Err(GradeError::NeedsTeacher { message }) => {
                tracing::warn!(reason = %message, "batch cannot be polled until the teacher acts");
                self.set_halted(Some(message));
                return self.back_off(batch, &batch.state).await;
            }
            Err(error) => {
                tracing::info!(error = %error, "batch not reachable now; polling again later");
                return self.back_off(batch, &batch.state).await;
            }
        };
        if !status.state.ended() {
            let changed = status.state.as_str() != batch.state;
            let interval = if changed {
                self.config.first_poll
            } else {
                self.config
                    .backoff(Duration::from_millis(batch.poll_interval_ms.max(0) as u64))
            }
            .as_millis() as i64;
            let (id, owner) = (batch.id, self.owner.clone());
            let counts = status.succeeded.zip(status.failed);
            let state = status.state.as_str();
            self.store
                .run(move |conn| {
                    let now = now_ms();
                    batches::record_poll(
                        conn,
                        id,
                        &owner,
                        state,
                        counts,
                        now + interval,
                        interval,
                        now,
                    )
                })
                .await?;
            if changed {
                tracing::info!(state, "batch state changed");
                self.events.emit(EventBody::Changed {
                    what: Changed::Batches,
                });
            }
            return Ok(());
        }
        tracing::info!(
            state = status.state.as_str(),
            "batch ended; storing its results"
        );
        let results = match status.results.clone() {
            Some(Results::Inline(results)) => Some((results, true)),
            Some(Results::File(file)) => match client.download(&file).await {
                Ok(results) => Some((results, false)),
                Err(error) => {
                    tracing::info!(error = %error, "results file not downloaded; trying again later");
                    return self.back_off(batch, &batch.state).await;
                }
            },
            None => None,
        };
        self.store_all(batch, &client, status.state, status.error, results)
            .await
    }

    /// Writes a finished batch's results, then sends every answer without one back to
    /// waiting with the reason, and closes the batch.
    async fn store_all(
        &self,
        batch: &BatchRow,
        client: &BatchClient,
        state: BatchState,
        error: Option<String>,
        results: Option<(Vec<crate::grading::batch_api::RequestResult>, bool)>,
    ) -> Result<(), CoreError> {
        let (id, lease_ms, model) = (batch.id, self.lease_ms(), client.model().to_string());
        let requests = self
            .store
            .run(move |conn| batches::requests(conn, id))
            .await?;
        let matched = results.map(|(results, inline)| match_results(&requests, results, inline));
        let by_position = matched.as_ref().is_some_and(|m| m.by_position);
        if by_position {
            tracing::warn!("inline results came back without their keys; placed by position (Gemini keeps inline responses in request order)");
        }
        if let Some(m) = matched.as_ref().filter(|m| m.unplaced > 0) {
            tracing::warn!(
                unplaced = m.unplaced,
                "results that name no answer of this batch were left out"
            );
        }
        let (owner, st, err) = (self.owner.clone(), state.as_str(), error.clone());
        self.store
            .run(move |conn| {
                batches::ended(conn, id, &owner, st, err.as_deref(), by_position, now_ms())
            })
            .await?;
        let mut changed_items = Vec::new();
        let mut pairs = matched.map(|m| m.pairs).unwrap_or_default();
        while !pairs.is_empty() {
            let per_commit = self.config.results_per_commit.max(1);
            let chunk: Vec<_> = pairs.drain(..pairs.len().min(per_commit)).collect();
            let (owner, model) = (self.owner.clone(), model.clone());
            let stored = self
                .store
                .run(move |conn| store_results(conn, id, &owner, lease_ms, &model, chunk, now_ms()))
                .await?;
            if !self.config.commit_pause.is_zero() {
                tokio::time::sleep(self.config.commit_pause).await;
            }
            match stored {
                Some(items) => changed_items.extend(items),
                None => {
                    tracing::warn!(
                        "lost the batch's lease while storing results; another process carries on"
                    );
                    return Ok(());
                }
            }
        }
        let reason = match state {
            BatchState::Succeeded => "Gemini's batch finished without a result for this answer; it waits for the next batch".to_string(),
            BatchState::Cancelled => "the batch was cancelled; this answer waits for the next batch".to_string(),
            BatchState::Expired => "the batch expired (Gemini did not finish it in 48 hours); this answer waits for the next batch".to_string(),
            _ => format!(
                "the batch failed{}; this answer waits for the next batch",
                error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            ),
        };
        let owner = self.owner.clone();
        let rest = self
            .store
            .run(move |conn| -> Result<Option<Vec<i64>>, CoreError> {
                let now = now_ms();
                let rest = return_the_rest(conn, id, &owner, lease_ms, &reason, now)?;
                if rest.is_some() {
                    batches::finish(conn, id, &owner, now)?;
                }
                Ok(rest)
            })
            .await?;
        let Some(rest) = rest else {
            return Ok(());
        };
        changed_items.extend(rest);
        tracing::info!(answers = changed_items.len(), "batch results stored");
        self.announce(changed_items).await;
        Ok(())
    }

    /// Tells every front end about the answers that changed and the batch.
    async fn announce(&self, items: Vec<i64>) {
        let views = self
            .store
            .run(move |conn| {
                Ok::<_, CoreError>(
                    items
                        .iter()
                        .filter_map(|id| exams::item_view(conn, *id).ok())
                        .collect::<Vec<_>>(),
                )
            })
            .await
            .unwrap_or_default();
        for item in views {
            self.events.emit(EventBody::Item { item });
        }
        self.events.emit(EventBody::Changed {
            what: Changed::Batches,
        });
    }

    /// A batch still `submitting` whose sender's lease ran out: Gemini may or may not have
    /// it. Found by its display name, it is adopted; not found, its answers wait again.
    async fn recover_submitting(
        &self,
        client: &BatchClient,
        batch: &BatchRow,
    ) -> Result<(), CoreError> {
        let listed = match client.list().await {
            Ok(listed) => listed,
            Err(GradeError::NeedsTeacher { message }) => return Err(CoreError::ApiKey(message)),
            Err(error) => {
                tracing::info!(error = %error, "could not list batches to recover one; trying again later");
                return self.back_off(batch, "submitting").await;
            }
        };
        let found = listed
            .into_iter()
            .find(|s| s.display_name.as_deref() == Some(batch.display_name.as_str()));
        let (id, owner) = (batch.id, self.owner.clone());
        let first = self.config.first_poll.as_millis() as i64;
        match found {
            Some(status) => {
                tracing::info!(name = %status.name, "a batch sent by a process that stopped was found on Gemini; adopting it");
                let state = status.state.as_str();
                self.store
                    .run(move |conn| {
                        batches::submitted(
                            conn,
                            id,
                            &owner,
                            &status.name,
                            None,
                            state,
                            now_ms(),
                            first,
                        )
                    })
                    .await?;
            }
            None => {
                tracing::info!(
                    "a batch whose sender stopped never reached Gemini; its answers wait again"
                );
                self.store
                    .run(move |conn| -> Result<(), CoreError> {
                        let tx = conn.transaction()?;
                        batches::abandon(
                            &tx,
                            id,
                            "the batch was never sent (GradeDesk stopped while sending it); its answers wait for the next batch",
                            now_ms(),
                        )?;
                        Ok(tx.commit()?)
                    })
                    .await?;
            }
        }
        self.events.emit(EventBody::Changed { what: Changed::All });
        Ok(())
    }
}
