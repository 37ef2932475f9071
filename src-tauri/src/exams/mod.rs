//! Exams, questions, submissions, pages, answer regions (items) and their grades.
//!
//! Plain functions over a connection or transaction, so that callers decide what commits
//! together (an item and its grading job, a grade and its job's completion).

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};

use crate::store::{now_ms, StoreError};

/// Errors a teacher can act on: a missing exam, a bad questions file, a box off the page.
#[derive(Debug, thiserror::Error)]
pub enum ExamError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ExamError {
    fn from(e: rusqlite::Error) -> Self {
        ExamError::Store(StoreError::Sqlite(e))
    }
}

/// A question as the teacher writes it in the questions file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Question {
    pub id: i64,
    pub label: String,
    pub prompt: String,
    pub max_points: f64,
    pub rubric: String,
    pub reference_answer: String,
}

/// An exam with its questions in order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exam {
    pub id: i64,
    pub name: String,
    pub questions: Vec<Question>,
}

/// One student's scan, as listed: how far its grading has come.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubmissionSummary {
    pub id: i64,
    pub exam_id: i64,
    pub student: String,
    pub file_name: String,
    pub pages: i64,
    pub items: i64,
    pub done: i64,
    /// The first page, whose thumbnail stands for the scan in lists (`gdimg://…/thumb/<id>`).
    pub first_page_id: Option<i64>,
}

/// A page's identity and pixel size; the UI draws boxes on its preview.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PageInfo {
    pub id: i64,
    pub number: i64,
    pub width: u32,
    pub height: u32,
}

/// Where a page's files are, for cropping and serving previews.
#[derive(Debug, Clone)]
pub struct PageFiles {
    pub id: i64,
    pub path: String,
    pub preview_path: String,
    pub width: u32,
    pub height: u32,
    /// A small preview for lists (pages imported before thumbnails existed have none).
    pub thumb_path: Option<String>,
    /// True while the page waits for its UPSCALE_SUBMISSION enhancement: crops must not be
    /// cut from it yet.
    pub enhancement_pending: bool,
}

/// A page waiting for enhancement, with what import measured about it.
#[derive(Debug, Clone)]
pub struct PendingEnhancement {
    pub page: PageFiles,
    pub number: i64,
    pub dpi: f64,
    pub skew_deg: f64,
}

/// The files of an enhanced page, replacing the imported ones in its row.
#[derive(Debug, Clone)]
pub struct EnhancedFiles {
    pub path: String,
    pub preview_path: String,
    pub thumb_path: String,
    pub width: u32,
    pub height: u32,
}

/// A box as fractions of the page's width and height, origin at the top left.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Bbox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// Where an answer stands, in the words the UI shows.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Queued,
    Grading,
    Retrying,
    Done,
    Failed,
    Cancelled,
}

/// One answer as the UI and the CLI's status show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ItemView {
    pub item_id: i64,
    pub submission_id: i64,
    pub page_number: i64,
    pub question_label: String,
    pub bbox: Bbox,
    pub job_id: Option<i64>,
    pub state: ItemState,
    pub score: Option<f64>,
    pub max_points: f64,
    pub feedback: Option<String>,
    pub error: Option<String>,
    /// The teacher's score when they overrode the AI's (lists show it instead of `score`).
    pub teacher_score: Option<f64>,
    /// Re-cropped or deleted: the last event of an answer that left the lists, so live
    /// views drop it instead of keeping a stale box.
    pub removed: bool,
}

/// A page about to be stored: its files are already on disk.
pub struct NewPage {
    pub path: String,
    pub preview_path: String,
    pub width: u32,
    pub height: u32,
    /// The list thumbnail.
    pub thumb_path: Option<String>,
    /// Effective resolution import measured (pixels per inch of paper).
    pub dpi: Option<f64>,
    /// Angle of the text lines import measured, in degrees.
    pub skew_deg: Option<f64>,
    /// The page must be enhanced (UPSCALE_SUBMISSION) before crops are cut from it.
    pub needs_enhancement: bool,
}

impl NewPage {
    /// A page with its files and size, nothing measured about it (tests, tools).
    pub fn new(
        path: impl Into<String>,
        preview_path: impl Into<String>,
        width: u32,
        height: u32,
    ) -> Self {
        Self {
            path: path.into(),
            preview_path: preview_path.into(),
            width,
            height,
            thumb_path: None,
            dpi: None,
            skew_deg: None,
            needs_enhancement: false,
        }
    }
}

/// A grade as the grader returned it, validated.
#[derive(Debug, Clone, PartialEq)]
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
        if !seen.insert(q.label.trim().to_lowercase()) {
            return Err(ExamError::Invalid(format!(
                "the label \"{}\" is used by two questions",
                q.label
            )));
        }
    }
    tx.execute(
        "INSERT INTO exams (name, created_at) VALUES (?1, ?2)",
        params![name.trim(), now_ms()],
    )?;
    let exam_id = tx.last_insert_rowid();
    for (position, q) in questions.iter().enumerate() {
        tx.execute(
            "INSERT INTO questions (exam_id, position, label, prompt, max_points, rubric, reference_answer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![exam_id, position as i64, q.label.trim(), q.prompt, q.max_points, q.rubric, q.reference_answer],
        )?;
    }
    Ok(exam_id)
}

fn question_from_row(row: &Row) -> rusqlite::Result<Question> {
    Ok(Question {
        id: row.get("id")?,
        label: row.get("label")?,
        prompt: row.get("prompt")?,
        max_points: row.get("max_points")?,
        rubric: row.get("rubric")?,
        reference_answer: row.get("reference_answer")?,
    })
}

/// All exams with their questions, oldest first.
pub fn list_exams(conn: &Connection) -> Result<Vec<Exam>, ExamError> {
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
    let mut stmt = conn.prepare_cached(
        "SELECT id, exam_id, label, prompt, max_points, rubric, reference_answer
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
    Ok(exams)
}

/// Fails with a clear message unless the exam exists.
pub fn require_exam(conn: &Connection, exam_id: i64) -> Result<(), ExamError> {
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
    conn.query_row(
        "SELECT id, exam_id, label, prompt, max_points, rubric, reference_answer
         FROM questions WHERE id = ?1",
        [question_id],
        |r| Ok((r.get::<_, i64>("exam_id")?, question_from_row(r)?)),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no question number {question_id}")))
}

/// Refuses a label another question of the exam already has (labels are matched without
/// regard to case, as boxes pick their question by label).
fn require_free_label(
    conn: &Connection,
    exam_id: i64,
    label: &str,
    except: Option<i64>,
) -> Result<(), ExamError> {
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
        tx.execute(
            "INSERT INTO questions (exam_id, position, label, prompt, max_points, rubric, reference_answer)
             VALUES (?1, (SELECT coalesce(max(position), -1) + 1 FROM questions WHERE exam_id = ?1),
                     ?2, ?3, ?4, ?5, ?6)",
            params![exam_id, q.label.trim(), q.prompt, q.max_points, q.rubric, q.reference_answer],
        )?;
        added.push(question(tx, tx.last_insert_rowid())?.1);
    }
    Ok(added)
}

/// How many answers of a question have been graded or scored by the teacher.
fn scored_answers(conn: &Connection, question_id: i64) -> Result<i64, ExamError> {
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
/// those scores are out of the old points.
pub fn update_question(
    conn: &Connection,
    question_id: i64,
    q: &QuestionInput,
) -> Result<Question, ExamError> {
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
    conn.execute(
        "UPDATE questions SET label = ?2, prompt = ?3, max_points = ?4, rubric = ?5,
         reference_answer = ?6 WHERE id = ?1",
        params![
            question_id,
            q.label.trim(),
            q.prompt,
            q.max_points,
            q.rubric,
            q.reference_answer
        ],
    )?;
    Ok(question(conn, question_id)?.1)
}

/// Deletes a question nobody has answered yet. A question with boxed answers is refused
/// rather than deleted softly: its answers, grades and overrides would vanish from the
/// gradebook, and a hidden question would still be graded. The last question of an exam
/// stays too (an exam needs one).
pub fn delete_question(conn: &Connection, question_id: i64) -> Result<(), ExamError> {
    let (exam_id, q) = question(conn, question_id)?;
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
    conn.execute("DELETE FROM questions WHERE id = ?1", [question_id])?;
    Ok(())
}

/// Finds a question of the submission's exam by its label (case-insensitive).
pub fn question_for_submission(
    conn: &Connection,
    submission_id: i64,
    label: &str,
) -> Result<Question, ExamError> {
    conn.prepare_cached(
        "SELECT q.id, q.label, q.prompt, q.max_points, q.rubric, q.reference_answer
         FROM questions q JOIN submissions s ON s.exam_id = q.exam_id
         WHERE s.id = ?1 AND q.label = ?2 COLLATE NOCASE",
    )?
    .query_row(params![submission_id, label.trim()], question_from_row)
    .optional()?
    .ok_or_else(|| {
        ExamError::NotFound(format!(
            "the exam of submission {submission_id} has no question labelled \"{label}\""
        ))
    })
}

/// Stores a submission and its pages; the page files must already be in place.
pub fn insert_submission(
    tx: &Transaction,
    exam_id: i64,
    student: &str,
    file_name: &str,
    pages: &[NewPage],
) -> Result<i64, ExamError> {
    tx.execute(
        "INSERT INTO submissions (exam_id, student, file_name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![exam_id, student, file_name, now_ms()],
    )?;
    let submission_id = tx.last_insert_rowid();
    for (index, page) in pages.iter().enumerate() {
        tx.execute(
            "INSERT INTO pages (submission_id, number, path, preview_path, width, height,
                                thumb_path, dpi, skew_deg, enhancement)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                submission_id,
                index as i64 + 1,
                page.path,
                page.preview_path,
                page.width,
                page.height,
                page.thumb_path,
                page.dpi,
                page.skew_deg,
                if page.needs_enhancement {
                    "pending"
                } else {
                    "none"
                }
            ],
        )?;
    }
    Ok(submission_id)
}

const SUBMISSION_SUMMARY_SQL: &str = "
    SELECT s.id, s.exam_id, s.student, s.file_name,
           (SELECT count(*) FROM pages p WHERE p.submission_id = s.id),
           (SELECT count(*) FROM items i WHERE i.submission_id = s.id AND i.superseded_at IS NULL),
           (SELECT count(*) FROM items i JOIN grades g ON g.item_id = i.id
             WHERE i.submission_id = s.id AND i.superseded_at IS NULL),
           (SELECT p.id FROM pages p WHERE p.submission_id = s.id ORDER BY p.number LIMIT 1)
    FROM submissions s";

fn summary_from_row(r: &Row) -> rusqlite::Result<SubmissionSummary> {
    Ok(SubmissionSummary {
        id: r.get(0)?,
        exam_id: r.get(1)?,
        student: r.get(2)?,
        file_name: r.get(3)?,
        pages: r.get(4)?,
        items: r.get(5)?,
        done: r.get(6)?,
        first_page_id: r.get(7)?,
    })
}

/// Every submission, by exam then import order.
pub fn list_submissions(conn: &Connection) -> Result<Vec<SubmissionSummary>, ExamError> {
    let sql = format!("{SUBMISSION_SUMMARY_SQL} ORDER BY s.exam_id, s.id");
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([], summary_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// One submission's summary, or a clear "not found".
pub fn submission(conn: &Connection, submission_id: i64) -> Result<SubmissionSummary, ExamError> {
    let sql = format!("{SUBMISSION_SUMMARY_SQL} WHERE s.id = ?1");
    conn.query_row(&sql, [submission_id], summary_from_row)
        .optional()?
        .ok_or_else(|| {
            ExamError::NotFound(format!("there is no submission number {submission_id}"))
        })
}

/// The pages of a submission, in order.
pub fn pages(conn: &Connection, submission_id: i64) -> Result<Vec<PageInfo>, ExamError> {
    let rows = conn
        .prepare_cached(
            "SELECT id, number, width, height FROM pages WHERE submission_id = ?1 ORDER BY number",
        )?
        .query_map([submission_id], |r| {
            Ok(PageInfo {
                id: r.get(0)?,
                number: r.get(1)?,
                width: r.get(2)?,
                height: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn page_files_from_row(r: &Row) -> rusqlite::Result<PageFiles> {
    Ok(PageFiles {
        id: r.get(0)?,
        path: r.get(1)?,
        preview_path: r.get(2)?,
        width: r.get(3)?,
        height: r.get(4)?,
        thumb_path: r.get(5)?,
        enhancement_pending: r.get::<_, String>(6)? == "pending",
    })
}

const PAGE_FILES: &str =
    "SELECT id, path, preview_path, width, height, thumb_path, enhancement FROM pages";

/// A page still waiting for enhancement, or None once it is done (or never needed it).
pub fn pending_enhancement(
    conn: &Connection,
    page_id: i64,
) -> Result<Option<PendingEnhancement>, ExamError> {
    Ok(conn
        .query_row(
            "SELECT id, path, preview_path, width, height, thumb_path, enhancement,
                    number, coalesce(dpi, 0), coalesce(skew_deg, 0)
             FROM pages WHERE id = ?1 AND enhancement = 'pending'",
            [page_id],
            |r| {
                Ok(PendingEnhancement {
                    page: page_files_from_row(r)?,
                    number: r.get(7)?,
                    dpi: r.get(8)?,
                    skew_deg: r.get(9)?,
                })
            },
        )
        .optional()?)
}

/// The pages of a submission still waiting for enhancement, in order.
pub fn pending_enhancement_pages(
    conn: &Connection,
    submission_id: i64,
) -> Result<Vec<i64>, ExamError> {
    let ids = conn
        .prepare_cached(
            "SELECT id FROM pages WHERE submission_id = ?1 AND enhancement = 'pending' ORDER BY number",
        )?
        .query_map([submission_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Swaps an enhanced page's files into its row, keeping the imported page as
/// `original_path`. Only a page still pending is changed: returns false if another worker
/// got there first.
pub fn mark_page_enhanced(
    conn: &Connection,
    page_id: i64,
    files: &EnhancedFiles,
) -> Result<bool, ExamError> {
    let changed = conn.execute(
        "UPDATE pages SET original_path = path, path = ?2, preview_path = ?3, thumb_path = ?4,
                width = ?5, height = ?6, enhancement = 'done'
         WHERE id = ?1 AND enhancement = 'pending'",
        params![
            page_id,
            files.path,
            files.preview_path,
            files.thumb_path,
            files.width,
            files.height
        ],
    )?;
    Ok(changed == 1)
}

/// A page by its number within a submission (pages count from 1).
pub fn page_by_number(
    conn: &Connection,
    submission_id: i64,
    number: i64,
) -> Result<PageFiles, ExamError> {
    let page = conn
        .prepare_cached(&format!(
            "{PAGE_FILES} WHERE submission_id = ?1 AND number = ?2"
        ))?
        .query_row(params![submission_id, number], page_files_from_row)
        .optional()?;
    if let Some(page) = page {
        return Ok(page);
    }
    // Only now is it worth asking which was missing: the submission or its page.
    submission(conn, submission_id)?;
    Err({
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM pages WHERE submission_id = ?1",
                [submission_id],
                |r| r.get(0),
            )
            .unwrap_or(0);
        ExamError::NotFound(format!(
            "submission {submission_id} has no page {number} (it has {count} page{}; pages count from 1)",
            if count == 1 { "" } else { "s" }
        ))
    })
}

/// A page by id, for serving its preview to the window.
pub fn page_by_id(conn: &Connection, page_id: i64) -> Result<PageFiles, ExamError> {
    conn.prepare_cached(&format!("{PAGE_FILES} WHERE id = ?1"))?
        .query_row([page_id], page_files_from_row)
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no page number {page_id}")))
}

/// The crop file of an item, for serving it to the window.
pub fn crop_path(conn: &Connection, item_id: i64) -> Result<String, ExamError> {
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
    let superseded: Vec<i64> = tx
        .prepare_cached(
            "UPDATE items SET superseded_at = ?3
             WHERE submission_id = ?1 AND question_id = ?2 AND superseded_at IS NULL RETURNING id",
        )?
        .query_map(params![submission_id, question_id, now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
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
    let changed = tx.execute(
        "UPDATE items SET superseded_at = ?2 WHERE id = ?1 AND superseded_at IS NULL",
        params![item_id, now_ms()],
    )?;
    if changed == 1 {
        return Ok(());
    }
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
    tx.execute(
        "UPDATE items SET superseded_at = NULL WHERE id = ?1",
        [item_id],
    )?;
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
    conn.query_row(
        "SELECT i.crop_path, q.id, q.label, q.prompt, q.max_points, q.rubric, q.reference_answer
         FROM items i JOIN questions q ON q.id = i.question_id WHERE i.id = ?1",
        [item_id],
        |r| Ok((r.get(0)?, question_from_row(r)?)),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no answer number {item_id}")))
}

/// Stores an item's grade; the UNIQUE(item_id) constraint refuses a second one.
pub fn insert_grade(
    tx: &Connection,
    item_id: i64,
    job_id: i64,
    grade: &NewGrade,
) -> Result<(), ExamError> {
    tx.execute(
        "INSERT INTO grades (item_id, job_id, score, max_points, feedback, transcription, confidence,
                             needs_review, review_reason, model, prompt_tokens, output_tokens,
                             thoughts_tokens, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            item_id, job_id, grade.score, grade.max_points, grade.feedback, grade.transcription,
            grade.confidence, grade.needs_review, grade.review_reason, grade.model,
            grade.prompt_tokens, grade.output_tokens, grade.thoughts_tokens, now_ms()
        ],
    )?;
    Ok(())
}

const ITEM_VIEW_SQL: &str = "
    SELECT i.id, i.submission_id, p.number, q.label, i.x, i.y, i.w, i.h,
           j.id, j.state, j.attempts, j.last_error, g.score, q.max_points, g.feedback,
           s.student, coalesce(g.transcription, ''),
           (SELECT o.score FROM overrides o WHERE o.item_id = i.id ORDER BY o.id DESC LIMIT 1),
           i.superseded_at IS NOT NULL
    FROM items i
    JOIN submissions s ON s.id = i.submission_id
    JOIN pages p ON p.id = i.page_id
    JOIN questions q ON q.id = i.question_id
    LEFT JOIN jobs j ON j.id = (SELECT max(id) FROM jobs WHERE item_id = i.id AND kind = 'GRADE_ITEM')
    LEFT JOIN grades g ON g.item_id = i.id";

fn item_view_from_row(r: &Row) -> rusqlite::Result<ItemView> {
    let job_state: Option<String> = r.get(9)?;
    let attempts: Option<i64> = r.get(10)?;
    let score: Option<f64> = r.get(12)?;
    let last_error: Option<String> = r.get(11)?;
    let state = if score.is_some() {
        ItemState::Done
    } else {
        match job_state.as_deref() {
            Some("running") => ItemState::Grading,
            Some("queued") if attempts.unwrap_or(0) > 0 => ItemState::Retrying,
            Some("dead") => ItemState::Failed,
            Some("cancelled") => ItemState::Cancelled,
            Some("succeeded") => ItemState::Done,
            _ => ItemState::Queued,
        }
    };
    let error = match state {
        ItemState::Failed | ItemState::Retrying | ItemState::Cancelled => last_error,
        _ => None,
    };
    Ok(ItemView {
        item_id: r.get(0)?,
        submission_id: r.get(1)?,
        page_number: r.get(2)?,
        question_label: r.get(3)?,
        bbox: Bbox {
            x: r.get(4)?,
            y: r.get(5)?,
            w: r.get(6)?,
            h: r.get(7)?,
        },
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

/// Renames the student of a submission (the name read off the scan may be wrong).
pub fn rename_student(
    conn: &Connection,
    submission_id: i64,
    student: &str,
) -> Result<(), ExamError> {
    let student = student.trim();
    if student.is_empty() {
        return Err(ExamError::Invalid("enter the student's name".into()));
    }
    if student.chars().count() > 200 {
        return Err(ExamError::Invalid(
            "a student's name can be at most 200 characters".into(),
        ));
    }
    let changed = conn.execute(
        "UPDATE submissions SET student = ?2 WHERE id = ?1",
        params![submission_id, student],
    )?;
    if changed == 0 {
        return Err(ExamError::NotFound(format!(
            "there is no scan number {submission_id}"
        )));
    }
    Ok(())
}

/// One step of an answer's history: the AI's grade, then each teacher override.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryEntry {
    /// "ai" or "teacher".
    pub by: &'static str,
    pub score: f64,
    pub note: Option<String>,
    pub at_ms: i64,
}

/// A teacher's override as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Override {
    pub item_id: i64,
    pub score: f64,
    pub note: Option<String>,
    pub created_at: i64,
}

/// One answer of a question across the class, for the review page.
#[derive(Debug, Clone, Serialize)]
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
}

/// Records the teacher's score for an answer (kept with every earlier one). The score must
/// lie within 0 and the question's points.
pub fn set_override(
    conn: &Connection,
    item_id: i64,
    score: f64,
    note: Option<&str>,
) -> Result<Override, ExamError> {
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
    let sql = format!(
        "{ITEM_VIEW_SQL}
         WHERE i.superseded_at IS NULL AND s.exam_id = ?1 AND q.label = ?2
         ORDER BY coalesce(g.needs_review, 0) DESC, i.submission_id, i.id"
    );
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
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn grade(score: f64, needs_review: bool) -> NewGrade {
        NewGrade {
            score,
            max_points: 2.0,
            feedback: "feedback".into(),
            transcription: "F = ma".into(),
            confidence: Some(0.8),
            needs_review,
            review_reason: needs_review.then(|| "illegible".into()),
            model: "m".into(),
            prompt_tokens: None,
            output_tokens: None,
            thoughts_tokens: None,
        }
    }

    /// An exam with one 2-point question and `n` graded answers (the last one flagged).
    fn class(n: usize) -> (tempfile::TempDir, Store, i64, Vec<i64>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (exam, items) = {
            let mut conn = store.lock();
            let tx = conn.transaction().unwrap();
            let q = QuestionInput {
                label: "Q1".into(),
                prompt: "State Newton's second law.".into(),
                max_points: 2.0,
                rubric: String::new(),
                reference_answer: String::new(),
            };
            let exam = create_exam(&tx, "Physics", &[q]).unwrap();
            let question: i64 = tx
                .query_row("SELECT id FROM questions WHERE exam_id = ?1", [exam], |r| {
                    r.get(0)
                })
                .unwrap();
            let mut items = Vec::new();
            for k in 0..n {
                let page = NewPage::new("p.png", "p.jpg", 10, 10);
                let sub = insert_submission(&tx, exam, &format!("student {k}"), "s.png", &[page])
                    .unwrap();
                let page_id: i64 = tx
                    .query_row(
                        "SELECT id FROM pages WHERE submission_id = ?1",
                        [sub],
                        |r| r.get(0),
                    )
                    .unwrap();
                let bbox = Bbox {
                    x: 0.0,
                    y: 0.0,
                    w: 1.0,
                    h: 1.0,
                };
                let (item, _) = insert_item(&tx, sub, page_id, question, bbox, "c.png").unwrap();
                let job =
                    crate::queue::enqueue(&tx, &crate::queue::NewJob::grade_item(item), 0).unwrap();
                insert_grade(&tx, item, job, &grade(1.5, k + 1 == n)).unwrap();
                items.push(item);
            }
            tx.commit().unwrap();
            (exam, items)
        };
        (dir, store, exam, items)
    }

    /// Lists show a scan by its first page's thumbnail: the summary names page 1 (whose
    /// thumbnail is served by id), and the page lookup finds the thumbnail file.
    #[test]
    fn a_summary_names_its_first_page_for_the_thumbnail() {
        let (_dir, store, exam, _) = class(1);
        let mut conn = store.lock();
        let tx = conn.transaction().unwrap();
        let mut pages: Vec<NewPage> = (1..=3)
            .map(|n| NewPage::new(format!("p{n}.png"), format!("p{n}.jpg"), 10, 10))
            .collect();
        pages[0].thumb_path = Some("p1.thumb.jpg".into());
        let sub = insert_submission(&tx, exam, "Ada", "three.pdf", &pages).unwrap();
        tx.commit().unwrap();
        let summary = submission(&conn, sub).unwrap();
        let first = summary
            .first_page_id
            .expect("a scan with pages has a first page");
        let page = page_by_id(&conn, first).unwrap();
        assert_eq!(page.path, "p1.png");
        assert_eq!(page.thumb_path.as_deref(), Some("p1.thumb.jpg"));
        assert_eq!(page_by_number(&conn, sub, 1).unwrap().id, first);
    }

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

        rename_student(&conn, rows[1].submission_id, "  Ada Lovelace ").unwrap();
        assert!(rename_student(&conn, rows[1].submission_id, " ").is_err());
        assert!(matches!(
            rename_student(&conn, 9999, "x"),
            Err(ExamError::NotFound(_))
        ));
        let renamed = review_rows(&conn, exam, "Q1").unwrap();
        assert_eq!(renamed[1].student, "Ada Lovelace");
        rename_student(&conn, rows[1].submission_id, "student 0").unwrap();

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
    }

    fn input(label: &str, max_points: f64) -> QuestionInput {
        QuestionInput {
            label: label.into(),
            prompt: format!("prompt of {label}"),
            max_points,
            rubric: String::new(),
            reference_answer: String::new(),
        }
    }

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
        let edited = update_question(&conn, q2, &edit).unwrap();
        assert_eq!(
            (
                edited.label.as_str(),
                edited.max_points,
                edited.rubric.as_str()
            ),
            ("Q2b", 4.0, "- units (1 pt)")
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
