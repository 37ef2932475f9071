//! Google Gemini's `generateContent` REST API: the request GradeDesk sends and how each
//! answer or error of the real API is classified.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::endpoint::{
    http_client, redirect_error, secret_header, valid_model_id, ClientError, Endpoint,
    EndpointError,
};
use super::names::{self, NameOutcome, NameRequest};
use super::pricing::Family;
use super::prompt::{response_schema, system_instruction, user_text};
use super::response::{answer_to_grade, invalid};
use super::{ApiKey, GradeError, GradeOutcome, GradeRequest, Grader, Usage};
use crate::exams::Question;

/// The public endpoint; a proxy or the test fake replaces it through `GEMINI_BASE_URL`.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// A current, inexpensive Flash model that reads handwriting well.
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash";

/// Where and how to reach Gemini, and how to ask it. The key lives in an [`ApiKey`] whose
/// `Debug` is redacted, so printing the config never shows it.
#[derive(Clone, Debug)]
pub struct GeminiConfig {
    pub base_url: String,
    pub model: String,
    pub api_key: ApiKey,
    pub timeout: Duration,
    /// Gemini 2.x thinking budget in tokens (counted inside `maxOutputTokens`).
    pub thinking_budget: i64,
    /// Gemini 3.x thinking level (`low` suits grading against a rubric).
    pub thinking_level: String,
    /// Gemini 3.x media resolution: `low`, `medium` or `high` (handwriting needs high).
    pub media_resolution: String,
    /// Output tokens reserved for the answer itself, on top of thinking.
    pub answer_tokens: i64,
}

impl GeminiConfig {
    /// The defaults for `model` at `base_url`.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>, api_key: ApiKey) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key,
            timeout: Duration::from_secs(120),
            thinking_budget: 1024,
            thinking_level: "low".into(),
            media_resolution: "high".into(),
            answer_tokens: 2048,
        }
    }

    /// Reads `GEMINI_API_KEY`, `GEMINI_BASE_URL` and `GRADEDESK_MODEL` (tests and scripts).
    pub fn from_env() -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self::new(
            non_empty("GEMINI_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into()),
            non_empty("GRADEDESK_MODEL").unwrap_or_else(|| DEFAULT_MODEL.into()),
            ApiKey::new(non_empty("GEMINI_API_KEY")),
        )
    }

    /// `maxOutputTokens` for the first request: thinking plus room for the answer (on 2.5
    /// thinking is counted inside this limit, so a tight limit yields half a JSON object).
    pub fn first_output_budget(&self) -> i64 {
        match Family::of(&self.model) {
            Family::Gemini3 => self.answer_tokens + 4096,
            _ => self.answer_tokens + self.thinking_budget.max(0),
        }
    }

    /// `maxOutputTokens` for the one re-ask after a MAX_TOKENS cut.
    pub fn second_output_budget(&self) -> i64 {
        (self.first_output_budget() * 4).min(65_536)
    }
}

/// The Gemini grader.
pub struct GeminiGrader {
    config: GeminiConfig,
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl GeminiGrader {
    /// Builds the HTTP client once; connections are reused across jobs. Refuses a base URL
    /// the key may not go to (see [`Endpoint::parse`]) and a model id that is not a plain
    /// name (it becomes part of the URL's path).
    pub fn new(config: GeminiConfig) -> Result<Self, ClientError> {
        let endpoint = Endpoint::parse(&config.base_url)?;
        if !valid_model_id(&config.model) {
            return Err(EndpointError(format!(
                "\"{}\" is not a Gemini model id (letters, digits, '.', '_' and '-', such as {DEFAULT_MODEL})",
                config.model
            ))
            .into());
        }
        let http = http_client(&endpoint, config.timeout)?;
        Ok(Self {
            config,
            endpoint,
            http,
        })
    }

    fn url(&self) -> String {
        format!(
            "{}/v1beta/models/{}:generateContent",
            self.endpoint.base(),
            self.config.model.trim_start_matches("models/")
        )
    }

    /// The POST of `body` with the key in its header, marked sensitive.
    pub fn build_request(&self, key: &str, body: &Value) -> Result<reqwest::Request, GradeError> {
        let header = secret_header(key).map_err(|_| GradeError::NeedsTeacher {
            message:
                "the API key holds characters no HTTP header may carry: paste it again in Settings"
                    .into(),
        })?;
        self.http
            .post(self.url())
            .header("x-goog-api-key", header)
            .json(body)
            .build()
            .map_err(transport_error)
    }

    /// Sends one request and reads the answer; a redirect is refused, not followed.
    async fn send(&self, key: &str, body: &Value) -> Result<(u16, String), GradeError> {
        let request = self.build_request(key, body)?;
        let response = self.http.execute(request).await.map_err(transport_error)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            return Err(redirect_error(
                &self.endpoint,
                status.as_u16(),
                location,
                "Gemini",
            ));
        }
        let text = response.text().await.map_err(transport_error)?;
        Ok((status.as_u16(), text))
    }

    async fn call(
        &self,
        key: &str,
        request: &GradeRequest,
        max_output_tokens: i64,
    ) -> Result<Parsed, GradeError> {
        let body = request_body(&self.config, request, max_output_tokens);
        let (status, text) = self.send(key, &body).await?;
        if !(200..300).contains(&status) {
            return Err(classify_error(status, &text, &self.config.model));
        }
        parse_response(&text, &request.question, &self.config.model)
    }

    /// Asks Gemini for one small answer to check the key and the model (Settings' "test
    /// key"). Uses the same classification as grading, so the message is the same.
    pub async fn test_key(&self) -> Result<(), GradeError> {
        let key = self.config.api_key.get().ok_or_else(no_key)?;
        let body = json!({
            "contents": [{"role": "user", "parts": [{"text": "Reply with the word OK."}]}],
            "generationConfig": {"maxOutputTokens": self.config.first_output_budget()}
        });
        let (status, text) = self.send(&key, &body).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(classify_error(status, &text, &self.config.model))
        }
    }
}

fn no_key() -> GradeError {
    GradeError::NeedsTeacher {
        message: "no API key: add your Gemini API key in Settings (or `gradedesk key set`, or GEMINI_API_KEY)"
            .into(),
    }
}

/// The thinking settings differ by model family: 2.x takes a token budget, 3.x a level.
/// Sending both is a 400, so exactly one is chosen.
fn thinking_config(config: &GeminiConfig) -> Option<Value> {
    match Family::of(&config.model) {
        Family::Gemini3 => Some(json!({"thinkingLevel": config.thinking_level})),
        Family::Gemini2 if config.model.contains("2.5") => {
            Some(json!({"thinkingBudget": config.thinking_budget}))
        }
        _ => None,
    }
}

/// The generation settings every request shares: JSON in `schema`, the output budget, the
/// thinking and sampling settings of the model's family.
fn generation_config(config: &GeminiConfig, schema: Value, max_output_tokens: i64) -> Value {
    let mut generation_config = json!({
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
        "maxOutputTokens": max_output_tokens
    });
    if let Some(thinking) = thinking_config(config) {
        generation_config["thinkingConfig"] = thinking;
    }
    match Family::of(&config.model) {
        // Google advises leaving Gemini 3 at its default temperature (1.0): lower values can
        // make it loop. Its image cost is set by the media resolution instead of tiles.
        Family::Gemini3 => {
            generation_config["mediaResolution"] = json!(format!(
                "MEDIA_RESOLUTION_{}",
                config.media_resolution.trim().to_ascii_uppercase()
            ));
        }
        // Older models: low temperature for consistent marks between similar answers.
        _ => generation_config["temperature"] = json!(0.2),
    }
    generation_config
}

fn inline_image(bytes: &[u8], mime_type: &str) -> Value {
    json!({"inlineData": {
        "mimeType": mime_type,
        "data": base64::engine::general_purpose::STANDARD.encode(bytes)
    }})
}

/// The `generateContent` body for one answer.
pub fn request_body(
    config: &GeminiConfig,
    request: &GradeRequest,
    max_output_tokens: i64,
) -> Value {
    json!({
        "systemInstruction": {"parts": [{"text": system_instruction(&request.question)}]},
        "contents": [{
            "role": "user",
            "parts": [
                inline_image(&request.image, &request.mime_type),
                {"text": user_text(&request.question)}
            ]
        }],
        "generationConfig": sampled(generation_config(
            config,
            response_schema(&request.question),
            max_output_tokens
        ), request.sample)
    })
}

/// A second, independent sample asks with its own seed (Gemini's `generationConfig.seed`).
fn sampled(mut generation_config: Value, sample: u32) -> Value {
    if sample > 0 {
        generation_config["seed"] = json!(sample);
    }
    generation_config
}

/// The `generateContent` body that reads a script's name and ID boxes.
pub fn name_request_body(
    config: &GeminiConfig,
    request: &NameRequest,
    max_output_tokens: i64,
) -> Value {
    let mut parts: Vec<Value> = [&request.name_image, &request.id_image]
        .into_iter()
        .flatten()
        .map(|(bytes, mime)| inline_image(bytes, mime))
        .collect();
    parts.push(json!({"text": names::parts_text(request)}));
    json!({
        "systemInstruction": {"parts": [{"text": names::NAME_INSTRUCTION}]},
        "contents": [{"role": "user", "parts": parts}],
        "generationConfig": generation_config(config, names::name_schema(), max_output_tokens)
    })
}

fn add_usage(a: &Usage, b: &Usage) -> Usage {
    a.plus(b)
}

#[async_trait]
impl Grader for GeminiGrader {
    async fn grade(&self, request: &GradeRequest) -> Result<GradeOutcome, GradeError> {
        let key = self.config.api_key.get().ok_or_else(no_key)?;
        let first = self.config.first_output_budget();
        let spent = match self.call(&key, request, first).await? {
            Parsed::Grade(grade) => return Ok(grade),
            Parsed::MaxTokens(usage) => usage,
        };
        let second = self.config.second_output_budget();
        tracing::info!(
            first,
            second,
            "Gemini ran out of output tokens; asking once more with a larger budget"
        );
        match self.call(&key, request, second).await? {
            Parsed::Grade(mut grade) => {
                // The cut answer was billed too: the grade's cost includes it.
                grade.usage = add_usage(&grade.usage, &spent);
                Ok(grade)
            }
            Parsed::MaxTokens(_) => Err(GradeError::Permanent {
                message: format!(
                    "Gemini ran out of output tokens twice ({first}, then {second}) before finishing the grade; the answer may be very long. Grade it by hand, or lower the thinking budget in Settings and grade it again"
                ),
            }),
        }
    }

    async fn read_name(&self, request: &NameRequest) -> Result<NameOutcome, GradeError> {
        let key = self.config.api_key.get().ok_or_else(no_key)?;
        let mut spent = Usage::default();
        for budget in [
            self.config.first_output_budget(),
            self.config.second_output_budget(),
        ] {
            let body = name_request_body(&self.config, request, budget);
            let (status, text) = self.send(&key, &body).await?;
            if !(200..300).contains(&status) {
                return Err(classify_error(status, &text, &self.config.model));
            }
            match read_envelope(&text, &self.config.model)? {
                Envelope::Text { text, usage, model } => {
                    let usage = add_usage(&usage, &spent);
                    return names::answer_to_reading(&text, model, usage, "Gemini");
                }
                Envelope::MaxTokens(usage) => spent = add_usage(&spent, &usage),
            }
        }
        Err(invalid(
            "Gemini ran out of output tokens reading the name; asking again",
        ))
    }
}

/// A failed call in the terms the queue acts on: no connection is Offline, the rest Transient.
pub fn transport_error(error: reqwest::Error) -> GradeError {
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

/// How long until Gemini's per-day quotas reset: midnight Pacific time (Google's
/// documented reset), plus a minute of margin. US daylight saving time is applied.
pub fn until_daily_reset(now_ms: i64) -> Duration {
    let now = now_ms.div_euclid(1000);
    let offset_hours = if pacific_dst(now) { 7 } else { 8 };
    let local = now - offset_hours * 3600;
    let next_midnight_local = (local.div_euclid(86_400) + 1) * 86_400;
    Duration::from_secs((next_midnight_local - local + 60) as u64)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// US daylight saving time: from the second Sunday of March, 2:00 PST (10:00 UTC), to the
/// first Sunday of November, 2:00 PDT (09:00 UTC).
fn pacific_dst(unix_seconds: i64) -> bool {
    let (year, _, _) = civil_from_days(unix_seconds.div_euclid(86_400));
    let nth_sunday = |month: u32, n: i64| {
        let first = days_from_civil(year, month, 1);
        // 1970-01-01 was a Thursday (weekday 4, Sunday = 0).
        let weekday = (first + 4).rem_euclid(7);
        first + (7 - weekday) % 7 + 7 * (n - 1)
    };
    let start = nth_sunday(3, 2) * 86_400 + 10 * 3600;
    let end = nth_sunday(11, 1) * 86_400 + 9 * 3600;
    (start..end).contains(&unix_seconds)
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
    let key_rejected = |detail: &str| {
        GradeError::NeedsTeacher {
        message: format!(
            "API key rejected by Gemini ({detail}): check the key in Settings (`gradedesk key set`) or GEMINI_API_KEY"
        ),
    }
    };
    match status {
        400 if reason == "API_KEY_INVALID" || error.message.contains("API key not valid") => {
            key_rejected("not a valid key")
        }
        400 if error.message.contains("API key expired") => key_rejected("the key has expired"),
        // e.g. "User location is not supported for the API use", or billing required.
        400 if error.status == "FAILED_PRECONDITION" => GradeError::NeedsTeacher {
            message: format!("Gemini cannot be used with this key as it is set up ({short}); check billing and region for the key in Google AI Studio"),
        },
        401 | 403 => key_rejected(&short),
        404 => GradeError::NeedsTeacher {
            message: format!(
                "model not available: Gemini does not offer \"{model}\" to this key; pick another model in Settings (`gradedesk settings set model ...`)"
            ),
        },
        429 => {
            let per_day = detail_of("google.rpc.QuotaFailure")
                .and_then(|d| d["violations"].as_array())
                .is_some_and(|v| {
                    v.iter()
                        .any(|q| q["quotaId"].as_str().is_some_and(|id| id.contains("PerDay")))
                });
            if per_day {
                let wait = until_daily_reset(crate::store::now_ms());
                GradeError::RateLimited {
                    message: format!(
                        "Gemini's daily quota for this key is used up; it resets at midnight Pacific time (in {} h {} min), when grading can go on",
                        wait.as_secs() / 3600,
                        wait.as_secs() % 3600 / 60
                    ),
                    retry_after: Some(wait),
                    per_day: true,
                }
            } else {
                GradeError::RateLimited {
                    message: "Gemini's rate limit was reached; waiting before the next request"
                        .into(),
                    retry_after,
                    per_day: false,
                }
            }
        }
        408 | 499 | 500 | 502 | 503 | 504 => GradeError::Transient {
            message: format!("Gemini is unavailable for now ({short}); trying again later"),
            retry_after,
        },
        _ if error.status == "RESOURCE_EXHAUSTED" => GradeError::RateLimited {
            message: "Gemini's rate limit was reached".into(),
            retry_after,
            per_day: false,
        },
        _ => GradeError::Permanent {
            message: format!("Gemini refused the request for this answer (HTTP {status}): {short}"),
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
    // A string, not an enum: values Google adds later must not fail the whole answer.
    finish_reason: Option<String>,
    finish_message: Option<String>,
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
    block_reason_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    prompt_token_count: Option<i64>,
    candidates_token_count: Option<i64>,
    thoughts_token_count: Option<i64>,
}

/// A 200 answer, read: a grade, or a cut that deserves one larger re-ask.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Grade(GradeOutcome),
    /// finishReason MAX_TOKENS: the tokens it spent, to add to the final grade's cost.
    MaxTokens(Usage),
}

fn reason_words(reason: &str) -> &'static str {
    match reason {
        "SAFETY" | "IMAGE_SAFETY" => "its safety filter",
        "RECITATION" => "its recitation filter (the answer may quote a textbook)",
        "BLOCKLIST" => "a blocked term",
        "PROHIBITED_CONTENT" => "its prohibited-content filter",
        "SPII" => "its personal-information filter",
        _ => "its content filter",
    }
}

/// A 200 answer's envelope, opened: the model's text, or a cut that deserves one larger
/// re-ask.
#[derive(Debug, PartialEq)]
pub enum Envelope {
    Text {
        text: String,
        usage: Usage,
        model: String,
    },
    MaxTokens(Usage),
}

/// Reads a 200 answer into a grade, a MAX_TOKENS cut, or the reason it is neither.
pub fn parse_response(body: &str, question: &Question, model: &str) -> Result<Parsed, GradeError> {
    match read_envelope(body, model)? {
        Envelope::Text { text, usage, model } => {
            answer_to_grade(&text, question, model, usage, "Gemini").map(Parsed::Grade)
        }
        Envelope::MaxTokens(usage) => Ok(Parsed::MaxTokens(usage)),
    }
}

/// Opens a 200 answer: the text of its first candidate, a MAX_TOKENS cut, or why there is
/// neither (a blocked prompt, a filter, an early stop, no text).
pub fn read_envelope(body: &str, model: &str) -> Result<Envelope, GradeError> {
    let response: GenerateResponse = serde_json::from_str(body).map_err(|e| {
        invalid(format!(
            "Gemini sent an answer GradeDesk could not read ({e})"
        ))
    })?;
    let usage = response
        .usage_metadata
        .map(|u| Usage {
            prompt_tokens: u.prompt_token_count,
            output_tokens: u.candidates_token_count,
            thoughts_tokens: u.thoughts_token_count,
        })
        .unwrap_or_default();
    if let Some(feedback) = response.prompt_feedback {
        if let Some(reason) = feedback
            .block_reason
            .filter(|r| !r.is_empty() && r != "BLOCK_REASON_UNSPECIFIED")
        {
            let detail = feedback
                .block_reason_message
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            return Err(GradeError::Refused {
                message: format!(
                    "Gemini blocked this answer before reading it ({reason}{detail}); please grade it by hand"
                ),
            });
        }
    }
    let candidate = response
        .candidates
        .into_iter()
        .next()
        .ok_or_else(|| invalid("Gemini sent no answer; asking again"))?;
    let finish = candidate.finish_reason.unwrap_or_default();
    match finish.as_str() {
        "" | "STOP" | "FINISH_REASON_UNSPECIFIED" => {}
        "MAX_TOKENS" => return Ok(Envelope::MaxTokens(usage)),
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            return Err(GradeError::Refused {
                message: format!(
                    "Gemini would not grade this answer: it was stopped by {} ({finish}); please grade it by hand",
                    reason_words(&finish)
                ),
            })
        }
        other => {
            let detail = candidate.finish_message.map(|m| format!(": {m}")).unwrap_or_default();
            return Err(invalid(format!(
                "Gemini stopped early ({other}{detail}); asking again"
            )));
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
        return Err(invalid("Gemini sent an answer with no text; asking again"));
    }
    let model = response.model_version.unwrap_or_else(|| model.to_string());
    Ok(Envelope::Text { text, usage, model })
}

/// Turns a 200 answer into a grade, or the reason it is not one (MAX_TOKENS included).
pub fn parse_success(
    body: &str,
    question: &Question,
    model: &str,
) -> Result<GradeOutcome, GradeError> {
    match parse_response(body, question, model)? {
        Parsed::Grade(grade) => Ok(grade),
        Parsed::MaxTokens(_) => Err(invalid(
            "Gemini ran out of output tokens before finishing the grade",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question() -> Question {
        Question {
            id: 1,
            label: "Q1".into(),
            prompt: "What is 2+2?".into(),
            max_points: 2.0,
            rubric: "2 for 4".into(),
            reference_answer: "4".into(),
            scoring: Default::default(),
            items: Vec::new(),
        }
    }

    #[test]
    fn body_uses_documented_camel_case_fields_and_raw_base64() {
        let request = GradeRequest {
            image: vec![1, 2, 3],
            mime_type: "image/png".into(),
            question: question(),
            sample: 0,
        };
        let config = GeminiConfig::new("http://x", "gemini-2.5-flash", ApiKey::default());
        let body = request_body(&config, &request, config.first_output_budget());
        assert_eq!(body["generationConfig"]["maxOutputTokens"], 3072);
        let parts = &body["contents"][0]["parts"];
        assert_eq!(parts[0]["inlineData"]["data"], "AQID");
        assert_eq!(parts[0]["inlineData"]["mimeType"], "image/png");
        // The question and its points are instructions (the system's), not the student's.
        assert!(body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Maximum points: 2"));
        assert!(!parts[1]["text"]
            .as_str()
            .unwrap()
            .contains("Maximum points"));
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
        let v3config = GeminiConfig::new("http://x", "gemini-3-flash-preview", ApiKey::default());
        let v3 = request_body(&v3config, &request, 6144);
        assert!(v3["generationConfig"].get("temperature").is_none());
        assert_eq!(
            v3["generationConfig"]["mediaResolution"],
            "MEDIA_RESOLUTION_HIGH"
        );
        assert_eq!(
            v3["generationConfig"]["thinkingConfig"],
            json!({"thinkingLevel": "low"})
        );
    }

    #[test]
    fn daily_reset_is_next_pacific_midnight() {
        // 2025-01-15 12:00 UTC = 04:00 PST: reset in 20 h (+1 min margin).
        let winter = days_from_civil(2025, 1, 15) * 86_400_000 + 12 * 3_600_000;
        assert_eq!(until_daily_reset(winter).as_secs(), 20 * 3600 + 60);
        // 2025-07-15 12:00 UTC = 05:00 PDT: reset in 19 h.
        let summer = days_from_civil(2025, 7, 15) * 86_400_000 + 12 * 3_600_000;
        assert_eq!(until_daily_reset(summer).as_secs(), 19 * 3600 + 60);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
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
        let grade = parse_success(ok, &question(), "m").unwrap();
        assert_eq!(grade.score, 0.5);
        assert_eq!(grade.transcription, "2+2=5");
        assert_eq!(grade.usage.thoughts_tokens, Some(12));
        let too_high = ok.replace("\\\"score\\\":0.5", "\\\"score\\\":3");
        assert!(matches!(
            parse_success(&too_high, &question(), "m"),
            Err(GradeError::Transient { .. })
        ));
        let blocked = r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#;
        assert!(matches!(
            parse_success(blocked, &question(), "m"),
            Err(GradeError::Refused { .. })
        ));
        let safety = r#"{"candidates":[{"finishReason":"SAFETY"}]}"#;
        assert!(matches!(
            parse_success(safety, &question(), "m"),
            Err(GradeError::Refused { .. })
        ));
        let empty = r#"{"candidates":[{"content":{"parts":[]},"finishReason":"STOP"}]}"#;
        assert!(matches!(
            parse_success(empty, &question(), "m"),
            Err(GradeError::Transient { .. })
        ));
        let cut = r#"{"candidates":[{"content":{"parts":[{"text":"{\"transcription\": \"x ="}]},"finishReason":"MAX_TOKENS"}],
            "usageMetadata":{"promptTokenCount":300,"candidatesTokenCount":10,"thoughtsTokenCount":3062}}"#;
        assert!(
            matches!(parse_response(cut, &question(), "m"), Ok(Parsed::MaxTokens(u)) if u.thoughts_tokens == Some(3062))
        );
        let odd = r#"{"candidates":[{"finishReason":"SOMETHING_NEW"}]}"#;
        assert!(matches!(
            parse_success(odd, &question(), "m"),
            Err(GradeError::Transient { .. })
        ));
    }
}
