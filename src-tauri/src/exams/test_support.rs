//! What the domain tests share: a class of graded answers to build on.
//!
//! Built with this module's functions and plain SQL only: `exams` does not import `queue`,
//! which imports `grading`, which imports `exams` — no module may import one that imports
//! it back.

use super::*;
use crate::store::Store;

/// A grade of `score` out of 2, flagged for review (as illegible) when `needs_review`.
pub fn grade(score: f64, needs_review: bool) -> NewGrade {
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
        from_items: false,
        applied: Vec::new(),
        core_flag: None,
        second: None,
    }
}

/// An exam with one 2-point question and `n` graded answers (the last one flagged).
pub fn class(n: usize) -> (tempfile::TempDir, Store, i64, Vec<i64>) {
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
            scoring: Default::default(),
            items: Vec::new(),
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
            let sub =
                insert_submission(&tx, exam, &format!("student {k}"), "s.png", &[page]).unwrap();
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
            // Adds the answer's grading job, queued, as an enqueue would.
            tx.execute(
                "INSERT INTO jobs (kind, item_id, exam_id, state, run_at, created_at, updated_at)
                 VALUES ('GRADE_ITEM', ?1, ?2, 'queued', 0, 0, 0)",
                [item, exam],
            )
            .unwrap();
            let job = tx.last_insert_rowid();
            insert_grade(&tx, item, job, &grade(1.5, k + 1 == n)).unwrap();
            items.push(item);
        }
        tx.commit().unwrap();
        (exam, items)
    };
    (dir, store, exam, items)
}

/// A question labelled `label` worth `max_points`, with a prompt and nothing else.
pub fn input(label: &str, max_points: f64) -> QuestionInput {
    QuestionInput {
        label: label.into(),
        prompt: format!("prompt of {label}"),
        max_points,
        rubric: String::new(),
        reference_answer: String::new(),
        scoring: Default::default(),
        items: Vec::new(),
    }
}
