//! Review and overrides: the `overrides` table — the teacher's scores, each kept — and the
//! review page's rows, one question's answers across the class with their history.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

use super::items::{item_view_from_row, ITEM_VIEW_SQL};
use super::rubric::{
    corrected_transcription, grade_items, latest_decision, measured_agreement, review_policy,
    second_opinion, SecondOpinion,
};
use super::{require_exam, Bbox, ExamError, ItemState};
use crate::rubric::routing::{self, AnswerEvidence, ReviewPolicy, Route};
use crate::rubric::AppliedItem;
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
    /// The transcription as it stands: the teacher's correction, else the model's.
    pub transcription: Option<String>,
    /// The model's own transcription, kept beside a correction.
    pub model_transcription: Option<String>,
    pub transcription_edited: bool,
    pub confidence: Option<f64>,
    /// Still waits for the teacher (flagged, or not accepted on the evidence).
    pub needs_review: bool,
    /// Why it was routed where it is: a flag, what the evidence lacks, or why it was accepted.
    pub review_reason: Option<String>,
    pub route: Route,
    /// Accepted by the teacher, or automatically on the measured evidence.
    pub accepted: bool,
    /// The rubric items the model applied, with its evidence.
    pub applied: Vec<AppliedItem>,
    /// The items the teacher chose, when their decision was by items.
    pub teacher_items: Option<Vec<i64>>,
    /// The teacher's latest decision: "score", "items" or "accept".
    pub decision: Option<String>,
    /// The core's own flag (an answer addressing the grader, full marks for nothing).
    pub core_flag: Option<String>,
    /// The second grading of a double-graded answer.
    pub second_opinion: Option<SecondOpinion>,
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
        "SELECT g.transcription, g.confidence, g.needs_review, g.review_reason, g.created_at, g.core_flag
                     FROM grades g WHERE g.item_id = ?1";
    let policy = review_policy(conn, exam_id)?;
    let agreement = label_agreement(conn, exam_id, question_label)?;
    let mut stmt = conn.prepare(&sql)?;
    let views = stmt
        .query_map(params![exam_id, question_label], |r| {
            Ok((item_view_from_row(r)?, r.get::<_, String>(15)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(views.len());
    for (view, student) in views {
        type Extra = (
            String,
            Option<f64>,
            bool,
            Option<String>,
            i64,
            Option<String>,
        );
        let extra: Option<Extra> = conn
            .prepare_cached(extra_sql)?
            .query_row([view.item_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?;
        let mut history = Vec::new();
        if let (Some(score), Some((_, _, _, _, at, _))) = (view.score, &extra) {
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
        let (model_transcription, confidence, model_flag, core_flag) = match extra {
            Some((t, c, n, rr, _, cf)) => (Some(t), c, n.then(|| rr.unwrap_or_default()), cf),
            None => (None, None, None, None),
        };
        let teacher_score = last.as_ref().map(|o| o.score);
        let decision = latest_decision(conn, view.item_id)?;
        let corrected = corrected_transcription(conn, view.item_id)?;
        let second = second_opinion(conn, view.item_id)?;
        let evidence = AnswerEvidence {
            decided_by_teacher: decision.is_some(),
            core_flag: core_flag.clone(),
            disagreement: match (view.score, &second) {
                (Some(first), Some(second)) if routing::disagree(first, second.score) => {
                    Some((first, second.score))
                }
                _ => None,
            },
            model_flag: model_flag.map(|reason| {
                if reason.trim().is_empty() {
                    "the model asked for review".to_string()
                } else {
                    reason
                }
            }),
            confidence,
        };
        let routed = if view.score.is_some() || decision.is_some() {
            routing::route(&evidence, agreement, &policy, &view.question_label)
        } else {
            routing::Routing {
                route: if view.state == ItemState::Failed {
                    Route::Flagged
                } else {
                    Route::Waiting
                },
                reason: Some(match view.state {
                    ItemState::Failed => "grading failed: give it a score".to_string(),
                    _ => "not graded yet".to_string(),
                }),
            }
        };
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
            transcription_edited: corrected.is_some(),
            transcription: corrected.or(model_transcription.clone()),
            model_transcription,
            confidence,
            needs_review: routed.needs_review(),
            accepted: !routed.needs_review(),
            review_reason: routed.reason,
            route: routed.route,
            applied: grade_items(conn, view.item_id)?,
            teacher_items: decision
                .as_ref()
                .filter(|(kind, _)| kind == "items")
                .map(|(_, ids)| ids.clone()),
            decision: decision.map(|(kind, _)| kind),
            core_flag,
            second_opinion: second,
            teacher_score,
            teacher_note: last.and_then(|o| o.note),
            score: teacher_score.or(view.score),
            history,
            outside_writing,
            outside: pieces,
        });
    }
    // Flagged answers first, then those waiting, then the accepted; by submission within.
    rows.sort_by_key(|row| (route_order(row.route), row.submission_id, row.item_id));
    Ok(rows)
}

/// The measured agreement of the exam's question labelled `label` (none for no such question).
fn label_agreement(
    conn: &Connection,
    exam_id: i64,
    label: &str,
) -> Result<routing::MeasuredAgreement, ExamError> {
    // The question's id, for its measured agreement.
    let question_id: Option<i64> = conn
        .query_row(
            "SELECT id FROM questions WHERE exam_id = ?1 AND label = ?2",
            params![exam_id, label],
            |r| r.get(0),
        )
        .optional()?;
    match question_id {
        Some(id) => measured_agreement(conn, id),
        None => Ok(Default::default()),
    }
}

fn route_order(route: Route) -> u8 {
    match route {
        Route::Flagged => 0,
        Route::Waiting => 1,
        Route::AutoAccepted => 2,
        Route::Teacher => 3,
    }
}

/// How a question's review is routed: the exam's policy, the agreement measured so far, and
/// how many of its answers are flagged, waiting, accepted automatically or by the teacher.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReviewRouting {
    pub question_label: String,
    pub policy: ReviewPolicy,
    /// Answers the teacher accepted or overrode.
    pub reviewed: u32,
    /// Of those, where the AI gave the teacher's score.
    pub exact: u32,
    /// Reviews needed before the agreement counts.
    pub min_reviewed: u32,
    pub flagged: u32,
    pub waiting: u32,
    pub auto_accepted: u32,
    pub by_teacher: u32,
}

/// The routing summary of one question's answers (what the review page's header shows).
pub fn review_routing(
    conn: &Connection,
    exam_id: i64,
    question_label: &str,
) -> Result<ReviewRouting, ExamError> {
    let rows = review_rows(conn, exam_id, question_label)?;
    let count = |route: Route| rows.iter().filter(|r| r.route == route).count() as u32;
    let agreement = label_agreement(conn, exam_id, question_label)?;
    Ok(ReviewRouting {
        question_label: question_label.to_string(),
        policy: review_policy(conn, exam_id)?,
        reviewed: agreement.reviewed,
        exact: agreement.exact,
        min_reviewed: routing::MIN_REVIEWED,
        flagged: count(Route::Flagged),
        waiting: count(Route::Waiting),
        auto_accepted: count(Route::AutoAccepted),
        by_teacher: count(Route::Teacher),
    })
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
        // The flagged answer comes first, then the one waiting for the teacher, then the one
        // the teacher decided.
        assert_eq!(
            rows.iter().map(|r| r.item_id).collect::<Vec<_>>(),
            vec![items[2], items[1], items[0]]
        );
        assert!(rows[0].needs_review);
        assert_eq!(rows[0].review_reason.as_deref(), Some("illegible"));
        assert_eq!(rows[0].route, Route::Flagged);
        assert_eq!(rows[1].route, Route::Waiting);
        assert!(rows[1].needs_review && !rows[1].accepted);
        let first = &rows[2];
        assert_eq!(first.route, Route::Teacher);
        assert!(first.accepted && !first.needs_review);
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
        assert_eq!(rows[1].score, Some(1.5));
        assert_eq!(rows[1].teacher_score, None);
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
