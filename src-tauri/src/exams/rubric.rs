//! Rubric items and the teacher's decisions: the `rubric_items`, `grade_items`,
//! `transcript_edits` and `second_opinions` tables, the items and accepts kept in
//! `overrides`, and each exam's review policy (on `exams`). Editing an item re-scores every
//! answer that has it here, in the caller's transaction, without the model.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

use super::review::Override;
use super::{require_exam, ExamError, Question};
use crate::rubric::routing::{MeasuredAgreement, ReviewPolicy};
use crate::rubric::{
    check_item, score_from_items, AppliedItem, RubricItem, RubricItemInput, Scoring,
};
use crate::store::now_ms;

/// A question can have at most this many items (a rubric, not an essay).
pub const MAX_ITEMS: usize = 40;

/// The current items of a question, in order.
pub fn load_items(conn: &Connection, question_id: i64) -> Result<Vec<RubricItem>, ExamError> {
    // The question's live items by position.
    let mut stmt = conn.prepare_cached(
        "SELECT id, text, points FROM rubric_items
         WHERE question_id = ?1 AND deleted_at IS NULL ORDER BY position, id",
    )?;
    let items = stmt
        .query_map([question_id], |r| {
            Ok(RubricItem {
                id: r.get(0)?,
                text: r.get(1)?,
                points: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(items)
}

/// Fills each question's items (questions are read by many queries; items need their own).
pub fn attach_items(conn: &Connection, questions: &mut [Question]) -> Result<(), ExamError> {
    for question in questions {
        question.items = load_items(conn, question.id)?;
    }
    Ok(())
}

/// What a rubric edit did: items added and removed, and the answers whose score changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct RubricChange {
    pub added: u32,
    pub removed: u32,
    /// Items whose points changed.
    pub repointed: u32,
    /// Answers (item ids) re-scored, the model not asked.
    pub rescored: Vec<i64>,
    /// Answers of the question graded before the new items existed: grading them again is
    /// what would apply the new items (offered, never done silently).
    pub graded_before: u32,
}

/// Checks a question's items as the teacher or a file gave them.
pub fn check_items(
    items: &[RubricItemInput],
    max_points: f64,
    label: &str,
) -> Result<(), ExamError> {
    if items.len() > MAX_ITEMS {
        return Err(ExamError::Invalid(format!(
            "{label} has {} rubric items; at most {MAX_ITEMS} are allowed",
            items.len()
        )));
    }
    for item in items {
        check_item(item, max_points).map_err(|e| ExamError::Invalid(format!("{label}: {e}")))?;
    }
    Ok(())
}

/// Makes the question's items `inputs` (in order): an input with an id edits that item, one
/// without adds an item, an item left out is removed. Then re-scores every answer whose score
/// came from items or from the teacher's items.
pub fn write_items(
    tx: &Connection,
    question_id: i64,
    inputs: &[RubricItemInput],
) -> Result<RubricChange, ExamError> {
    let (label, max_points): (String, f64) = tx.query_row(
        "SELECT label, max_points FROM questions WHERE id = ?1",
        [question_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    check_items(inputs, max_points, &label)?;
    let existing = load_items(tx, question_id)?;
    let now = now_ms();
    let mut change = RubricChange::default();
    let mut kept = Vec::new();
    for (position, input) in inputs.iter().enumerate() {
        match input.id {
            Some(id) => {
                let Some(old) = existing.iter().find(|e| e.id == id) else {
                    return Err(ExamError::Invalid(format!(
                        "{label} has no rubric item {id} (it may have been removed)"
                    )));
                };
                if old.points != input.points {
                    change.repointed += 1;
                }
                // Edits one item in place: answers keep it.
                tx.execute(
                    "UPDATE rubric_items SET text = ?2, points = ?3, position = ?4, updated_at = ?5
                     WHERE id = ?1",
                    params![id, input.text.trim(), input.points, position as i64, now],
                )?;
                kept.push(id);
            }
            None => {
                // Adds an item at its place.
                tx.execute(
                    "INSERT INTO rubric_items (question_id, position, text, points, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![question_id, position as i64, input.text.trim(), input.points, now],
                )?;
                change.added += 1;
            }
        }
    }
    for old in existing.iter().filter(|e| !kept.contains(&e.id)) {
        // Removes an item the edit left out; answers that had it lose its points.
        tx.execute(
            "UPDATE rubric_items SET deleted_at = ?2 WHERE id = ?1",
            params![old.id, now],
        )?;
        change.removed += 1;
    }
    change.rescored = rescore_question(tx, question_id)?;
    if change.added > 0 {
        // The question's graded answers: none of them was asked about the new items.
        change.graded_before = tx.query_row(
            "SELECT count(*) FROM grades g JOIN items i ON i.id = g.item_id
             WHERE i.question_id = ?1 AND i.superseded_at IS NULL",
            [question_id],
            |r| r.get(0),
        )?;
    }
    Ok(change)
}

/// Sets how a question's items count, and re-scores its answers.
pub fn set_scoring(
    tx: &Connection,
    question_id: i64,
    scoring: Scoring,
) -> Result<Vec<i64>, ExamError> {
    // Writes the question's scoring.
    tx.execute(
        "UPDATE questions SET scoring = ?2 WHERE id = ?1",
        params![question_id, scoring.as_str()],
    )?;
    rescore_question(tx, question_id)
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

fn ids_from_json(text: Option<String>) -> Vec<i64> {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// A teacher's decision as re-scoring reads it: (override id, answer id, kind, item ids as
/// JSON, the decision's score, the AI's score).
type Decision = (i64, i64, String, Option<String>, f64, Option<f64>);

/// Re-computes from the current items every score of the question that items decide: the
/// AI's grades scored from items, their second opinions, the teacher's item sets, and the
/// accepts that follow the AI's grade. Returns the answers whose final score may have moved.
pub fn rescore_question(tx: &Connection, question_id: i64) -> Result<Vec<i64>, ExamError> {
    let (max_points, scoring): (f64, String) = tx.query_row(
        "SELECT max_points, scoring FROM questions WHERE id = ?1",
        [question_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let scoring = Scoring::parse(&scoring);
    let items = load_items(tx, question_id)?;
    let mut changed = Vec::new();
    // The question's grades scored from items, with the items the model applied.
    let grades: Vec<(i64, f64, String)> = tx
        .prepare(
            "SELECT g.item_id, g.score,
                    (SELECT json_group_array(gi.rubric_item_id) FROM grade_items gi WHERE gi.item_id = g.item_id)
             FROM grades g JOIN items i ON i.id = g.item_id
             WHERE i.question_id = ?1 AND g.from_items = 1",
        )?
        .query_map([question_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (item_id, old, applied) in grades {
        let new = score_from_items(&items, &ids_from_json(Some(applied)), scoring, max_points);
        if new != old {
            // Re-scores one AI grade from its items.
            tx.execute(
                "UPDATE grades SET score = ?2 WHERE item_id = ?1",
                params![item_id, new],
            )?;
            changed.push(item_id);
        }
    }
    // The second opinions of the question's answers scored from items.
    let seconds: Vec<(i64, String)> = tx
        .prepare(
            "SELECT so.item_id, so.items FROM second_opinions so
             JOIN items i ON i.id = so.item_id JOIN grades g ON g.item_id = so.item_id
             WHERE i.question_id = ?1 AND g.from_items = 1",
        )?
        .query_map([question_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (item_id, applied) in seconds {
        let new = score_from_items(&items, &ids_from_json(Some(applied)), scoring, max_points);
        // Re-scores one second opinion.
        tx.execute(
            "UPDATE second_opinions SET score = ?2 WHERE item_id = ?1",
            params![item_id, new],
        )?;
    }
    // The latest decision of each answer of the question, when it is an item set or an accept.
    let decisions: Vec<Decision> = tx
        .prepare(
            "SELECT o.id, o.item_id, o.kind, o.items, o.score, g.score FROM overrides o
             JOIN items i ON i.id = o.item_id LEFT JOIN grades g ON g.item_id = o.item_id
             WHERE i.question_id = ?1 AND o.kind IN ('items', 'accept')
               AND o.id = (SELECT max(id) FROM overrides WHERE item_id = o.item_id)",
        )?
        .query_map([question_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    for (override_id, item_id, kind, applied, old, ai) in decisions {
        let new = if kind == "items" {
            score_from_items(&items, &ids_from_json(applied), scoring, max_points)
        } else {
            ai.unwrap_or(old)
        };
        if new != old {
            // The decision stands (the same items, the same accept); its score follows them.
            tx.execute(
                "UPDATE overrides SET score = ?2 WHERE id = ?1",
                params![override_id, new],
            )?;
            if !changed.contains(&item_id) {
                changed.push(item_id);
            }
        }
    }
    Ok(changed)
}

/// Stores the items the model applied to an answer (with its grade, same transaction).
pub fn insert_grade_items(
    tx: &Connection,
    item_id: i64,
    applied: &[AppliedItem],
) -> Result<(), ExamError> {
    for a in applied {
        // Records one applied item with the model's evidence.
        tx.execute(
            "INSERT OR REPLACE INTO grade_items (item_id, rubric_item_id, evidence) VALUES (?1, ?2, ?3)",
            params![item_id, a.item_id, a.evidence],
        )?;
    }
    Ok(())
}

/// The items the model applied to an answer, with its evidence.
pub fn grade_items(conn: &Connection, item_id: i64) -> Result<Vec<AppliedItem>, ExamError> {
    // The answer's applied items in the rubric's order.
    let mut stmt = conn.prepare_cached(
        "SELECT gi.rubric_item_id, gi.evidence FROM grade_items gi
         JOIN rubric_items r ON r.id = gi.rubric_item_id
         WHERE gi.item_id = ?1 ORDER BY r.position, r.id",
    )?;
    let applied = stmt
        .query_map([item_id], |r| {
            Ok(AppliedItem {
                item_id: r.get(0)?,
                evidence: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(applied)
}

/// The answer's question id, points, scoring and label.
fn answer_question(
    conn: &Connection,
    item_id: i64,
) -> Result<(i64, f64, Scoring, String), ExamError> {
    // The answer's question.
    conn.query_row(
        "SELECT q.id, q.max_points, q.scoring, q.label FROM items i JOIN questions q ON q.id = i.question_id
         WHERE i.id = ?1",
        [item_id],
        |r| Ok((r.get(0)?, r.get(1)?, Scoring::parse(&r.get::<_, String>(2)?), r.get(3)?)),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no answer number {item_id}")))
}

/// The teacher's decision by items: the answer's score is what `rubric_item_ids` are worth
/// (and follows them when an item is edited). Every id must be one of the question's items.
pub fn set_teacher_items(
    conn: &Connection,
    item_id: i64,
    rubric_item_ids: &[i64],
    note: Option<&str>,
) -> Result<Override, ExamError> {
    let (question_id, max_points, scoring, label) = answer_question(conn, item_id)?;
    let items = load_items(conn, question_id)?;
    let mut ids: Vec<i64> = Vec::new();
    for id in rubric_item_ids {
        if !items.iter().any(|i| i.id == *id) {
            return Err(ExamError::Invalid(format!(
                "{label} has no rubric item {id}"
            )));
        }
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    let score = score_from_items(&items, &ids, scoring, max_points);
    insert_decision(conn, item_id, score, note, "items", Some(ids_json(&ids)))
}

/// The teacher accepts the AI's grade as it is (it counts as reviewed, in agreement).
pub fn accept_grade(conn: &Connection, item_id: i64) -> Result<Override, ExamError> {
    answer_question(conn, item_id)?;
    // The AI's current score of the answer.
    let score: Option<f64> = conn
        .query_row(
            "SELECT score FROM grades WHERE item_id = ?1",
            [item_id],
            |r| r.get(0),
        )
        .optional()?;
    let score = score.ok_or_else(|| {
        ExamError::Invalid("this answer has no AI grade to accept yet: give it a score".into())
    })?;
    insert_decision(conn, item_id, score, None, "accept", None)
}

fn insert_decision(
    conn: &Connection,
    item_id: i64,
    score: f64,
    note: Option<&str>,
    kind: &str,
    items: Option<String>,
) -> Result<Override, ExamError> {
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let created_at = now_ms();
    // Adds the teacher's decision after the earlier ones.
    conn.execute(
        "INSERT INTO overrides (item_id, score, note, created_at, kind, items) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![item_id, score, note, created_at, kind, items],
    )?;
    Ok(Override {
        item_id,
        score,
        note,
        created_at,
    })
}

/// The teacher's latest decision on an answer: its kind and, for an item set, the items.
pub fn latest_decision(
    conn: &Connection,
    item_id: i64,
) -> Result<Option<(String, Vec<i64>)>, ExamError> {
    // The answer's newest override.
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT kind, items FROM overrides WHERE item_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([item_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map(|(kind, items)| (kind, ids_from_json(items))))
}

/// Keeps the teacher's correction of an answer's transcription (blank: back to the model's).
pub fn set_transcription(conn: &Connection, item_id: i64, text: &str) -> Result<(), ExamError> {
    answer_question(conn, item_id)?;
    if text.chars().count() > 20_000 {
        return Err(ExamError::Invalid(
            "a transcription is limited to 20000 characters".into(),
        ));
    }
    if text.trim().is_empty() {
        // Drops the correction.
        conn.execute("DELETE FROM transcript_edits WHERE item_id = ?1", [item_id])?;
    } else {
        // Writes the correction.
        conn.execute(
            "INSERT INTO transcript_edits (item_id, text, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (item_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
            params![item_id, text, now_ms()],
        )?;
    }
    Ok(())
}

/// The teacher's corrected transcription of an answer, if any.
pub fn corrected_transcription(
    conn: &Connection,
    item_id: i64,
) -> Result<Option<String>, ExamError> {
    // The answer's correction.
    Ok(conn
        .prepare_cached("SELECT text FROM transcript_edits WHERE item_id = ?1")?
        .query_row([item_id], |r| r.get(0))
        .optional()?)
}

/// A second grading of an answer, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SecondOpinion {
    pub score: f64,
    pub items: Vec<i64>,
    pub transcription: String,
    pub feedback: String,
    pub model: String,
}

/// Stores an answer's second grading (with its first, same transaction).
pub fn insert_second_opinion(
    tx: &Connection,
    item_id: i64,
    second: &SecondOpinion,
) -> Result<(), ExamError> {
    // Records the second grading.
    tx.execute(
        "INSERT OR REPLACE INTO second_opinions (item_id, score, items, transcription, feedback, model, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![item_id, second.score, ids_json(&second.items), second.transcription, second.feedback, second.model, now_ms()],
    )?;
    Ok(())
}

/// An answer's second grading, if it was graded twice.
pub fn second_opinion(conn: &Connection, item_id: i64) -> Result<Option<SecondOpinion>, ExamError> {
    // The answer's second grading.
    Ok(conn
        .prepare_cached("SELECT score, items, transcription, feedback, model FROM second_opinions WHERE item_id = ?1")?
        .query_row([item_id], |r| {
            Ok(SecondOpinion {
                score: r.get(0)?,
                items: ids_from_json(r.get(1)?),
                transcription: r.get(2)?,
                feedback: r.get(3)?,
                model: r.get(4)?,
            })
        })
        .optional()?)
}

/// An exam's review routing settings.
pub fn review_policy(conn: &Connection, exam_id: i64) -> Result<ReviewPolicy, ExamError> {
    require_exam(conn, exam_id)?;
    // The exam's routing columns.
    Ok(conn.query_row(
        "SELECT auto_accept, confidence_threshold, agreement_target, double_grading FROM exams WHERE id = ?1",
        [exam_id],
        |r| {
            Ok(ReviewPolicy {
                auto_accept: r.get(0)?,
                confidence_threshold: r.get(1)?,
                agreement_target: r.get(2)?,
                double_grading: r.get(3)?,
            })
        },
    )?)
}

/// Changes an exam's routing (shares within 0..1).
pub fn set_review_policy(
    conn: &Connection,
    exam_id: i64,
    policy: &ReviewPolicy,
) -> Result<(), ExamError> {
    require_exam(conn, exam_id)?;
    for (name, value) in [
        ("confidence threshold", policy.confidence_threshold),
        ("agreement target", policy.agreement_target),
    ] {
        if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
            return Err(ExamError::Invalid(format!(
                "the {name} must be between 0 and 1 (you entered {value})"
            )));
        }
    }
    // Writes the exam's routing.
    conn.execute(
        "UPDATE exams SET auto_accept = ?2, confidence_threshold = ?3, agreement_target = ?4, double_grading = ?5
         WHERE id = ?1",
        params![exam_id, policy.auto_accept, policy.confidence_threshold, policy.agreement_target, policy.double_grading],
    )?;
    Ok(())
}

/// Whether the answer's exam grades every answer twice.
pub fn double_grading_for_item(conn: &Connection, item_id: i64) -> Result<bool, ExamError> {
    // The answer's exam's setting.
    Ok(conn
        .prepare_cached(
            "SELECT e.double_grading FROM items i JOIN submissions s ON s.id = i.submission_id
             JOIN exams e ON e.id = s.exam_id WHERE i.id = ?1",
        )?
        .query_row([item_id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// The AI against the teacher on a question so far: the current answers the teacher
/// accepted or overrode, and on how many the AI's score was theirs.
pub fn measured_agreement(
    conn: &Connection,
    question_id: i64,
) -> Result<MeasuredAgreement, ExamError> {
    // Pairs of the AI's score and the teacher's latest, over the question's current answers.
    let (reviewed, exact): (u32, u32) = conn.query_row(
        "SELECT count(*), coalesce(sum(abs(g.score - o.score) < 1e-9), 0)
         FROM items i JOIN grades g ON g.item_id = i.id
         JOIN overrides o ON o.id = (SELECT max(id) FROM overrides WHERE item_id = i.id)
         WHERE i.question_id = ?1 AND i.superseded_at IS NULL",
        [question_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(MeasuredAgreement { reviewed, exact })
}

/// What grading a question again would involve: how many current answers, and what their
/// grading cost so far (the measured price of one, times the answers).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct RegradeOffer {
    pub question_label: String,
    /// Current answers that would be graded again.
    pub answers: u32,
    /// What they cost when graded before, in dollars (None when no cost is known).
    pub estimated_usd: Option<f64>,
    /// Each answer is graded twice on this exam.
    pub double_grading: bool,
}

/// The offer to grade a question's answers again after its rubric grew.
pub fn regrade_offer(conn: &Connection, question_id: i64) -> Result<RegradeOffer, ExamError> {
    // The question's current answers, the mean cost of their grades, and the exam's setting.
    let (label, answers, mean_cost, double): (String, u32, Option<f64>, bool) = conn.query_row(
        "SELECT q.label,
                (SELECT count(*) FROM items i WHERE i.question_id = q.id AND i.superseded_at IS NULL),
                (SELECT avg(g.cost_usd) FROM grades g JOIN items i ON i.id = g.item_id WHERE i.question_id = q.id),
                e.double_grading
         FROM questions q JOIN exams e ON e.id = q.exam_id WHERE q.id = ?1",
        [question_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    Ok(RegradeOffer {
        question_label: label,
        answers,
        // A grade's cost already includes a second grading when there was one.
        estimated_usd: mean_cost.map(|c| c * f64::from(answers)),
        double_grading: double,
    })
}

/// Takes the AI's grades off a question's current answers so they can be graded again (the
/// teacher's decisions stay, and still count). Answers whose grading is under way are left
/// to finish. Returns the answers to queue.
pub fn clear_grades_for_regrade(tx: &Connection, question_id: i64) -> Result<Vec<i64>, ExamError> {
    // The question's current answers with no live grading job.
    let items: Vec<i64> = tx
        .prepare(
            "SELECT i.id FROM items i WHERE i.question_id = ?1 AND i.superseded_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.item_id = i.id AND j.kind = 'GRADE_ITEM'
                               AND j.state IN ('queued', 'running'))
             ORDER BY i.id",
        )?
        .query_map([question_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for item_id in &items {
        // Removes the answer's AI grade, its items and its second grading.
        tx.execute("DELETE FROM grade_items WHERE item_id = ?1", [item_id])?;
        tx.execute("DELETE FROM second_opinions WHERE item_id = ?1", [item_id])?;
        tx.execute("DELETE FROM grades WHERE item_id = ?1", [item_id])?;
    }
    Ok(items)
}
