//! The gradebook: an exam's current answers with their final scores, the rows the export
//! writes. It only reads (items, grades, overrides through `ITEM_VIEW_SQL`).

use rusqlite::Connection;
use serde::Serialize;

use super::items::{item_view_from_row, ITEM_VIEW_SQL};
use super::{require_exam, ExamError, ItemState};

/// One gradebook row: what the export writes for each current answer.
#[derive(Debug, Clone, Serialize)]
pub struct GradebookRow {
    pub submission_id: i64,
    pub student: String,
    pub question: String,
    /// The final score: the teacher's override when there is one, else the AI's.
    pub score: Option<f64>,
    /// What the AI gave, whatever the teacher decided.
    pub ai_score: Option<f64>,
    pub max_points: f64,
    pub feedback: String,
    pub transcription: String,
    pub state: ItemState,
}

/// The current answers of an exam with their grades, in submission and question order.
pub fn gradebook(conn: &Connection, exam_id: i64) -> Result<Vec<GradebookRow>, ExamError> {
    require_exam(conn, exam_id)?;
    // The exam's current answers with student and transcription, by submission and question.
    let sql = format!(
        "{ITEM_VIEW_SQL} WHERE i.superseded_at IS NULL AND s.exam_id = ?1
         ORDER BY i.submission_id, q.position"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([exam_id], |r| {
        let view = item_view_from_row(r)?;
        let teacher: Option<f64> = r.get(17)?;
        Ok(GradebookRow {
            submission_id: view.submission_id,
            student: r.get(15)?,
            question: view.question_label,
            score: teacher.or(view.score),
            ai_score: view.score,
            max_points: view.max_points,
            feedback: view.feedback.unwrap_or_default(),
            transcription: r.get(16)?,
            state: view.state,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::class;
    use super::*;
    use crate::exams::set_override;

    #[test]
    fn the_gradebook_scores_the_teachers_override_else_the_ais() {
        let (_dir, store, exam, items) = class(3);
        let conn = store.lock();
        set_override(&conn, items[0], 2.0, None).unwrap();
        set_override(&conn, items[0], 0.5, Some("units missing")).unwrap();

        let book = gradebook(&conn, exam).unwrap();
        let overridden = book.iter().find(|r| r.student == "student 0").unwrap();
        assert_eq!(
            (overridden.score, overridden.ai_score),
            (Some(0.5), Some(1.5))
        );
        let untouched = book.iter().find(|r| r.student == "student 1").unwrap();
        assert_eq!(
            (untouched.score, untouched.ai_score),
            (Some(1.5), Some(1.5))
        );
        assert!(matches!(
            gradebook(&conn, 9999),
            Err(ExamError::NotFound(_))
        ));
    }
}
