//! The model's answer, once the provider's envelope is removed: one JSON object in the
//! response schema. Shared by every provider so that a grade means the same thing whichever
//! model gave it, and so that no provider can slip a score past the checks.

use serde::Deserialize;

use super::{GradeError, GradeOutcome, Usage};

/// The fields the response schema asks for. Unknown fields are ignored so a model that adds
/// one (or a newer schema) does not fail a grade.
#[derive(Deserialize)]
struct ModelAnswer {
    transcription: String,
    score: f64,
    feedback: String,
    confidence: Option<f64>,
    #[serde(default)]
    needs_review: bool,
    review_reason: Option<String>,
}

/// A reply the queue should try again: malformed, empty or invalid answers are usually a
/// one-off, and the number of attempts is bounded by the queue.
pub fn invalid(message: impl Into<String>) -> GradeError {
    GradeError::Transient {
        message: message.into(),
        retry_after: None,
    }
}

/// Removes a Markdown code fence some models wrap JSON in even when asked not to.
pub fn strip_fence(text: &str) -> &str {
    let trimmed = text.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// Validates the model's JSON text against the question. A score outside `0..=max_points` is
/// an invalid response, never clamped: clamping would turn a confused model into a silent
/// full or zero mark.
pub fn answer_to_grade(
    text: &str,
    max_points: f64,
    model: String,
    usage: Usage,
    provider: &str,
) -> Result<GradeOutcome, GradeError> {
    let text = strip_fence(text);
    if text.is_empty() {
        return Err(invalid(format!("{provider} sent an empty answer")));
    }
    let answer: ModelAnswer = serde_json::from_str(text).map_err(|e| {
        invalid(format!(
            "{provider}'s grade was not the JSON GradeDesk asked for ({e})"
        ))
    })?;
    if !(answer.score.is_finite() && answer.score >= 0.0 && answer.score <= max_points) {
        return Err(invalid(format!(
            "{provider} gave a score of {} outside 0..{max_points}; asking again",
            answer.score
        )));
    }
    let mut needs_review = answer.needs_review;
    let mut review_reason = answer.review_reason.filter(|r| !r.trim().is_empty());
    // A flag with no reason leaves the teacher guessing; a reason with no flag is a flag.
    if needs_review && review_reason.is_none() {
        review_reason = Some("the model was unsure and gave no reason".into());
    }
    if review_reason.is_some() && !needs_review {
        needs_review = true;
    }
    if answer.transcription.trim().is_empty() && !needs_review {
        needs_review = true;
        review_reason = Some("the model read no writing in this answer".into());
    }
    Ok(GradeOutcome {
        transcription: answer.transcription,
        score: answer.score,
        feedback: answer.feedback,
        confidence: answer.confidence.filter(|c| (0.0..=1.0).contains(c)),
        needs_review,
        review_reason,
        model,
        usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenced_json_and_flags_are_normalised() {
        let text = "```json\n{\"transcription\":\"\",\"score\":0,\"feedback\":\"f\",\"confidence\":0.4,\"needs_review\":false}\n```";
        let grade = answer_to_grade(text, 2.0, "m".into(), Usage::default(), "Gemini").unwrap();
        assert!(grade.needs_review);
        assert!(grade.review_reason.is_some());
        assert!(matches!(
            answer_to_grade(
                "{\"transcription\":\"t\",\"score\":-1,\"feedback\":\"f\"}",
                2.0,
                "m".into(),
                Usage::default(),
                "Gemini"
            ),
            Err(GradeError::Transient { .. })
        ));
    }
}
