//! Grading an answer crop: the `Grader` trait, the request it takes, and how failures are
//! classified so the queue knows whether to retry, wait, stop, or hand the answer to the teacher.

pub mod batch_api;
pub mod endpoint;
pub mod estimate;
pub mod files_api;
pub mod gemini;
pub mod image_prep;
pub mod names;
pub mod openai;
pub mod pricing;
pub mod prompt;
pub mod response;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;

use crate::exams::{self, Question};
pub use names::{NameOutcome, NameRequest};

/// What a grader needs: the answer image and the question it answers.
#[derive(Debug, Clone)]
pub struct GradeRequest {
    pub image: Vec<u8>,
    pub mime_type: String,
    pub question: Question,
    /// 0 for the first grading; 1 asks for a second, independent sample (double grading).
    pub sample: u32,
}

/// Token counts the provider reported, for cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub prompt_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub thoughts_tokens: Option<i64>,
}

impl Usage {
    /// Both calls' tokens (a count either side lacks counts as 0).
    pub fn plus(&self, other: &Usage) -> Usage {
        let sum = |x: Option<i64>, y: Option<i64>| match (x, y) {
            (None, None) => None,
            (x, y) => Some(x.unwrap_or(0) + y.unwrap_or(0)),
        };
        Usage {
            prompt_tokens: sum(self.prompt_tokens, other.prompt_tokens),
            output_tokens: sum(self.output_tokens, other.output_tokens),
            thoughts_tokens: sum(self.thoughts_tokens, other.thoughts_tokens),
        }
    }
}

/// A validated grade from the model.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeOutcome {
    pub transcription: String,
    /// The core's score: the items' sum when the question has items, else the model's.
    pub score: f64,
    /// Whether `score` was computed from rubric items (so an item edit re-scores it).
    pub from_items: bool,
    /// The rubric items the model applied, with its evidence.
    pub applied: Vec<crate::rubric::AppliedItem>,
    /// Why the core itself sends the answer to the teacher (see `rubric::guard`).
    pub core_flag: Option<String>,
    pub feedback: String,
    pub confidence: Option<f64>,
    pub needs_review: bool,
    pub review_reason: Option<String>,
    pub model: String,
    pub usage: Usage,
}

impl GradeOutcome {
    /// The grade as the store keeps it, with the second grading when there was one.
    pub fn into_new_grade(
        self,
        max_points: f64,
        second: Option<exams::SecondOpinion>,
    ) -> exams::NewGrade {
        exams::NewGrade {
            score: self.score,
            max_points,
            feedback: self.feedback,
            transcription: self.transcription,
            confidence: self.confidence,
            needs_review: self.needs_review,
            review_reason: self.review_reason,
            model: self.model,
            prompt_tokens: self.usage.prompt_tokens,
            output_tokens: self.usage.output_tokens,
            thoughts_tokens: self.usage.thoughts_tokens,
            from_items: self.from_items,
            applied: self.applied,
            core_flag: self.core_flag,
            second,
        }
    }

    /// This grade as the second opinion of another.
    pub fn as_second_opinion(&self) -> exams::SecondOpinion {
        exams::SecondOpinion {
            score: self.score,
            items: self.applied.iter().map(|a| a.item_id).collect(),
            transcription: self.transcription.clone(),
            feedback: self.feedback.clone(),
            model: self.model.clone(),
        }
    }
}

/// Why a grading attempt failed, in the terms the queue acts on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GradeError {
    /// Try again later (overload, timeout, a reset connection, a malformed answer).
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The provider's rate limit: the whole pool waits `retry_after`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
        per_day: bool,
    },
    /// The network or the provider's host cannot be reached: wait for the network without
    /// spending the job's attempts.
    #[error("{message}")]
    Offline { message: String },
    /// The provider will not grade this answer (safety, recitation, a blocked prompt):
    /// retrying changes nothing, so the teacher grades it.
    #[error("{message}")]
    Refused { message: String },
    /// The request itself is wrong for this answer; retrying changes nothing.
    #[error("{message}")]
    Permanent { message: String },
    /// Grading cannot go on until the teacher acts (no key, key rejected, model missing).
    /// No job spends an attempt on it.
    #[error("{message}")]
    NeedsTeacher { message: String },
}

/// A model that grades one answer crop.
#[async_trait]
pub trait Grader: Send + Sync {
    /// Grades one answer. Never retries a failed call by itself (the queue owns retries and
    /// their backoff); the one exception is a MAX_TOKENS cut, which is re-asked once at once
    /// with a larger output budget, because that is a different request, not a retry.
    async fn grade(&self, request: &GradeRequest) -> Result<GradeOutcome, GradeError>;

    /// Reads a script's name and ID boxes (the roster matching's input). A provider that
    /// cannot leaves the scripts to the teacher's matching screen.
    async fn read_name(&self, _request: &NameRequest) -> Result<NameOutcome, GradeError> {
        Err(GradeError::Permanent {
            message: "this provider does not read names: match the scripts by hand".into(),
        })
    }
}

/// The API key, shared between the settings (which change it) and the grader (which reads
/// it on every request), so a key entered while grading is halted is used at once. Its
/// `Debug` never shows the key, so it cannot leak through a `{:?}` in a log or a panic.
#[derive(Clone, Default)]
pub struct ApiKey(Arc<RwLock<Option<String>>>);

impl ApiKey {
    /// A key cell holding `key` (blank counts as none).
    pub fn new(key: Option<String>) -> Self {
        Self(Arc::new(RwLock::new(key.filter(|k| !k.trim().is_empty()))))
    }

    /// The current key, if any.
    pub fn get(&self) -> Option<String> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the key.
    pub fn set(&self, key: Option<String>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = key.filter(|k| !k.trim().is_empty());
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.get().is_some() {
            "ApiKey(<set>)"
        } else {
            "ApiKey(<none>)"
        })
    }
}

/// A grader that can be replaced while the pool runs, so a change of model, provider or base
/// URL in Settings applies to the next answer without restarting the window.
pub struct SwappableGrader(RwLock<Arc<dyn Grader>>);

impl SwappableGrader {
    /// Wraps the first grader.
    pub fn new(inner: Arc<dyn Grader>) -> Self {
        Self(RwLock::new(inner))
    }

    /// Replaces the grader; answers already being graded finish with the old one.
    pub fn replace(&self, inner: Arc<dyn Grader>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = inner;
    }
}

#[async_trait]
impl Grader for SwappableGrader {
    async fn grade(&self, request: &GradeRequest) -> Result<GradeOutcome, GradeError> {
        let inner = self.0.read().unwrap_or_else(|p| p.into_inner()).clone();
        inner.grade(request).await
    }

    async fn read_name(&self, request: &NameRequest) -> Result<NameOutcome, GradeError> {
        let inner = self.0.read().unwrap_or_else(|p| p.into_inner()).clone();
        inner.read_name(request).await
    }
}
