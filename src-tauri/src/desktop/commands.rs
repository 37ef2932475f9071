//! The commands the UI invokes: each parses its arguments, calls the core, maps the error.

use serde::Serialize;
use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use super::Desk;
use crate::exams::{Bbox, Exam, QuestionInput};
use crate::workspace::{CropResult, DeskError, ImportResult, Snapshot, SubmissionDetail};

/// What the UI receives on failure: a stable code and a sentence for the teacher.
#[derive(Debug, Serialize)]
pub struct CommandError {
    code: String,
    message: String,
}

impl From<DeskError> for CommandError {
    fn from(e: DeskError) -> Self {
        Self {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError {
        code: "invalid".into(),
        message: message.into(),
    }
}

type Reply<T> = Result<T, CommandError>;

#[tauri::command]
pub async fn snapshot(desk: State<'_, Desk>) -> Reply<Snapshot> {
    Ok(desk.workspace.snapshot().await?)
}

#[tauri::command]
pub async fn list_exams(desk: State<'_, Desk>) -> Reply<Vec<Exam>> {
    Ok(desk.workspace.snapshot().await?.exams)
}

#[derive(Serialize)]
pub struct ExamCreated {
    exam_id: i64,
}

#[tauri::command]
pub async fn create_exam(
    desk: State<'_, Desk>,
    name: String,
    questions: Vec<QuestionInput>,
) -> Reply<ExamCreated> {
    let exam_id = desk.workspace.create_exam(name, questions).await?;
    Ok(ExamCreated { exam_id })
}

/// The scan's bytes arrive as the raw body (no JSON number arrays for megabytes of image);
/// the exam and file name ride in headers.
#[tauri::command]
pub async fn import_file(desk: State<'_, Desk>, request: Request<'_>) -> Reply<ImportResult> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("the scan's bytes were not sent"));
    };
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let exam_id: i64 = header("x-exam-id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("choose an exam before importing scans"))?;
    let name = header("x-file-name")
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_else(|| "scan".into());
    Ok(desk
        .workspace
        .import_bytes(exam_id, &name, bytes.clone())
        .await?)
}

#[tauri::command]
pub async fn get_submission(desk: State<'_, Desk>, submission_id: i64) -> Reply<SubmissionDetail> {
    Ok(desk.workspace.submission_detail(submission_id).await?)
}

#[tauri::command]
pub async fn create_item(
    desk: State<'_, Desk>,
    submission_id: i64,
    page_number: i64,
    question_label: String,
    bbox: Bbox,
) -> Reply<CropResult> {
    Ok(desk
        .workspace
        .create_item(submission_id, page_number, &question_label, bbox)
        .await?)
}
