//! Answer regions (items) and their grades: the `items` and `grades` tables — a box drawn on
//! a page for a question, its crop, the grade the model gave it, and the one view of an
//! answer (`ItemView`) that lists, the gradebook and review all read.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::questions::question_from_row;
use super::{ExamError, Question};
use crate::store::now_ms;

/// A box as fractions of the page's width and height, origin at the top left.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, TS)]
pub struct Bbox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Bbox {
    /// An item's or a region's box from four row columns, x y w h, starting at `first`.
    pub(super) fn from_row(r: &Row, first: usize) -> rusqlite::Result<Self> {
        Ok(Bbox {
            x: r.get(first)?,
            y: r.get(first + 1)?,
            w: r.get(first + 2)?,
            h: r.get(first + 3)?,
        })
    }
}

/// Where an answer stands, in the words the UI shows.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Waiting for its first attempt (or for its job to be added).
    Queued,
    /// A worker holds its job right now.
    Grading,
    /// An attempt failed; the job waits to be tried again.
    Retrying,
    /// Graded.
    Done,
    /// Given up on (the job is dead): the teacher grades it, or retries it.
    Failed,
    /// Grading was stopped (the teacher's cancel, or the box was deleted).
    Cancelled,
    /// Its exam is graded later: it waits for the next batch the teacher sends.
    Waiting,
    /// Sent in a batch whose results are not in yet.
    InBatch,
}

/// One answer as the UI and the CLI's status show it.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct ItemView {
    pub item_id: i64,
    pub submission_id: i64,
    pub page_number: i64,
    pub question_label: String,
    pub bbox: Bbox,
    /// The answer's latest grading job, for cancel and "grade now".
    pub job_id: Option<i64>,
    pub state: ItemState,
    /// The AI's score, once graded.
    pub score: Option<f64>,
    pub max_points: f64,
    pub feedback: Option<String>,
    /// Why grading failed, is being retried, or was cancelled (None otherwise).
    pub error: Option<String>,
    /// The teacher's score when they overrode the AI's (lists show it instead of `score`).
    pub teacher_score: Option<f64>,
    /// Re-cropped or deleted: the last event of an answer that left the lists, so live
    /// views drop it instead of keeping a stale box.
    pub removed: bool,
}

/// A grade as the grader returned it, validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewGrade {
    pub score: f64,
    pub max_points: f64,
    pub feedback: String,
    pub transcription: String,
    pub confidence: Option<f64>,
    pub needs_review: bool,
    pub review_reason: Option<String>,
    pub model: String,
    pub prompt_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub thoughts_tokens: Option<i64>,
    /// The score is the sum of `applied` rubric items.
    pub from_items: bool,
    pub applied: Vec<crate::rubric::AppliedItem>,
    /// The core's own reason to send it to the teacher.
    pub core_flag: Option<String>,
    /// The second grading, when the exam grades twice.
    pub second: Option<super::SecondOpinion>,
}

/// The crop file of an item, for serving it to the window.
pub fn crop_path(conn: &Connection, item_id: i64) -> Result<String, ExamError> {
    // The item's crop file.
    conn.query_row(
        "SELECT crop_path FROM items WHERE id = ?1",
        [item_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no answer number {item_id}")))
}

/// Stores an answer region, superseding the current answer to the same question (a re-crop).
/// Returns the new item id and the ids of the items it superseded.
pub fn insert_item(
    tx: &Transaction,
    submission_id: i64,
    page_id: i64,
    question_id: i64,
    bbox: Bbox,
    crop_path: &str,
) -> Result<(i64, Vec<i64>), ExamError> {
    let now = now_ms();
    // Supersedes the current answer(s) to this question of the submission.
    let superseded: Vec<i64> = tx
        .prepare_cached(
            "UPDATE items SET superseded_at = ?3
             WHERE submission_id = ?1 AND question_id = ?2 AND superseded_at IS NULL RETURNING id",
        )?
        .query_map(params![submission_id, question_id, now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    // Adds the new answer box with its crop.
    tx.prepare_cached(
        "INSERT INTO items (submission_id, page_id, question_id, x, y, w, h, crop_path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        submission_id,
        page_id,
        question_id,
        bbox.x,
        bbox.y,
        bbox.w,
        bbox.h,
        crop_path,
        now
    ])?;
    Ok((tx.last_insert_rowid(), superseded))
}

/// Removes an answer box the teacher deleted: it is marked superseded (so it leaves the
/// crop page, review and export, while its history stays). The caller cancels its job in
/// the same transaction. Refused when the answer does not exist or was already removed.
pub fn remove_item(tx: &Transaction, item_id: i64) -> Result<(), ExamError> {
    // Marks a current answer superseded.
    let changed = tx.execute(
        "UPDATE items SET superseded_at = ?2 WHERE id = ?1 AND superseded_at IS NULL",
        params![item_id, now_ms()],
    )?;
    if changed == 1 {
        return Ok(());
    }
    // Whether the answer exists at all, for the message.
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM items WHERE id = ?1)",
        [item_id],
        |r| r.get(0),
    )?;
    if exists {
        Err(ExamError::Invalid(
            "This answer box was already removed or replaced by a newer box.".into(),
        ))
    } else {
        Err(ExamError::NotFound(format!(
            "There is no answer number {item_id}."
        )))
    }
}

/// Brings back an answer box the teacher deleted (Undo). Refused when it is not removed, or
/// when its question has a newer box meanwhile (a box is never restored over another).
/// Returns whether it still needs grading: it has no grade and the delete stopped its job.
pub fn restore_item(tx: &Transaction, item_id: i64) -> Result<bool, ExamError> {
    // The answer's submission and question, and whether it is removed.
    let found: Option<(i64, i64, bool)> = tx
        .query_row(
            "SELECT submission_id, question_id, superseded_at IS NOT NULL FROM items WHERE id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((submission_id, question_id, removed)) = found else {
        return Err(ExamError::NotFound(format!(
            "There is no answer number {item_id}."
        )));
    };
    if !removed {
        return Err(ExamError::Invalid("This answer box is still there.".into()));
    }
    // Whether the question has a current answer in this submission meanwhile.
    let newer: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM items
                        WHERE submission_id = ?1 AND question_id = ?2 AND superseded_at IS NULL)",
        params![submission_id, question_id],
        |r| r.get(0),
    )?;
    if newer {
        return Err(ExamError::Invalid(
            "This question has a newer box now; delete that one first to bring this one back."
                .into(),
        ));
    }
    // Makes the answer current again.
    tx.execute(
        "UPDATE items SET superseded_at = NULL WHERE id = ?1",
        [item_id],
    )?;
    // Whether it has no grade and its last grading job (if any) was cancelled.
    let needs_grading: bool = tx.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM grades WHERE item_id = ?1)
            AND coalesce((SELECT state FROM jobs WHERE item_id = ?1 AND kind = 'GRADE_ITEM'
                          ORDER BY id DESC LIMIT 1), 'cancelled') = 'cancelled'",
        [item_id],
        |r| r.get(0),
    )?;
    Ok(needs_grading)
}

/// What the grader needs for one item: the crop on disk and its question.
pub fn grading_context(conn: &Connection, item_id: i64) -> Result<(String, Question), ExamError> {
    // The item's crop file and its question.
    let (crop, mut question): (String, Question) = conn
        .query_row(
            "SELECT i.crop_path, q.id, q.label, q.prompt, q.max_points, q.rubric, q.reference_answer, q.scoring
             FROM items i JOIN questions q ON q.id = i.question_id WHERE i.id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, question_from_row(r)?)),
        )
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no answer number {item_id}")))?;
    super::attach_items(conn, std::slice::from_mut(&mut question))?;
    Ok((crop, question))
}

/// Stores an item's grade; the UNIQUE(item_id) constraint refuses a second one.
pub fn insert_grade(
    tx: &Connection,
    item_id: i64,
    job_id: i64,
    grade: &NewGrade,
) -> Result<(), ExamError> {
    // Adds the item's grade with the job that produced it and its token counts.
    tx.execute(
        "INSERT INTO grades (item_id, job_id, score, max_points, feedback, transcription, confidence,
                             needs_review, review_reason, model, prompt_tokens, output_tokens,
                             thoughts_tokens, created_at, from_items, core_flag)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            item_id, job_id, grade.score, grade.max_points, grade.feedback, grade.transcription,
            grade.confidence, grade.needs_review, grade.review_reason, grade.model,
            grade.prompt_tokens, grade.output_tokens, grade.thoughts_tokens, now_ms(),
            grade.from_items, grade.core_flag
        ],
    )?;
    super::insert_grade_items(tx, item_id, &grade.applied)?;
    if let Some(second) = &grade.second {
        super::insert_second_opinion(tx, item_id, second)?;
    }
    Ok(())
}

/// Stores the grade of an answer graded in a batch: the same row as an online grade, its
/// cost at the batch price (`factor` of the online price the trigger computed).
pub fn insert_batch_grade(
    tx: &Connection,
    item_id: i64,
    job_id: i64,
    grade: &NewGrade,
    factor: f64,
) -> Result<(), ExamError> {
    insert_grade(tx, item_id, job_id, grade)?;
    // The trigger priced the grade online; a batch costs a fixed share of that.
    tx.execute(
        "UPDATE grades SET cost_usd = cost_usd * ?2 WHERE item_id = ?1",
        params![item_id, factor],
    )?;
    Ok(())
}

/// Every answer with its page, question, latest grading job, grade and latest override; the
/// queries of items, the gradebook and review add their WHERE and ORDER BY. Columns 15
/// (student) and 16 (transcription) are read by the gradebook and review only.
pub(super) const ITEM_VIEW_SQL: &str = "
    SELECT i.id, i.submission_id, p.number, q.label, i.x, i.y, i.w, i.h,
           j.id, j.state, j.attempts, j.last_error, g.score, q.max_points, g.feedback,
           s.student, coalesce(g.transcription, ''),
           (SELECT o.score FROM overrides o WHERE o.item_id = i.id ORDER BY o.id DESC LIMIT 1),
           i.superseded_at IS NOT NULL, j.channel, j.batch_id IS NOT NULL
    FROM items i
    JOIN submissions s ON s.id = i.submission_id
    JOIN pages p ON p.id = i.page_id
    JOIN questions q ON q.id = i.question_id
    LEFT JOIN jobs j ON j.id = (SELECT max(id) FROM jobs WHERE item_id = i.id AND kind = 'GRADE_ITEM')
    LEFT JOIN grades g ON g.item_id = i.id";

/// Reads a row of `ITEM_VIEW_SQL`, turning the job's state into the words the UI shows.
pub(super) fn item_view_from_row(r: &Row) -> rusqlite::Result<ItemView> {
    let job_state: Option<String> = r.get(9)?;
    let attempts: Option<i64> = r.get(10)?;
    let score: Option<f64> = r.get(12)?;
    let last_error: Option<String> = r.get(11)?;
    let state = if score.is_some() {
        ItemState::Done
    } else {
        match job_state.as_deref() {
            Some("running") => ItemState::Grading,
            Some("queued") if r.get::<_, Option<String>>(19)?.as_deref() == Some("batch") => {
                if r.get::<_, Option<bool>>(20)?.unwrap_or(false) {
                    ItemState::InBatch
                } else {
                    ItemState::Waiting
                }
            }
            Some("queued") if attempts.unwrap_or(0) > 0 => ItemState::Retrying,
            Some("dead") => ItemState::Failed,
            Some("cancelled") => ItemState::Cancelled,
            Some("succeeded") => ItemState::Done,
            _ => ItemState::Queued,
        }
    };
    let error = match state {
        ItemState::Failed | ItemState::Retrying | ItemState::Cancelled | ItemState::Waiting => {
            last_error
        }
        _ => None,
    };
    Ok(ItemView {
        item_id: r.get(0)?,
        submission_id: r.get(1)?,
        page_number: r.get(2)?,
        question_label: r.get(3)?,
        bbox: Bbox::from_row(r, 4)?,
        job_id: r.get(8)?,
        state,
        score,
        max_points: r.get(13)?,
        feedback: r.get(14)?,
        error,
        teacher_score: r.get(17)?,
        removed: r.get(18)?,
    })
}

/// One item's current view (superseded items too, so their last event can be sent).
pub fn item_view(conn: &Connection, item_id: i64) -> Result<ItemView, ExamError> {
    // One answer's view, removed or not.
    let sql = format!("{ITEM_VIEW_SQL} WHERE i.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([item_id], item_view_from_row)
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no answer number {item_id}")))
}

/// The current items, of one submission or of all.
pub fn item_views(
    conn: &Connection,
    submission_id: Option<i64>,
) -> Result<Vec<ItemView>, ExamError> {
    // The current answers of one submission (or all), by submission and question order.
    let sql = format!(
        "{ITEM_VIEW_SQL} WHERE i.superseded_at IS NULL AND (?1 IS NULL OR i.submission_id = ?1)
         ORDER BY i.submission_id, q.position, i.id"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([submission_id], item_view_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::class;
    use super::*;
    use crate::exams::set_override;

    #[test]
    fn an_item_view_carries_the_teachers_score() {
        let (_dir, store, _exam, items) = class(1);
        let conn = store.lock();
        assert_eq!(item_view(&conn, items[0]).unwrap().teacher_score, None);
        set_override(&conn, items[0], 0.5, None).unwrap();
        let view = item_view(&conn, items[0]).unwrap();
        assert_eq!((view.score, view.teacher_score), (Some(1.5), Some(0.5)));
    }
}
