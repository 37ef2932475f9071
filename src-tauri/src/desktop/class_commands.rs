//! The class workflow's commands: the template and its regions, the class import (by the
//! file chooser's bytes or a drop), and the split review. Each parses its arguments, calls
//! the core, maps the error.

use std::sync::Arc;

use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use super::Desk;
use crate::error::{CoreError, ErrorReply};
use crate::exams::{Bbox, ClassItem, RegionKind};
use crate::workspace::{
    ClassImport, DroppedPaths, RegionImpact, SplitReview, TemplateSet, TemplateView,
};

type Reply<T> = Result<T, ErrorReply>;

fn invalid(message: impl Into<String>) -> ErrorReply {
    CoreError::Invalid(message.into()).reply()
}

/// Keeps one chosen file (raw body; its name in `x-file-name`, URI-encoded) for a template
/// or class import; returns its token.
#[tauri::command]
pub async fn upload_file(desk: State<'_, Desk>, request: Request<'_>) -> Reply<String> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(invalid("the file's bytes were not sent"));
    };
    let name = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_else(|| "scan".into());
    Ok(desk.workspace().stage_upload(&name, bytes.clone()).await?)
}

#[tauri::command]
pub async fn set_template(
    desk: State<'_, Desk>,
    exam_id: i64,
    uploads: Vec<String>,
) -> Reply<TemplateSet> {
    let workspace = desk.workspace();
    let paths = workspace.uploaded_paths(&uploads)?;
    let result = workspace.set_template(exam_id, paths).await;
    workspace.discard_uploads(&uploads);
    Ok(result?)
}

#[tauri::command]
pub async fn set_template_from_submission(
    desk: State<'_, Desk>,
    exam_id: i64,
    submission_id: i64,
) -> Reply<TemplateSet> {
    Ok(desk
        .workspace()
        .set_template_from_submission(exam_id, submission_id)
        .await?)
}

#[tauri::command]
pub async fn template_view(desk: State<'_, Desk>, exam_id: i64) -> Reply<TemplateView> {
    Ok(desk.workspace().template_view(exam_id).await?)
}

#[tauri::command]
pub async fn add_region(
    desk: State<'_, Desk>,
    exam_id: i64,
    page: u32,
    kind: RegionKind,
    question_label: Option<String>,
    bbox: Bbox,
) -> Reply<i64> {
    Ok(desk
        .workspace()
        .add_region(exam_id, page, kind, question_label, bbox)
        .await?)
}

#[tauri::command]
pub async fn region_impact(desk: State<'_, Desk>, region_id: i64) -> Reply<RegionImpact> {
    Ok(desk.workspace().region_impact(region_id).await?)
}

#[tauri::command]
pub async fn move_region(desk: State<'_, Desk>, region_id: i64, bbox: Bbox) -> Reply<usize> {
    Ok(desk.workspace().move_region(region_id, bbox).await?)
}

#[tauri::command]
pub async fn delete_region(desk: State<'_, Desk>, region_id: i64) -> Reply<usize> {
    Ok(desk.workspace().delete_region(region_id).await?)
}

/// A class import from the file chooser: its grading waits for the split review.
#[tauri::command]
pub async fn import_class(
    desk: State<'_, Desk>,
    exam_id: i64,
    uploads: Vec<String>,
) -> Reply<ClassImport> {
    let workspace = desk.workspace();
    let paths = workspace.uploaded_paths(&uploads)?;
    let result = workspace.import_class_for_review(exam_id, paths).await;
    workspace.discard_uploads(&uploads);
    Ok(result?)
}

/// A class import of what was dropped on the window (only paths its drop event reported).
#[tauri::command]
pub async fn import_class_paths(
    desk: State<'_, Desk>,
    dropped: State<'_, Arc<DroppedPaths>>,
    exam_id: i64,
    paths: Vec<std::path::PathBuf>,
) -> Reply<ClassImport> {
    if paths.is_empty() {
        return Err(invalid("nothing was dropped"));
    }
    let paths = dropped.take(&paths).map_err(invalid)?;
    Ok(desk
        .workspace()
        .import_class_for_review(exam_id, paths)
        .await?)
}

#[tauri::command]
pub async fn split_review(desk: State<'_, Desk>, exam_id: i64) -> Reply<SplitReview> {
    Ok(desk.workspace().split_review(exam_id).await?)
}

#[tauri::command]
pub async fn set_page_aside(desk: State<'_, Desk>, page_id: i64) -> Reply<()> {
    Ok(desk.workspace().set_page_aside(page_id).await?)
}

#[tauri::command]
pub async fn place_page(
    desk: State<'_, Desk>,
    unassigned_id: i64,
    submission_id: Option<i64>,
    slot: u32,
) -> Reply<i64> {
    Ok(desk
        .workspace()
        .place_page(unassigned_id, submission_id, slot)
        .await?)
}

#[tauri::command]
pub async fn move_page(
    desk: State<'_, Desk>,
    page_id: i64,
    submission_id: Option<i64>,
    slot: u32,
) -> Reply<i64> {
    Ok(desk
        .workspace()
        .move_page(page_id, submission_id, slot)
        .await?)
}

#[tauri::command]
pub async fn split_student(
    desk: State<'_, Desk>,
    submission_id: i64,
    from_slot: u32,
) -> Reply<i64> {
    Ok(desk
        .workspace()
        .split_student(submission_id, from_slot)
        .await?)
}

#[tauri::command]
pub async fn merge_students(desk: State<'_, Desk>, into: i64, from: i64) -> Reply<()> {
    Ok(desk.workspace().merge_students(into, from).await?)
}

#[tauri::command]
pub async fn confirm_split(desk: State<'_, Desk>, exam_id: i64) -> Reply<()> {
    Ok(desk.workspace().confirm_split(exam_id).await?)
}

#[tauri::command]
pub async fn class_items(desk: State<'_, Desk>, exam_id: i64) -> Reply<Vec<ClassItem>> {
    Ok(desk.workspace().class_items(exam_id).await?)
}

#[tauri::command]
pub async fn shift_alignment(
    desk: State<'_, Desk>,
    page_id: i64,
    dx: f64,
    dy: f64,
) -> Reply<usize> {
    Ok(desk.workspace().shift_alignment(page_id, dx, dy).await?)
}

#[tauri::command]
pub async fn add_outside_writing(
    desk: State<'_, Desk>,
    item_id: i64,
    page_id: i64,
    index: usize,
) -> Reply<usize> {
    Ok(desk
        .workspace()
        .add_outside_writing(item_id, page_id, index)
        .await?)
}

#[tauri::command]
pub async fn turn_page(desk: State<'_, Desk>, page_id: i64, quarters: u32) -> Reply<usize> {
    Ok(desk.workspace().turn_page(page_id, quarters).await?)
}

#[tauri::command]
pub async fn dismiss_outside_writing(
    desk: State<'_, Desk>,
    page_id: i64,
    index: usize,
) -> Reply<()> {
    Ok(desk
        .workspace()
        .dismiss_outside_writing(page_id, index)
        .await?)
}
