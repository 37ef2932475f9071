//! The cost of a batch before it is sent, and what a graded batch actually cost, so the
//! teacher can decide before spending and check afterwards.

use rusqlite::Connection;
use serde::Serialize;
use ts_rs::TS;

use super::image_prep;
use super::pricing::{self, AnswerEstimate};
use crate::exams::Question;

/// One answer waiting to be graded, as the estimate needs it.
struct Pending {
    crop_path: String,
    question: Question,
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

fn pending(conn: &Connection, exam_id: Option<i64>) -> rusqlite::Result<Vec<Pending>> {
    let mut stmt = conn.prepare(
        "SELECT i.crop_path, q.id, q.label, q.prompt, q.max_points, q.rubric, q.reference_answer
         FROM jobs j JOIN items i ON i.id = j.item_id JOIN questions q ON q.id = i.question_id
         WHERE j.kind = 'GRADE_ITEM' AND j.state IN ('queued', 'running')
           AND (?1 IS NULL OR q.exam_id = ?1)
         ORDER BY j.id",
    )?;
    let rows = stmt.query_map([exam_id], |r| {
        Ok(Pending {
            crop_path: r.get(0)?,
            question: Question {
                id: r.get(1)?,
                label: r.get(2)?,
                prompt: r.get(3)?,
                max_points: r.get(4)?,
                rubric: r.get(5)?,
                reference_answer: r.get(6)?,
            },
        })
    })?;
    rows.collect()
}

/// Estimates every answer still to grade (of one exam, or all). Blocking: decodes each crop
/// the way the worker will, so the image tokens are the ones that will be billed.
pub fn estimate_pending(
    conn: &Connection,
    exam_id: Option<i64>,
    model: &str,
    media_resolution: &str,
    thinking_budget: i64,
) -> rusqlite::Result<BatchEstimate> {
    let price = pricing::price_for(conn, model)?;
    let mut total = BatchEstimate {
        model: model.to_string(),
        ..Default::default()
    };
    let mut sum = AnswerEstimate::default();
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
        sum.text_tokens += one.text_tokens;
        sum.image_tokens += one.image_tokens;
        sum.output_tokens += one.output_tokens;
        sum.thinking_tokens += one.thinking_tokens;
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
            thinking_budget as u64 * total.answers
        } else {
            sum.thinking_tokens * 2
        };
        total.max_cost_usd = Some(pricing::cost(
            &price,
            sum.prompt_tokens(),
            sum.output_tokens + max_thinking,
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
