//! The cost of a batch before it is sent, and what a graded batch actually cost, so the
//! teacher can decide before spending and check afterwards.

use rusqlite::Connection;
use serde::Serialize;
use ts_rs::TS;

use super::image_prep;
use super::pricing::{self, AnswerEstimate};
use crate::exams::{self, ExamError, Question};

/// One answer waiting to be graded, as the estimate needs it.
struct Pending {
    crop_path: String,
    question: Question,
    /// The exam grades each answer twice (a second opinion), so it is paid for twice.
    twice: bool,
}

/// The totals for a batch.
#[derive(Debug, Clone, Default, Serialize, PartialEq, TS)]
pub struct BatchEstimate {
    pub model: String,
    pub answers: u64,
    /// Answers whose crop could not be read (left out of the totals).
    pub unreadable: u64,
    pub text_tokens: u64,
    pub image_tokens: u64,
    /// What `promptTokenCount` should add up to.
    pub prompt_tokens: u64,
    pub expected_output_tokens: u64,
    pub expected_thinking_tokens: u64,
    /// Image tokens had the crops been sent as they are on disk.
    pub image_tokens_unprepared: u64,
    pub bytes_on_disk: u64,
    pub bytes_sent: u64,
    /// Dollars, or None when the model has no price.
    pub expected_cost_usd: Option<f64>,
    /// Dollars if every answer thinks up to its whole budget.
    pub max_cost_usd: Option<f64>,
    /// Answers graded twice because their exam asks for a second opinion (their tokens are
    /// counted twice in the totals above).
    pub double_graded: u64,
    /// The part of the expected cost the second opinions add, or None without a price.
    pub double_grading_cost_usd: Option<f64>,
}

/// What stored grades report.
#[derive(Debug, Clone, Default, Serialize, PartialEq, TS)]
pub struct BatchActual {
    pub graded: u64,
    pub prompt_tokens: i64,
    pub output_tokens: i64,
    pub thoughts_tokens: i64,
    pub cost_usd: Option<f64>,
}

fn pending(conn: &Connection, exam_id: Option<i64>) -> Result<Vec<Pending>, ExamError> {
    let mut stmt = conn.prepare(
        "SELECT i.id, e.double_grading
         FROM jobs j JOIN items i ON i.id = j.item_id JOIN questions q ON q.id = i.question_id
         JOIN exams e ON e.id = q.exam_id
         WHERE j.kind = 'GRADE_ITEM' AND j.state IN ('queued', 'running')
           AND (?1 IS NULL OR q.exam_id = ?1)
         ORDER BY j.id",
    )?;
    let rows = stmt
        .query_map([exam_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(item_id, twice)| {
            // The question as the grader will see it: its rubric items are in the prompt.
            let (crop_path, question) = exams::grading_context(conn, item_id)?;
            Ok(Pending {
                crop_path,
                question,
                twice,
            })
        })
        .collect()
}

/// Estimates every answer still to grade (of one exam, or all). Blocking: decodes each crop
/// the way the worker will, so the image tokens are the ones that will be billed.
pub fn estimate_pending(
    conn: &Connection,
    exam_id: Option<i64>,
    model: &str,
    media_resolution: &str,
    thinking_budget: i64,
) -> Result<BatchEstimate, ExamError> {
    let price = pricing::price_for(conn, model)?;
    let mut total = BatchEstimate {
        model: model.to_string(),
        ..Default::default()
    };
    let mut sum = AnswerEstimate::default();
    // What the second opinions add, priced on their own so the teacher sees the extra cost.
    let mut second = AnswerEstimate::default();
    let mut calls = 0u64;
    for answer in pending(conn, exam_id)? {
        let Ok(bytes) = std::fs::read(&answer.crop_path) else {
            total.unreadable += 1;
            continue;
        };
        let Ok(prepared) = image_prep::prepare(&bytes) else {
            total.unreadable += 1;
            continue;
        };
        let one = pricing::estimate_answer(
            model,
            &answer.question,
            prepared.width,
            prepared.height,
            media_resolution,
            thinking_budget,
        );
        total.answers += 1;
        total.bytes_on_disk += bytes.len() as u64;
        total.bytes_sent += prepared.bytes.len() as u64;
        total.image_tokens_unprepared += pricing::image_tokens(
            model,
            prepared.original_width,
            prepared.original_height,
            media_resolution,
        );
        let copies = if answer.twice { 2 } else { 1 };
        calls += copies;
        sum.text_tokens += one.text_tokens * copies;
        sum.image_tokens += one.image_tokens * copies;
        sum.output_tokens += one.output_tokens * copies;
        sum.thinking_tokens += one.thinking_tokens * copies;
        if answer.twice {
            total.double_graded += 1;
            second.text_tokens += one.text_tokens;
            second.image_tokens += one.image_tokens;
            second.output_tokens += one.output_tokens;
            second.thinking_tokens += one.thinking_tokens;
        }
    }
    total.text_tokens = sum.text_tokens;
    total.image_tokens = sum.image_tokens;
    total.prompt_tokens = sum.prompt_tokens();
    total.expected_output_tokens = sum.output_tokens;
    total.expected_thinking_tokens = sum.thinking_tokens;
    if let Some(price) = price {
        total.expected_cost_usd = Some(pricing::cost(
            &price,
            sum.prompt_tokens(),
            sum.output_tokens + sum.thinking_tokens,
        ));
        let max_thinking = if thinking_budget > 0 {
            thinking_budget as u64 * calls
        } else {
            sum.thinking_tokens * 2
        };
        total.max_cost_usd = Some(pricing::cost(
            &price,
            sum.prompt_tokens(),
            sum.output_tokens + max_thinking,
        ));
        total.double_grading_cost_usd = Some(pricing::cost(
            &price,
            second.prompt_tokens(),
            second.output_tokens + second.thinking_tokens,
        ));
    }
    Ok(total)
}

/// Sums the tokens and cost of the grades stored for an exam (or all).
pub fn actual(conn: &Connection, exam_id: Option<i64>) -> rusqlite::Result<BatchActual> {
    conn.query_row(
        "SELECT count(*), coalesce(sum(g.prompt_tokens), 0), coalesce(sum(g.output_tokens), 0),
                coalesce(sum(g.thoughts_tokens), 0), sum(g.cost_usd)
         FROM grades g JOIN items i ON i.id = g.item_id JOIN questions q ON q.id = i.question_id
         WHERE ?1 IS NULL OR q.exam_id = ?1",
        [exam_id],
        |r| {
            Ok(BatchActual {
                graded: r.get::<_, i64>(0)? as u64,
                prompt_tokens: r.get(1)?,
                output_tokens: r.get(2)?,
                thoughts_tokens: r.get(3)?,
                cost_usd: r.get(4)?,
            })
        },
    )
}
