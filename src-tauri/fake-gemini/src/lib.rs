//! A stand-in for Google's Gemini REST API, for tests and demos with no network.
//!
//! It speaks the real wire format (`POST /v1beta/models/{model}:generateContent`, the key in
//! `x-goog-api-key`, real success and `{"error": {code, message, status, details}}` bodies)
//! and grades deterministically from the image's bytes, so a test can check that each stored
//! grade is what was answered for that very crop. Faults are injected by script or by rate;
//! the random ones come from a seed (`FakeConfig::seed`), so a failing run can be replayed.
//!
//! It depends on nothing of GradeDesk's: it plays the real API, so what it answers (tokens,
//! errors) follows Google's documentation, not GradeDesk's code.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

mod batch;
pub mod grades;
pub mod names;

pub use batch::{BatchFaults, FakeBatch};
pub use grades::{expected_grade, GradeScript};
pub use names::{NameReply, NameTable};

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
    /// 504 DEADLINE_EXCEEDED.
    DeadlineExceeded,
    /// 403 PERMISSION_DENIED (a key without access to the API).
    PermissionDenied,
    /// No answer until the client gives up (longer than any sane timeout).
    Hang,
    /// The connection breaks in the middle of the answer.
    Reset,
}

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The key it accepts; requests with another key get API_KEY_INVALID.
    pub api_key: String,
    /// Delay before each answer, like a real model's latency.
    pub latency: Duration,
    /// Probability of a random fault on an unscripted request.
    pub fault_rate: f64,
    /// Seeds every random choice. The n-th unscripted request for the same image draws the
    /// same under the same seed, in whatever order concurrent requests arrive. The default is
    /// `FAKE_GEMINI_SEED` if set, else random; the fake prints its seed when it starts, so
    /// `FAKE_GEMINI_SEED=<seed>` replays a failing run.
    pub seed: u64,
    /// Requests allowed in any rolling minute; beyond it, 429 with the RetryInfo delay until
    /// the oldest request leaves the window (as the real API enforces its RPM quota).
    pub rpm_limit: Option<u32>,
    /// The faults drawn from (uniformly) at `fault_rate`.
    pub random_faults: Vec<Fault>,
    /// The RetryInfo delay of a 429, as Google writes it (e.g. "2s", "45.837s").
    pub retry_delay: String,
    /// How long a `Hang` lasts.
    pub hang: Duration,
    /// Answer MAX_TOKENS to any request whose maxOutputTokens is below this, like a model
    /// whose thinking ate the budget.
    pub min_output_tokens: Option<i64>,
}

/// `FAKE_GEMINI_SEED`, the seed to replay (a number).
pub fn seed_from_env() -> Option<u64> {
    std::env::var("FAKE_GEMINI_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            api_key: "test-key".into(),
            latency: Duration::ZERO,
            fault_rate: 0.0,
            seed: seed_from_env().unwrap_or_else(rand::random),
            rpm_limit: None,
            random_faults: vec![Fault::Overloaded, Fault::RateLimited],
            retry_delay: "2s".into(),
            hang: Duration::from_secs(600),
            min_output_tokens: None,
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
    /// generateContent calls that reached the server, answered or not yet.
    arrived: std::sync::atomic::AtomicUsize,
    /// Random draws made so far per image (SHA-256, empty for none), to seed the next one.
    draws: Mutex<HashMap<Vec<u8>, u64>>,
    /// Batch Mode and the Files API.
    batches: batch::BatchState,
    /// What a name box "reads" as, by the student number printed in it.
    names: Mutex<NameTable>,
    /// Scripted grades, answered in order to grading requests.
    grades: Mutex<VecDeque<GradeScript>>,
}

impl FakeState {
    fn new(config: FakeConfig) -> Self {
        Self {
            config,
            script: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            window: Mutex::new(VecDeque::new()),
            arrived: std::sync::atomic::AtomicUsize::new(0),
            draws: Mutex::new(HashMap::new()),
            batches: batch::BatchState::new(config_batch_faults()),
            names: Mutex::new(NameTable::new()),
            grades: Mutex::new(VecDeque::new()),
        }
    }
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
        let state = Arc::new(FakeState::new(config));
        // Printed (stderr: captured by the test harness, shown when a test fails) so a failing
        // run's random faults can be replayed.
        let seed = state.config.seed;
        eprintln!("fake-gemini: seed {seed} (FAKE_GEMINI_SEED={seed} or --seed {seed} replays its random faults)");
        let app = Router::new()
            .route("/v1beta/models/{target}", post(generate))
            .route("/v1/chat/completions", post(chat_completions))
            .route("/v1beta/batches", get(batch::list))
            .route(
                "/v1beta/batches/{target}",
                get(batch::get).post(batch::cancel).delete(batch::delete),
            )
            .route("/upload/v1beta/files", post(batch::upload))
            .route("/download/v1beta/files/{target}", get(batch::download))
            .route("/_fake/requests", get(list_requests))
            .route("/_fake/script", post(push_script))
            .route("/_fake/grades", post(push_grades))
            .route("/_fake/batch", post(batch::set_faults))
            .route("/_fake/names", post(push_names))
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

    /// Queues scripted grades, answered in order to the next grading requests.
    pub fn script_grades(&self, grades: &[GradeScript]) {
        lock(&self.state.grades).extend(grades.iter().cloned());
    }

    /// Sets what name boxes read as (by the student number printed in them); adds to
    /// the table, replacing the numbers given.
    pub fn set_names(&self, table: NameTable) {
        lock(&self.state.names).extend(table);
    }

    /// How many generateContent calls have arrived, including those still waiting out the
    /// configured latency ([`FakeGemini::requests`] lists a call once it is answered).
    pub fn arrived(&self) -> usize {
        self.state.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The seed of the random faults.
    pub fn seed(&self) -> u64 {
        self.state.config.seed
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Changes how the next batches behave (and the next upload).
    pub fn set_batch_faults(&self, faults: BatchFaults) {
        *lock(&self.state.batches.faults) = faults;
    }

    /// Every batch created so far, oldest first.
    pub fn batches(&self) -> Vec<FakeBatch> {
        self.state.batches.summaries()
    }

    /// How many upload requests carried bytes (a resumed upload makes more than one).
    pub fn upload_requests(&self) -> usize {
        self.state
            .batches
            .upload_requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for FakeGemini {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The batch faults a fake starts with: none (batches pend one poll, run one, succeed).
fn config_batch_faults() -> BatchFaults {
    BatchFaults::default()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The random source of one request: seeded from the run's seed, the image, and how many
/// draws for that image came before. Keyed by image rather than by arrival, so a seed replays
/// the same faults for the same answers even when concurrent requests arrive in another order.
fn request_rng(state: &FakeState, image: Option<&[u8]>) -> StdRng {
    let key = image
        .map(|i| Sha256::digest(i).to_vec())
        .unwrap_or_default();
    let nth = {
        let mut draws = lock(&state.draws);
        let n = draws.entry(key.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let mut hash = Sha256::new();
    hash.update(state.config.seed.to_le_bytes());
    hash.update(&key);
    hash.update(nth.to_le_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    StdRng::seed_from_u64(u64::from_le_bytes(first))
}

/// The random fault for an unscripted request, at `fault_rate` (None: answer normally).
fn random_fault(state: &FakeState, image: Option<&[u8]>) -> Option<Fault> {
    if state.config.fault_rate <= 0.0 {
        return None;
    }
    let mut rng = request_rng(state, image);
    if !rng.gen_bool(state.config.fault_rate.min(1.0)) {
        return None;
    }
    let faults = &state.config.random_faults;
    faults.get(rng.gen_range(0..faults.len().max(1))).copied()
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

async fn push_grades(
    State(state): State<Arc<FakeState>>,
    Json(grades): Json<Vec<GradeScript>>,
) -> StatusCode {
    lock(&state.grades).extend(grades);
    StatusCode::NO_CONTENT
}

async fn push_names(
    State(state): State<Arc<FakeState>>,
    Json(table): Json<NameTable>,
) -> StatusCode {
    lock(&state.names).extend(table);
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
    let (model, method) = target.split_once(':').unwrap_or((&target, ""));
    if method == "batchGenerateContent" {
        return batch::create(&state, model, &headers, &body).await;
    }
    let received_at_ms = now_ms();
    state
        .arrived
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if !state.config.latency.is_zero() {
        tokio::time::sleep(state.config.latency).await;
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let key_accepted = key_ok(&state, &headers);
    let key_in_url = query.as_deref().unwrap_or("").contains("key=");
    match answer(
        &state,
        model,
        method,
        request,
        key_accepted,
        key_in_url,
        received_at_ms,
        false,
    )
    .await
    {
        Some((status, response)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Json(response),
        )
            .into_response(),
        None => broken_response(),
    }
}

/// Whether a request carries the accepted key in its header.
fn key_ok(state: &FakeState, headers: &HeaderMap) -> bool {
    headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|key| key == state.config.api_key)
}

/// The generateContent logic, shared by the online endpoint and each request of a batch:
/// the status and body it answers, recorded; None for a connection broken mid-answer.
/// A batch's requests (`in_batch`) are not counted against the RPM limit.
#[allow(clippy::too_many_arguments)]
async fn answer(
    state: &FakeState,
    model: &str,
    method: &str,
    request: Value,
    key_accepted: bool,
    key_in_url: bool,
    received_at_ms: i64,
    in_batch: bool,
) -> Option<(u16, Value)> {
    let parts = request["contents"][0]["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let inline = parts.iter().find_map(|p| p.get("inlineData")).cloned();
    let image = inline
        .as_ref()
        .and_then(|d| d["data"].as_str())
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok());
    let system: String = request["systemInstruction"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .collect();
    let user_text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
    // What the request says of the question, wherever it put it (instruction, user turn).
    let question_text = format!("{system}\n{user_text}");
    let schema = request["generationConfig"]["responseJsonSchema"].clone();
    let max_points = grades::max_points(&schema, &system);
    let item_ids: Vec<i64> = schema["properties"]
        .get("applied_items")
        .map(|_| {
            grades::rubric_items(&system)
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        })
        .unwrap_or_default();

    let over_quota = state
        .config
        .rpm_limit
        .filter(|_| !in_batch)
        .and_then(|limit| {
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
    let random = match scripted {
        None => random_fault(state, image.as_deref()),
        Some(_) => None,
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
    } else if let Some(problem) = schema_problem(&request, model) {
        (
            400,
            error_body(400, "INVALID_ARGUMENT", &problem, json!([])),
        )
    } else if let Some(fault) = scripted.or(random).filter(|f| *f != Fault::None) {
        match fault {
            Fault::Hang => {
                tokio::time::sleep(state.config.hang).await;
                (
                    503,
                    error_body(
                        503,
                        "UNAVAILABLE",
                        "The model is overloaded. Please try again later.",
                        json!([]),
                    ),
                )
            }
            Fault::Reset => {
                record(
                    state,
                    received_at_ms,
                    model,
                    key_accepted,
                    key_in_url,
                    &image,
                    &inline,
                    question_text,
                    request,
                    200,
                    json!("reset"),
                );
                return None;
            }
            Fault::RateLimited | Fault::DailyQuota => {
                let (status, mut body) = fault_response(fault, model, max_points, &item_ids);
                if fault == Fault::RateLimited {
                    body["error"]["details"][1]["retryDelay"] = json!(state.config.retry_delay);
                }
                (status, body)
            }
            _ => {
                let (status, mut body) = fault_response(fault, model, max_points, &item_ids);
                if status == 200 && body.get("usageMetadata").is_some() {
                    body["usageMetadata"] = usage(
                        &request,
                        model,
                        image.as_deref(),
                        "{\"transcription\": \"x = 3 because",
                        0,
                    );
                }
                (status, body)
            }
        }
    } else if request["generationConfig"]["maxOutputTokens"]
        .as_i64()
        .unwrap_or(i64::MAX)
        < state.config.min_output_tokens.unwrap_or(0)
    {
        let mut body = success_body("{\"transcription\": \"x = 3 because", "MAX_TOKENS");
        let budget = request["generationConfig"]["maxOutputTokens"]
            .as_i64()
            .unwrap_or(0);
        body["usageMetadata"] = usage(
            &request,
            model,
            image.as_deref(),
            "{\"transcription\": \"x = 3 because",
            budget - 10,
        );
        body["modelVersion"] = json!(model);
        (200, body)
    } else if request["generationConfig"]["responseJsonSchema"]["properties"]
        .get("name")
        .is_some()
    {
        // A name reading: the first image is the name box (or the ID box alone).
        let text = names::reply_text(&lock(&state.names), image.as_deref());
        let mut body = success_body(&text, "STOP");
        body["usageMetadata"] = usage(&request, model, image.as_deref(), &text, 0);
        body["modelVersion"] = json!(model);
        (200, body)
    } else if let Some(image) = image.as_ref() {
        let script = lock(&state.grades).pop_front();
        let text = grades::reply_text(script, image, &schema, &system);
        let mut body = success_body(&text, "STOP");
        let digest = Sha256::digest(image);
        let thinking =
            match request["generationConfig"]["thinkingConfig"]["thinkingBudget"].as_i64() {
                Some(budget) if budget > 0 => (200 + i64::from(digest[1]) * 3).min(budget),
                Some(_) => 0,
                None if model.starts_with("gemini-3") => 300 + i64::from(digest[1]),
                None => 0,
            };
        body["usageMetadata"] = usage(&request, model, Some(image), &text, thinking);
        body["modelVersion"] = json!(model);
        (200, body)
    } else {
        // A text-only request (Settings' "test key"): a short plain answer.
        let mut body = success_body("OK", "STOP");
        body["usageMetadata"] = usage(&request, model, None, "OK", 0);
        body["modelVersion"] = json!(model);
        (200, body)
    };
    record(
        state,
        received_at_ms,
        model,
        key_accepted,
        key_in_url,
        &image,
        &inline,
        question_text,
        request,
        status,
        response.clone(),
    );
    Some((status, response))
}

fn fault_response(fault: Fault, model: &str, max_points: f64, item_ids: &[i64]) -> (u16, Value) {
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
        Fault::DeadlineExceeded => (504, error_body(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.", json!([]))),
        Fault::PermissionDenied => (403, error_body(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", json!([]))),
        Fault::Hang | Fault::Reset => (503, error_body(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", json!([]))),
        // With rubric items the malformed answer names an item the rubric does not have.
        Fault::ScoreOutOfRange if !item_ids.is_empty() => (200, success_body(&json!({"transcription": "t",
            "applied_items": [{"id": item_ids.iter().max().copied().unwrap_or(0) + 1000, "evidence": "t"}],
            "feedback": "f", "confidence": 0.5, "needs_review": false}).to_string(), "STOP")),
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

#[allow(clippy::too_many_arguments)]
fn record(
    state: &FakeState,
    received_at_ms: i64,
    model: &str,
    key_accepted: bool,
    key_in_url: bool,
    image: &Option<Vec<u8>>,
    inline: &Option<Value>,
    question_text: String,
    body: Value,
    status: u16,
    response: Value,
) {
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
        body,
        status,
        response,
        received_at_ms,
    });
}

/// A 200 whose body stops half-way: the client sees the connection break while reading.
fn broken_response() -> Response {
    let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
        Ok("{\"candidates\": [{\"content\": "),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by peer",
        )),
    ];
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(axum::body::Body::from_stream(futures_util::stream::iter(
            chunks,
        )))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// usageMetadata as Gemini computes it: text at about four characters a token, the image by
/// Google's rules for the model family (tiles on 2.x, media resolution on 3.x).
fn usage(request: &Value, model: &str, image: Option<&[u8]>, answer: &str, thinking: i64) -> Value {
    let mut text_chars = 0usize;
    for part in request["systemInstruction"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        text_chars += part["text"].as_str().map_or(0, |t| t.chars().count());
    }
    for part in request["contents"][0]["parts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        text_chars += part["text"].as_str().map_or(0, |t| t.chars().count());
    }
    let text_tokens = text_chars.div_ceil(4) as i64;
    let resolution = request["generationConfig"]["mediaResolution"]
        .as_str()
        .unwrap_or("");
    let image_tokens = image
        .and_then(|bytes| image::load_from_memory(bytes).ok())
        .map(|img| image_tokens(model, img.width(), img.height(), resolution) as i64)
        .unwrap_or(0);
    let candidates = answer.chars().count().div_ceil(4) as i64;
    let prompt = text_tokens + image_tokens;
    json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "thoughtsTokenCount": thinking,
        "totalTokenCount": prompt + candidates + thinking,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": text_tokens},
            {"modality": "IMAGE", "tokenCount": image_tokens}
        ]
    })
}

/// Image tokens by Google's documented rules: on Gemini 3.x a fixed budget set by the media
/// resolution (low 280, medium 560, high 1120 — the default — ultra high 2240); otherwise
/// 258 for an image with both sides at most 384 px, else 258 per 768×768 tile.
fn image_tokens(model: &str, width: u32, height: u32, media_resolution: &str) -> u64 {
    if model.trim_start_matches("models/").starts_with("gemini-3") {
        return match media_resolution
            .trim()
            .to_ascii_lowercase()
            .trim_start_matches("media_resolution_")
        {
            "low" => 280,
            "medium" => 560,
            "ultra_high" => 2240,
            _ => 1120,
        };
    }
    if width <= 384 && height <= 384 {
        return 258;
    }
    u64::from(width.div_ceil(768).max(1)) * u64::from(height.div_ceil(768).max(1)) * 258
}

/// What the real API would reject with 400 INVALID_ARGUMENT: unknown (e.g. snake_case)
/// fields, both thinking settings, thinkingLevel on a 2.x model, a `data:` URL as base64.
pub fn schema_problem(request: &Value, model: &str) -> Option<String> {
    fn unknown(object: &Value, allowed: &[&str], at: &str) -> Option<String> {
        object.as_object()?.keys().find(|k| !allowed.contains(&k.as_str())).map(|k| {
            format!("Invalid JSON payload received. Unknown name \"{k}\" at '{at}': Cannot find field.")
        })
    }
    let top = [
        "contents",
        "systemInstruction",
        "generationConfig",
        "safetySettings",
        "tools",
        "toolConfig",
        "cachedContent",
    ];
    if let Some(p) = unknown(request, &top, "") {
        return Some(p);
    }
    let config = &request["generationConfig"];
    let config_fields = [
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "maxOutputTokens",
        "temperature",
        "topP",
        "topK",
        "candidateCount",
        "stopSequences",
        "thinkingConfig",
        "mediaResolution",
        "seed",
        "presencePenalty",
        "frequencyPenalty",
        "responseLogprobs",
        "logprobs",
    ];
    if let Some(p) = unknown(config, &config_fields, "generation_config") {
        return Some(p);
    }
    if config.get("responseSchema").is_some() && config.get("responseJsonSchema").is_some() {
        return Some("responseSchema and responseJsonSchema cannot both be set.".into());
    }
    let thinking = &config["thinkingConfig"];
    if let Some(p) = unknown(
        thinking,
        &["thinkingBudget", "thinkingLevel", "includeThoughts"],
        "generation_config.thinking_config",
    ) {
        return Some(p);
    }
    if thinking.get("thinkingBudget").is_some() && thinking.get("thinkingLevel").is_some() {
        return Some("You can only set only one of thinking budget and thinking level.".into());
    }
    if thinking.get("thinkingLevel").is_some() && !model.starts_with("gemini-3") {
        return Some("Thinking level is not supported for this model.".into());
    }
    for content in request["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(std::iter::once(&request["systemInstruction"]))
    {
        if content.is_null() {
            continue;
        }
        if let Some(p) = unknown(content, &["role", "parts"], "contents") {
            return Some(p);
        }
        for part in content["parts"].as_array().into_iter().flatten() {
            if let Some(p) = unknown(
                part,
                &[
                    "text",
                    "inlineData",
                    "fileData",
                    "thought",
                    "mediaResolution",
                ],
                "contents.parts",
            ) {
                return Some(p);
            }
            if let Some(data) = part.get("inlineData") {
                if let Some(p) = unknown(data, &["mimeType", "data"], "contents.parts.inline_data")
                {
                    return Some(p);
                }
                let ok = data["data"]
                    .as_str()
                    .is_some_and(|d| base64::engine::general_purpose::STANDARD.decode(d).is_ok());
                if !ok {
                    return Some("Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), Base64 decoding failed.".into());
                }
            }
        }
    }
    None
}

/// An OpenAI-compatible chat-completions endpoint grading the same way, for the second provider.
async fn chat_completions(State(state): State<Arc<FakeState>>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let model = request["model"].as_str().unwrap_or("").to_string();
    let parts = request["messages"][1]["content"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let url = parts
        .iter()
        .find_map(|p| p["image_url"]["url"].as_str())
        .unwrap_or("");
    let image = url
        .split_once(";base64,")
        .and_then(|(_, d)| base64::engine::general_purpose::STANDARD.decode(d).ok());
    let schema = request["response_format"]["json_schema"]["schema"].clone();
    let system = request["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let user_text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
    let question_text = format!("{system}\n{user_text}");
    let (status, response) = if model == "missing-model" {
        (
            404,
            json!({"error": {"message": format!("model \"{model}\" not found, try pulling it first"), "type": "api_error"}}),
        )
    } else if let Some(image) = image.as_ref() {
        let script = lock(&state.grades).pop_front();
        let text = grades::reply_text(script, image, &schema, &system);
        (
            200,
            json!({"id": "chatcmpl-fake", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 600, "completion_tokens": 60, "total_tokens": 660}}),
        )
    } else {
        (
            400,
            json!({"error": {"message": "no image in the request", "type": "invalid_request_error"}}),
        )
    };
    let inline = image.as_ref().map(
        |_| json!({"mimeType": url.split(';').next().unwrap_or("").trim_start_matches("data:")}),
    );
    record(
        &state,
        now_ms(),
        &model,
        true,
        false,
        &image,
        &inline,
        question_text,
        request,
        status,
        response.clone(),
    );
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Json(response),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults_drawn(seed: u64, images: &[&[u8]]) -> Vec<Option<Fault>> {
        let state = FakeState::new(FakeConfig {
            seed,
            fault_rate: 0.5,
            random_faults: vec![Fault::Overloaded, Fault::RateLimited, Fault::Internal],
            ..FakeConfig::default()
        });
        images
            .iter()
            .map(|i| random_fault(&state, Some(i)))
            .collect()
    }

    #[test]
    fn a_seed_replays_the_same_faults_for_the_same_images_in_any_order() {
        let images: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 16]).collect();
        // Each image asked three times, as retries do.
        let mut order: Vec<&[u8]> = Vec::new();
        for _ in 0..3 {
            order.extend(images.iter().map(Vec::as_slice));
        }
        let first = faults_drawn(7, &order);
        assert_eq!(first, faults_drawn(7, &order), "same seed, same faults");
        assert!(first.iter().any(Option::is_some) && first.iter().any(Option::is_none));
        assert_ne!(first, faults_drawn(8, &order), "another seed, other faults");

        // The same requests arriving in reverse order: each image's n-th request draws the same.
        let reversed: Vec<&[u8]> = order.iter().rev().copied().collect();
        let by_image = |drawn: Vec<Option<Fault>>, order: &[&[u8]]| {
            let mut seen: HashMap<Vec<u8>, Vec<Option<Fault>>> = HashMap::new();
            for (image, fault) in order.iter().zip(drawn) {
                seen.entry(image.to_vec()).or_default().push(fault);
            }
            seen
        };
        assert_eq!(
            by_image(first, &order),
            by_image(faults_drawn(7, &reversed), &reversed)
        );
    }
}
