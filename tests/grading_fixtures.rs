//! Real-format Gemini responses (assets/gemini_fixtures) parse into the grade or the
//! classified failure the queue acts on.

use std::time::Duration;

use gradedesk::exams::Question;
use gradedesk::grading::gemini::{classify_error, parse_response, Parsed};
use gradedesk::grading::GradeError;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/gemini_fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn successes_parse_into_grades_with_usage() {
    let Ok(Parsed::Grade(grade)) = parse_response(&fixture("success.json"), &out_of(2.0), "m")
    else {
        panic!("success.json is a grade");
    };
    assert_eq!(grade.score, 1.0);
    assert!(
        grade.transcription.contains("x = 6"),
        "the student's mistake is kept"
    );
    assert_eq!(grade.model, "gemini-2.5-flash");
    assert_eq!(
        (
            grade.usage.prompt_tokens,
            grade.usage.output_tokens,
            grade.usage.thoughts_tokens
        ),
        (Some(559), Some(48), Some(524))
    );
    assert!(!grade.needs_review);
    // Unknown fields and enum values are tolerated.
    let Ok(Parsed::Grade(grade)) = parse_response(&fixture("unknown_enum.json"), &out_of(2.0), "m")
    else {
        panic!("unknown_enum.json is a grade");
    };
    assert_eq!(grade.score, 1.0);
    // The same grade is invalid for a question worth less: never clamped.
    assert!(matches!(
        parse_response(&fixture("success.json"), &out_of(0.5), "m"),
        Err(GradeError::Transient { .. })
    ));
}

#[test]
fn refusals_are_not_retried_and_say_why() {
    for (name, word) in [
        ("blocked_prompt.json", "PROHIBITED_CONTENT"),
        ("safety.json", "SAFETY"),
        ("recitation.json", "RECITATION"),
    ] {
        match parse_response(&fixture(name), &out_of(2.0), "m") {
            Err(GradeError::Refused { message }) => {
                assert!(message.contains(word), "{name}: {message}");
                assert!(message.contains("by hand"), "{name}: {message}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_cut_answer_and_empty_parts_are_told_apart() {
    match parse_response(&fixture("max_tokens.json"), &out_of(3.0), "m") {
        Ok(Parsed::MaxTokens(usage)) => assert_eq!(usage.thoughts_tokens, Some(3031)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_response(&fixture("empty_parts.json"), &out_of(2.0), "m"),
        Err(GradeError::Transient { .. })
    ));
    assert!(matches!(
        parse_response("<html>502 Bad Gateway</html>", &out_of(2.0), "m"),
        Err(GradeError::Transient { .. })
    ));
}

#[test]
fn error_bodies_are_classified() {
    match classify_error(429, &fixture("error_429_retry_info.json"), "m") {
        GradeError::RateLimited {
            retry_after,
            per_day,
            ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_millis(45_837)));
            assert!(!per_day);
        }
        other => panic!("{other:?}"),
    }
    match classify_error(429, &fixture("error_429_per_day.json"), "m") {
        GradeError::RateLimited {
            retry_after: Some(wait),
            per_day: true,
            message,
        } => {
            assert!(
                wait > Duration::from_secs(60),
                "waits for the reset, not 12 s"
            );
            assert!(wait <= Duration::from_secs(25 * 3600));
            assert!(message.contains("midnight Pacific"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        classify_error(503, &fixture("error_503.json"), "m"),
        GradeError::Transient { .. }
    ));
    for (status, name, words) in [
        (400, "error_400_api_key_invalid.json", "API key rejected"),
        (403, "error_403.json", "API key rejected"),
        (404, "error_404_model.json", "model not available"),
        (400, "error_400_location.json", "billing and region"),
    ] {
        match classify_error(status, &fixture(name), "gemini-9-ultra") {
            GradeError::NeedsTeacher { message } => {
                assert!(message.contains(words), "{name}: {message}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// A plain question worth `max_points` (no rubric items): the model's score is kept.
fn out_of(max_points: f64) -> Question {
    Question {
        max_points,
        ..Default::default()
    }
}
