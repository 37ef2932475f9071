//! Batch Mode and the Files API in the real wire format: `models/{m}:batchGenerateContent`
//! answers an Operation (`name: batches/…`, `metadata` of `@type` GenerateContentBatch with
//! `state` and `batchStats` counts as strings, `createTime`/`endTime`), `GET batches/{id}`,
//! the list, `:cancel`, `DELETE`; once done, `done` and `response` with
//! `inlinedResponses.inlinedResponses[]` or a `responsesFile`. The resumable upload
//! (`upload/v1beta/files` with the `X-Goog-Upload-*` headers and `X-Goog-Upload-Status`)
//! and the results download (`download/v1beta/files/{id}:download?alt=media`).
//!
//! Each request of a batch is answered by the online endpoint's own logic (the scripted
//! faults included, in request order), so a batch grade is what an online one would be.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{json, Value};

use super::{answer, broken_response, error_body, key_ok, lock, now_ms, FakeState};

const BATCH_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/// How batches (and uploads) misbehave; the default is a well-behaved batch. Set in
/// process ([`crate::FakeGemini::set_batch_faults`]), by `POST /_fake/batch` with this as
/// JSON (snake_case, missing fields default), or by the binary's `--batch-*` flags.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BatchFaults {
    /// Polls answered PENDING before a batch runs (a large number: a batch that stays
    /// pending for long).
    pub pending_polls: u32,
    /// Polls answered RUNNING before it ends.
    pub running_polls: u32,
    /// Results in another order than the requests.
    pub shuffle: bool,
    /// Inline responses without their `metadata` (file results without their `key`).
    pub drop_metadata: bool,
    /// Drop the metadata of every other inline response only (a mixed answer).
    pub drop_some_metadata: bool,
    /// How a batch ends instead of succeeding: `FAILED` or `EXPIRED`.
    pub end_state: Option<String>,
    /// States spelled `JOB_STATE_*` instead of `BATCH_STATE_*`.
    pub job_state_names: bool,
    /// The next upload's connection drops once this many bytes of the file have arrived.
    pub drop_upload_after: Option<usize>,
}

impl Default for BatchFaults {
    fn default() -> Self {
        Self {
            pending_polls: 1,
            running_polls: 1,
            shuffle: false,
            drop_metadata: false,
            drop_some_metadata: false,
            end_state: None,
            job_state_names: false,
            drop_upload_after: None,
        }
    }
}

/// A batch the fake holds, as a test inspects it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeBatch {
    pub name: String,
    pub display_name: String,
    pub requests: usize,
    /// `inline` or the input file's name.
    pub input: String,
    pub state: String,
    /// Requests that carried their key in `metadata` (inline) or `key` (file).
    pub keyed: usize,
}

struct Batch {
    id: u64,
    model: String,
    display_name: String,
    /// (key, request) in the order sent.
    requests: Vec<(Option<String>, Value)>,
    input_file: Option<String>,
    faults: BatchFaults,
    polls: u32,
    /// PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED.
    state: &'static str,
    created_ms: i64,
    ended_ms: Option<i64>,
    /// (successful, failed) once it ended.
    counts: (usize, usize),
    output: Option<Value>,
}

struct Upload {
    declared: usize,
    received: Vec<u8>,
    display_name: String,
    file: Option<String>,
}

/// The batches, files and uploads of one fake.
pub(crate) struct BatchState {
    pub(crate) faults: Mutex<BatchFaults>,
    batches: Mutex<Vec<Batch>>,
    files: Mutex<HashMap<String, Vec<u8>>>,
    uploads: Mutex<HashMap<u64, Upload>>,
    next_id: AtomicUsize,
    pub(crate) upload_requests: AtomicUsize,
}

impl BatchState {
    pub(crate) fn new(faults: BatchFaults) -> Self {
        Self {
            faults: Mutex::new(faults),
            batches: Mutex::new(Vec::new()),
            files: Mutex::new(HashMap::new()),
            uploads: Mutex::new(HashMap::new()),
            next_id: AtomicUsize::new(1),
            upload_requests: AtomicUsize::new(0),
        }
    }

    fn next(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst) as u64
    }

    pub(crate) fn summaries(&self) -> Vec<FakeBatch> {
        lock(&self.batches)
            .iter()
            .map(|b| FakeBatch {
                name: format!("batches/{}", b.id),
                display_name: b.display_name.clone(),
                requests: b.requests.len(),
                input: b.input_file.clone().unwrap_or_else(|| "inline".into()),
                state: b.state.to_string(),
                keyed: b.requests.iter().filter(|(k, _)| k.is_some()).count(),
            })
            .collect()
    }
}

/// RFC 3339 in UTC with milliseconds, as Google writes timestamps.
fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

fn state_name(batch: &Batch) -> String {
    let prefix = if batch.faults.job_state_names {
        "JOB_STATE_"
    } else {
        "BATCH_STATE_"
    };
    format!("{prefix}{}", batch.state)
}

/// The Operation a batch is shown as.
fn operation(batch: &Batch) -> Value {
    let n = batch.requests.len();
    let (ok, failed) = batch.counts;
    let pending = if batch.ended_ms.is_some() { 0 } else { n };
    let mut metadata = json!({
        "@type": BATCH_TYPE,
        "model": format!("models/{}", batch.model),
        "displayName": batch.display_name,
        "createTime": timestamp(batch.created_ms),
        "updateTime": timestamp(batch.ended_ms.unwrap_or(batch.created_ms)),
        "batchStats": {
            "requestCount": n.to_string(),
            "pendingRequestCount": pending.to_string(),
            "successfulRequestCount": ok.to_string(),
            "failedRequestCount": failed.to_string()
        },
        "state": state_name(batch),
        "name": format!("batches/{}", batch.id)
    });
    if let Some(end) = batch.ended_ms {
        metadata["endTime"] = json!(timestamp(end));
    }
    let mut op = json!({"name": format!("batches/{}", batch.id), "metadata": metadata, "done": batch.ended_ms.is_some()});
    if let Some(output) = &batch.output {
        op["response"] = output.clone();
    }
    if batch.state == "FAILED" {
        op["error"] =
            json!({"code": 13, "message": "The batch failed: an internal error has occurred."});
    }
    op
}

fn unauthorized() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(error_body(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]),
        )),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(error_body(
            404,
            "NOT_FOUND",
            &format!("{what} not found"),
            json!([]),
        )),
    )
        .into_response()
}

fn invalid(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(error_body(400, "INVALID_ARGUMENT", message, json!([]))),
    )
        .into_response()
}

/// `POST models/{m}:batchGenerateContent`.
pub(crate) async fn create(
    state: &Arc<FakeState>,
    model: &str,
    headers: &HeaderMap,
    body: &str,
) -> Response {
    if !key_ok(state, headers) {
        return unauthorized();
    }
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let batch = &body["batch"];
    let Some(display_name) = batch["displayName"].as_str() else {
        return invalid("batch.displayName is required.");
    };
    let input = &batch["inputConfig"];
    let (requests, input_file) = if let Some(list) = input["requests"]["requests"].as_array() {
        let requests = list
            .iter()
            .map(|r| {
                (
                    r["metadata"]["key"].as_str().map(str::to_string),
                    r["request"].clone(),
                )
            })
            .collect::<Vec<_>>();
        (requests, None)
    } else if let Some(file) = input["fileName"].as_str() {
        let Some(bytes) = lock(&state.batches.files).get(file).cloned() else {
            return not_found(file);
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut requests = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(value) = serde_json::from_str::<Value>(line) else {
                return invalid("The input file is not valid JSONL.");
            };
            requests.push((
                value["key"].as_str().map(str::to_string),
                value["request"].clone(),
            ));
        }
        (requests, Some(file.to_string()))
    } else {
        return invalid("batch.inputConfig needs requests or a fileName.");
    };
    if requests.iter().any(|(_, r)| !r.is_object()) {
        return invalid("Every batch request needs a request object.");
    }
    let new = Batch {
        id: state.batches.next(),
        model: model.trim_start_matches("models/").to_string(),
        display_name: display_name.to_string(),
        requests,
        input_file,
        faults: lock(&state.batches.faults).clone(),
        polls: 0,
        state: "PENDING",
        created_ms: now_ms(),
        ended_ms: None,
        counts: (0, 0),
        output: None,
    };
    let op = operation(&new);
    lock(&state.batches.batches).push(new);
    (StatusCode::OK, Json(op)).into_response()
}

/// Google's RPC code for an HTTP status, as a batch's per-request errors carry it.
fn rpc_code(status: u16) -> i64 {
    match status {
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        429 => 8,
        499 => 1,
        500 => 13,
        503 => 14,
        504 => 4,
        _ => 2,
    }
}

/// Answers every request of a batch with the online logic and builds its output.
async fn run_batch(state: &FakeState, id: u64) {
    let (model, requests, input_file, faults) = {
        let batches = lock(&state.batches.batches);
        let Some(b) = batches.iter().find(|b| b.id == id) else {
            return;
        };
        (
            b.model.clone(),
            b.requests.clone(),
            b.input_file.clone(),
            b.faults.clone(),
        )
    };
    let mut entries = Vec::with_capacity(requests.len());
    let (mut ok, mut failed) = (0, 0);
    for (key, request) in requests {
        let result = answer(
            state,
            &model,
            "generateContent",
            request,
            true,
            false,
            now_ms(),
            true,
        )
        .await;
        let (status, body) = result.unwrap_or((
            503,
            error_body(503, "UNAVAILABLE", "The connection was reset.", json!([])),
        ));
        let mut entry = if status == 200 {
            ok += 1;
            json!({"response": body})
        } else {
            failed += 1;
            json!({"error": {"code": rpc_code(status), "message": body["error"]["message"], "status": body["error"]["status"]}})
        };
        entry["key"] = json!(key);
        entries.push(entry);
    }
    if faults.shuffle {
        let before: Vec<String> = entries.iter().map(|e| e["key"].to_string()).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(state.config.seed ^ id);
        entries.shuffle(&mut rng);
        let after: Vec<String> = entries.iter().map(|e| e["key"].to_string()).collect();
        // A shuffle that left everything in place would test nothing.
        if before == after {
            entries.reverse();
        }
    }
    let output = if input_file.is_some() {
        let mut lines = Vec::new();
        for mut entry in entries {
            if faults.drop_metadata {
                entry.as_object_mut().map(|o| o.remove("key"));
            }
            lines.extend(entry.to_string().into_bytes());
            lines.push(b'\n');
        }
        let file = format!("files/batch-{id}-results");
        lock(&state.batches.files).insert(file.clone(), lines);
        json!({"@type": OUTPUT_TYPE, "responsesFile": file})
    } else {
        let inline: Vec<Value> = entries
            .into_iter()
            .enumerate()
            .map(|(i, mut entry)| {
                let key = entry.as_object_mut().and_then(|o| o.remove("key"));
                let drop = faults.drop_metadata || (faults.drop_some_metadata && i % 2 == 1);
                if let Some(key) = key.filter(|_| !drop) {
                    entry["metadata"] = json!({"key": key});
                }
                entry
            })
            .collect();
        json!({"@type": OUTPUT_TYPE, "inlinedResponses": {"inlinedResponses": inline}})
    };
    let mut batches = lock(&state.batches.batches);
    if let Some(b) = batches.iter_mut().find(|b| b.id == id) {
        if b.state == "RUNNING" {
            b.state = "SUCCEEDED";
            b.ended_ms = Some(now_ms());
            b.counts = (ok, failed);
            b.output = Some(output);
        }
    }
}

fn batch_id(target: &str) -> Option<u64> {
    target.split(':').next()?.parse().ok()
}

/// `GET batches/{id}`: each poll moves a batch along (pending, running, ended).
pub(crate) async fn get(
    State(state): State<Arc<FakeState>>,
    Path(target): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !key_ok(&state, &headers) {
        return unauthorized();
    }
    let Some(id) = batch_id(&target) else {
        return not_found(&target);
    };
    let run = {
        let mut batches = lock(&state.batches.batches);
        let Some(b) = batches.iter_mut().find(|b| b.id == id) else {
            return not_found(&format!("batches/{target}"));
        };
        b.polls += 1;
        let mut run = false;
        if b.ended_ms.is_none() {
            if b.polls > b.faults.pending_polls {
                b.state = "RUNNING";
            }
            if b.polls > b.faults.pending_polls + b.faults.running_polls {
                match b.faults.end_state.as_deref() {
                    Some("FAILED") => {
                        b.state = "FAILED";
                        b.ended_ms = Some(now_ms());
                    }
                    Some("EXPIRED") => {
                        b.state = "EXPIRED";
                        b.ended_ms = Some(now_ms());
                    }
                    _ => run = true,
                }
            }
        }
        run
    };
    if run {
        run_batch(&state, id).await;
    }
    let batches = lock(&state.batches.batches);
    match batches.iter().find(|b| b.id == id) {
        Some(b) => (StatusCode::OK, Json(operation(b))).into_response(),
        None => not_found(&target),
    }
}

/// `GET batches`: every batch as an Operation, one page.
pub(crate) async fn list(State(state): State<Arc<FakeState>>, headers: HeaderMap) -> Response {
    if !key_ok(&state, &headers) {
        return unauthorized();
    }
    let ops: Vec<Value> = lock(&state.batches.batches).iter().map(operation).collect();
    (StatusCode::OK, Json(json!({"operations": ops}))).into_response()
}

/// `POST batches/{id}:cancel`.
pub(crate) async fn cancel(
    State(state): State<Arc<FakeState>>,
    Path(target): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !key_ok(&state, &headers) {
        return unauthorized();
    }
    if !target.ends_with(":cancel") {
        return not_found(&target);
    }
    let Some(id) = batch_id(&target) else {
        return not_found(&target);
    };
    let mut batches = lock(&state.batches.batches);
    let Some(b) = batches.iter_mut().find(|b| b.id == id) else {
        return not_found(&target);
    };
    if b.ended_ms.is_none() {
        b.state = "CANCELLED";
        b.ended_ms = Some(now_ms());
    }
    (StatusCode::OK, Json(json!({}))).into_response()
}

/// `DELETE batches/{id}`.
pub(crate) async fn delete(
    State(state): State<Arc<FakeState>>,
    Path(target): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !key_ok(&state, &headers) {
        return unauthorized();
    }
    let Some(id) = batch_id(&target) else {
        return not_found(&target);
    };
    let mut batches = lock(&state.batches.batches);
    let before = batches.len();
    batches.retain(|b| b.id != id);
    if batches.len() == before {
        return not_found(&target);
    }
    (StatusCode::OK, Json(json!({}))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn upload_status(
    status: StatusCode,
    upload: &str,
    received: Option<usize>,
    body: Value,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    let h = response.headers_mut();
    h.insert(
        "x-goog-upload-status",
        upload.parse().expect("a header value"),
    );
    if let Some(n) = received {
        h.insert(
            "x-goog-upload-size-received",
            n.to_string().parse().expect("a header value"),
        );
    }
    response
}

/// `POST upload/v1beta/files`: the resumable protocol's start (with the key), then the
/// upload URL's `upload`, `upload, finalize` and `query` commands.
pub(crate) async fn upload(
    State(state): State<Arc<FakeState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let command = header(&headers, "x-goog-upload-command").to_ascii_lowercase();
    let upload_id = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .find_map(|p| p.strip_prefix("upload_id="))
        .and_then(|v| v.parse::<u64>().ok());
    let Some(upload_id) = upload_id else {
        // The start of a session.
        if !key_ok(&state, &headers) {
            return unauthorized();
        }
        if header(&headers, "x-goog-upload-protocol") != "resumable" || command != "start" {
            return invalid(
                "Expected X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.",
            );
        }
        let Ok(declared) = header(&headers, "x-goog-upload-header-content-length").parse::<usize>()
        else {
            return invalid("X-Goog-Upload-Header-Content-Length is required.");
        };
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let id = state.batches.next();
        lock(&state.batches.uploads).insert(
            id,
            Upload {
                declared,
                received: Vec::new(),
                display_name: request["file"]["display_name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                file: None,
            },
        );
        let host = header(&headers, "host");
        let url =
            format!("http://{host}/upload/v1beta/files?upload_id={id}&upload_protocol=resumable");
        let mut response = upload_status(StatusCode::OK, "active", None, json!({}));
        response
            .headers_mut()
            .insert("x-goog-upload-url", url.parse().expect("a header value"));
        return response;
    };
    let mut uploads = lock(&state.batches.uploads);
    let Some(session) = uploads.get_mut(&upload_id) else {
        return not_found("upload session");
    };
    if command == "query" {
        return match &session.file {
            Some(file) => upload_status(
                StatusCode::OK,
                "final",
                Some(session.received.len()),
                file_resource(file, session),
            ),
            None => upload_status(
                StatusCode::OK,
                "active",
                Some(session.received.len()),
                json!({}),
            ),
        };
    }
    if !command.starts_with("upload") {
        return invalid("Unknown X-Goog-Upload-Command.");
    }
    state.batches.upload_requests.fetch_add(1, Ordering::SeqCst);
    let offset: usize = header(&headers, "x-goog-upload-offset")
        .parse()
        .unwrap_or(usize::MAX);
    if offset != session.received.len() {
        return upload_status(
            StatusCode::BAD_REQUEST,
            "active",
            Some(session.received.len()),
            error_body(
                400,
                "INVALID_ARGUMENT",
                "X-Goog-Upload-Offset does not match the bytes received.",
                json!([]),
            ),
        );
    }
    let drop_after = lock(&state.batches.faults).drop_upload_after;
    if let Some(limit) = drop_after.filter(|l| offset < *l && offset + body.len() > *l) {
        // The connection breaks part-way: the server keeps what arrived before it.
        session.received.extend_from_slice(&body[..limit - offset]);
        lock(&state.batches.faults).drop_upload_after = None;
        return broken_response();
    }
    session.received.extend_from_slice(&body);
    if !command.contains("finalize") {
        return upload_status(
            StatusCode::OK,
            "active",
            Some(session.received.len()),
            json!({}),
        );
    }
    if session.received.len() != session.declared {
        return upload_status(
            StatusCode::BAD_REQUEST,
            "active",
            Some(session.received.len()),
            error_body(
                400,
                "INVALID_ARGUMENT",
                "The upload is shorter or longer than declared.",
                json!([]),
            ),
        );
    }
    let file = format!("files/upload-{upload_id}");
    lock(&state.batches.files).insert(file.clone(), session.received.clone());
    session.file = Some(file.clone());
    upload_status(StatusCode::OK, "final", None, file_resource(&file, session))
}

fn file_resource(file: &str, session: &Upload) -> Value {
    json!({"file": {"name": file, "displayName": session.display_name, "mimeType": "application/jsonl",
                    "sizeBytes": session.received.len().to_string(), "state": "ACTIVE",
                    "uri": format!("https://generativelanguage.googleapis.com/v1beta/{file}")}})
}

/// `GET download/v1beta/files/{id}:download?alt=media`: a results file's bytes.
pub(crate) async fn download(
    State(state): State<Arc<FakeState>>,
    Path(target): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if !key_ok(&state, &headers) {
        return unauthorized();
    }
    let Some(id) = target.strip_suffix(":download") else {
        return not_found(&target);
    };
    if !query.as_deref().unwrap_or("").contains("alt=media") {
        return invalid("Use alt=media to download a file's content.");
    }
    match lock(&state.batches.files).get(&format!("files/{id}")) {
        Some(bytes) => (
            StatusCode::OK,
            [("content-type", "application/jsonl")],
            bytes.clone(),
        )
            .into_response(),
        None => not_found(&format!("files/{id}")),
    }
}

/// `POST /_fake/batch`: replaces the batch faults (JSON [`BatchFaults`]).
pub(crate) async fn set_faults(
    State(state): State<Arc<FakeState>>,
    Json(faults): Json<BatchFaults>,
) -> StatusCode {
    *lock(&state.batches.faults) = faults;
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_shown_as_the_real_operation() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_735_689_600_123), "2025-01-01T00:00:00.123Z");
        let mut batch = Batch {
            id: 7,
            model: "gemini-2.5-flash".into(),
            display_name: "gd".into(),
            requests: vec![(Some("k".into()), json!({}))],
            input_file: None,
            faults: BatchFaults::default(),
            polls: 0,
            state: "PENDING",
            created_ms: 0,
            ended_ms: None,
            counts: (0, 0),
            output: None,
        };
        let op = operation(&batch);
        assert_eq!(op["name"], "batches/7");
        assert_eq!(op["done"], false);
        assert_eq!(op["metadata"]["@type"], BATCH_TYPE);
        assert_eq!(op["metadata"]["state"], "BATCH_STATE_PENDING");
        assert_eq!(op["metadata"]["batchStats"]["requestCount"], "1");
        assert!(op["metadata"].get("endTime").is_none());
        batch.faults.job_state_names = true;
        batch.state = "SUCCEEDED";
        batch.ended_ms = Some(1000);
        batch.counts = (1, 0);
        batch.output =
            Some(json!({"@type": OUTPUT_TYPE, "inlinedResponses": {"inlinedResponses": []}}));
        let op = operation(&batch);
        assert_eq!(op["metadata"]["state"], "JOB_STATE_SUCCEEDED");
        assert_eq!(op["metadata"]["batchStats"]["successfulRequestCount"], "1");
        assert_eq!(op["metadata"]["endTime"], "1970-01-01T00:00:01.000Z");
        assert_eq!(op["done"], true);
        assert_eq!(op["response"]["@type"], OUTPUT_TYPE);
    }
}
