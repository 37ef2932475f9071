//! The production job bodies the pool runs: grading an answer through the configured
//! grader, and enhancing a submission's low-resolution or skewed pages. The pool (`worker`)
//! owns claiming, leases, retries and recording; this module only does the work.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::events::{Changed, EventBody};
use crate::exams;
use crate::grading::{image_prep, GradeError, GradeRequest, Grader, NameRequest};
use crate::imaging::{self, ImagingError};
use crate::pacing::{Gate, Hold};
use crate::queue::policy::RATE_LIMIT_FALLBACK_WAIT;
use crate::queue::{ClaimedJob, JobKind};
use crate::recorder::Completion;
use crate::store::Store;
use crate::worker::JobRunner;
use crate::workspace::Workspace;

/// The production runner: grades answers through the configured grader and enhances
/// low-resolution or skewed pages.
pub struct GradingRunner {
    store: Store,
    workspace: Arc<Workspace>,
    grader: Arc<dyn Grader>,
}

impl GradingRunner {
    /// The name and ID crops of a script, prepared as an answer's crop is.
    async fn load_name_request(&self, submission_id: i64) -> Result<NameRequest, GradeError> {
        let (name, id) = self
            .store
            .run(move |conn| exams::name_crops(conn, submission_id))
            .await
            .map_err(|e| GradeError::Transient {
                message: format!("could not load the script: {e}"),
                retry_after: None,
            })?;
        if name.is_none() && id.is_none() {
            return Err(GradeError::Permanent {
                message: "this script has no name or ID box to read".into(),
            });
        }
        let mut images = Vec::new();
        for path in [name, id] {
            let Some(path) = path else {
                images.push(None);
                continue;
            };
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| GradeError::Permanent {
                    message: format!("the name box's image is missing from the data folder ({e})"),
                })?;
            images.push(Some(prepare(bytes).await?));
        }
        let id_image = images.pop().flatten();
        let name_image = images.pop().flatten();
        Ok(NameRequest {
            name_image,
            id_image,
        })
    }

    /// A runner over a workspace's data with the given grader.
    pub fn new(workspace: &Arc<Workspace>, grader: Arc<dyn Grader>) -> Self {
        Self {
            store: workspace.store.clone(),
            workspace: workspace.clone(),
            grader,
        }
    }

    /// Grades the answer a second time (an independent sample) for an exam that grades
    /// twice. The second call's tokens are added to the grade's, so its cost shows. A second
    /// grading the provider will not give leaves the first, flagged for the teacher; waiting
    /// errors (rate limit, network, key) hand the job back as usual.
    async fn second_grading(
        &self,
        request: &GradeRequest,
        first: &mut crate::grading::GradeOutcome,
        gate: &Gate,
    ) -> Result<Option<exams::SecondOpinion>, GradeError> {
        let mut again = request.clone();
        again.sample = 1;
        let probe = gate.wait_turn(TOKENS_PER_REQUEST_ESTIMATE).await;
        let result = self.grader.grade(&again).await;
        record_at_gate(gate, probe, result.as_ref().err());
        match result {
            Ok(second) => {
                first.usage = first.usage.plus(&second.usage);
                Ok(Some(second.as_second_opinion()))
            }
            Err(GradeError::Refused { message } | GradeError::Permanent { message }) => {
                first
                    .core_flag
                    .get_or_insert(format!("the second grading failed: {message}"));
                Ok(None)
            }
            Err(GradeError::Transient { message, .. }) => {
                first
                    .core_flag
                    .get_or_insert(format!("the second grading failed: {message}"));
                Ok(None)
            }
            Err(waiting) => Err(waiting),
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
        let (image, mime_type) = prepare(image).await?;
        Ok(GradeRequest {
            image,
            mime_type,
            question,
            sample: 0,
        })
    }
}

/// Sizes a crop for the fewest tiles that keep the writing legible (the file is untouched):
/// the bytes to send and their MIME type.
async fn prepare(image: Vec<u8>) -> Result<(Vec<u8>, String), GradeError> {
    let prepared = tokio::task::spawn_blocking(move || image_prep::prepare(&image))
        .await
        .map_err(|_| GradeError::Transient {
            message: "could not prepare the answer's image".into(),
            retry_after: None,
        })?
        .map_err(|e| GradeError::Permanent {
            message: e.to_string(),
        })?;
    Ok((prepared.bytes, prepared.mime_type))
}

/// Tells the provider gate how a request went: failures slow the pool, a 429 stops it for
/// the delay Google asked, an unreachable host sends it to wait for the network.
fn record_at_gate(gate: &Gate, probe: bool, error: Option<&GradeError>) {
    match error {
        Some(GradeError::Transient { .. }) => gate.record_failure(probe),
        Some(GradeError::Offline { .. }) => gate.record_offline(probe),
        Some(GradeError::RateLimited { retry_after, .. }) => {
            gate.record_rate_limited(retry_after.unwrap_or(RATE_LIMIT_FALLBACK_WAIT))
        }
        _ => gate.record_success(),
    }
}

/// The error that hands a job back while the provider is held: no attempt is spent.
fn held_error(hold: Hold, wait: Duration) -> GradeError {
    let retry_after = Some(wait);
    match hold {
        Hold::Offline => GradeError::Offline {
            message: "waiting for network: Gemini cannot be reached".into(),
        },
        Hold::CoolingDown => GradeError::RateLimited {
            message: "Gemini's rate limit was reached; waiting before the next request".into(),
            retry_after,
            per_day: false,
        },
        Hold::Unavailable => GradeError::RateLimited {
            message: "Gemini is unavailable for now; GradeDesk will try again shortly".into(),
            retry_after,
            per_day: false,
        },
    }
}

/// A rough token count for one grading request (image tiles, prompt, thinking and answer),
/// used only to pace requests under a tokens-per-minute limit.
const TOKENS_PER_REQUEST_ESTIMATE: u32 = 2_000;

#[async_trait]
impl JobRunner for GradingRunner {
    async fn run(&self, job: &ClaimedJob, gate: &Gate) -> Result<Completion, GradeError> {
        match job.kind {
            JobKind::GradeItem => {
                let item_id = job.item_id.ok_or_else(|| GradeError::Permanent {
                    message: "this grading job names no answer".into(),
                })?;
                let request = self.load_request(item_id).await?;
                if let Some((hold, wait)) = gate.held_now() {
                    return Err(held_error(hold, wait));
                }
                let probe = gate.wait_turn(TOKENS_PER_REQUEST_ESTIMATE).await;
                let result = self.grader.grade(&request).await;
                record_at_gate(gate, probe, result.as_ref().err());
                let mut grade = result?;
                let double = self
                    .store
                    .run(move |conn| exams::double_grading_for_item(conn, item_id))
                    .await
                    .unwrap_or(false);
                let second = if double {
                    self.second_grading(&request, &mut grade, gate).await?
                } else {
                    None
                };
                Ok(Completion::Graded {
                    item_id,
                    grade: Box::new(grade.into_new_grade(request.question.max_points, second)),
                })
            }
            JobKind::ReadName => {
                let submission_id = job.submission_id.ok_or_else(|| GradeError::Permanent {
                    message: "this name-reading job names no script".into(),
                })?;
                let request = self.load_name_request(submission_id).await?;
                if let Some((hold, wait)) = gate.held_now() {
                    return Err(held_error(hold, wait));
                }
                let probe = gate.wait_turn(TOKENS_PER_REQUEST_ESTIMATE).await;
                let result = self.grader.read_name(&request).await;
                record_at_gate(gate, probe, result.as_ref().err());
                let reading = result?;
                Ok(Completion::NameRead {
                    submission_id,
                    read: exams::NewNameRead {
                        read_name: reading.name,
                        read_id: reading.student_id,
                        confidence: reading.confidence,
                        model: reading.model,
                    },
                })
            }
            JobKind::UpscaleSubmission => {
                let submission = job.submission_id.ok_or_else(|| GradeError::Permanent {
                    message: "this page job names no submission".into(),
                })?;
                // Imaging errors are about the file itself: retrying will not change them.
                upscale_submission(&self.workspace, submission)
                    .await
                    .map_err(|e| GradeError::Permanent {
                        message: e.to_string(),
                    })?;
                Ok(Completion::Done)
            }
        }
    }
}

/// The UPSCALE_SUBMISSION job body: enhances every page of the submission still pending,
/// one at a time (one decoded page in memory), then tells the front ends to refresh.
pub async fn upscale_submission(
    workspace: &Workspace,
    submission_id: i64,
) -> Result<(), ImagingError> {
    let ids = workspace
        .store
        .run(move |conn| exams::pending_enhancement_pages(conn, submission_id))
        .await
        .map_err(|e| ImagingError::Store(e.to_string()))?;
    let mut changed = false;
    for page_id in ids {
        let store = workspace.store.clone();
        changed |=
            tokio::task::spawn_blocking(move || imaging::enhance::enhance_page(&store, page_id))
                .await
                .map_err(|_| {
                    ImagingError::Store("a background task stopped unexpectedly".into())
                })??;
    }
    if changed {
        workspace.events.emit(EventBody::Changed {
            what: Changed::Submissions,
        });
    }
    Ok(())
}
