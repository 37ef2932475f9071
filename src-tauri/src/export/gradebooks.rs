//! The CSV gradebooks: wide (a row per student), long (a row per answer) and the import
//! layouts of Canvas, Moodle and Google Classroom. Every text cell passes
//! [`super::cells::guard`]; scores are written as plain numbers.
//!
//! - **Canvas** (its gradebook CSV): `Student, ID, SIS User ID, SIS Login ID, Section`, then
//!   one column per assignment, and a second row `Points Possible` with the assignment's
//!   points. A column whose header has no `(id)` is a new assignment, so the exam's name is
//!   the header and Canvas creates it on import. Canvas matches students by ID, SIS User ID
//!   or SIS Login ID (the roster fills them; empty for now).
//! - **Moodle** (Grades › Import › CSV file): one identifier column to map from (`ID number`
//!   or `Email address`), then the grade column to map to the grade item, and a feedback
//!   column the import can map to the item's feedback.
//! - **Google Classroom**: `Email Address` (how Classroom matches a student), the name, and
//!   the grade column headed by the assignment's name.

use super::cells::{guard, maybe_number, number};
use super::class::{percent, BookAnswer, BookQuestion, ClassBook};

/// One row of cells.
pub type Row = Vec<String>;

fn text(s: &str) -> String {
    guard(s).into_owned()
}

fn opt_text(s: Option<&str>) -> String {
    text(s.unwrap_or_default())
}

/// "1 pt", "2.5 pts".
fn pts(x: f64) -> String {
    format!("{} {}", number(x), if x == 1.0 { "pt" } else { "pts" })
}

/// Wide: `Student, ID, Email`, each question's score, `Total`, `Percent`.
pub fn wide(book: &ClassBook) -> Vec<Row> {
    let mut header: Row = vec!["Student".into(), "ID".into(), "Email".into()];
    header.extend(
        book.questions
            .iter()
            .map(|q| text(&format!("{} ({})", q.label, pts(q.max_points)))),
    );
    header.push(format!("Total ({})", pts(book.max_total())));
    header.push("Percent".into());
    let mut rows = vec![header];
    for s in &book.students {
        let mut row = vec![
            text(&s.name),
            opt_text(s.roster_id.as_deref()),
            opt_text(s.email.as_deref()),
        ];
        row.extend(
            s.answers
                .iter()
                .map(|a| maybe_number(a.as_ref().and_then(|a| a.score))),
        );
        row.push(number(s.total()));
        row.push(maybe_number(percent(s.total(), book.max_total())));
        rows.push(row);
    }
    rows
}

/// The long layout's columns.
pub const LONG_HEADER: [&str; 14] = [
    "submission",
    "student",
    "id",
    "email",
    "question",
    "score",
    "max_points",
    "ai_score",
    "teacher_score",
    "state",
    "rubric",
    "feedback",
    "note",
    "transcription",
];

/// The long gradebook's rubric cell: the items the answer's score is made of when the
/// question has items, else the question's rubric lines.
fn rubric_cell(q: &BookQuestion, a: &BookAnswer) -> String {
    if q.items.is_empty() {
        q.rubric_lines.join("; ")
    } else {
        a.applied.join("; ")
    }
}

/// Long: a row per answer with both scores, the rubric lines, the feedback and the note.
pub fn long(book: &ClassBook) -> Vec<Row> {
    let mut rows = vec![LONG_HEADER.iter().map(|h| h.to_string()).collect()];
    for s in &book.students {
        for (q, answer) in book.questions.iter().zip(&s.answers) {
            let Some(a) = answer else { continue };
            let state = serde_json::to_value(a.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            rows.push(vec![
                s.submission_id.to_string(),
                text(&s.name),
                opt_text(s.roster_id.as_deref()),
                opt_text(s.email.as_deref()),
                text(&q.label),
                maybe_number(a.score),
                number(q.max_points),
                maybe_number(a.ai_score),
                maybe_number(a.teacher_score),
                state,
                text(&rubric_cell(q, a)),
                text(&a.feedback),
                opt_text(a.teacher_note.as_deref()),
                text(&a.transcription),
            ]);
        }
    }
    rows
}

/// Canvas's fixed columns before the assignments.
pub const CANVAS_FIXED: [&str; 5] = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"];

/// Canvas: its gradebook layout with the exam as a new assignment column.
pub fn canvas(book: &ClassBook) -> Vec<Row> {
    let mut header: Row = CANVAS_FIXED.iter().map(|h| h.to_string()).collect();
    header.push(text(&book.exam_name));
    let mut points: Row = vec!["    Points Possible".into()];
    points.extend(std::iter::repeat_n(String::new(), CANVAS_FIXED.len() - 1));
    points.push(number(book.max_total()));
    let mut rows = vec![header, points];
    for s in &book.students {
        rows.push(vec![
            text(&s.name),
            opt_text(s.lms.lms_id.as_deref()),
            opt_text(s.lms.student_id.as_deref().or(s.roster_id.as_deref())),
            opt_text(s.lms.login.as_deref().or(s.email.as_deref())),
            opt_text(s.lms.section.as_deref()),
            number(s.total()),
        ]);
    }
    rows
}

/// Moodle: `ID number`, `Email address`, the name, the grade and a feedback line.
pub fn moodle(book: &ClassBook) -> Vec<Row> {
    let mut rows = vec![vec![
        "ID number".to_string(),
        "Email address".into(),
        "Full name".into(),
        text(&book.exam_name),
        "Feedback".into(),
    ]];
    for s in &book.students {
        let summary = book
            .questions
            .iter()
            .zip(&s.answers)
            .map(|(q, a)| {
                let got = maybe_number(a.as_ref().and_then(|a| a.score));
                let got = if got.is_empty() { "–".into() } else { got };
                format!("{} {got}/{}", q.label, number(q.max_points))
            })
            .collect::<Vec<_>>()
            .join(", ");
        rows.push(vec![
            opt_text(s.lms.student_id.as_deref().or(s.roster_id.as_deref())),
            opt_text(s.email.as_deref()),
            text(&s.name),
            number(s.total()),
            text(&summary),
        ]);
    }
    rows
}

/// Google Classroom: `Email Address`, the name and the grade under the exam's name.
pub fn classroom(book: &ClassBook) -> Vec<Row> {
    let mut rows = vec![vec![
        "Email Address".to_string(),
        "Name".into(),
        text(&book.exam_name),
    ]];
    for s in &book.students {
        rows.push(vec![
            opt_text(s.email.as_deref()),
            text(&s.name),
            number(s.total()),
        ]);
    }
    rows
}
