//! The roster and matching screen's commands: import the class list (the file chooser's
//! bytes), the roster, every script's match, and the teacher's decision on one. Each parses
//! its arguments, calls the core, maps the error.

use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use super::Desk;
use crate::error::{CoreError, ErrorReply};
use crate::exams::{MatchRow, RosterEntry};
use crate::workspace::{MatchChoice, RosterImport};

type Reply<T> = Result<T, ErrorReply>;

/// Raw body = the roster file's bytes; the exam in `x-exam-id`.
#[tauri::command]
pub async fn import_roster(desk: State<'_, Desk>, request: Request<'_>) -> Reply<RosterImport> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CoreError::Invalid("the roster file's bytes were not sent".into()).reply());
    };
    let exam_id: i64 = request
        .headers()
        .get("x-exam-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            CoreError::Invalid("choose an exam before importing its roster".into()).reply()
        })?;
    Ok(desk
        .workspace()
        .import_roster(exam_id, bytes.clone())
        .await?)
}

#[tauri::command]
pub async fn roster(desk: State<'_, Desk>, exam_id: i64) -> Reply<Vec<RosterEntry>> {
    Ok(desk.workspace().roster(exam_id).await?)
}

#[tauri::command]
pub async fn match_rows(desk: State<'_, Desk>, exam_id: i64) -> Reply<Vec<MatchRow>> {
    Ok(desk.workspace().match_rows(exam_id).await?)
}

/// `rosterId` null: the script is nobody on the roster.
#[tauri::command]
pub async fn set_match(
    desk: State<'_, Desk>,
    exam_id: i64,
    submission_id: i64,
    roster_id: Option<String>,
) -> Reply<MatchRow> {
    let choice = roster_id.map_or(MatchChoice::Nobody, MatchChoice::Student);
    Ok(desk
        .workspace()
        .set_match(exam_id, submission_id, choice)
        .await?)
}
