//! Google Gemini's `generateContent` REST API: the request GradeDesk sends and how each
//! answer or error of the real API is classified.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::prompt::{question_text, response_schema, SYSTEM_INSTRUCTION};
use super::{GradeError, GradeOutcome, GradeRequest, Grader, Usage};

/// The public endpoint; a proxy or the test fake replaces it through `GEMINI_BASE_URL`.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// A current, inexpensive Flash model that reads handwriting well.
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash";

/// Where and how to reach Gemini. The key is held here only, never logged or stored.
#[derive(Clone)]
pub struct GeminiConfig {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for GeminiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl GeminiConfig {
    /// Reads `GEMINI_API_KEY`, `GEMINI_BASE_URL` and `GRADEDESK_MODEL`.
    pub fn from_env() -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            base_url: non_empty("GEMINI_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into()),
            model: non_empty("GRADEDESK_MODEL").unwrap_or_else(|| DEFAULT_MODEL.into()),
            api_key: non_empty("GEMINI_API_KEY"),
            timeout: Duration::from_secs(120),
        }
    }
}

/// The Gemini grader.
pub struct GeminiGrader {
    config: GeminiConfig,
    http: reqwest::Client,
}

impl GeminiGrader {
    /// Builds the HTTP client once; connections are reused across jobs.
    pub fn new(config: GeminiConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { config, http })
    }

    fn url(&self) -> String {
        format!(
            "{}/v1beta/models/{}:generateContent",
            self.config.base_url.trim_end_matches('/'),
            self.config.model
        )
    }
}

/// The thinking settings differ by model family: 2.5 takes a token budget, 3.x a level.
/// Sending both is an error, so exactly one is chosen.
fn thinking_config(model: &str) -> Option<Value> {
    if model.starts_with("gemini-3") {
        Some(json!({"thinkingLevel": "low"}))
    } else if model.starts_with("gemini-2.5") {
        Some(json!({"thinkingBudget": 1024}))
    } else {
        None
    }
}

/// The `generateContent` body for one answer.
pub fn request_body(model: &str, request: &GradeRequest) -> Value {
    let image = base64::engine::general_purpose::STANDARD.encode(&request.image);
    let mut generation_config = json!({
        "responseMimeType": "application/json",
        "responseJsonSchema": response_schema(request.question.max_points),
        // Room for thinking plus a long transcription.
        "maxOutputTokens": 8192
    });
    if let Some(thinking) = thinking_config(model) {
        generation_config["thinkingConfig"] = thinking;
    }
    // Gemini 3 is tuned for its default temperature (1.0); lower it only for older models.
    if !model.starts_with("gemini-3") {
        generation_config["temperature"] = json!(0.2);
    }
    json!({
        "systemInstruction": {"parts": [{"text": SYSTEM_INSTRUCTION}]},
        "contents": [{
            "role": "user",
            "parts": [
                {"inlineData": {"mimeType": request.mime_type, "data": image}},
                {"text": question_text(&request.question)}
            ]
        }],
        "generationConfig": generation_config
    })
}

#[async_trait]
impl Grader for GeminiGrader {
    async fn grade(&self, request: &GradeRequest) -> Result<GradeOutcome, GradeError> {
        let Some(key) = self.config.api_key.as_deref() else {
            return Err(GradeError::NeedsTeacher {
                message: "waiting for an API key: set GEMINI_API_KEY (or add a key in Settings)"
                    .into(),
            });
        };
        let response = self
            .http
            .post(self.url())
            .header("x-goog-api-key", key)
            .json(&request_body(&self.config.model, request))
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(transport_error)?;
        if !(200..300).contains(&status) {
            return Err(classify_error(status, &text, &self.config.model));
        }
        parse_success(&text, request.question.max_points, &self.config.model)
    }
}

fn transport_error(error: reqwest::Error) -> GradeError {
    if error.is_connect() {
        return GradeError::Offline {
            message: "waiting for network: Gemini cannot be reached".into(),
        };
    }
    let message = if error.is_timeout() {
        "Gemini did not answer in time".to_string()
    } else {
        format!("the connection to Gemini failed: {}", without_url(&error))
    };
    GradeError::Transient {
        message,
        retry_after: None,
    }
}

/// reqwest errors print their URL; ours carry no secret, but keep messages short anyway.
fn without_url(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    let mut last = error.to_string();
    while let Some(e) = source {
        last = e.to_string();
        source = e.source();
    }
    last
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ApiError,
}

#[derive(Deserialize, Default)]
struct ApiError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Value>,
}

/// Reads a protobuf JSON duration such as `"45.837s"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Turns an HTTP error answer into what the queue should do about it.
pub fn classify_error(status: u16, body: &str, model: &str) -> GradeError {
    let error = serde_json::from_str::<ErrorEnvelope>(body)
        .map(|e| e.error)
        .unwrap_or_default();
    let detail_of = |kind: &str| {
        error
            .details
            .iter()
            .find(|d| d["@type"].as_str().is_some_and(|t| t.ends_with(kind)))
    };
    let reason = detail_of("google.rpc.ErrorInfo")
        .and_then(|d| d["reason"].as_str())
        .unwrap_or("");
    let retry_after = detail_of("google.rpc.RetryInfo")
        .and_then(|d| d["retryDelay"].as_str())
        .and_then(parse_duration);
    let short = if error.message.is_empty() {
        format!("HTTP {status}")
    } else {
        error.message.chars().take(300).collect()
    };
    match status {
        400 if reason == "API_KEY_INVALID" || error.message.contains("API key not valid") => {
            GradeError::NeedsTeacher {
                message: "API key rejected by Gemini: check the key in Settings or GEMINI_API_KEY"
                    .into(),
            }
        }
        401 | 403 => GradeError::NeedsTeacher {
            message: format!(
                "API key rejected by Gemini ({}): check the key in Settings or GEMINI_API_KEY",
                short
            ),
        },
        404 => GradeError::NeedsTeacher {
            message: format!(
                "model not available: Gemini does not offer \"{model}\" to this key; pick another model in Settings (GRADEDESK_MODEL)"
            ),
        },
        429 => {
            let per_day = detail_of("google.rpc.QuotaFailure")
                .and_then(|d| d["violations"].as_array())
                .is_some_and(|v| {
                    v.iter()
                        .any(|q| q["quotaId"].as_str().is_some_and(|id| id.contains("PerDay")))
                });
            GradeError::RateLimited {
                message: if per_day {
                    "Gemini's daily quota is used up; grading resumes when it resets".into()
                } else {
                    "Gemini's rate limit was reached; waiting before the next request".into()
                },
                retry_after,
                per_day,
            }
        }
        500 | 502 | 503 | 504 => GradeError::Transient {
            message: format!("Gemini is unavailable for now ({short})"),
            retry_after,
        },
        _ if error.status == "RESOURCE_EXHAUSTED" => GradeError::RateLimited {
            message: "Gemini's rate limit was reached".into(),
            retry_after,
            per_day: false,
        },
        _ => GradeError::Permanent {
            message: format!("Gemini refused the request (HTTP {status}): {short}"),
        },
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    prompt_token_count: Option<i64>,
    candidates_token_count: Option<i64>,
    thoughts_token_count: Option<i64>,
}

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

/// Turns a 200 answer into a grade, or into the reason it is not one.
pub fn parse_success(body: &str, max_points: f64, model: &str) -> Result<GradeOutcome, GradeError> {
    let invalid = |message: String| GradeError::Transient {
        message,
        retry_after: None,
    };
    let response: GenerateResponse = serde_json::from_str(body).map_err(|e| {
        invalid(format!(
            "Gemini sent an answer GradeDesk could not read ({e})"
        ))
    })?;
    if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
        return Err(GradeError::Refused {
            message: format!("Gemini blocked this answer ({reason}); please grade it by hand"),
        });
    }
    let candidate = response
        .candidates
        .into_iter()
        .next()
        .ok_or_else(|| invalid("Gemini sent no answer".into()))?;
    let finish = candidate.finish_reason.unwrap_or_default();
    match finish.as_str() {
        "" | "STOP" => {}
        "MAX_TOKENS" => {
            return Err(invalid(
                "Gemini ran out of output tokens before finishing the grade".into(),
            ))
        }
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            return Err(GradeError::Refused {
                message: format!(
                    "Gemini would not grade this answer ({finish}); please grade it by hand"
                ),
            })
        }
        other => {
            return Err(invalid(format!(
                "Gemini stopped early ({other}); trying again"
            )))
        }
    }
    let text: String = candidate
        .content
        .map(|c| {
            c.parts
                .into_iter()
                .filter(|p| !p.thought)
                .filter_map(|p| p.text)
                .collect()
        })
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(invalid("Gemini sent an empty answer".into()));
    }
    let answer: ModelAnswer = serde_json::from_str(text.trim())
        .map_err(|e| invalid(format!("Gemini's grade was not valid JSON ({e})")))?;
    if !(answer.score.is_finite() && answer.score >= 0.0 && answer.score <= max_points) {
        return Err(invalid(format!(
            "Gemini gave a score of {} outside 0..{max_points}",
            answer.score
        )));
    }
    let usage = response.usage_metadata.map(|u| Usage {
        prompt_tokens: u.prompt_token_count,
        output_tokens: u.candidates_token_count,
        thoughts_tokens: u.thoughts_token_count,
    });
    Ok(GradeOutcome {
        transcription: answer.transcription,
        score: answer.score,
        feedback: answer.feedback,
        confidence: answer.confidence.filter(|c| (0.0..=1.0).contains(c)),
        needs_review: answer.needs_review,
        review_reason: answer.review_reason.filter(|r| !r.trim().is_empty()),
        model: response.model_version.unwrap_or_else(|| model.to_string()),
        usage: usage.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::Question;

    fn question() -> Question {
        Question {
            id: 1,
            label: "Q1".into(),
            prompt: "What is 2+2?".into(),
            max_points: 2.0,
            rubric: "2 for 4".into(),
            reference_answer: "4".into(),
        }
    }

    #[test]
    fn body_uses_documented_camel_case_fields_and_raw_base64() {
        let request = GradeRequest {
            image: vec![1, 2, 3],
            mime_type: "image/png".into(),
            question: question(),
        };
        let body = request_body("gemini-2.5-flash", &request);
        let parts = &body["contents"][0]["parts"];
        assert_eq!(parts[0]["inlineData"]["data"], "AQID");
        assert_eq!(parts[0]["inlineData"]["mimeType"], "image/png");
        assert!(parts[1]["text"]
            .as_str()
            .unwrap()
            .contains("Maximum points: 2"));
        let config = &body["generationConfig"];
        assert_eq!(config["responseMimeType"], "application/json");
        assert_eq!(
            config["responseJsonSchema"]["properties"]["score"]["maximum"],
            2.0
        );
        assert_eq!(config["thinkingConfig"]["thinkingBudget"], 1024);
        assert!(config["thinkingConfig"].get("thinkingLevel").is_none());
        let keys: Vec<_> = config["responseJsonSchema"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys[0], "transcription");
        let v3 = request_body("gemini-3-flash-preview", &request);
        assert_eq!(
            v3["generationConfig"]["thinkingConfig"],
            json!({"thinkingLevel": "low"})
        );
    }

    #[test]
    fn classifies_the_real_error_bodies() {
        let rate = r#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED",
          "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"45.837s"}]}}"#;
        match classify_error(429, rate, "m") {
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
        let daily = r#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[
          {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}"#;
        assert!(matches!(
            classify_error(429, daily, "m"),
            GradeError::RateLimited { per_day: true, .. }
        ));
        let key = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
          "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#;
        assert!(matches!(
            classify_error(400, key, "m"),
            GradeError::NeedsTeacher { .. }
        ));
        assert!(matches!(
            classify_error(404, "{}", "m"),
            GradeError::NeedsTeacher { .. }
        ));
        assert!(matches!(
            classify_error(503, "not json", "m"),
            GradeError::Transient { .. }
        ));
        assert!(matches!(
            classify_error(400, "{}", "m"),
            GradeError::Permanent { .. }
        ));
    }

    #[test]
    fn parses_success_and_refusals() {
        let ok = r#"{"candidates":[{"content":{"parts":[{"text":"thinking","thought":true},
            {"text":"{\"transcription\":\"2+2=5\",\"score\":0.5,\"feedback\":\"close\",\"confidence\":0.9,\"needs_review\":false}"}]},
            "finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":300,"candidatesTokenCount":40,"thoughtsTokenCount":12},
            "modelVersion":"gemini-2.5-flash"}"#;
        let grade = parse_success(ok, 2.0, "m").unwrap();
        assert_eq!(grade.score, 0.5);
        assert_eq!(grade.transcription, "2+2=5");
        assert_eq!(grade.usage.thoughts_tokens, Some(12));
        let too_high = ok.replace("\\\"score\\\":0.5", "\\\"score\\\":3");
        assert!(matches!(
            parse_success(&too_high, 2.0, "m"),
            Err(GradeError::Transient { .. })
        ));
        let blocked = r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#;
        assert!(matches!(
            parse_success(blocked, 2.0, "m"),
            Err(GradeError::Refused { .. })
        ));
        let safety = r#"{"candidates":[{"finishReason":"SAFETY"}]}"#;
        assert!(matches!(
            parse_success(safety, 2.0, "m"),
            Err(GradeError::Refused { .. })
        ));
        let empty = r#"{"candidates":[{"content":{"parts":[]},"finishReason":"STOP"}]}"#;
        assert!(matches!(
            parse_success(empty, 2.0, "m"),
            Err(GradeError::Transient { .. })
        ));
        let odd = r#"{"candidates":[{"finishReason":"SOMETHING_NEW"}]}"#;
        assert!(matches!(
            parse_success(odd, 2.0, "m"),
            Err(GradeError::Transient { .. })
        ));
    }
}
