//! The commands the UI invokes: each parses its arguments, calls the core, maps the error.

use std::sync::Arc;

use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use super::Desk;
use crate::batching::{BatchPreview, BatchSent};
use crate::engine::DeskSnapshot;
use crate::error::{CoreError, ErrorReply};
use crate::exams::{Bbox, Exam, Override, Question, QuestionInput, ReviewRow};
use crate::grading::pricing::Price;
use crate::queue::batches::GradingMode;
use crate::queue::{DeadJob, PauseScope, QueueStatus};
use crate::settings::Settings;
use crate::workspace::{
    BatchOverview, CropResult, DropReport, DroppedPaths, Estimate, ExamCreated, ImportResult,
    QuestionEdited, SettingsView, Snapshot, SubmissionDetail,
};

fn invalid(message: impl Into<String>) -> ErrorReply {
    CoreError::Invalid(message.into()).reply()
}

type Reply<T> = Result<T, ErrorReply>;

#[tauri::command]
pub async fn snapshot(desk: State<'_, Desk>) -> Reply<Snapshot> {
    Ok(desk.workspace().snapshot().await?)
}

#[tauri::command]
pub async fn list_exams(desk: State<'_, Desk>) -> Reply<Vec<Exam>> {
    Ok(desk.workspace().exams().await?)
}

#[tauri::command]
pub async fn create_exam(
    desk: State<'_, Desk>,
    name: String,
    questions: Vec<QuestionInput>,
) -> Reply<ExamCreated> {
    let exam_id = desk.workspace().create_exam(name, questions).await?;
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
        .workspace()
        .import_bytes(exam_id, &name, bytes.clone())
        .await?)
}

#[tauri::command]
pub async fn get_submission(desk: State<'_, Desk>, submission_id: i64) -> Reply<SubmissionDetail> {
    Ok(desk.workspace().submission_detail(submission_id).await?)
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
        .workspace()
        .create_item(submission_id, page_number, &question_label, bbox)
        .await?)
}

#[tauri::command]
pub async fn desk_snapshot(desk: State<'_, Desk>) -> Reply<DeskSnapshot> {
    // Once: the page is up and its commands pass the capability (the release test reads it).
    static FIRST: std::sync::Once = std::sync::Once::new();
    FIRST.call_once(|| tracing::info!("the page loaded its first snapshot"));
    Ok(desk.desk_snapshot().await?)
}

#[tauri::command]
pub async fn queue_status(desk: State<'_, Desk>) -> Reply<QueueStatus> {
    Ok(desk.queue_status().await?)
}

fn scope(exam_id: Option<i64>) -> PauseScope {
    exam_id.map_or(PauseScope::All, PauseScope::Exam)
}

#[tauri::command]
pub async fn pause_grading(desk: State<'_, Desk>, exam_id: Option<i64>) -> Reply<()> {
    Ok(desk
        .workspace()
        .pause(scope(exam_id), "paused by the teacher".into())
        .await?)
}

/// Also clears a halt (no key, key rejected) so the pool tries again.
#[tauri::command]
pub async fn resume_grading(desk: State<'_, Desk>, exam_id: Option<i64>) -> Reply<bool> {
    Ok(desk.resume(scope(exam_id)).await?)
}

#[tauri::command]
pub async fn cancel_item(desk: State<'_, Desk>, item_id: i64) -> Reply<()> {
    Ok(desk.cancel_item(item_id).await?)
}

/// Undo of a delete from the crop page's toast.
#[tauri::command]
pub async fn restore_item(desk: State<'_, Desk>, item_id: i64) -> Reply<()> {
    Ok(desk.workspace().restore_item(item_id).await?)
}

/// The teacher moved, resized or reassigned a box on the crop page: one core call, so the
/// old box goes exactly when the new one is stored.
#[tauri::command]
pub async fn recrop_item(
    desk: State<'_, Desk>,
    item_id: i64,
    question_label: String,
    bbox: Bbox,
) -> Reply<CropResult> {
    Ok(desk
        .workspace()
        .recrop_item(item_id, &question_label, bbox)
        .await?)
}

/// The teacher deleted an answer box on the crop page: it leaves the lists and its grading
/// stops (the workspace cancels the job; a running worker's result is then refused).
#[tauri::command]
pub async fn delete_item(desk: State<'_, Desk>, item_id: i64) -> Reply<()> {
    Ok(desk.workspace().delete_item(item_id).await?)
}

#[tauri::command]
pub async fn prioritize_item(desk: State<'_, Desk>, item_id: i64) -> Reply<()> {
    Ok(desk.workspace().prioritize_item(item_id).await?)
}

#[tauri::command]
pub async fn dead_jobs(desk: State<'_, Desk>) -> Reply<Vec<DeadJob>> {
    Ok(desk.workspace().dead_jobs().await?)
}

/// Retries one failed job, or all of them when `job_id` is absent.
#[tauri::command]
pub async fn retry_failed(desk: State<'_, Desk>, job_id: Option<i64>) -> Reply<usize> {
    Ok(desk.workspace().retry_dead(job_id).await?)
}

// --- Grading settings, key and cost (issue #4). The key only ever travels UI -> core;
// replies carry the masked form.

#[tauri::command]
pub async fn get_settings(desk: State<'_, Desk>) -> Reply<SettingsView> {
    Ok(desk.settings_view().await?)
}

/// Saves the settings and prices; the core swaps in a grader built from them and lets a
/// halted pool try again (the teacher may just have fixed the model).
#[tauri::command]
pub async fn save_settings(
    desk: State<'_, Desk>,
    settings: Settings,
    prices: Vec<Price>,
) -> Reply<SettingsView> {
    Ok(desk.save_settings(settings, prices).await?)
}

/// Stores the key (keyring, else a private file) and resumes grading halted for want of it.
#[tauri::command]
pub async fn set_api_key(desk: State<'_, Desk>, key: String) -> Reply<SettingsView> {
    desk.set_api_key(key).await?;
    Ok(desk.settings_view().await?)
}

/// Asks Gemini whether the stored key and model work; the error says what to fix.
#[tauri::command]
pub async fn test_api_key(desk: State<'_, Desk>) -> Reply<String> {
    Ok(desk.test_api_key().await?)
}

/// The estimate for the answers still to grade (one exam or all) and the actual cost so far.
#[tauri::command]
pub async fn estimate(desk: State<'_, Desk>, exam_id: Option<i64>) -> Reply<Estimate> {
    Ok(desk.workspace().estimate(exam_id).await?)
}

// --- Review: a question's answers across the class and the teacher's score.

#[tauri::command]
pub async fn review_items(
    desk: State<'_, Desk>,
    exam_id: i64,
    question_label: String,
) -> Reply<Vec<ReviewRow>> {
    Ok(desk
        .workspace()
        .review_items(exam_id, question_label)
        .await?)
}

/// The teacher's score for an answer; refused (with a sentence) outside 0..max points.
/// The core sends the answer's new view to the live view.
#[tauri::command]
pub async fn override_score(
    desk: State<'_, Desk>,
    item_id: i64,
    score: f64,
    note: Option<String>,
) -> Reply<Override> {
    Ok(desk
        .workspace()
        .override_score(item_id, score, note)
        .await?)
}

/// Corrects the student's name of a scan; the UI refetches on the `changed` event.
#[tauri::command]
pub async fn rename_student(
    desk: State<'_, Desk>,
    submission_id: i64,
    student: String,
) -> Reply<()> {
    Ok(desk
        .workspace()
        .rename_student(submission_id, student)
        .await?)
}

// --- Exams and questions editing, and drag-and-drop import (issue #6).

#[tauri::command]
pub async fn update_exam(desk: State<'_, Desk>, exam_id: i64, name: String) -> Reply<()> {
    Ok(desk.workspace().update_exam(exam_id, name).await?)
}

/// Adds questions at the end of an exam: one from the editor, or a whole imported file.
#[tauri::command]
pub async fn add_questions(
    desk: State<'_, Desk>,
    exam_id: i64,
    questions: Vec<QuestionInput>,
) -> Reply<Vec<Question>> {
    Ok(desk.workspace().add_questions(exam_id, questions).await?)
}

#[tauri::command]
pub async fn update_question(
    desk: State<'_, Desk>,
    question_id: i64,
    question: QuestionInput,
) -> Reply<QuestionEdited> {
    Ok(desk
        .workspace()
        .update_question(question_id, question)
        .await?)
}

/// Refused with the reason when answers are boxed for the question.
#[tauri::command]
pub async fn delete_question(desk: State<'_, Desk>, question_id: i64) -> Reply<()> {
    Ok(desk.workspace().delete_question(question_id).await?)
}

/// Imports files and folders dropped on the window. The page names them, but only paths
/// the window's own drag-and-drop event reported are taken (canonical, each once): a page
/// cannot make the core read any other file.
#[tauri::command]
pub async fn import_paths(
    desk: State<'_, Desk>,
    dropped: State<'_, Arc<DroppedPaths>>,
    exam_id: i64,
    paths: Vec<std::path::PathBuf>,
) -> Reply<DropReport> {
    if paths.is_empty() {
        return Err(invalid("nothing was dropped"));
    }
    let paths = dropped.take(&paths).map_err(invalid)?;
    Ok(desk.workspace().import_paths(exam_id, paths).await)
}

/// Test hook (built only with the `e2e` feature) for the end-to-end latency figure: sends
/// `count` events for one answer, each showing a probe score of 1000 + i, spaced by
/// `gap_ms`, and returns when each left the core (wall-clock ms, sub-ms precision), then
/// sends the answer's true view again.
#[cfg(feature = "e2e")]
#[tauri::command]
pub async fn e2e_probe_events(
    desk: State<'_, Desk>,
    item_id: i64,
    count: u32,
    gap_ms: u64,
) -> Reply<Vec<f64>> {
    let workspace = desk.workspace();
    let view = workspace.item(item_id).await?;
    let mut sent = Vec::with_capacity(count as usize);
    for i in 0..count.min(1000) {
        let mut item = view.clone();
        item.state = crate::exams::ItemState::Done;
        item.score = Some(1000.0 + f64::from(i));
        item.teacher_score = None;
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        workspace
            .events
            .emit(crate::events::EventBody::Item { item });
        sent.push(at);
        tokio::time::sleep(std::time::Duration::from_millis(gap_ms.min(1000))).await;
    }
    workspace.emit_item(item_id).await;
    Ok(sent)
}

// --- Hand-back: gradebooks in every format, feedback PDFs, statistics.

/// Writes the exam's gradebook in `format` (`csv`, `csv-long`, `canvas`, `moodle`,
/// `classroom`, `xlsx`, `answers`) to `path`.
#[tauri::command]
pub async fn export_gradebook(
    desk: State<'_, Desk>,
    exam_id: i64,
    format: crate::export::Format,
    path: String,
) -> Reply<crate::workspace::ExportDone> {
    if path.trim().is_empty() {
        return Err(invalid("name the file to write"));
    }
    let rows = desk
        .workspace()
        .export(exam_id, format, std::path::Path::new(&path))
        .await?;
    Ok(crate::workspace::ExportDone { rows, path })
}

/// Writes a feedback PDF per student and the class's into the folder `dir`.
#[tauri::command]
pub async fn export_feedback(
    desk: State<'_, Desk>,
    exam_id: i64,
    dir: String,
) -> Reply<crate::export::feedback::FeedbackReport> {
    if dir.trim().is_empty() {
        return Err(invalid("name the folder to write into"));
    }
    Ok(desk
        .workspace()
        .feedback_pdfs(exam_id, std::path::Path::new(&dir))
        .await?)
}

/// The exam's statistics.
#[tauri::command]
pub async fn exam_stats(desk: State<'_, Desk>, exam_id: i64) -> Reply<crate::stats::ExamStats> {
    Ok(desk.workspace().exam_stats(exam_id).await?)
}

/// The folder the export menu suggests.
#[tauri::command]
pub async fn export_folder(desk: State<'_, Desk>) -> Reply<String> {
    let dir = crate::workspace::default_export_dir(&desk.workspace().data_dir);
    Ok(dir.to_string_lossy().into_owned())
}

/// Test hook (built only with the `e2e` feature): what a drop of `paths` on the window
/// does — the paths are recorded as the window's drag-and-drop event records them, and the
/// webview gets the same `tauri://drag-drop` event, so the page imports them its own way.
/// (WebDriver cannot drag files from outside the window.)
#[cfg(feature = "e2e")]
#[tauri::command]
pub async fn e2e_drop_paths(
    app: tauri::AppHandle,
    dropped: State<'_, Arc<DroppedPaths>>,
    paths: Vec<std::path::PathBuf>,
) -> Reply<()> {
    use tauri::Emitter;
    dropped.record(&paths);
    app.emit_to(
        tauri::EventTarget::labeled(super::MAIN_WINDOW),
        "tauri://drag-drop",
        serde_json::json!({"paths": paths, "position": {"x": 10.0, "y": 10.0}}),
    )
    .map_err(|e| invalid(e.to_string()))
}

/// Each exam's grading mode and counts, and every batch (the batch panel).
#[tauri::command]
pub async fn batch_overview(desk: State<'_, Desk>) -> Reply<BatchOverview> {
    Ok(desk.workspace().batch_overview().await?)
}

/// Grade an exam now (online) or later (in a batch); returns how many answers moved.
#[tauri::command]
pub async fn set_grading_mode(
    desk: State<'_, Desk>,
    exam_id: i64,
    mode: GradingMode,
) -> Reply<usize> {
    Ok(desk.workspace().set_grading_mode(exam_id, mode).await?)
}

/// What sending the exam's waiting answers as a batch would cost (shown before sending).
#[tauri::command]
pub async fn batch_estimate(desk: State<'_, Desk>, exam_id: i64) -> Reply<BatchPreview> {
    Ok(desk.batch_estimate(exam_id).await?)
}

/// Sends the exam's waiting answers as one batch.
#[tauri::command]
pub async fn send_batch(desk: State<'_, Desk>, exam_id: i64) -> Reply<BatchSent> {
    Ok(desk.send_batch(exam_id).await?)
}

/// Asks Gemini to cancel a batch; its answers go back to waiting.
#[tauri::command]
pub async fn cancel_batch(desk: State<'_, Desk>, name: String) -> Reply<()> {
    Ok(desk.cancel_batch(&name).await?)
}
