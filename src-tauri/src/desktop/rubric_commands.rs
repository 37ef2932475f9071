//! The review page's rubric and routing commands: the teacher's item toggles, accepts and
//! transcription corrections, a question's routing summary, the exam's routing policy, and
//! grading a question again. Each parses its arguments, calls the core, maps the error.

use tauri::State;

use super::Desk;
use crate::error::ErrorReply;
use crate::exams::{Override, RegradeOffer, ReviewRouting};
use crate::rubric::routing::ReviewPolicy;

type Reply<T> = Result<T, ErrorReply>;

#[tauri::command]
pub async fn set_answer_items(
    desk: State<'_, Desk>,
    item_id: i64,
    rubric_item_ids: Vec<i64>,
    note: Option<String>,
) -> Reply<Override> {
    Ok(desk
        .workspace()
        .set_answer_items(item_id, rubric_item_ids, note)
        .await?)
}

#[tauri::command]
pub async fn accept_answer(desk: State<'_, Desk>, item_id: i64) -> Reply<Override> {
    Ok(desk.workspace().accept_answer(item_id).await?)
}

#[tauri::command]
pub async fn set_transcription(desk: State<'_, Desk>, item_id: i64, text: String) -> Reply<()> {
    Ok(desk.workspace().set_transcription(item_id, text).await?)
}

#[tauri::command]
pub async fn review_routing(
    desk: State<'_, Desk>,
    exam_id: i64,
    question_label: String,
) -> Reply<ReviewRouting> {
    Ok(desk
        .workspace()
        .review_routing(exam_id, question_label)
        .await?)
}

#[tauri::command]
pub async fn set_review_policy(
    desk: State<'_, Desk>,
    exam_id: i64,
    policy: ReviewPolicy,
) -> Reply<ReviewPolicy> {
    Ok(desk.workspace().set_review_policy(exam_id, policy).await?)
}

#[tauri::command]
pub async fn regrade_offer(desk: State<'_, Desk>, question_id: i64) -> Reply<RegradeOffer> {
    Ok(desk.workspace().regrade_offer(question_id).await?)
}

#[tauri::command]
pub async fn regrade_question(desk: State<'_, Desk>, question_id: i64) -> Reply<usize> {
    Ok(desk.workspace().regrade_question(question_id).await?)
}
