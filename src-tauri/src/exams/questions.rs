//! Exams and their questions: the `exams` and `questions` tables, and the checks every
//! entry point (questions file, editor, CLI) applies before a question is stored.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::rubric::{attach_items, check_items, write_items, RubricChange};
use super::ExamError;
use crate::rubric::{items_from_lines, RubricItem, RubricItemInput, Scoring};
use crate::store::now_ms;

/// A question as the teacher writes it in the questions file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    pub label: String,
    pub prompt: String,
    pub max_points: f64,
    /// Free text, or (in a questions file) a list of `{text, points}` lines, which is
    /// written down as text lines "- text (N pts)" so the grader and the editor read the same.
    #[serde(default, deserialize_with = "rubric_text")]
    pub rubric: String,
    #[serde(default)]
    pub reference_answer: String,
    /// How the rubric items count (positive when absent).
    #[serde(default)]
    pub scoring: Scoring,
    /// The rubric items the core scores. A rubric given as lines with points (or text whose
    /// every line is "- text (N pts)") becomes items when this is empty.
    #[serde(default)]
    pub items: Vec<RubricItemInput>,
}

impl QuestionInput {
    /// A question with only a prompt and its points: how scripts and tests make exams.
    pub fn plain(label: &str, prompt: &str, max_points: f64) -> Self {
        Self {
            label: label.into(),
            prompt: prompt.into(),
            max_points,
            rubric: String::new(),
            reference_answer: String::new(),
            scoring: Scoring::Positive,
            items: Vec::new(),
        }
    }

    /// The free rubric text and the items to store: the given items, or the rubric's lines
    /// read as items when every line is one (the questions file's list form, older files).
    pub fn rubric_and_items(&self) -> (String, Vec<RubricItemInput>) {
        if !self.items.is_empty() {
            return (self.rubric.clone(), self.items.clone());
        }
        match items_from_lines(&self.rubric) {
            Some(items) => (String::new(), items),
            None => (self.rubric.clone(), Vec::new()),
        }
    }
}

/// One line of a rubric with the points it is worth, as a questions file may give it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RubricLine {
    pub text: String,
    pub points: f64,
}

/// The text form of rubric lines: one "- text (N pts)" per line, the form the UI's editor
/// reads back into lines and the grader's prompt shows as is.
pub fn rubric_lines_text(lines: &[RubricLine]) -> String {
    lines
        .iter()
        .filter(|l| !l.text.trim().is_empty())
        .map(|l| {
            let unit = if l.points == 1.0 { "pt" } else { "pts" };
            format!("- {} ({} {unit})", l.text.trim(), l.points)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Accepts a rubric as text or as a list of `{text, points}` lines (both are documented
/// questions-file formats); the store keeps text.
fn rubric_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Rubric {
        Text(String),
        Lines(Vec<RubricLine>),
    }
    Ok(match Rubric::deserialize(d)? {
        Rubric::Text(t) => t,
        Rubric::Lines(lines) => rubric_lines_text(&lines),
    })
}

/// A stored question: everything the grader needs to judge an answer.
#[derive(Debug, Clone, Default, Serialize, PartialEq, TS)]
pub struct Question {
    pub id: i64,
    pub label: String,
    pub prompt: String,
    pub max_points: f64,
    /// Free rubric guidance beside the items (shown to the model as notes).
    pub rubric: String,
    pub reference_answer: String,
    pub scoring: Scoring,
    /// The items the model chooses from and the core adds up.
    pub items: Vec<RubricItem>,
}

/// An exam with its questions in order.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct Exam {
    pub id: i64,
    pub name: String,
    pub questions: Vec<Question>,
}

/// Validates and stores an exam with its questions.
pub fn create_exam(
    tx: &Transaction,
    name: &str,
    questions: &[QuestionInput],
) -> Result<i64, ExamError> {
    if name.trim().is_empty() {
        return Err(ExamError::Invalid("the exam needs a name".into()));
    }
    if questions.is_empty() {
        return Err(ExamError::Invalid(
            "the exam needs at least one question".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for q in questions {
        validate_question(q)?;
        check_items(&q.rubric_and_items().1, q.max_points, q.label.trim())?;
        if !seen.insert(q.label.trim().to_lowercase()) {
            return Err(ExamError::Invalid(format!(
                "the label \"{}\" is used by two questions",
                q.label
            )));
        }
    }
    // Adds the exam.
    tx.execute(
        "INSERT INTO exams (name, created_at) VALUES (?1, ?2)",
        params![name.trim(), now_ms()],
    )?;
    let exam_id = tx.last_insert_rowid();
    for (position, q) in questions.iter().enumerate() {
        let (rubric, items) = q.rubric_and_items();
        // Adds one question at its place in the file.
        tx.execute(
            "INSERT INTO questions (exam_id, position, label, prompt, max_points, rubric, reference_answer, scoring)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![exam_id, position as i64, q.label.trim(), q.prompt, q.max_points, rubric, q.reference_answer, q.scoring.as_str()],
        )?;
        write_items(tx, tx.last_insert_rowid(), &items)?;
    }
    Ok(exam_id)
}

/// Reads a question from a row that names its columns (`id`, `label`, `prompt`, …), so that
/// every query joining questions builds one the same way.
pub(super) fn question_from_row(row: &Row) -> rusqlite::Result<Question> {
    Ok(Question {
        id: row.get("id")?,
        label: row.get("label")?,
        prompt: row.get("prompt")?,
        max_points: row.get("max_points")?,
        rubric: row.get("rubric")?,
        reference_answer: row.get("reference_answer")?,
        scoring: Scoring::parse(&row.get::<_, String>("scoring")?),
        items: Vec::new(),
    })
}

/// All exams with their questions, oldest first.
pub fn list_exams(conn: &Connection) -> Result<Vec<Exam>, ExamError> {
    // Every exam, oldest first.
    let mut exams: Vec<Exam> = conn
        .prepare_cached("SELECT id, name FROM exams ORDER BY id")?
        .query_map([], |r| {
            Ok(Exam {
                id: r.get(0)?,
                name: r.get(1)?,
                questions: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    // Every question, by exam and in the exam's order.
    let mut stmt = conn.prepare_cached(
        "SELECT id, exam_id, label, prompt, max_points, rubric, reference_answer, scoring
         FROM questions ORDER BY exam_id, position",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>("exam_id")?, question_from_row(r)?))
    })?;
    for row in rows {
        let (exam_id, question) = row?;
        if let Some(exam) = exams.iter_mut().find(|e| e.id == exam_id) {
            exam.questions.push(question);
        }
    }
    for exam in &mut exams {
        attach_items(conn, &mut exam.questions)?;
    }
    Ok(exams)
}

/// Fails with a clear message unless the exam exists.
pub fn require_exam(conn: &Connection, exam_id: i64) -> Result<(), ExamError> {
    // Whether the exam exists.
    let found: Option<i64> = conn
        .query_row("SELECT id FROM exams WHERE id = ?1", [exam_id], |r| {
            r.get(0)
        })
        .optional()?;
    found
        .map(|_| ())
        .ok_or_else(|| ExamError::NotFound(format!("there is no exam number {exam_id}")))
}

/// The longest exam name, question label and text field the editor accepts: long enough for
/// any real exam, short enough that a pasted file cannot bloat every grading prompt.
const MAX_NAME_CHARS: usize = 200;
const MAX_LABEL_CHARS: usize = 40;
const MAX_TEXT_CHARS: usize = 20_000;

/// Checks one question the way every entry point (file, editor, CLI) must, in sentences.
pub fn validate_question(q: &QuestionInput) -> Result<(), ExamError> {
    let label = q.label.trim();
    if label.is_empty() {
        return Err(ExamError::Invalid("every question needs a label".into()));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(ExamError::Invalid(format!(
            "the label \"{label}\" is too long: keep it under {MAX_LABEL_CHARS} characters"
        )));
    }
    if !(q.max_points.is_finite() && q.max_points > 0.0) {
        return Err(ExamError::Invalid(format!(
            "question {label} needs max_points above 0"
        )));
    }
    for (field, text) in [
        ("prompt", &q.prompt),
        ("rubric", &q.rubric),
        ("reference answer", &q.reference_answer),
    ] {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ExamError::Invalid(format!(
                "the {field} of question {label} is too long (at most {MAX_TEXT_CHARS} characters)"
            )));
        }
    }
    Ok(())
}

/// Renames an exam (the name shows in lists and the export's file name).
pub fn update_exam(conn: &Connection, exam_id: i64, name: &str) -> Result<(), ExamError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ExamError::Invalid("the exam needs a name".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ExamError::Invalid(format!(
            "an exam's name can be at most {MAX_NAME_CHARS} characters"
        )));
    }
    // Renames the exam.
    let changed = conn.execute(
        "UPDATE exams SET name = ?2 WHERE id = ?1",
        params![exam_id, name],
    )?;
    if changed == 0 {
        return Err(ExamError::NotFound(format!(
            "there is no exam number {exam_id}"
        )));
    }
    Ok(())
}

/// One stored question by id, with its exam.
pub fn question(conn: &Connection, question_id: i64) -> Result<(i64, Question), ExamError> {
    // One question and the exam it belongs to.
    let (exam_id, mut question) = conn
        .query_row(
            "SELECT id, exam_id, label, prompt, max_points, rubric, reference_answer, scoring
             FROM questions WHERE id = ?1",
            [question_id],
            |r| Ok((r.get::<_, i64>("exam_id")?, question_from_row(r)?)),
        )
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no question number {question_id}")))?;
    attach_items(conn, std::slice::from_mut(&mut question))?;
    Ok((exam_id, question))
}

/// Refuses a label another question of the exam already has (labels are matched without
/// regard to case, as boxes pick their question by label).
fn require_free_label(
    conn: &Connection,
    exam_id: i64,
    label: &str,
    except: Option<i64>,
) -> Result<(), ExamError> {
    // Another question of the exam with this label, case aside.
    let taken: Option<i64> = conn
        .query_row(
            "SELECT id FROM questions WHERE exam_id = ?1 AND label = ?2 COLLATE NOCASE
             AND (?3 IS NULL OR id <> ?3)",
            params![exam_id, label.trim(), except],
            |r| r.get(0),
        )
        .optional()?;
    match taken {
        Some(_) => Err(ExamError::Invalid(format!(
            "this exam already has a question labelled \"{}\"",
            label.trim()
        ))),
        None => Ok(()),
    }
}

/// Adds questions at the end of an exam, all or none (a questions file is imported whole).
pub fn add_questions(
    tx: &Transaction,
    exam_id: i64,
    questions: &[QuestionInput],
) -> Result<Vec<Question>, ExamError> {
    require_exam(tx, exam_id)?;
    if questions.is_empty() {
        return Err(ExamError::Invalid("the file has no questions".into()));
    }
    let mut added = Vec::with_capacity(questions.len());
    for q in questions {
        validate_question(q)?;
        require_free_label(tx, exam_id, &q.label, None)?;
        let (rubric, items) = q.rubric_and_items();
        // Adds one question after the exam's last.
        tx.execute(
            "INSERT INTO questions (exam_id, position, label, prompt, max_points, rubric, reference_answer, scoring)
             VALUES (?1, (SELECT coalesce(max(position), -1) + 1 FROM questions WHERE exam_id = ?1),
                     ?2, ?3, ?4, ?5, ?6, ?7)",
            params![exam_id, q.label.trim(), q.prompt, q.max_points, rubric, q.reference_answer, q.scoring.as_str()],
        )?;
        let id = tx.last_insert_rowid();
        write_items(tx, id, &items)?;
        added.push(question(tx, id)?.1);
    }
    Ok(added)
}

/// How many answers of a question have been graded or scored by the teacher.
fn scored_answers(conn: &Connection, question_id: i64) -> Result<i64, ExamError> {
    // Counts the question's answers with a grade or an override.
    Ok(conn.query_row(
        "SELECT count(*) FROM items i WHERE i.question_id = ?1
         AND (EXISTS (SELECT 1 FROM grades g WHERE g.item_id = i.id)
              OR EXISTS (SELECT 1 FROM overrides o WHERE o.item_id = i.id))",
        [question_id],
        |r| r.get(0),
    )?)
}

/// Edits a question. The prompt, rubric, reference answer and label can change at any time:
/// answers graded from then on (queued ones included) are judged on the new text, earlier
/// grades stay as they were. The points cannot change once an answer has a score, since
/// those scores are out of the old points. Its items are made `q.items` (see
/// [`write_items`]): editing an item's points re-scores every answer that has it.
pub fn update_question(
    conn: &Connection,
    question_id: i64,
    q: &QuestionInput,
) -> Result<(Question, RubricChange), ExamError> {
    let (exam_id, old) = question(conn, question_id)?;
    validate_question(q)?;
    require_free_label(conn, exam_id, &q.label, Some(question_id))?;
    if q.max_points != old.max_points {
        let scored = scored_answers(conn, question_id)?;
        if scored > 0 {
            return Err(ExamError::Invalid(format!(
                "the points of {} cannot change: {scored} answer{} already scored out of {}",
                old.label,
                if scored == 1 { " is" } else { "s are" },
                old.max_points
            )));
        }
    }
    let (rubric, items) = q.rubric_and_items();
    check_items(&items, q.max_points, q.label.trim())?;
    // Writes the question's new text, points and scoring.
    conn.execute(
        "UPDATE questions SET label = ?2, prompt = ?3, max_points = ?4, rubric = ?5,
         reference_answer = ?6, scoring = ?7 WHERE id = ?1",
        params![
            question_id,
            q.label.trim(),
            q.prompt,
            q.max_points,
            rubric,
            q.reference_answer,
            q.scoring.as_str()
        ],
    )?;
    let change = write_items(conn, question_id, &items)?;
    Ok((question(conn, question_id)?.1, change))
}

/// Deletes a question nobody has answered yet. A question with boxed answers is refused
/// rather than deleted softly: its answers, grades and overrides would vanish from the
/// gradebook, and a hidden question would still be graded. The last question of an exam
/// stays too (an exam needs one).
pub fn delete_question(conn: &Connection, question_id: i64) -> Result<(), ExamError> {
    let (exam_id, q) = question(conn, question_id)?;
    // Counts the answers boxed for the question, removed ones included.
    let answers: i64 = conn.query_row(
        "SELECT count(*) FROM items WHERE question_id = ?1",
        [question_id],
        |r| r.get(0),
    )?;
    if answers > 0 {
        return Err(ExamError::Invalid(format!(
            "{} cannot be deleted: {answers} answer{} boxed for it, and {} grades would be lost. \
             Edit the question instead",
            q.label,
            if answers == 1 { " is" } else { "s are" },
            if answers == 1 { "its" } else { "their" }
        )));
    }
    // Counts the exam's questions.
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM questions WHERE exam_id = ?1",
        [exam_id],
        |r| r.get(0),
    )?;
    if count <= 1 {
        return Err(ExamError::Invalid(format!(
            "{} is the exam's only question: add another before deleting it",
            q.label
        )));
    }
    // Deletes the question.
    conn.execute("DELETE FROM questions WHERE id = ?1", [question_id])?;
    Ok(())
}

/// Finds a question of the submission's exam by its label (case-insensitive).
pub fn question_for_submission(
    conn: &Connection,
    submission_id: i64,
    label: &str,
) -> Result<Question, ExamError> {
    // The question with this label (case aside) in the submission's exam.
    let mut question = conn
        .prepare_cached(
            "SELECT q.id, q.label, q.prompt, q.max_points, q.rubric, q.reference_answer, q.scoring
             FROM questions q JOIN submissions s ON s.exam_id = q.exam_id
             WHERE s.id = ?1 AND q.label = ?2 COLLATE NOCASE",
        )?
        .query_row(params![submission_id, label.trim()], question_from_row)
        .optional()?
        .ok_or_else(|| {
            ExamError::NotFound(format!(
                "the exam of submission {submission_id} has no question labelled \"{label}\""
            ))
        })?;
    attach_items(conn, std::slice::from_mut(&mut question))?;
    Ok(question)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{class, input};
    use super::*;
    use crate::exams::item_view;

    #[test]
    fn a_questions_file_may_give_the_rubric_as_lines_with_points() {
        let json = r#"[{"label": "Q1", "prompt": "p", "max_points": 3,
            "rubric": [{"text": "F = ma", "points": 1}, {"text": "names each term", "points": 2}]},
            {"label": "Q2", "prompt": "p", "max_points": 1, "rubric": "free text"}]"#;
        let qs: Vec<QuestionInput> = serde_json::from_str(json).unwrap();
        assert_eq!(qs[0].rubric, "- F = ma (1 pt)\n- names each term (2 pts)");
        assert_eq!(qs[1].rubric, "free text");
        let bad = r#"[{"label": "Q1", "prompt": "p", "max_points": 1, "rubric": [{"text": "x"}]}]"#;
        assert!(serde_json::from_str::<Vec<QuestionInput>>(bad).is_err());
    }

    #[test]
    fn exams_and_questions_are_edited_added_and_deleted_with_clear_refusals() {
        let (_dir, store, exam, items) = class(1);
        let mut conn = store.lock();
        update_exam(&conn, exam, "  Physics 10B ").unwrap();
        assert_eq!(list_exams(&conn).unwrap()[0].name, "Physics 10B");
        assert!(matches!(
            update_exam(&conn, exam, " "),
            Err(ExamError::Invalid(_))
        ));
        assert!(matches!(
            update_exam(&conn, 999, "x"),
            Err(ExamError::NotFound(_))
        ));

        let tx = conn.transaction().unwrap();
        let added = add_questions(&tx, exam, &[input("Q2", 3.0), input("Q3", 1.0)]).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            added.iter().map(|q| q.label.as_str()).collect::<Vec<_>>(),
            ["Q2", "Q3"]
        );
        // A clash with an existing label (case aside) refuses the whole file.
        let tx = conn.transaction().unwrap();
        let err = add_questions(&tx, exam, &[input("Q4", 1.0), input("q2", 1.0)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this exam already has a question labelled \"q2\""
        );
        drop(tx);
        let exam_view = &list_exams(&conn).unwrap()[0];
        assert_eq!(
            exam_view
                .questions
                .iter()
                .map(|q| q.label.as_str())
                .collect::<Vec<_>>(),
            ["Q1", "Q2", "Q3"]
        );

        // Q2 has no answers: everything may change, then it may go.
        let q2 = added[0].id;
        let mut edit = input("Q2b", 4.0);
        edit.rubric = "- units (1 pt)".into();
        let (edited, _) = update_question(&conn, q2, &edit).unwrap();
        // A rubric whose every line has points becomes items the core scores.
        assert_eq!(
            (
                edited.label.as_str(),
                edited.max_points,
                edited.rubric.as_str()
            ),
            ("Q2b", 4.0, "")
        );
        assert_eq!(
            edited
                .items
                .iter()
                .map(|i| (i.text.as_str(), i.points))
                .collect::<Vec<_>>(),
            [("units", 1.0)]
        );
        assert!(update_question(&conn, q2, &input("Q3", 4.0)).is_err());
        assert!(update_question(&conn, q2, &input("Q2b", 0.0)).is_err());
        delete_question(&conn, q2).unwrap();
        assert!(matches!(
            delete_question(&conn, q2),
            Err(ExamError::NotFound(_))
        ));

        // Q1 has a graded answer: its text may change, not its points, and it stays.
        let q1 = list_exams(&conn).unwrap()[0].questions[0].id;
        let mut text_edit = input("Q1", 2.0);
        text_edit.reference_answer = "F = ma".into();
        update_question(&conn, q1, &text_edit).unwrap();
        let err = update_question(&conn, q1, &input("Q1", 5.0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the points of Q1 cannot change: 1 answer is already scored out of 2"
        );
        let err = delete_question(&conn, q1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Q1 cannot be deleted: 1 answer is boxed for it, and its grades would be lost. \
             Edit the question instead"
        );
        assert_eq!(item_view(&conn, items[0]).unwrap().question_label, "Q1");

        // The last question of an exam stays.
        let q3 = list_exams(&conn).unwrap()[0].questions[1].id;
        let tx = conn.transaction().unwrap();
        let solo = create_exam(&tx, "Solo", &[input("A", 1.0)]).unwrap();
        tx.commit().unwrap();
        let only = list_exams(&conn)
            .unwrap()
            .into_iter()
            .find(|e| e.id == solo)
            .unwrap()
            .questions[0]
            .id;
        assert!(delete_question(&conn, only)
            .unwrap_err()
            .to_string()
            .contains("only question"));
        delete_question(&conn, q3).unwrap();
    }
}
