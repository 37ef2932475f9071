//! The gradebook: an exam's current answers with their final scores, the rows the export
//! writes. It only reads (items, grades, overrides through `ITEM_VIEW_SQL`).

use rusqlite::Connection;
use serde::Serialize;

use super::items::{item_view_from_row, ITEM_VIEW_SQL};
use super::{list_exams, require_exam, Exam, ExamError, ItemState};

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

/// One current answer with everything the hand-back exports and the statistics read: the
/// AI's score and feedback, the teacher's latest score and note, and the crop file.
#[derive(Debug, Clone, Serialize)]
pub struct ClassAnswer {
    pub item_id: i64,
    pub submission_id: i64,
    pub question: String,
    pub state: ItemState,
    pub ai_score: Option<f64>,
    pub teacher_score: Option<f64>,
    pub teacher_note: Option<String>,
    pub feedback: String,
    /// The transcription as the teacher corrected it, else the model's.
    pub transcription: String,
    pub crop_path: String,
    /// The rubric items the final score is made of: the teacher's choice when they chose
    /// items, else the AI's (ids, in the rubric's order).
    pub applied: Vec<i64>,
}

/// A submission of the exam: the student as the scan names them.
#[derive(Debug, Clone, Serialize)]
pub struct ClassStudent {
    pub submission_id: i64,
    pub student: String,
    /// The roster entry the script is matched to, for the LMS columns.
    pub roster: Option<super::RosterEntry>,
}

/// An exam's whole class for the hand-back: its questions, every submission (also those
/// with no answer boxed yet) and every current answer, in submission and question order.
#[derive(Debug, Clone)]
pub struct ClassRecord {
    pub exam: Exam,
    pub students: Vec<ClassStudent>,
    pub answers: Vec<ClassAnswer>,
}

/// Reads an exam's class record (questions, submissions, current answers). Reads only.
pub fn class_record(conn: &Connection, exam_id: i64) -> Result<ClassRecord, ExamError> {
    require_exam(conn, exam_id)?;
    let exam = list_exams(conn)?
        .into_iter()
        .find(|e| e.id == exam_id)
        .ok_or_else(|| ExamError::NotFound(format!("there is no exam number {exam_id}")))?;
    // The exam's submissions in import order.
    let mut matched: std::collections::HashMap<i64, super::RosterEntry> =
        super::matched_entries(conn, exam_id)?.into_iter().collect();
    let students = conn
        .prepare_cached("SELECT id, student FROM submissions WHERE exam_id = ?1 ORDER BY id")?
        .query_map([exam_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|(submission_id, student)| ClassStudent {
            submission_id,
            student,
            roster: matched.remove(&submission_id),
        })
        .collect();
    // The exam's current answers, by submission and question order.
    let sql = format!(
        "{ITEM_VIEW_SQL} WHERE i.superseded_at IS NULL AND s.exam_id = ?1
         ORDER BY i.submission_id, q.position"
    );
    let views = conn
        .prepare(&sql)?
        .query_map([exam_id], |r| {
            Ok((item_view_from_row(r)?, r.get::<_, String>(16)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // An answer's crop file and the note of the teacher's latest score.
    let extra_sql = "SELECT i.crop_path,
                (SELECT o.note FROM overrides o WHERE o.item_id = i.id ORDER BY o.id DESC LIMIT 1)
         FROM items i WHERE i.id = ?1";
    let mut extra = conn.prepare_cached(extra_sql)?;
    let mut answers = Vec::with_capacity(views.len());
    for (view, transcription) in views {
        let (crop_path, teacher_note): (String, Option<String>) =
            extra.query_row([view.item_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let applied = match super::latest_decision(conn, view.item_id)? {
            Some((kind, ids)) if kind == "items" => ids,
            _ => super::grade_items(conn, view.item_id)?
                .into_iter()
                .map(|a| a.item_id)
                .collect(),
        };
        let transcription =
            super::corrected_transcription(conn, view.item_id)?.unwrap_or(transcription);
        answers.push(ClassAnswer {
            item_id: view.item_id,
            submission_id: view.submission_id,
            question: view.question_label,
            state: view.state,
            ai_score: view.score,
            teacher_score: view.teacher_score,
            teacher_note,
            feedback: view.feedback.unwrap_or_default(),
            transcription,
            crop_path,
            applied,
        });
    }
    Ok(ClassRecord {
        exam,
        students,
        answers,
    })
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
    #[test]
    fn the_class_record_has_every_student_and_the_teachers_note() {
        let (_dir, store, exam, items) = class(2);
        let conn = store.lock();
        set_override(&conn, items[1], 2.0, Some("well argued")).unwrap();
        let record = class_record(&conn, exam).unwrap();
        assert_eq!(record.exam.questions.len(), 1);
        assert_eq!(record.students.len(), 2);
        let noted = &record.answers[1];
        assert_eq!(noted.teacher_note.as_deref(), Some("well argued"));
        assert_eq!(
            (noted.ai_score, noted.teacher_score),
            (Some(1.5), Some(2.0))
        );
        assert_eq!(noted.crop_path, "c.png");
        assert!(matches!(
            class_record(&conn, 9999),
            Err(ExamError::NotFound(_))
        ));
    }
}
