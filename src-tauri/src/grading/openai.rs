//! A second provider for schools that may not send student work to Google: any
//! OpenAI-compatible chat-completions server with a vision model (Ollama, LM Studio, vLLM,
//! llama.cpp's server), at a base URL such as `http://127.0.0.1:11434/v1`.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::endpoint::{http_client, redirect_error, secret_header, ClientError, Endpoint};
use super::prompt::{response_schema, system_instruction, user_text};
use super::response::{answer_to_grade, invalid};
use super::{ApiKey, GradeError, GradeOutcome, GradeRequest, Grader, Usage};
use crate::exams::Question;

/// Where the local model server is and which model to use; a key only if the server wants one.
#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    pub base_url: String,
    pub model: String,
    pub api_key: ApiKey,
    pub timeout: Duration,
    pub max_tokens: i64,
}

/// The OpenAI-compatible grader.
pub struct OpenAiGrader {
    config: OpenAiConfig,
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl OpenAiGrader {
    /// Builds the HTTP client once; refuses a base URL the key and the answers may not go
    /// to (see [`Endpoint::parse`]).
    pub fn new(config: OpenAiConfig) -> Result<Self, ClientError> {
        let endpoint = Endpoint::parse(&config.base_url)?;
        let http = http_client(&endpoint, config.timeout)?;
        Ok(Self {
            config,
            endpoint,
            http,
        })
    }

    /// The chat-completions POST, with the key (if any) as a sensitive bearer header.
    pub fn build_request(&self, request: &GradeRequest) -> Result<reqwest::Request, GradeError> {
        let url = format!("{}/chat/completions", self.endpoint.base());
        let mut call = self
            .http
            .post(url)
            .json(&request_body(&self.config, request));
        if let Some(key) = self.config.api_key.get() {
            let header =
                secret_header(&format!("Bearer {key}")).map_err(|_| GradeError::NeedsTeacher {
                    message: "the model server's API key holds characters no HTTP header may carry"
                        .into(),
                })?;
            call = call.header(reqwest::header::AUTHORIZATION, header);
        }
        call.build().map_err(|_| GradeError::Permanent {
            message: "the request to the model server could not be built".into(),
        })
    }
}

/// The chat-completions body: the same instruction, question and schema as for Gemini, the
/// image as a data URL (the only inline form this API accepts).
pub fn request_body(config: &OpenAiConfig, request: &GradeRequest) -> Value {
    let image = base64::engine::general_purpose::STANDARD.encode(&request.image);
    json!({
        "model": config.model,
        "messages": [
            {"role": "system", "content": system_instruction(&request.question)},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": format!("data:{};base64,{image}", request.mime_type)}},
                {"type": "text", "text": user_text(&request.question)}
            ]}
        ],
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "grade", "schema": response_schema(&request.question)}},
        "temperature": 0.2,
        "max_tokens": config.max_tokens
    })
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<ChatUsage>,
    model: Option<String>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct ChatUsage {
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
}

/// Reads a chat-completions answer.
pub fn parse_chat(
    body: &str,
    question: &Question,
    model: &str,
) -> Result<GradeOutcome, GradeError> {
    let response: ChatResponse = serde_json::from_str(body).map_err(|e| {
        invalid(format!(
            "the local model sent an answer GradeDesk could not read ({e})"
        ))
    })?;
    let usage = response
        .usage
        .map(|u| Usage {
            prompt_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
            thoughts_tokens: None,
        })
        .unwrap_or_default();
    let choice = response
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| invalid("the local model sent no answer; asking again"))?;
    let message = choice.message;
    if let Some(refusal) = message.as_ref().and_then(|m| m.refusal.clone()) {
        return Err(GradeError::Refused {
            message: format!(
                "the local model would not grade this answer ({refusal}); please grade it by hand"
            ),
        });
    }
    match choice.finish_reason.as_deref().unwrap_or("stop") {
        "content_filter" => {
            return Err(GradeError::Refused {
                message: "the local model's content filter stopped this answer; please grade it by hand".into(),
            })
        }
        "length" => {
            return Err(GradeError::Permanent {
                message: "the local model ran out of output tokens before finishing the grade; grade it by hand or raise its output limit".into(),
            })
        }
        _ => {}
    }
    let text = message.and_then(|m| m.content).unwrap_or_default();
    let model = response.model.unwrap_or_else(|| model.to_string());
    answer_to_grade(&text, question, model, usage, "the local model")
}

/// Classifies an error answer: OpenAI-style `{"error": {"message", "type", "code"}}`.
pub fn classify_error(
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    model: &str,
) -> GradeError {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .or_else(|| v["error"].as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("HTTP {status}"));
    let short: String = message.chars().take(300).collect();
    match status {
        401 | 403 => GradeError::NeedsTeacher {
            message: format!("API key rejected by the model server ({short}): check it in Settings"),
        },
        404 => GradeError::NeedsTeacher {
            message: format!("model not available: the server at the configured base URL has no model \"{model}\" ({short}); pull it or pick another in Settings"),
        },
        429 => GradeError::RateLimited {
            message: "the model server is busy; waiting before the next request".into(),
            retry_after,
            per_day: false,
        },
        408 | 500..=599 => GradeError::Transient {
            message: format!("the model server failed ({short}); trying again later"),
            retry_after,
        },
        _ => GradeError::Permanent {
            message: format!("the model server refused the request for this answer (HTTP {status}): {short}"),
        },
    }
}

#[async_trait]
impl Grader for OpenAiGrader {
    async fn grade(&self, request: &GradeRequest) -> Result<GradeOutcome, GradeError> {
        let call = self.build_request(request)?;
        let response = self
            .http
            .execute(call)
            .await
            .map_err(|e| GradeError::Transient {
                message: if e.is_timeout() {
                    "the model server did not answer in time".into()
                } else if e.is_connect() {
                    "could not reach the model server: is it running at the base URL in Settings?"
                        .into()
                } else {
                    "the connection to the model server failed".into()
                },
                retry_after: None,
            })?;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            return Err(redirect_error(
                &self.endpoint,
                response.status().as_u16(),
                location,
                "the model server",
            ));
        }
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(|_| GradeError::Transient {
            message: "the connection to the model server broke while reading its answer".into(),
            retry_after: None,
        })?;
        if !(200..300).contains(&status) {
            return Err(classify_error(
                status,
                &text,
                retry_after,
                &self.config.model,
            ));
        }
        parse_chat(&text, &request.question, &self.config.model)
    }
}
