//! A finished batch's results, stored. Each result is matched to its answer **by key**,
//! never by position — with one documented exception: Gemini documents inline responses
//! as returned in the order of the requests, and they may come back without `metadata`.
//! Only when *every* inline response lacks its key and there are exactly as many responses
//! as requests are they matched by position (and the batch is marked so). A batch where
//! some responses have keys and some do not matches the keyed ones and sends the others
//! back to waiting: a result that cannot be placed for certain is never stored.
//!
//! Each matched result goes through the online grade's parsing and validation
//! (`gemini::parse_response`) and is written in a savepoint that first claims the
//! request's outcome (once only), then completes the job fenced on its batch and inserts
//! the grade — so results processed twice (a restart, a second process) are stored once.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::Value;

use super::BATCH_PRICE_FACTOR;
use crate::exams::{self, NewGrade, Question};
use crate::grading::batch_api::RequestResult;
use crate::grading::gemini::{parse_response, Parsed};
use crate::grading::GradeError;
use crate::queue::batches::{self, Outcome, RequestRow};
use crate::store::StoreError;

/// The results paired with their requests.
#[derive(Debug, Default)]
pub struct Matched {
    /// (request, its result) for each placed result.
    pub pairs: Vec<(RequestRow, Result<Value, GradeError>)>,
    /// Matched by position (all inline responses came back without keys).
    pub by_position: bool,
    /// Results that named no request of this batch, or came back without a key.
    pub unplaced: usize,
}

/// Pairs results with requests by key (see the module's rule for keyless inline results).
pub fn match_results(
    requests: &[RequestRow],
    results: Vec<RequestResult>,
    inline: bool,
) -> Matched {
    let mut matched = Matched::default();
    if inline
        && !results.is_empty()
        && results.len() == requests.len()
        && results.iter().all(|r| r.key.is_none())
    {
        matched.by_position = true;
        matched.pairs = requests
            .iter()
            .cloned()
            .zip(results.into_iter().map(|r| r.response))
            .collect();
        return matched;
    }
    let mut by_key: HashMap<&str, &RequestRow> =
        requests.iter().map(|r| (r.key.as_str(), r)).collect();
    for result in results {
        match result.key.as_deref().and_then(|k| by_key.remove(k)) {
            Some(request) => matched.pairs.push((request.clone(), result.response)),
            None => matched.unplaced += 1,
        }
    }
    matched
}

/// What one result means for its answer.
enum Verdict {
    Grade(Box<NewGrade>),
    Waiting(String),
    Refused(String),
}

fn verdict(response: Result<Value, GradeError>, question: &Question, model: &str) -> Verdict {
    let parsed = response.and_then(|body| parse_response(&body.to_string(), question, model));
    match parsed {
        Ok(Parsed::Grade(grade)) => {
            Verdict::Grade(Box::new(grade.into_new_grade(question.max_points, None)))
        }
        Ok(Parsed::MaxTokens(_)) => Verdict::Waiting(
            "Gemini ran out of output tokens in the batch; it waits to be graded again".into(),
        ),
        Err(GradeError::Refused { message }) | Err(GradeError::Permanent { message }) => {
            Verdict::Refused(message)
        }
        Err(other) => Verdict::Waiting(format!("in the batch: {other}")),
    }
}

/// Writes some results of a batch in one transaction fenced on the batch's lease. Returns
/// the items whose state changed, or None when the lease was lost (nothing written).
pub fn store_results(
    conn: &mut Connection,
    batch_id: i64,
    owner: &str,
    lease_ms: i64,
    model: &str,
    pairs: Vec<(RequestRow, Result<Value, GradeError>)>,
    now: i64,
) -> Result<Option<Vec<i64>>, StoreError> {
    let mut tx = conn.transaction()?;
    if !batches::renew(&tx, batch_id, owner, now, lease_ms)? {
        return Ok(None);
    }
    let mut changed = Vec::new();
    for (request, response) in pairs {
        if request.outcome.is_some() {
            continue;
        }
        let verdict = match exams::grading_context(&tx, request.item_id) {
            Ok((_, question)) => verdict(response, &question, model),
            Err(e) => Verdict::Waiting(format!("the answer could not be read back: {e}")),
        };
        let (outcome, reason) = match &verdict {
            Verdict::Grade(_) => (Outcome::Graded, None),
            Verdict::Waiting(why) => (Outcome::Waiting, Some(why.as_str())),
            Verdict::Refused(why) => (Outcome::Refused, Some(why.as_str())),
        };
        let sp = tx.savepoint()?;
        if !batches::take_result(&sp, batch_id, &request.key, outcome, reason)? {
            continue; // stored before (by this process or another)
        }
        let live = match &verdict {
            Verdict::Grade(grade) => {
                batches::complete_job(&sp, batch_id, request.job_id, now)?
                    && exams::insert_batch_grade(
                        &sp,
                        request.item_id,
                        request.job_id,
                        grade,
                        BATCH_PRICE_FACTOR,
                    )
                    .is_ok()
            }
            Verdict::Waiting(why) => {
                batches::back_to_waiting(&sp, batch_id, request.job_id, why, now)?
            }
            Verdict::Refused(why) => batches::refuse_job(&sp, batch_id, request.job_id, why, now)?,
        };
        if live {
            sp.commit()?;
        } else {
            // The answer changed meanwhile: undo the grade's half-writes, keep "skipped".
            drop(sp);
            let sp = tx.savepoint()?;
            batches::take_result(&sp, batch_id, &request.key, Outcome::Skipped, None)?;
            sp.commit()?;
        }
        changed.push(request.item_id);
    }
    tx.commit()?;
    Ok(Some(changed))
}

/// Sends every request of the batch still without an outcome back to waiting with
/// `reason` (a batch that failed, expired or was cancelled; results that never came).
pub fn return_the_rest(
    conn: &mut Connection,
    batch_id: i64,
    owner: &str,
    lease_ms: i64,
    reason: &str,
    now: i64,
) -> Result<Option<Vec<i64>>, StoreError> {
    let tx = conn.transaction()?;
    if !batches::renew(&tx, batch_id, owner, now, lease_ms)? {
        return Ok(None);
    }
    let mut changed = Vec::new();
    for request in batches::requests(&tx, batch_id)? {
        if request.outcome.is_some() {
            continue;
        }
        if batches::take_result(&tx, batch_id, &request.key, Outcome::Waiting, Some(reason))? {
            if !batches::back_to_waiting(&tx, batch_id, request.job_id, reason, now)? {
                batches::mark_skipped(&tx, batch_id, &request.key)?;
            }
            changed.push(request.item_id);
        }
    }
    tx.commit()?;
    Ok(Some(changed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(n: usize) -> Vec<RequestRow> {
        (0..n)
            .map(|i| RequestRow {
                key: format!("k{i}"),
                job_id: i as i64,
                item_id: 100 + i as i64,
                position: i as i64,
                outcome: None,
            })
            .collect()
    }

    fn result(key: Option<&str>, tag: i64) -> RequestResult {
        RequestResult {
            key: key.map(str::to_string),
            response: Ok(json!({"tag": tag})),
        }
    }

    #[test]
    fn results_are_placed_by_key_whatever_their_order() {
        let m = match_results(
            &rows(3),
            vec![
                result(Some("k2"), 2),
                result(Some("k0"), 0),
                result(Some("k1"), 1),
            ],
            true,
        );
        assert!(!m.by_position);
        for (row, response) in &m.pairs {
            assert_eq!(response.as_ref().unwrap()["tag"], row.job_id);
        }
        assert_eq!(m.pairs.len(), 3);
    }

    #[test]
    fn keyless_results_are_placed_by_position_only_when_all_are_keyless_inline_and_counted() {
        let all = vec![result(None, 0), result(None, 1)];
        let m = match_results(&rows(2), all.clone(), true);
        assert!(m.by_position);
        assert_eq!(m.pairs[1].0.key, "k1");
        // A file batch, a count that differs, or a mix: never by position.
        assert!(match_results(&rows(2), all.clone(), false).pairs.is_empty());
        assert!(match_results(&rows(3), all, true).pairs.is_empty());
        let mixed = match_results(&rows(2), vec![result(Some("k1"), 1), result(None, 0)], true);
        assert_eq!(mixed.pairs.len(), 1);
        assert_eq!(mixed.pairs[0].0.key, "k1");
        assert_eq!(mixed.unplaced, 1);
        // A key of no request of this batch, or a duplicate, is not placed.
        let strange = match_results(
            &rows(1),
            vec![
                result(Some("x"), 9),
                result(Some("k0"), 0),
                result(Some("k0"), 5),
            ],
            true,
        );
        assert_eq!(strange.pairs.len(), 1);
        assert_eq!(strange.unplaced, 2);
    }
}
