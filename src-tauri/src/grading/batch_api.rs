//! Gemini's Batch Mode REST API: `models/{m}:batchGenerateContent` (inline requests, or a
//! JSONL file uploaded through the Files API), `batches/{id}` to poll, `:cancel`, the list
//! (to find a batch whose submit was answered but never recorded), and the results: inline
//! responses or a results file. Each request is the very body an online grade sends
//! ([`gemini::request_body`]), so a batch grade means what an online one does.

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::{json, Value};

use super::endpoint::{
    http_client, redirect_error, secret_header, valid_model_id, ClientError, Endpoint,
    EndpointError,
};
use super::files_api;
use super::gemini::{self, classify_error, transport_error, GeminiConfig, DEFAULT_MODEL};
use super::{GradeError, GradeRequest};

/// Gemini's limit for a batch sent inline: the whole request under 20 MB.
pub const INLINE_LIMIT_BYTES: usize = 20 * 1024 * 1024;

/// A batch's state, whichever spelling Gemini used (`BATCH_STATE_*` or `JOB_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
}

impl BatchState {
    /// Reads `BATCH_STATE_RUNNING`, `JOB_STATE_SUCCEEDED`, … (unknown: still pending, so a
    /// state Google adds later is polled again rather than taken for an end).
    pub fn parse(text: &str) -> Self {
        let word = text
            .trim()
            .trim_start_matches("BATCH_STATE_")
            .trim_start_matches("JOB_STATE_")
            .to_ascii_uppercase();
        match word.as_str() {
            "RUNNING" | "CANCELLING" | "UPDATING" => BatchState::Running,
            "SUCCEEDED" | "PARTIALLY_SUCCEEDED" => BatchState::Succeeded,
            "FAILED" => BatchState::Failed,
            "CANCELLED" => BatchState::Cancelled,
            "EXPIRED" => BatchState::Expired,
            _ => BatchState::Pending,
        }
    }

    /// The word stored in `batches.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Pending => "pending",
            BatchState::Running => "running",
            BatchState::Succeeded => "succeeded",
            BatchState::Failed => "failed",
            BatchState::Cancelled => "cancelled",
            BatchState::Expired => "expired",
        }
    }

    /// Whether the batch will not change any more.
    pub fn ended(self) -> bool {
        !matches!(self, BatchState::Pending | BatchState::Running)
    }
}

/// One request's result as Gemini returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestResult {
    /// The key sent in the request's metadata (None: the response came back without it).
    pub key: Option<String>,
    /// The generateContent response, or the request's error classified as online ones are.
    pub response: Result<Value, GradeError>,
}

/// Where a finished batch's results are.
#[derive(Debug, Clone, PartialEq)]
pub enum Results {
    Inline(Vec<RequestResult>),
    File(String),
}

/// What a poll of a batch says.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStatus {
    pub name: String,
    pub display_name: Option<String>,
    pub state: BatchState,
    pub succeeded: Option<i64>,
    pub failed: Option<i64>,
    /// The batch's own error (a FAILED batch), in a sentence.
    pub error: Option<String>,
    pub results: Option<Results>,
}

/// A submit that failed, and whether Gemini may have created the batch all the same (a
/// timeout or a cut after the request went out, a server error): then the batch is looked
/// up by its display name before its answers are put back.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitError {
    pub error: GradeError,
    pub maybe_created: bool,
}

/// The Batch Mode client: the online client's endpoint rules (https or loopback, no
/// redirects, the key in a sensitive header) and its request body.
pub struct BatchClient {
    config: GeminiConfig,
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl BatchClient {
    /// Refuses what the online client refuses: a base URL the key may not go to, a model id
    /// that is not a plain name.
    pub fn new(config: GeminiConfig) -> Result<Self, ClientError> {
        let endpoint = Endpoint::parse(&config.base_url)?;
        if !valid_model_id(&config.model) {
            return Err(EndpointError(format!(
                "\"{}\" is not a Gemini model id (letters, digits, '.', '_' and '-', such as {DEFAULT_MODEL})",
                config.model
            ))
            .into());
        }
        // An upload of a large file takes longer than one grade.
        let timeout = config.timeout.max(Duration::from_secs(300));
        let http = http_client(&endpoint, timeout)?;
        Ok(Self {
            config,
            endpoint,
            http,
        })
    }

    /// The model, as the URL and the prices name it.
    pub fn model(&self) -> &str {
        self.config.model.trim_start_matches("models/")
    }

    /// The online request for one answer: what goes into the batch.
    pub fn request_body(&self, request: &GradeRequest) -> Value {
        gemini::request_body(&self.config, request, self.config.first_output_budget())
    }

    fn key(&self) -> Result<HeaderValue, GradeError> {
        let key = self.config.api_key.get().ok_or_else(|| GradeError::NeedsTeacher {
            message: "no API key: add your Gemini API key in Settings (or `gradedesk key set`, or GEMINI_API_KEY)".into(),
        })?;
        secret_header(&key).map_err(|_| GradeError::NeedsTeacher {
            message:
                "the API key holds characters no HTTP header may carry: paste it again in Settings"
                    .into(),
        })
    }

    /// Sends one call and reads its answer; a redirect is refused, an error classified.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<String, GradeError> {
        let response = request
            .header("x-goog-api-key", self.key()?)
            .send()
            .await
            .map_err(transport_error)?;
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
        if !status.is_success() {
            return Err(classify_error(status.as_u16(), &text, self.model()));
        }
        Ok(text)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1beta/{path}", self.endpoint.base())
    }

    /// The body of an inline batch: each request with its key in `metadata`.
    pub fn inline_body(display_name: &str, requests: &[(String, Value)]) -> Value {
        let requests: Vec<Value> = requests
            .iter()
            .map(|(key, request)| json!({"request": request, "metadata": {"key": key}}))
            .collect();
        json!({"batch": {"displayName": display_name,
                         "inputConfig": {"requests": {"requests": requests}}}})
    }

    /// The JSONL file of a file batch: one `{"key", "request"}` per line.
    pub fn jsonl(requests: &[(String, Value)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (key, request) in requests {
            out.extend(
                json!({"key": key, "request": request})
                    .to_string()
                    .into_bytes(),
            );
            out.push(b'\n');
        }
        out
    }

    /// Submits a batch: inline when the whole request stays under `inline_limit` bytes,
    /// else as an uploaded JSONL file. Returns the batch's first status and the input file;
    /// a failure says whether Gemini may have created the batch all the same.
    pub async fn create(
        &self,
        display_name: &str,
        requests: &[(String, Value)],
        inline_limit: usize,
    ) -> Result<(BatchStatus, Option<String>), SubmitError> {
        let not_sent = |error| SubmitError {
            error,
            maybe_created: false,
        };
        let inline = Self::inline_body(display_name, requests);
        let size = serde_json::to_vec(&inline)
            .map(|b| b.len())
            .unwrap_or(usize::MAX);
        let (body, file) = if size < inline_limit {
            (inline, None)
        } else {
            let file = files_api::upload_resumable(
                &self.http,
                &self.endpoint,
                self.key().map_err(not_sent)?,
                &Self::jsonl(requests),
                "application/jsonl",
                display_name,
            )
            .await
            .map_err(not_sent)?;
            tracing::info!(bytes = size, file = %file, "batch requests uploaded as a file");
            (
                json!({"batch": {"displayName": display_name, "inputConfig": {"fileName": file}}}),
                Some(file),
            )
        };
        let url = self.url(&format!("models/{}:batchGenerateContent", self.model()));
        let key = self.key().map_err(not_sent)?;
        let sent = self
            .http
            .post(url)
            .header("x-goog-api-key", key)
            .json(&body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // Not connected: nothing reached Gemini. Any other cut: it may have.
            Err(e) => {
                return Err(SubmitError {
                    maybe_created: !e.is_connect(),
                    error: transport_error(e),
                })
            }
        };
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            return Err(not_sent(redirect_error(
                &self.endpoint,
                status.as_u16(),
                location,
                "Gemini",
            )));
        }
        let text = response.text().await.map_err(|e| SubmitError {
            error: transport_error(e),
            maybe_created: true,
        })?;
        if !status.is_success() {
            return Err(SubmitError {
                error: classify_error(status.as_u16(), &text, self.model()),
                // A server error may come after the batch was made; a 4xx was refused.
                maybe_created: status.is_server_error(),
            });
        }
        let status = parse_operation(&text, self.model()).map_err(|error| SubmitError {
            error,
            maybe_created: true,
        })?;
        Ok((status, file))
    }

    /// Polls a batch.
    pub async fn get(&self, name: &str) -> Result<BatchStatus, GradeError> {
        check_batch_name(name)?;
        let text = self.call(self.http.get(self.url(name))).await?;
        parse_operation(&text, self.model())
    }

    /// Asks Gemini to cancel a batch (its state turns CANCELLED on a later poll).
    pub async fn cancel(&self, name: &str) -> Result<(), GradeError> {
        check_batch_name(name)?;
        let url = self.url(&format!("{name}:cancel"));
        self.call(self.http.post(url).json(&json!({}))).await?;
        Ok(())
    }

    /// Every batch of the key's project (all pages), to find one by its display name.
    pub async fn list(&self) -> Result<Vec<BatchStatus>, GradeError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..50 {
            let mut request = self
                .http
                .get(self.url("batches"))
                .query(&[("pageSize", "100")]);
            if let Some(t) = &token {
                request = request.query(&[("pageToken", t.as_str())]);
            }
            let text = self.call(request).await?;
            let page: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            for op in page["operations"]
                .as_array()
                .or_else(|| page["batches"].as_array())
                .into_iter()
                .flatten()
            {
                if let Ok(status) = operation_status(op, self.model()) {
                    out.push(status);
                }
            }
            token = page["nextPageToken"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Downloads a results file and reads its lines.
    pub async fn download(&self, file: &str) -> Result<Vec<RequestResult>, GradeError> {
        if !files_api::valid_file_name(file) {
            return Err(GradeError::Permanent {
                message: format!(
                    "Gemini named a results file GradeDesk will not fetch ({file:.80})"
                ),
            });
        }
        let url = format!("{}/download/v1beta/{file}:download", self.endpoint.base());
        let text = self
            .call(self.http.get(url).query(&[("alt", "media")]))
            .await?;
        Ok(text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let value: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                let key = value["key"]
                    .as_str()
                    .or_else(|| value["metadata"]["key"].as_str())
                    .map(str::to_string);
                RequestResult {
                    key,
                    response: entry_response(&value, self.model()),
                }
            })
            .collect())
    }
}

fn check_batch_name(name: &str) -> Result<(), GradeError> {
    let ok = name.strip_prefix("batches/").is_some_and(|id| {
        !id.is_empty()
            && id.len() <= 128
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    });
    if ok {
        Ok(())
    } else {
        Err(GradeError::Permanent {
            message: format!("\"{name:.80}\" is not a batch name (batches/…)"),
        })
    }
}

/// Google's RPC codes as the HTTP statuses the online classification reads.
fn http_status(code: i64) -> u16 {
    match code {
        100..=599 => code as u16,
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        7 => 403,
        8 => 429,
        10 | 13 | 2 => 500,
        14 => 503,
        16 => 401,
        _ => 500,
    }
}

/// A per-request result: the response, or its error classified like an online error.
fn entry_response(entry: &Value, model: &str) -> Result<Value, GradeError> {
    if let Some(error) = entry.get("error").filter(|e| !e.is_null()) {
        let status = http_status(error["code"].as_i64().unwrap_or(500));
        return Err(classify_error(
            status,
            &json!({"error": error}).to_string(),
            model,
        ));
    }
    match entry.get("response").filter(|r| !r.is_null()) {
        Some(response) => Ok(response.clone()),
        None => Err(GradeError::Transient {
            message: "Gemini's batch returned neither a response nor an error for this answer"
                .into(),
            retry_after: None,
        }),
    }
}

/// Reads an Operation (what create and get answer) into a status.
pub fn parse_operation(text: &str, model: &str) -> Result<BatchStatus, GradeError> {
    let value: Value = serde_json::from_str(text).map_err(|e| GradeError::Transient {
        message: format!("Gemini sent a batch status GradeDesk could not read ({e})"),
        retry_after: None,
    })?;
    operation_status(&value, model)
}

fn operation_status(op: &Value, model: &str) -> Result<BatchStatus, GradeError> {
    // The batch resource is the Operation's metadata (or the value itself, as some lists
    // return batches directly).
    let batch = if op["metadata"].is_object() {
        &op["metadata"]
    } else {
        op
    };
    let name = op["name"]
        .as_str()
        .or_else(|| batch["name"].as_str())
        .ok_or_else(|| GradeError::Transient {
            message: "Gemini's batch status names no batch".into(),
            retry_after: None,
        })?
        .to_string();
    let mut state = BatchState::parse(batch["state"].as_str().unwrap_or(""));
    let count = |field: &str| {
        let v = &batch["batchStats"][field];
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_i64())
    };
    let output = if op["response"].is_object() {
        &op["response"]
    } else {
        &batch["output"]
    };
    let results = if let Some(file) = output["responsesFile"].as_str() {
        Some(Results::File(file.to_string()))
    } else {
        output["inlinedResponses"]["inlinedResponses"]
            .as_array()
            .map(|entries| {
                Results::Inline(
                    entries
                        .iter()
                        .map(|e| RequestResult {
                            key: e["metadata"]["key"].as_str().map(str::to_string),
                            response: entry_response(e, model),
                        })
                        .collect(),
                )
            })
    };
    let error = op["error"]["message"]
        .as_str()
        .map(|m| m.chars().take(300).collect::<String>());
    // A finished Operation with an error and no batch state is a failed batch.
    if op["done"].as_bool() == Some(true) && !state.ended() {
        state = if error.is_some() {
            BatchState::Failed
        } else {
            BatchState::Succeeded
        };
    }
    Ok(BatchStatus {
        name,
        display_name: batch["displayName"].as_str().map(str::to_string),
        state,
        succeeded: count("successfulRequestCount"),
        failed: count("failedRequestCount"),
        error,
        results,
    })
}

/// A parse of what the client would see, without a server: for the tests of the wire format.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_state_spellings_are_read() {
        assert_eq!(
            BatchState::parse("BATCH_STATE_RUNNING"),
            BatchState::Running
        );
        assert_eq!(
            BatchState::parse("JOB_STATE_SUCCEEDED"),
            BatchState::Succeeded
        );
        assert_eq!(BatchState::parse("JOB_STATE_EXPIRED"), BatchState::Expired);
        assert_eq!(
            BatchState::parse("BATCH_STATE_CANCELLED"),
            BatchState::Cancelled
        );
        assert_eq!(BatchState::parse("JOB_STATE_PENDING"), BatchState::Pending);
        assert_eq!(BatchState::parse("SOMETHING_NEW"), BatchState::Pending);
        assert!(BatchState::parse("BATCH_STATE_FAILED").ended());
    }

    #[test]
    fn an_operation_with_inline_responses_is_read_by_key() {
        let op = r#"{"name": "batches/abc", "done": true,
          "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                       "name": "batches/abc", "displayName": "gd-1", "state": "BATCH_STATE_SUCCEEDED",
                       "batchStats": {"requestCount": "2", "successfulRequestCount": "1", "failedRequestCount": "1"}},
          "response": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
                       "inlinedResponses": {"inlinedResponses": [
                          {"response": {"candidates": []}, "metadata": {"key": "b"}},
                          {"error": {"code": 8, "message": "quota"}, "metadata": {"key": "a"}}]}}}"#;
        let status = parse_operation(op, "m").unwrap();
        assert_eq!(status.state, BatchState::Succeeded);
        assert_eq!((status.succeeded, status.failed), (Some(1), Some(1)));
        let Some(Results::Inline(results)) = status.results else {
            panic!("inline results")
        };
        assert_eq!(results[0].key.as_deref(), Some("b"));
        assert!(results[0].response.is_ok());
        assert!(matches!(
            results[1].response,
            Err(GradeError::RateLimited { .. })
        ));
        let file = r#"{"name": "batches/x", "metadata": {"state": "JOB_STATE_SUCCEEDED"}, "done": true,
                      "response": {"responsesFile": "files/r1"}}"#;
        assert_eq!(
            parse_operation(file, "m").unwrap().results,
            Some(Results::File("files/r1".into()))
        );
    }

    #[test]
    fn batch_names_are_checked_before_they_reach_a_url() {
        assert!(check_batch_name("batches/abc-1_2").is_ok());
        for bad in ["batches/", "batches/../../x", "files/x", "batches/a?b"] {
            assert!(check_batch_name(bad).is_err(), "{bad}");
        }
    }
}
