//! The API key goes only where the teacher meant: to the configured base URL's host, over
//! https (plain http only to this computer), never along a redirect; a base URL off
//! Google's endpoint needs a confirmation naming its host, in Settings and on the CLI.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use gradedesk::exams::Question;
use gradedesk::grading::gemini::{GeminiConfig, GeminiGrader};
use gradedesk::grading::openai::{OpenAiConfig, OpenAiGrader};
use gradedesk::grading::{ApiKey, GradeError, GradeRequest, Grader};

const KEY: &str = "AIzaSy-secret-test-key-4242";
const IMAGE: &[u8] = b"student-answer-image-bytes";

/// Everything one local server received, connection by connection.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Vec<u8>>>>);

impl Seen {
    fn all(&self) -> Vec<u8> {
        self.0.lock().unwrap().concat()
    }
    fn connections(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Reads one HTTP request (headers, then Content-Length bytes of body).
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break;
            }
        }
    }
    data
}

/// A server on a free loopback port answering every request with `reply`; what it was
/// sent is recorded.
fn server(reply: impl Fn(u16) -> String + Send + 'static) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Seen::default();
    let record = seen.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let request = read_request(&mut stream);
            record.0.lock().unwrap().push(request);
            let _ = stream.write_all(reply(port).as_bytes());
        }
    });
    (port, seen)
}

/// A server that records everything and answers a valid-looking 200.
fn recorder() -> (u16, Seen) {
    server(|_| {
        let body = "{}";
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    })
}

/// A server that answers `status` with a Location on another local port.
fn redirector(status: u16, target_port: u16) -> (u16, Seen) {
    server(move |_| {
        format!(
            "HTTP/1.1 {status} Moved\r\nLocation: http://127.0.0.1:{target_port}/v1beta/models/gemini-2.5-flash:generateContent\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    })
}

fn request() -> GradeRequest {
    GradeRequest {
        image: IMAGE.to_vec(),
        mime_type: "image/png".into(),
        question: Question {
            id: 1,
            label: "Q1".into(),
            prompt: "State Newton's second law.".into(),
            max_points: 2.0,
            rubric: String::new(),
            reference_answer: String::new(),
            scoring: Default::default(),
            items: Vec::new(),
        },
        sample: 0,
    }
}

fn gemini(base_url: String) -> GeminiGrader {
    GeminiGrader::new(GeminiConfig {
        timeout: Duration::from_secs(10),
        ..GeminiConfig::new(base_url, "gemini-2.5-flash", ApiKey::new(Some(KEY.into())))
    })
    .unwrap()
}

fn openai(base_url: String) -> OpenAiGrader {
    OpenAiGrader::new(OpenAiConfig {
        base_url,
        model: "qwen2.5vl:7b".into(),
        api_key: ApiKey::new(Some(KEY.into())),
        timeout: Duration::from_secs(10),
        max_tokens: 256,
    })
    .unwrap()
}

/// The image as it travels (base64 inside the JSON body).
fn image_b64() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(IMAGE)
}

fn assert_never_reached(target: &Seen) {
    thread::sleep(Duration::from_millis(300));
    let got = target.all();
    assert_eq!(
        target.connections(),
        0,
        "the redirect target was contacted: {}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_never_takes_the_key_or_the_image_to_another_host() {
    for status in [307, 308, 302, 301] {
        let (target_port, target) = recorder();
        let (port, first) = redirector(status, target_port);
        let grader = gemini(format!("http://127.0.0.1:{port}"));
        let error = grader.grade(&request()).await.unwrap_err();
        assert_never_reached(&target);
        let GradeError::NeedsTeacher { message } = &error else {
            panic!("HTTP {status}: {error:?}");
        };
        assert!(
            message.contains(&format!("127.0.0.1:{port}"))
                && message.contains(&format!("127.0.0.1:{target_port}"))
                && message.contains("redirect"),
            "the error names both hosts: {message}"
        );
        // The configured host did get the request (so the check above means something).
        let sent = String::from_utf8_lossy(&first.all()).into_owned();
        assert!(sent.contains(KEY) && sent.contains(&image_b64()), "{sent}");

        // The key test refuses the redirect the same way.
        let test = grader.test_key().await.unwrap_err();
        assert!(matches!(test, GradeError::NeedsTeacher { .. }), "{test:?}");
        assert_never_reached(&target);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_compatible_client_follows_no_redirect_either() {
    let (target_port, target) = recorder();
    let (port, first) = redirector(307, target_port);
    let grader = openai(format!("http://127.0.0.1:{port}/v1"));
    let error = grader.grade(&request()).await.unwrap_err();
    assert_never_reached(&target);
    let GradeError::NeedsTeacher { message } = &error else {
        panic!("{error:?}");
    };
    assert!(
        message.contains(&format!("127.0.0.1:{target_port}")),
        "{message}"
    );
    assert!(String::from_utf8_lossy(&first.all()).contains(KEY));
}

#[test]
fn the_key_header_is_marked_sensitive() {
    let grader = gemini("https://generativelanguage.googleapis.com".into());
    let built = grader
        .build_request(KEY, &serde_json::json!({"contents": []}))
        .unwrap();
    let header = built.headers().get("x-goog-api-key").unwrap();
    assert!(header.is_sensitive());
    assert_eq!(
        built.url().host_str(),
        Some("generativelanguage.googleapis.com")
    );
    let local = openai("http://127.0.0.1:11434/v1".into());
    let built = local.build_request(&request()).unwrap();
    assert!(built.headers()["authorization"].is_sensitive());
}

#[test]
fn plain_http_to_another_computer_is_refused_before_anything_is_sent() {
    for url in [
        "http://192.0.2.10",
        "http://10.1.2.3:8080",
        "http://example.com",
        "http://localhost.example.com",
    ] {
        let g = GeminiGrader::new(GeminiConfig::new(
            url,
            "gemini-2.5-flash",
            ApiKey::new(None),
        ));
        let refused = g.err().unwrap_or_else(|| panic!("{url} was accepted"));
        assert!(refused.to_string().contains("plain http"), "{refused}");
        let o = OpenAiGrader::new(OpenAiConfig {
            base_url: format!("{url}/v1"),
            model: "m".into(),
            api_key: ApiKey::new(None),
            timeout: Duration::from_secs(1),
            max_tokens: 1,
        });
        assert!(o.is_err(), "{url} was accepted for the local model");
    }
    for url in [
        "https://generativelanguage.googleapis.com",
        "http://127.0.0.1:8765",
        "http://localhost:8765",
        "http://[::1]:8765",
    ] {
        GeminiGrader::new(GeminiConfig::new(
            url,
            "gemini-2.5-flash",
            ApiKey::new(None),
        ))
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
    // A model id is part of the URL's path: only plain names are sent.
    let g = GeminiGrader::new(GeminiConfig::new(
        "https://generativelanguage.googleapis.com",
        "../../upload/v1beta/files",
        ApiKey::new(None),
    ));
    assert!(g.is_err());
}

/// The CLI on a fresh data dir, with the key store kept in the temporary dir.
fn cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gradedesk"));
    cmd.arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env("GRADEDESK_CONFIG_DIR", dir.join("config"))
        .env("GRADEDESK_KEYRING", "off")
        .env_remove("GEMINI_BASE_URL")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GRADEDESK_MODEL")
        .env_remove("GRADEDESK_OPENAI_BASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn shown(dir: &Path) -> serde_json::Value {
    let out = cli(dir, &[], &["settings", "show"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_cli_sets_a_base_url_off_google_only_with_a_confirmation_naming_its_host() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let set = |args: &[&str]| {
        let mut all = vec!["settings", "set"];
        all.extend_from_slice(args);
        cli(dir, &[], &all)
    };
    let refused = set(&["base_url", "https://proxy.school.example/gemini"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(
            "your API key and the students' answers will be sent to proxy.school.example"
        ) && stderr(&refused).contains("--confirm-host proxy.school.example"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        shown(dir)["settings"]["base_url"],
        "https://generativelanguage.googleapis.com"
    );
    let wrong = set(&[
        "base_url",
        "https://proxy.school.example/gemini",
        "--confirm-host",
        "other.example",
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    let ok = set(&[
        "base_url",
        "https://proxy.school.example/gemini",
        "--confirm-host",
        "proxy.school.example",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let view = shown(dir);
    assert_eq!(
        view["settings"]["base_url"],
        "https://proxy.school.example/gemini"
    );
    assert_eq!(
        view["settings"]["base_url_confirmed_host"],
        "proxy.school.example"
    );
    // Another host needs its own confirmation; the old one does not carry over.
    let moved = set(&["base_url", "https://other.example"]);
    assert_eq!(moved.status.code(), Some(2), "{}", stderr(&moved));
    // The confirmation is not a setting of its own.
    let sneaky = set(&["base_url_confirmed_host", "other.example"]);
    assert_eq!(sneaky.status.code(), Some(2));
    // Plain http to another computer is refused, confirmed or not.
    for args in [
        &["base_url", "http://192.168.1.9:8080"][..],
        &[
            "base_url",
            "http://192.168.1.9:8080",
            "--confirm-host",
            "192.168.1.9",
        ][..],
        &["openai_base_url", "http://192.168.1.9:11434/v1"][..],
    ] {
        let out = set(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("plain http"), "{}", stderr(&out));
    }
    // This computer needs no confirmation (a local model server, the test stand-in).
    let local = set(&["openai_base_url", "http://127.0.0.1:11434/v1"]);
    assert!(local.status.success(), "{}", stderr(&local));
}

#[test]
fn the_environment_base_url_is_the_operators_choice_but_http_stays_local() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Plain http to another computer: refused before anything is sent (exit 2, not a
    // network failure).
    let out = cli(
        dir,
        &[
            ("GEMINI_BASE_URL", "http://10.1.2.3:8080"),
            ("GEMINI_API_KEY", KEY),
        ],
        &["key", "test"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("plain http"), "{}", stderr(&out));
    // An https host from the environment needs no confirmation: the test gets as far as
    // the network (a name that never resolves), exit 3.
    let out = cli(
        dir,
        &[
            ("GEMINI_BASE_URL", "https://gradedesk-test.invalid"),
            ("GEMINI_API_KEY", KEY),
        ],
        &["key", "test"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("confirm"), "{}", stderr(&out));
    // A redirecting server on this computer: the key test fails naming the hosts, and the
    // redirect's target hears nothing.
    let (target_port, target) = recorder();
    let (port, _) = redirector(307, target_port);
    let url = format!("http://127.0.0.1:{port}");
    let out = cli(
        dir,
        &[("GEMINI_BASE_URL", url.as_str()), ("GEMINI_API_KEY", KEY)],
        &["key", "test"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("127.0.0.1:{target_port}")),
        "{}",
        stderr(&out)
    );
    assert_never_reached(&target);
}

fn batch_client(base_url: String) -> gradedesk::grading::batch_api::BatchClient {
    gradedesk::grading::batch_api::BatchClient::new(GeminiConfig {
        timeout: Duration::from_secs(10),
        ..GeminiConfig::new(base_url, "gemini-2.5-flash", ApiKey::new(Some(KEY.into())))
    })
    .unwrap()
}

fn batch_requests() -> Vec<(String, serde_json::Value)> {
    let client = batch_client("http://127.0.0.1:1".into());
    vec![("item-1-job-1".into(), client.request_body(&request()))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_calls_and_uploads_follow_the_same_rules_no_redirect_and_no_other_host() {
    // Plain http to another computer: refused before anything is sent.
    let refused = gradedesk::grading::batch_api::BatchClient::new(GeminiConfig::new(
        "http://192.0.2.1:8765",
        "gemini-2.5-flash",
        ApiKey::new(Some(KEY.into())),
    ));
    assert!(refused.is_err());

    // A redirect of the submit, of a poll, or of the upload's start is not followed.
    for status in [307, 308] {
        let (target_port, target) = recorder();
        let (port, first) = redirector(status, target_port);
        let client = batch_client(format!("http://127.0.0.1:{port}"));
        for inline_limit in [usize::MAX, 0] {
            let error = client
                .create("gd-test", &batch_requests(), inline_limit)
                .await
                .unwrap_err();
            assert!(
                matches!(error.error, GradeError::NeedsTeacher { .. }),
                "{error:?}"
            );
        }
        let poll = client.get("batches/1").await.unwrap_err();
        assert!(matches!(poll, GradeError::NeedsTeacher { .. }), "{poll:?}");
        assert_never_reached(&target);
        assert!(String::from_utf8_lossy(&first.all()).contains(KEY));
    }

    // An upload URL on another port: the file (the students' answers) is not sent there.
    let (target_port, target) = recorder();
    let (port, _) = server(move |_| {
        format!(
            "HTTP/1.1 200 OK\r\nX-Goog-Upload-Status: active\r\nX-Goog-Upload-URL: http://127.0.0.1:{target_port}/upload/v1beta/files?upload_id=1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        )
    });
    let error = batch_client(format!("http://127.0.0.1:{port}"))
        .create("gd-test", &batch_requests(), 0)
        .await
        .unwrap_err();
    let GradeError::NeedsTeacher { message } = &error.error else {
        panic!("{error:?}");
    };
    assert!(message.contains("another address"), "{message}");
    assert!(!error.maybe_created);
    assert_never_reached(&target);
}
