//! Exams, questions, submissions, pages, answer regions (items) and their grades.
//!
//! Plain functions over a connection or transaction, so that callers decide what commits
//! together (an item and its grading job, a grade and its job's completion).
//!
//! One file per domain, each holding the SQL of its tables (every statement with a line
//! saying what it does):
//!
//! - `questions.rs`: the `exams` and `questions` tables — exams, their questions, the
//!   questions file's rubric forms, and the checks every entry point applies.
//! - `submissions.rs`: the `submissions` and `pages` tables — a student's scan, its page
//!   files, the student's name, and the bookkeeping of page enhancement.
//! - `items.rs`: the `items` and `grades` tables — answer boxes (insert, remove, restore),
//!   the grader's input and its stored grade, and the one view of an answer the lists show.
//! - `gradebook.rs`: the export's rows, the final score of every current answer (reads only).
//! - `templates.rs`: the class workflow — `template_pages`, `regions`, `unassigned_pages`,
//!   and where a class page came from and how it lines up (on `pages` and `items`).
//! - `layout.rs`: the class's layout as the teacher corrects it — regions edited, pages
//!   moved between students or set aside (split review), and what re-cutting needs.
//! - `roster.rs`: the `roster_entries` and `name_reads` tables and who each script is —
//!   the class list, what was read from the name boxes, and the matching's pairs.
//! - `rubric.rs`: rubric items (`rubric_items`, `grade_items`), the teacher's item sets and
//!   accepts, corrected transcriptions, second gradings and each exam's review routing; an
//!   item edit re-scores every answer that has it.
//! - `review.rs`: the `overrides` table — the teacher's scores — and the review page's rows
//!   with each answer's history.
//!
//! Everything public is re-exported here: callers write `crate::exams::Foo`, whichever
//! file `Foo` lives in.

mod gradebook;
mod items;
mod layout;
mod questions;
mod review;
mod roster;
mod rubric;
mod submissions;
mod templates;
#[cfg(test)]
mod test_support;

pub use gradebook::*;
pub use items::*;
pub use layout::*;
pub use questions::*;
pub use review::*;
pub use roster::*;
pub use rubric::*;
pub use submissions::*;
pub use templates::*;

use crate::store::StoreError;

/// Errors a teacher can act on: a missing exam, a bad questions file, a box off the page.
#[derive(Debug, thiserror::Error)]
pub enum ExamError {
    /// What the request names does not exist (an exam, a question, a page, an answer).
    #[error("{0}")]
    NotFound(String),
    /// The request is refused; the message says why, in a sentence the teacher can act on.
    #[error("{0}")]
    Invalid(String),
    /// The database failed: nothing the teacher entered is at fault.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ExamError {
    fn from(e: rusqlite::Error) -> Self {
        ExamError::Store(StoreError::Sqlite(e))
    }
}
