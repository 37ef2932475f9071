//! A stand-in for Google's Gemini REST API, for tests and demos with no network.
//!
//! It speaks the real wire format (`POST /v1beta/models/{model}:generateContent`, the key in
//! `x-goog-api-key`, real success and `{"error": {code, message, status, details}}` bodies)
//! and grades deterministically from the image's bytes, so a test can check that each stored
//! grade is what was answered for that very crop. Faults are injected by script or by rate.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A failure the fake can answer with, as the real API does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// No fault: answer normally (lets a script skip requests).
    None,
    /// 429 RESOURCE_EXHAUSTED with a RetryInfo delay of 2 s.
    RateLimited,
    /// 429 with a per-day QuotaFailure.
    DailyQuota,
    /// 503 UNAVAILABLE "The model is overloaded".
    Overloaded,
    /// 500 INTERNAL.
    Internal,
    /// 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID.
    BadKey,
    /// 404 NOT_FOUND for the model.
    ModelNotFound,
    /// finishReason SAFETY with no content.
    Safety,
    /// finishReason RECITATION.
    Recitation,
    /// finishReason MAX_TOKENS with half a JSON object.
    MaxTokens,
    /// promptFeedback.blockReason with no candidates.
    BlockedPrompt,
    /// A candidate whose content has no parts.
    EmptyParts,
    /// Text that is not JSON.
    Malformed,
    /// A score above the question's maximum.
    ScoreOutOfRange,
}

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The key it accepts; requests with another key get API_KEY_INVALID.
    pub api_key: String,
    /// Delay before each answer, like a real model's latency.
    pub latency: Duration,
    /// Probability of a random transient fault (503 or 429) on an unscripted request.
    pub fault_rate: f64,
    /// Requests allowed in any rolling minute; beyond it, 429 with the RetryInfo delay until
    /// the oldest request leaves the window (as the real API enforces its RPM quota).
    pub rpm_limit: Option<u32>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            api_key: "test-key".into(),
            latency: Duration::ZERO,
            fault_rate: 0.0,
            rpm_limit: None,
        }
    }
}

/// One request as the fake received it, and what it answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub model: String,
    pub key_accepted: bool,
    pub key_in_url: bool,
    pub image_sha256: Option<String>,
    pub image_mime_type: Option<String>,
    pub question_text: String,
    pub body: Value,
    pub status: u16,
    pub response: Value,
    /// When the request arrived (ms since the epoch), to check pacing.
    pub received_at_ms: i64,
}

struct FakeState {
    config: FakeConfig,
    window: Mutex<VecDeque<i64>>,
    script: Mutex<VecDeque<Fault>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running fake server.
pub struct FakeGemini {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
    shutdown: tokio_util::sync::CancellationToken,
}

impl FakeGemini {
    /// Starts the fake on 127.0.0.1 at `port` (0 picks a free one).
    pub async fn start(config: FakeConfig, port: u16) -> std::io::Result<Self> {
        let state = Arc::new(FakeState {
            config,
            script: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            window: Mutex::new(VecDeque::new()),
        });
        let app = Router::new()
            .route("/v1beta/models/{target}", post(generate))
            .route("/_fake/requests", get(list_requests))
            .route("/_fake/script", post(push_script))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        Ok(Self {
            addr,
            state,
            shutdown,
        })
    }

    /// The base URL to give GradeDesk as `GEMINI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues faults for the next requests, in order.
    pub fn script(&self, faults: &[Fault]) {
        lock(&self.state.script).extend(faults.iter().copied());
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }
}

impl Drop for FakeGemini {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The grade the fake gives an image: derived from its bytes, in half points within 0..=max.
pub fn expected_grade(image: &[u8], max_points: f64) -> (f64, String, String) {
    let digest = Sha256::digest(image);
    let steps = (max_points * 2.0).floor().max(0.0) as u64;
    let score = (u64::from(digest[0]) % (steps + 1)) as f64 / 2.0;
    let tag = hex::encode(&digest[..4]);
    (
        score,
        format!("fake transcription {tag}"),
        format!("fake feedback {tag}"),
    )
}

async fn list_requests(State(state): State<Arc<FakeState>>) -> Json<Vec<RecordedRequest>> {
    Json(lock(&state.requests).clone())
}

async fn push_script(
    State(state): State<Arc<FakeState>>,
    Json(faults): Json<Vec<Fault>>,
) -> StatusCode {
    lock(&state.script).extend(faults);
    StatusCode::NO_CONTENT
}

fn error_body(code: u16, status: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

fn success_body(text: &str, finish: &str) -> Value {
    json!({
        "candidates": [{
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": finish,
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 560, "candidatesTokenCount": 60, "thoughtsTokenCount": 120, "totalTokenCount": 740},
        "modelVersion": "fake-gemini",
        "responseId": "fake"
    })
}

async fn generate(
    State(state): State<Arc<FakeState>>,
    Path(target): Path<String>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    body: String,
) -> Response {
    let received_at_ms = crate::store::now_ms();
    if !state.config.latency.is_zero() {
        tokio::time::sleep(state.config.latency).await;
    }
    let (model, method) = target.split_once(':').unwrap_or((&target, ""));
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let key_accepted = key == state.config.api_key;
    let key_in_url = query.as_deref().unwrap_or("").contains("key=");
    let parts = request["contents"][0]["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let inline = parts.iter().find_map(|p| p.get("inlineData")).cloned();
    let image = inline
        .as_ref()
        .and_then(|d| d["data"].as_str())
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok());
    let question_text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
    let max_points = request["generationConfig"]["responseJsonSchema"]["properties"]["score"]
        ["maximum"]
        .as_f64()
        .unwrap_or(1.0);

    let over_quota = state.config.rpm_limit.and_then(|limit| {
        let mut window = lock(&state.window);
        while window
            .front()
            .is_some_and(|t| *t <= received_at_ms - 60_000)
        {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            window
                .front()
                .map(|oldest| oldest + 60_000 - received_at_ms)
        } else {
            window.push_back(received_at_ms);
            None
        }
    });
    let scripted = lock(&state.script).pop_front();
    let random = if scripted.is_none()
        && state.config.fault_rate > 0.0
        && rand::thread_rng().gen_bool(state.config.fault_rate.min(1.0))
    {
        Some(if rand::thread_rng().gen_bool(0.5) {
            Fault::Overloaded
        } else {
            Fault::RateLimited
        })
    } else {
        None
    };
    let (status, response) = if method != "generateContent" {
        (
            404,
            error_body(
                404,
                "NOT_FOUND",
                &format!("Method {method} not found"),
                json!([]),
            ),
        )
    } else if !key_accepted || scripted == Some(Fault::BadKey) {
        (
            400,
            error_body(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                json!([
                    {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                     "metadata": {"service": "generativelanguage.googleapis.com"}}
                ]),
            ),
        )
    } else if let Some(wait_ms) = over_quota {
        (
            429,
            error_body(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                json!([
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                        {"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{:.3}s", wait_ms.max(1) as f64 / 1000.0)}
                ]),
            ),
        )
    } else if let Some(fault) = scripted.or(random).filter(|f| *f != Fault::None) {
        fault_response(fault, model, max_points)
    } else if let Some(image) = image.as_ref() {
        let (score, transcription, feedback) = expected_grade(image, max_points);
        let text = json!({"transcription": transcription, "score": score, "feedback": feedback,
                          "confidence": 0.8, "needs_review": false})
        .to_string();
        (200, success_body(&text, "STOP"))
    } else {
        (
            400,
            error_body(
                400,
                "INVALID_ARGUMENT",
                "Request contains no image.",
                json!([]),
            ),
        )
    };
    lock(&state.requests).push(RecordedRequest {
        model: model.to_string(),
        key_accepted,
        key_in_url,
        image_sha256: image.as_ref().map(|i| hex::encode(Sha256::digest(i))),
        image_mime_type: inline
            .as_ref()
            .and_then(|d| d["mimeType"].as_str())
            .map(str::to_string),
        question_text,
        body: request,
        status,
        response: response.clone(),
        received_at_ms,
    });
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Json(response),
    )
        .into_response()
}

fn fault_response(fault: Fault, model: &str, max_points: f64) -> (u16, Value) {
    match fault {
        Fault::RateLimited => (429, error_body(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", json!([
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                {"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}
        ]))),
        Fault::DailyQuota => (429, error_body(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", json!([
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "45.837s"}
        ]))),
        Fault::Overloaded => (503, error_body(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", json!([]))),
        Fault::Internal => (500, error_body(500, "INTERNAL", "An internal error has occurred.", json!([]))),
        Fault::BadKey | Fault::None => unreachable_bad_key(),
        Fault::ModelNotFound => (404, error_body(404, "NOT_FOUND",
            &format!("models/{model} is not found for API version v1beta, or is not supported for generateContent."), json!([]))),
        Fault::Safety => (200, json!({"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]}]})),
        Fault::Recitation => (200, json!({"candidates": [{"content": {"parts": [{"text": "{\"transcription\": \"The mitochondria"}], "role": "model"}, "finishReason": "RECITATION", "index": 0}]})),
        Fault::MaxTokens => (200, success_body("{\"transcription\": \"x = 3 because", "MAX_TOKENS")),
        Fault::BlockedPrompt => (200, json!({"promptFeedback": {"blockReason": "OTHER"}, "usageMetadata": {"promptTokenCount": 560, "totalTokenCount": 560}})),
        Fault::EmptyParts => (200, json!({"candidates": [{"content": {"parts": [], "role": "model"}, "finishReason": "STOP", "index": 0}]})),
        Fault::Malformed => (200, success_body("Sure! Here is the grade: 2 points.", "STOP")),
        Fault::ScoreOutOfRange => (200, success_body(&json!({"transcription": "t", "score": max_points + 1.0, "feedback": "f",
            "confidence": 0.5, "needs_review": false}).to_string(), "STOP")),
    }
}

fn unreachable_bad_key() -> (u16, Value) {
    // BadKey is answered before faults are consulted; keep the match total all the same.
    (
        400,
        error_body(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            json!([]),
        ),
    )
}
