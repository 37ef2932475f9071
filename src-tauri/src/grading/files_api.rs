//! Gemini's Files API, as Batch Mode needs it: a batch's requests too large to send inline
//! are uploaded as one JSONL file through the resumable protocol, and a batch's results
//! file is downloaded. The upload survives a dropped connection: it asks the server how
//! much it received (`X-Goog-Upload-Command: query`) and sends the rest from there.

use reqwest::header::HeaderMap;
use reqwest::Url;
use serde_json::{json, Value};

use super::endpoint::{redirect_error, Endpoint};
use super::GradeError;

/// How many times an upload is resumed after a dropped connection before it gives up.
const UPLOAD_ATTEMPTS: u32 = 5;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The upload URL the server handed out, refused unless it is on the configured base URL's
/// scheme, host and port: the students' answers go nowhere else.
fn checked_upload_url(endpoint: &Endpoint, url: &str) -> Result<Url, GradeError> {
    let base = Url::parse(&endpoint.base()).map_err(|_| upload_failed("the base URL"))?;
    let upload = Url::parse(url).map_err(|_| upload_failed("the upload address"))?;
    let same = upload.scheme() == base.scheme()
        && upload.host_str() == base.host_str()
        && upload.port_or_known_default() == base.port_or_known_default();
    if !same {
        return Err(GradeError::NeedsTeacher {
            message: format!(
                "Gemini at {} asked for the batch file to be uploaded to another address ({}); GradeDesk sends the answers to the configured base URL only",
                endpoint.authority(),
                upload.host_str().unwrap_or("?")
            ),
        });
    }
    Ok(upload)
}

/// A redirect answer is an error naming both hosts (it is never followed: the client has
/// no redirect policy), as for every other call.
fn refuse_redirect(endpoint: &Endpoint, response: &reqwest::Response) -> Result<(), GradeError> {
    if !response.status().is_redirection() {
        return Ok(());
    }
    let location = header(response.headers(), "location");
    Err(redirect_error(
        endpoint,
        response.status().as_u16(),
        location,
        "Gemini",
    ))
}

fn upload_failed(what: &str) -> GradeError {
    GradeError::Transient {
        message: format!("the batch file could not be uploaded to Gemini ({what} was not usable)"),
        retry_after: None,
    }
}

/// Uploads `bytes` as one file through the resumable protocol and returns its name
/// (`files/…`). The key goes with the start request only; the upload URL it answers with
/// is the session's own credential.
pub async fn upload_resumable(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    key: reqwest::header::HeaderValue,
    bytes: &[u8],
    mime_type: &str,
    display_name: &str,
) -> Result<String, GradeError> {
    let start = http
        .post(format!("{}/upload/v1beta/files", endpoint.base()))
        .header("x-goog-api-key", key)
        .header("X-Goog-Upload-Protocol", "resumable")
        .header("X-Goog-Upload-Command", "start")
        .header(
            "X-Goog-Upload-Header-Content-Length",
            bytes.len().to_string(),
        )
        .header("X-Goog-Upload-Header-Content-Type", mime_type)
        .json(&json!({"file": {"display_name": display_name}}))
        .send()
        .await
        .map_err(super::gemini::transport_error)?;
    refuse_redirect(endpoint, &start)?;
    let status = start.status().as_u16();
    if !(200..300).contains(&status) {
        let text = start.text().await.unwrap_or_default();
        return Err(super::gemini::classify_error(status, &text, "files"));
    }
    let url = header(start.headers(), "x-goog-upload-url")
        .ok_or_else(|| upload_failed("the answer without X-Goog-Upload-URL"))?
        .to_string();
    let url = checked_upload_url(endpoint, &url)?;
    let mut offset = 0usize;
    let mut last_error = None;
    for attempt in 0..UPLOAD_ATTEMPTS {
        if attempt > 0 {
            match query_offset(http, endpoint, &url).await? {
                Query::Final(name) => return Ok(name),
                Query::Active(received) => offset = received.min(bytes.len()),
            }
            tracing::info!(offset, attempt, "resuming the batch file upload");
        }
        let sent = http
            .post(url.clone())
            .header("X-Goog-Upload-Command", "upload, finalize")
            .header("X-Goog-Upload-Offset", offset.to_string())
            .body(bytes[offset..].to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                last_error = Some(super::gemini::transport_error(e));
                continue;
            }
        };
        refuse_redirect(endpoint, &response)?;
        let status = response.status().as_u16();
        let upload_status = header(response.headers(), "x-goog-upload-status")
            .unwrap_or("")
            .to_string();
        let text = match response.text().await {
            Ok(text) => text,
            Err(e) => {
                last_error = Some(super::gemini::transport_error(e));
                continue;
            }
        };
        if (200..300).contains(&status) && upload_status.eq_ignore_ascii_case("final") {
            return file_name(&text);
        }
        if status >= 500 || upload_status.eq_ignore_ascii_case("active") {
            last_error = Some(super::gemini::classify_error(status, &text, "files"));
            continue;
        }
        return Err(super::gemini::classify_error(status, &text, "files"));
    }
    Err(last_error.unwrap_or_else(|| upload_failed("the connection")))
}

enum Query {
    Active(usize),
    Final(String),
}

/// Asks the upload session how many bytes the server holds.
async fn query_offset(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    url: &Url,
) -> Result<Query, GradeError> {
    let response = http
        .post(url.clone())
        .header("X-Goog-Upload-Command", "query")
        .send()
        .await
        .map_err(super::gemini::transport_error)?;
    refuse_redirect(endpoint, &response)?;
    let status = header(response.headers(), "x-goog-upload-status")
        .unwrap_or("")
        .to_ascii_lowercase();
    let received = header(response.headers(), "x-goog-upload-size-received")
        .and_then(|v| v.trim().parse::<usize>().ok());
    let text = response.text().await.unwrap_or_default();
    match (status.as_str(), received) {
        ("final", _) => file_name(&text).map(Query::Final),
        ("active", Some(n)) => Ok(Query::Active(n)),
        _ => Err(upload_failed("the upload session")),
    }
}

fn file_name(text: &str) -> Result<String, GradeError> {
    let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    value["file"]["name"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| upload_failed("the uploaded file's name"))
}

/// Whether `name` is a file name GradeDesk puts in a URL path: `files/` then letters,
/// digits, `-` and `_` (a results file named otherwise is refused, not fetched).
pub fn valid_file_name(name: &str) -> bool {
    name.strip_prefix("files/").is_some_and(|id| {
        !id.is_empty()
            && id.len() <= 128
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upload_goes_to_the_base_urls_host_only() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8765").unwrap();
        assert!(
            checked_upload_url(&endpoint, "http://127.0.0.1:8765/upload/x?upload_id=1").is_ok()
        );
        for other in [
            "http://127.0.0.1:9999/upload",
            "https://127.0.0.1:8765/upload",
            "http://evil.example/upload",
        ] {
            assert!(checked_upload_url(&endpoint, other).is_err(), "{other}");
        }
    }

    #[test]
    fn file_names_are_plain() {
        assert!(valid_file_name("files/batch-1-results_x"));
        for bad in [
            "files/",
            "files/../x",
            "batches/1",
            "files/a?b",
            "files/a/b",
        ] {
            assert!(!valid_file_name(bad), "{bad}");
        }
    }
}
