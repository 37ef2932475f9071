//! Sending a batch: the estimate the teacher sees first, then the submit. The batch and the
//! answers it takes are recorded (state `submitting`, this process's lease) before anything
//! is sent, so a crash in between leaves a row the pollers resolve: they look the batch up
//! by its display name and adopt it, or put its answers back to waiting.

use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{BatchConfig, BatchPreview, BatchSent, BATCH_PRICE_FACTOR};
use crate::error::CoreError;
use crate::events::{Changed, EventBody, EventHub};
use crate::exams;
use crate::grading::batch_api::{BatchClient, SubmitError};
use crate::grading::{image_prep, pricing, GradeError, GradeRequest};
use crate::queue::batches::{self, NewBatch, NewRequest};
use crate::queue::{self, PauseScope};
use crate::settings::Settings;
use crate::store::{now_ms, Store};

/// One waiting answer, ready to go: its job, key, request body and token estimate.
struct Prepared {
    request: NewRequest,
    body: Value,
    input_tokens: u64,
    output_tokens: u64,
}

/// Reads and sizes an answer's crop as the online grader does, and builds its request.
async fn prepare_one(
    store: &Store,
    client: &BatchClient,
    settings: &Settings,
    job_id: i64,
    item_id: i64,
) -> Result<Prepared, String> {
    let (crop, question) = store
        .run(move |conn| exams::grading_context(conn, item_id))
        .await
        .map_err(|e| e.to_string())?;
    let image = tokio::fs::read(&crop).await.map_err(|e| e.to_string())?;
    let prepared = tokio::task::spawn_blocking(move || image_prep::prepare(&image))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let one = pricing::estimate_answer(
        client.model(),
        &question,
        prepared.width,
        prepared.height,
        &settings.media_resolution,
        settings.thinking_budget,
    );
    let request = GradeRequest {
        image: prepared.bytes,
        mime_type: prepared.mime_type,
        question,
        sample: 0,
    };
    Ok(Prepared {
        request: NewRequest {
            key: format!("item-{item_id}-job-{job_id}"),
            job_id,
            item_id,
        },
        body: client.request_body(&request),
        input_tokens: one.prompt_tokens(),
        output_tokens: one.output_tokens + one.thinking_tokens,
    })
}

/// Every waiting answer of the exam prepared, and the total estimate.
async fn prepare_all(
    store: &Store,
    client: &BatchClient,
    settings: &Settings,
    exam_id: i64,
) -> Result<(Vec<Prepared>, BatchPreview), CoreError> {
    let exists = store
        .run(move |conn| batches::mode(conn, exam_id))
        .await?
        .is_some();
    if !exists {
        return Err(CoreError::Exam(exams::ExamError::NotFound(format!(
            "there is no exam number {exam_id}"
        ))));
    }
    let waiting = store
        .run(move |conn| batches::waiting(conn, exam_id))
        .await?;
    let mut prepared = Vec::with_capacity(waiting.len());
    let mut preview = BatchPreview {
        exam_id,
        ..BatchPreview::default()
    };
    for w in waiting {
        match prepare_one(store, client, settings, w.job_id, w.item_id).await {
            Ok(p) => {
                preview.estimate.input_tokens += p.input_tokens;
                preview.estimate.output_tokens += p.output_tokens;
                prepared.push(p);
            }
            Err(e) => {
                tracing::warn!(item = w.item_id, error = %e, "an answer waiting for the batch could not be read; it stays waiting");
                preview.unreadable += 1;
            }
        }
    }
    preview.answers = prepared.len() as u64;
    let model = client.model().to_string();
    let price = store
        .run(move |conn| -> Result<_, CoreError> { Ok(pricing::price_for(conn, &model)?) })
        .await?;
    if let Some(price) = price {
        let online = pricing::cost(
            &price,
            preview.estimate.input_tokens,
            preview.estimate.output_tokens,
        );
        preview.estimate.cost_online = Some(online);
        preview.estimate.cost_batch = Some(online * BATCH_PRICE_FACTOR);
    }
    Ok((prepared, preview))
}

/// What sending the exam's waiting answers would cost, online and in a batch.
pub async fn estimate(
    store: &Store,
    client: &BatchClient,
    settings: &Settings,
    exam_id: i64,
) -> Result<BatchPreview, CoreError> {
    Ok(prepare_all(store, client, settings, exam_id).await?.1)
}

/// Sends the exam's answers waiting for a batch as one batch, and records it. Another
/// process sending the same answers at the same time gets an error: the first to record
/// them holds them.
pub async fn send(
    store: &Store,
    events: &Arc<EventHub>,
    client: &BatchClient,
    settings: &Settings,
    config: &BatchConfig,
    exam_id: i64,
) -> Result<BatchSent, CoreError> {
    // A pause holds batches as it holds the workers (the teacher's, or a hold such as a
    // class import's split review: its answers may still be cut again).
    let paused = store
        .run(move |conn| queue::pauses(conn, now_ms()))
        .await?
        .into_iter()
        .find(|p| p.scope == PauseScope::All || p.scope == PauseScope::Exam(exam_id));
    if let Some(pause) = paused {
        return Err(CoreError::Invalid(format!(
            "grading of exam {exam_id} is paused ({}): resume it before sending a batch",
            pause.reason
        )));
    }
    let (prepared, preview) = prepare_all(store, client, settings, exam_id).await?;
    if prepared.is_empty() {
        return Err(CoreError::Invalid(format!(
            "exam {exam_id} has no answers waiting for a batch: set `gradedesk exam mode --exam {exam_id} later` and crop or import its answers first"
        )));
    }
    let owner = super::owner_name("send");
    let lease_ms = config.lease.as_millis() as i64;
    let display_name = format!("gradedesk-exam{exam_id}-{:016x}", rand::random::<u64>());
    let new_batch = NewBatch {
        exam_id,
        display_name: display_name.clone(),
        model: client.model().to_string(),
        input: "inline",
        input_tokens: preview.estimate.input_tokens as i64,
        output_tokens: preview.estimate.output_tokens as i64,
        cost_online: preview.estimate.cost_online,
        cost_estimated: preview.estimate.cost_batch,
    };
    let requests: Vec<NewRequest> = prepared.iter().map(|p| p.request.clone()).collect();
    let (o, r) = (owner.clone(), requests.clone());
    let reserved = store
        .run(move |conn| -> Result<Option<i64>, CoreError> {
            let tx = conn.transaction()?;
            let id = batches::reserve(&tx, &new_batch, &r, &o, now_ms(), lease_ms)?;
            if id.is_some() {
                tx.commit()?;
            }
            Ok(id)
        })
        .await?;
    let Some(batch_id) = reserved else {
        return Err(CoreError::Invalid(
            "some of these answers were taken by another batch, or changed, while this one was being prepared; see `gradedesk batch status`, then send again".into(),
        ));
    };
    let span = tracing::info_span!("batch", id = batch_id, exam = exam_id);
    async {
        // The lease is renewed while the submit (and a large upload) runs.
        let renewing = CancellationToken::new();
        let renewer = tokio::spawn(renew_while(
            store.clone(),
            batch_id,
            owner.clone(),
            lease_ms,
            renewing.clone(),
        ));
        let bodies: Vec<(String, Value)> = prepared
            .into_iter()
            .map(|p| (p.request.key, p.body))
            .collect();
        let created = client
            .create(&display_name, &bodies, config.inline_limit)
            .await;
        renewing.cancel();
        let _ = renewer.await;
        let (status, file) = match created {
            Ok(created) => created,
            Err(SubmitError {
                error,
                maybe_created,
            }) => {
                let reason = format!("the batch could not be sent: {error}");
                if maybe_created {
                    // Left `submitting` with its lease run out: a poller looks it up by
                    // its display name and adopts it, or puts its answers back.
                    let o = owner.clone();
                    store
                        .run(move |conn| batches::renew(conn, batch_id, &o, now_ms(), -1))
                        .await?;
                } else {
                    let why = reason.clone();
                    store
                        .run(move |conn| -> Result<(), CoreError> {
                            let tx = conn.transaction()?;
                            batches::abandon(&tx, batch_id, &why, now_ms())?;
                            Ok(tx.commit()?)
                        })
                        .await?;
                }
                events.emit(EventBody::Changed { what: Changed::All });
                tracing::warn!(error = %error, "batch not sent");
                let next = if maybe_created {
                    "GradeDesk will ask Gemini whether it arrived, and follow it or put its answers back"
                } else {
                    "its answers wait for the next batch"
                };
                return Err(match error {
                    GradeError::NeedsTeacher { message } => CoreError::ApiKey(message),
                    _ => CoreError::Invalid(format!("{reason}; {next}")),
                });
            }
        };
        let (o, name, state) = (owner.clone(), status.name.clone(), status.state.as_str());
        let first_ms = config.first_poll.as_millis() as i64;
        let is_file = file.is_some();
        let stored = store
            .run(move |conn| -> Result<bool, CoreError> {
                Ok(batches::submitted(
                    conn,
                    batch_id,
                    &o,
                    &name,
                    file.as_deref(),
                    state,
                    now_ms(),
                    first_ms,
                )?)
            })
            .await?;
        if !stored {
            tracing::warn!(
                "the batch was sent but its lease was lost meanwhile; a poller adopts it by name"
            );
        }
        tracing::info!(name = %status.name, answers = bodies.len(), file = is_file, "batch sent");
        events.emit(EventBody::Changed { what: Changed::All });
        Ok(BatchSent {
            batch: status.name,
            answers: preview.answers,
            estimate: preview.estimate,
        })
    }
    .instrument(span)
    .await
}

/// Renews a batch's lease every third of its length until `stop`.
async fn renew_while(
    store: Store,
    batch_id: i64,
    owner: String,
    lease_ms: i64,
    stop: CancellationToken,
) {
    let every = std::time::Duration::from_millis((lease_ms / 3).max(50) as u64);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let o = owner.clone();
        let _ = store
            .run(move |conn| batches::renew(conn, batch_id, &o, now_ms(), lease_ms))
            .await;
    }
}
