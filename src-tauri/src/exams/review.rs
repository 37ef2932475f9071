//! Review and overrides: the `overrides` table — the teacher's scores, each kept — and the
//! review page's rows, one question's answers across the class with their history.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

use super::items::{item_view_from_row, ITEM_VIEW_SQL};
use super::{require_exam, Bbox, ExamError, ItemState};
use crate::store::now_ms;

/// One step of an answer's history: the AI's grade, then each teacher override.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct HistoryEntry {
    /// "ai" or "teacher".
    pub by: &'static str,
    pub score: f64,
    pub note: Option<String>,
    /// When it was given, in wall-clock milliseconds.
    pub at_ms: i64,
}

/// A teacher's override as stored.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct Override {
    pub item_id: i64,
    pub score: f64,
    pub note: Option<String>,
    pub created_at: i64,
}

/// One answer of a question across the class, for the review page.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReviewRow {
    pub item_id: i64,
    pub submission_id: i64,
    pub student: String,
    pub question_label: String,
    pub state: ItemState,
    pub max_points: f64,
    pub ai_score: Option<f64>,
    pub feedback: Option<String>,
    pub transcription: Option<String>,
    pub confidence: Option<f64>,
    pub needs_review: bool,
    pub review_reason: Option<String>,
    /// The teacher's current score, if they overrode the AI.
    pub teacher_score: Option<f64>,
    pub teacher_note: Option<String>,
    /// The final score: the teacher's when there is one, else the AI's.
    pub score: Option<f64>,
    pub history: Vec<HistoryEntry>,
    /// "writing outside the boxes on page 2": the class import found the student's writing
    /// outside every region of these pages, which no answer's crop holds.
    pub outside_writing: Option<String>,
    /// Each such piece of writing, to show and to add to this answer.
    pub outside: Vec<OutsideWriting>,
}

/// One piece of writing outside every region, as the review shows it: on which page, and
/// where on the page's preview (fractions of the page as stored).
#[derive(Debug, Clone, Serialize, TS)]
pub struct OutsideWriting {
    pub page_id: i64,
    /// The page's image rev, for its `gdimg` URL.
    pub rev: String,
    pub template_page: u32,
    /// Its index among the page's pieces (what adding it names).
    pub index: usize,
    /// Its bounding box on the page (fractions of the stored page, origin top left).
    pub page_box: Bbox,
}

/// Records the teacher's score for an answer (kept with every earlier one). The score must
/// lie within 0 and the question's points.
pub fn set_override(
    conn: &Connection,
    item_id: i64,
    score: f64,
    note: Option<&str>,
) -> Result<Override, ExamError> {
    // The answer's question label and points, to check the score against.
    let (label, max_points): (String, f64) = conn
        .query_row(
            "SELECT q.label, q.max_points FROM items i JOIN questions q ON q.id = i.question_id
             WHERE i.id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no answer number {item_id}")))?;
    if !score.is_finite() || score < 0.0 || score > max_points {
        return Err(ExamError::Invalid(format!(
            "a score for {label} must be between 0 and {max_points} points (you entered {score})"
        )));
    }
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let created_at = now_ms();
    // Adds the teacher's score after the earlier ones.
    conn.execute(
        "INSERT INTO overrides (item_id, score, note, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![item_id, score, note, created_at],
    )?;
    Ok(Override {
        item_id,
        score,
        note,
        created_at,
    })
}

/// The current answers to one question of an exam, flagged ones (needs review) first, then in
/// submission order, each with its AI grade, the teacher's override and its history.
pub fn review_rows(
    conn: &Connection,
    exam_id: i64,
    question_label: &str,
) -> Result<Vec<ReviewRow>, ExamError> {
    require_exam(conn, exam_id)?;
    // The current answers to the question, flagged ones first, then by submission.
    let sql = format!(
        "{ITEM_VIEW_SQL}
         WHERE i.superseded_at IS NULL AND s.exam_id = ?1 AND q.label = ?2
         ORDER BY coalesce(g.needs_review, 0) DESC, i.submission_id, i.id"
    );
    // What the grade says beyond its score, and when it was given.
    let extra_sql =
        "SELECT g.transcription, g.confidence, g.needs_review, g.review_reason, g.created_at
                     FROM grades g WHERE g.item_id = ?1";
    let mut stmt = conn.prepare(&sql)?;
    let views = stmt
        .query_map(params![exam_id, question_label], |r| {
            Ok((item_view_from_row(r)?, r.get::<_, String>(15)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(views.len());
    for (view, student) in views {
        type Extra = (String, Option<f64>, bool, Option<String>, i64);
        let extra: Option<Extra> = conn
            .prepare_cached(extra_sql)?
            .query_row([view.item_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let mut history = Vec::new();
        if let (Some(score), Some((_, _, _, _, at))) = (view.score, &extra) {
            history.push(HistoryEntry {
                by: "ai",
                score,
                note: None,
                at_ms: *at,
            });
        }
        // The teacher's scores for the answer, oldest first.
        let overrides = conn
            .prepare_cached(
                "SELECT score, note, created_at FROM overrides WHERE item_id = ?1 ORDER BY id",
            )?
            .query_map([view.item_id], |r| {
                Ok(HistoryEntry {
                    by: "teacher",
                    score: r.get(0)?,
                    note: r.get(1)?,
                    at_ms: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let last = overrides.last().cloned();
        history.extend(overrides);
        let (transcription, confidence, needs_review, review_reason) = match extra {
            Some((t, c, n, rr, _)) => (Some(t), c, n, rr),
            None => (None, None, false, None),
        };
        let teacher_score = last.as_ref().map(|o| o.score);
        // The student's pages with writing outside the regions, and each piece of it.
        let pieces = super::outside_writing(conn, view.submission_id)?;
        let mut outside: Vec<u32> = pieces.iter().map(|p| p.template_page).collect();
        outside.dedup();
        let outside_writing = match outside.as_slice() {
            [] => None,
            [one] => Some(format!("writing outside the boxes on page {one}")),
            many => Some(format!(
                "writing outside the boxes on pages {}",
                many.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        rows.push(ReviewRow {
            item_id: view.item_id,
            submission_id: view.submission_id,
            student,
            question_label: view.question_label,
            state: view.state,
            max_points: view.max_points,
            ai_score: view.score,
            feedback: view.feedback,
            transcription,
            confidence,
            needs_review,
            review_reason,
            teacher_score,
            teacher_note: last.and_then(|o| o.note),
            score: teacher_score.or(view.score),
            history,
            outside_writing,
            outside: pieces,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::class;
    use super::*;
    use crate::exams::rename_student;

    #[test]
    fn an_override_is_checked_kept_in_history_and_is_the_final_score() {
        let (_dir, store, exam, items) = class(3);
        let conn = store.lock();
        let err = set_override(&conn, items[0], 2.5, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a score for Q1 must be between 0 and 2 points (you entered 2.5)"
        );
        assert!(set_override(&conn, items[0], -1.0, None).is_err());
        assert!(set_override(&conn, items[0], f64::NAN, None).is_err());
        assert!(matches!(
            set_override(&conn, 9999, 1.0, None),
            Err(ExamError::NotFound(_))
        ));

        set_override(&conn, items[0], 2.0, Some("  ")).unwrap();
        let last = set_override(&conn, items[0], 0.5, Some("units missing")).unwrap();
        assert_eq!(last.note.as_deref(), Some("units missing"));

        let rows = review_rows(&conn, exam, "Q1").unwrap();
        // The flagged answer comes first, then submission order.
        assert_eq!(
            rows.iter().map(|r| r.item_id).collect::<Vec<_>>(),
            vec![items[2], items[0], items[1]]
        );
        assert!(rows[0].needs_review);
        assert_eq!(rows[0].review_reason.as_deref(), Some("illegible"));
        let first = &rows[1];
        assert_eq!(first.ai_score, Some(1.5));
        assert_eq!(first.teacher_score, Some(0.5));
        assert_eq!(first.score, Some(0.5));
        assert_eq!(first.teacher_note.as_deref(), Some("units missing"));
        assert_eq!(first.transcription.as_deref(), Some("F = ma"));
        assert_eq!(first.confidence, Some(0.8));
        let history: Vec<(&str, f64, Option<&str>)> = first
            .history
            .iter()
            .map(|h| (h.by, h.score, h.note.as_deref()))
            .collect();
        assert_eq!(
            history,
            vec![
                ("ai", 1.5, None),
                ("teacher", 2.0, None),
                ("teacher", 0.5, Some("units missing"))
            ]
        );
        assert_eq!(rows[2].score, Some(1.5));
        assert_eq!(rows[2].teacher_score, None);
        assert!(review_rows(&conn, exam, "Q9").unwrap().is_empty());
    }

    #[test]
    fn review_rows_show_the_students_current_name() {
        let (_dir, store, exam, _) = class(2);
        let conn = store.lock();
        let sub = review_rows(&conn, exam, "Q1").unwrap()[0].submission_id;
        rename_student(&conn, sub, "Ada Lovelace").unwrap();
        let rows = review_rows(&conn, exam, "Q1").unwrap();
        let renamed = rows.iter().find(|r| r.submission_id == sub).unwrap();
        assert_eq!(renamed.student, "Ada Lovelace");
    }
}
