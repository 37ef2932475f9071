//! Grading an answer crop: the `Grader` trait, the request it takes, and how failures are
//! classified so the queue knows whether to retry, wait, stop, or hand the answer to the teacher.

pub mod gemini;
pub mod prompt;

use std::time::Duration;

use async_trait::async_trait;

use crate::exams::Question;

/// What a grader needs: the answer image and the question it answers.
#[derive(Debug, Clone)]
pub struct GradeRequest {
    pub image: Vec<u8>,
    pub mime_type: String,
    pub question: Question,
}

/// Token counts the provider reported, for cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub prompt_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub thoughts_tokens: Option<i64>,
}

/// A validated grade from the model.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeOutcome {
    pub transcription: String,
    pub score: f64,
    pub feedback: String,
    pub confidence: Option<f64>,
    pub needs_review: bool,
    pub review_reason: Option<String>,
    pub model: String,
    pub usage: Usage,
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
    /// Grades one answer; never retries by itself (the queue owns retries).
    async fn grade(&self, request: &GradeRequest) -> Result<GradeOutcome, GradeError>;
}
