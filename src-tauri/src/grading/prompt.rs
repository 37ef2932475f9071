//! The words and the schema sent with every answer.

use serde_json::{json, Value};

use crate::exams::Question;

/// The standing rules: transcribe faithfully, grade only against the rubric, flag rather
/// than guess. Vision models tend to silently fix a student's mistakes while reading, so the
/// instruction to keep them is explicit.
pub const SYSTEM_INSTRUCTION: &str = "You are a careful, fair teaching assistant grading one \
handwritten answer from a scanned exam. First transcribe the answer verbatim, exactly as the \
student wrote it: keep their spelling, arithmetic and notation mistakes, do not correct or \
complete anything, and write [illegible] for anything you cannot read. Then grade the \
transcription only against the question, the rubric and the reference answer given; award \
partial credit only where the rubric allows it, and never exceed the maximum points. Write \
short feedback addressed to the student. If the answer is blank, illegible, off-topic or you \
are unsure, set needs_review to true, say why in review_reason, and give your best cautious \
score rather than a guess. Confidence is your probability (0 to 1) that a teacher would give \
the same score.";

/// The question part of the request: what the answer is judged against.
pub fn question_text(question: &Question) -> String {
    let mut text = format!(
        "Question {label}: {prompt}\nMaximum points: {max}\n",
        label = question.label,
        prompt = question.prompt,
        max = question.max_points
    );
    if !question.rubric.trim().is_empty() {
        text.push_str(&format!("Rubric:\n{}\n", question.rubric.trim()));
    }
    if !question.reference_answer.trim().is_empty() {
        text.push_str(&format!(
            "Reference answer:\n{}\n",
            question.reference_answer.trim()
        ));
    }
    text.push_str("The image shows the student's handwritten answer to this question.");
    text
}

/// The JSON schema of the model's answer; transcription comes first so the model reads
/// before it judges. Property order is kept (serde_json's preserve_order).
pub fn response_schema(max_points: f64) -> Value {
    json!({
        "type": "object",
        "properties": {
            "transcription": {"type": "string", "description": "The answer verbatim, mistakes kept."},
            "score": {"type": "number", "minimum": 0, "maximum": max_points},
            "feedback": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "needs_review": {"type": "boolean"},
            "review_reason": {"type": "string"}
        },
        "required": ["transcription", "score", "feedback", "confidence", "needs_review"]
    })
}
