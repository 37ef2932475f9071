//! The durable side of Gemini Batch Mode: an exam's grading mode, the answers waiting for
//! a batch, the batches themselves (name, answers by key, state, counts, times, costs) and
//! the lease that lets one process at a time submit, poll or write a batch's results.
//!
//! A grading job of an exam graded "later" is an ordinary `queued` job on the `batch`
//! channel: no online worker claims it ([`super::claim`] takes `online` jobs only), and
//! every rule of the queue still holds (one live job per answer, cancel, re-crop). Its
//! `batch_id` says which batch it was sent in; a result is written only while the job is
//! still queued in that very batch, and each request's `outcome` is set once, so a result
//! processed twice (a restart, a second process) is stored once.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::StoreError;

/// How an exam's new answers are graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GradingMode {
    /// By the online workers, as soon as they are cropped.
    Now,
    /// In the next batch the teacher sends, at half the price, within 24 hours.
    Later,
}

impl GradingMode {
    /// The word stored in `exams.grading_mode` and typed on the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            GradingMode::Now => "now",
            GradingMode::Later => "later",
        }
    }

    /// Reads `now` or `later`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "now" => Some(GradingMode::Now),
            "later" => Some(GradingMode::Later),
            _ => None,
        }
    }
}

/// An exam's mode, or None when there is no such exam.
pub fn mode(conn: &Connection, exam_id: i64) -> Result<Option<GradingMode>, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT grading_mode FROM exams WHERE id = ?1")?
        .query_row([exam_id], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| GradingMode::parse(&t)))
}

/// Sets an exam's mode and moves its answers that no one is grading yet: to `later`, the
/// queued online jobs wait for the batch; to `now`, the answers waiting for a batch (not
/// those already sent in one) go to the online workers. Returns how many moved, or None
/// when there is no such exam.
pub fn set_mode(
    tx: &Transaction,
    exam_id: i64,
    mode: GradingMode,
    now: i64,
) -> Result<Option<usize>, StoreError> {
    let found = tx
        .prepare_cached("UPDATE exams SET grading_mode = ?2 WHERE id = ?1")?
        .execute(params![exam_id, mode.as_str()])?;
    if found == 0 {
        return Ok(None);
    }
    let moved = match mode {
        GradingMode::Later => tx
            .prepare_cached(
                "UPDATE jobs SET channel = 'batch', updated_at = ?2
                 WHERE exam_id = ?1 AND kind = 'GRADE_ITEM' AND state = 'queued' AND channel = 'online'",
            )?
            .execute(params![exam_id, now])?,
        GradingMode::Now => tx
            .prepare_cached(
                "UPDATE jobs SET channel = 'online', run_at = min(run_at, ?2), updated_at = ?2
                 WHERE exam_id = ?1 AND state = 'queued' AND channel = 'batch' AND batch_id IS NULL",
            )?
            .execute(params![exam_id, now])?,
    };
    Ok(Some(moved))
}

/// An answer waiting for the next batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub job_id: i64,
    pub item_id: i64,
}

/// The answers of an exam waiting for a batch (current boxes only), oldest first.
pub fn waiting(conn: &Connection, exam_id: i64) -> Result<Vec<Waiting>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT j.id, j.item_id FROM jobs j JOIN items i ON i.id = j.item_id
             WHERE j.exam_id = ?1 AND j.kind = 'GRADE_ITEM' AND j.state = 'queued'
               AND j.channel = 'batch' AND j.batch_id IS NULL AND i.superseded_at IS NULL
             ORDER BY j.id",
        )?
        .query_map([exam_id], |r| {
            Ok(Waiting {
                job_id: r.get(0)?,
                item_id: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// How many answers of each exam wait for a batch, and how many are in one.
pub fn waiting_counts(conn: &Connection) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT e.id, e.grading_mode,
                    (SELECT count(*) FROM jobs j WHERE j.exam_id = e.id AND j.state = 'queued'
                       AND j.channel = 'batch' AND j.batch_id IS NULL),
                    (SELECT count(*) FROM jobs j WHERE j.exam_id = e.id AND j.state = 'queued'
                       AND j.channel = 'batch' AND j.batch_id IS NOT NULL)
             FROM exams e ORDER BY e.id",
        )?
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(id, _, waiting, sent)| (id, waiting, sent))
        .collect())
}

/// One request of a new batch: the key its request carries and the job it grades.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub key: String,
    pub job_id: i64,
    pub item_id: i64,
}

/// A batch about to be submitted.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub exam_id: i64,
    pub display_name: String,
    pub model: String,
    pub input: &'static str,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_online: Option<f64>,
    pub cost_estimated: Option<f64>,
}

/// Reserves the answers for a new batch, in state `submitting` with `owner`'s lease: each
/// job must still be waiting (queued, batch channel, in no batch), else nothing is
/// reserved and the answer is Ok(None) — another process took them first.
pub fn reserve(
    tx: &Transaction,
    batch: &NewBatch,
    requests: &[NewRequest],
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<i64>, StoreError> {
    tx.prepare_cached(
        "INSERT INTO batches (exam_id, display_name, model, input, state, answers, input_tokens,
                              output_tokens, cost_online, cost_estimated, created_at, updated_at,
                              next_poll_at, poll_interval_ms, lease_owner, lease_expires_at)
         VALUES (?1, ?2, ?3, ?4, 'submitting', ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?10, 0, ?11, ?10 + ?12)",
    )?
    .execute(params![
        batch.exam_id,
        batch.display_name,
        batch.model,
        batch.input,
        requests.len() as i64,
        batch.input_tokens,
        batch.output_tokens,
        batch.cost_online,
        batch.cost_estimated,
        now,
        owner,
        lease_ms
    ])?;
    let batch_id = tx.last_insert_rowid();
    let mut take = tx.prepare_cached(
        "UPDATE jobs SET batch_id = ?2, updated_at = ?3
         WHERE id = ?1 AND state = 'queued' AND channel = 'batch' AND batch_id IS NULL",
    )?;
    let mut add = tx.prepare_cached(
        "INSERT INTO batch_requests (batch_id, key, job_id, item_id, position) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (position, request) in requests.iter().enumerate() {
        if take.execute(params![request.job_id, batch_id, now])? != 1 {
            return Ok(None);
        }
        add.execute(params![
            batch_id,
            request.key,
            request.job_id,
            request.item_id,
            position as i64
        ])?;
    }
    Ok(Some(batch_id))
}

/// A batch as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRow {
    pub id: i64,
    pub exam_id: i64,
    pub name: Option<String>,
    pub display_name: String,
    pub model: String,
    pub input: String,
    pub state: String,
    pub answers: i64,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub poll_interval_ms: i64,
}

const BATCH_COLUMNS: &str = "id, exam_id, name, display_name, model, input, state, answers, created_at, ended_at, poll_interval_ms";

fn batch_from_row(r: &Row) -> rusqlite::Result<BatchRow> {
    Ok(BatchRow {
        id: r.get(0)?,
        exam_id: r.get(1)?,
        name: r.get(2)?,
        display_name: r.get(3)?,
        model: r.get(4)?,
        input: r.get(5)?,
        state: r.get(6)?,
        answers: r.get(7)?,
        created_at: r.get(8)?,
        ended_at: r.get(9)?,
        poll_interval_ms: r.get(10)?,
    })
}

/// Stores the name Gemini gave the batch and its first state, and lets go of the lease;
/// the first poll is due after `first_poll_ms`. False when the lease was lost.
#[allow(clippy::too_many_arguments)]
pub fn submitted(
    conn: &Connection,
    batch_id: i64,
    owner: &str,
    name: &str,
    input_file: Option<&str>,
    state: &str,
    now: i64,
    first_poll_ms: i64,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE batches SET name = ?3, input_file = ?4, state = ?5, updated_at = ?6,
                    input = CASE WHEN ?4 IS NULL THEN input ELSE 'file' END,
                    next_poll_at = ?6 + ?7, poll_interval_ms = ?7, lease_owner = NULL, lease_expires_at = NULL
             WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute(params![
            batch_id,
            owner,
            name,
            input_file,
            state,
            now,
            first_poll_ms
        ])?;
    Ok(n == 1)
}

/// Takes the lease of the batch most overdue for a poll (or whose results are still to be
/// written): one whose lease is free or ran out (its holder died). Batches still
/// `submitting` are taken only once their sender's lease ran out, to find out whether
/// Gemini got them.
pub fn claim_due(
    conn: &Connection,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<BatchRow>, StoreError> {
    let sql = format!(
        "UPDATE batches SET lease_owner = ?1, lease_expires_at = ?2 + ?3
         WHERE id = (SELECT id FROM batches WHERE results_stored_at IS NULL AND next_poll_at <= ?2
                       AND (lease_owner IS NULL OR lease_expires_at < ?2)
                     ORDER BY next_poll_at, id LIMIT 1)
         RETURNING {BATCH_COLUMNS}"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![owner, now, lease_ms], batch_from_row)
        .optional()?)
}

/// Whether some batch could be claimed now: a read, so an idle poller takes no write lock.
pub fn any_due(conn: &Connection, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM batches WHERE results_stored_at IS NULL AND next_poll_at <= ?1
                              AND (lease_owner IS NULL OR lease_expires_at < ?1))",
        )?
        .query_row([now], |r| r.get(0))?)
}

/// When the next batch poll is due (None: no batch is open).
pub fn next_poll_at(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT min(max(next_poll_at, coalesce(lease_expires_at, 0))) FROM batches WHERE results_stored_at IS NULL",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Extends a held batch lease; false when it was lost. Inside a transaction it also fences
/// that transaction's writes on the lease.
pub fn renew(
    conn: &Connection,
    batch_id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE batches SET lease_expires_at = ?3 + ?4 WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute(params![batch_id, owner, now, lease_ms])?
        == 1)
}

/// Records what a poll saw (Gemini's state and counts) and when to look again, and lets
/// go of the lease.
#[allow(clippy::too_many_arguments)]
pub fn record_poll(
    conn: &Connection,
    batch_id: i64,
    owner: &str,
    state: &str,
    counts: Option<(i64, i64)>,
    next_poll_at: i64,
    interval_ms: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let (succeeded, failed) = counts.unzip();
    Ok(conn
        .prepare_cached(
            "UPDATE batches SET state = ?3, succeeded = coalesce(?4, succeeded), failed = coalesce(?5, failed),
                    next_poll_at = ?6, poll_interval_ms = ?7, updated_at = ?8,
                    lease_owner = NULL, lease_expires_at = NULL
             WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute(params![
            batch_id,
            owner,
            state,
            succeeded,
            failed,
            next_poll_at,
            interval_ms,
            now
        ])?
        == 1)
}

/// Marks a batch ended (its state, why, when), keeping the lease: its results are next.
pub fn ended(
    conn: &Connection,
    batch_id: i64,
    owner: &str,
    state: &str,
    error: Option<&str>,
    matched_by_position: bool,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE batches SET state = ?3, error = coalesce(?4, error), ended_at = coalesce(ended_at, ?5),
                    matched_by_position = ?6, updated_at = ?5
             WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute(params![
            batch_id,
            owner,
            state,
            error,
            now,
            matched_by_position
        ])?
        == 1)
}

/// A request of a batch with what became of it (None: not stored yet).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub key: String,
    pub job_id: i64,
    pub item_id: i64,
    pub position: i64,
    pub outcome: Option<String>,
}

/// Every request of a batch, in the order they were sent.
pub fn requests(conn: &Connection, batch_id: i64) -> Result<Vec<RequestRow>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT key, job_id, item_id, position, outcome FROM batch_requests WHERE batch_id = ?1 ORDER BY position",
        )?
        .query_map([batch_id], |r| {
            Ok(RequestRow {
                key: r.get(0)?,
                job_id: r.get(1)?,
                item_id: r.get(2)?,
                position: r.get(3)?,
                outcome: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// What became of one request's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its grade was stored.
    Graded,
    /// Back to waiting (next batch or online, as the exam's mode says), with the reason.
    Waiting,
    /// Gemini will not grade it: the job is dead, with the reason, for the teacher.
    Refused,
    /// The answer changed meanwhile (re-cropped, deleted, cancelled): nothing to store.
    Skipped,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Graded => "graded",
            Outcome::Waiting => "waiting",
            Outcome::Refused => "refused",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Claims one request's result for this transaction: true exactly once per request, so
/// the grade (or the way back) that follows in the same transaction is written once.
pub fn take_result(
    tx: &Connection,
    batch_id: i64,
    key: &str,
    outcome: Outcome,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "UPDATE batch_requests SET outcome = ?3, reason = ?4
             WHERE batch_id = ?1 AND key = ?2 AND outcome IS NULL",
        )?
        .execute(params![batch_id, key, outcome.as_str(), reason])?
        == 1)
}

/// Marks a job of this batch succeeded (its grade goes in the same transaction); false
/// when the job is no longer waiting in this batch (cancelled, re-cropped).
pub fn complete_job(
    tx: &Connection,
    batch_id: i64,
    job_id: i64,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "UPDATE jobs SET state = 'succeeded', last_error = NULL, updated_at = ?3, finished_at = ?3
             WHERE id = ?1 AND state = 'queued' AND channel = 'batch' AND batch_id = ?2",
        )?
        .execute(params![job_id, batch_id, now])?
        == 1)
}

/// Puts a job of this batch back to waiting with the reason: for the next batch while its
/// exam is graded later, else for the online workers.
pub fn back_to_waiting(
    tx: &Connection,
    batch_id: i64,
    job_id: i64,
    reason: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "UPDATE jobs SET batch_id = NULL, last_error = ?3, updated_at = ?4, run_at = ?4,
                    channel = CASE WHEN (SELECT grading_mode FROM exams WHERE id = jobs.exam_id) = 'later'
                                   THEN 'batch' ELSE 'online' END
             WHERE id = ?1 AND state = 'queued' AND batch_id = ?2",
        )?
        .execute(params![job_id, batch_id, reason, now])?
        == 1)
}

/// Gives a job of this batch up (Gemini refused the answer), with the reason the teacher
/// reads; Retry puts it back like any failed job.
pub fn refuse_job(
    tx: &Connection,
    batch_id: i64,
    job_id: i64,
    reason: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "UPDATE jobs SET state = 'dead', last_error = ?3, updated_at = ?4, finished_at = ?4
             WHERE id = ?1 AND state = 'queued' AND batch_id = ?2",
        )?
        .execute(params![job_id, batch_id, reason, now])?
        == 1)
}

/// Closes a batch whose every request has its outcome: the counts come from the outcomes,
/// the lease is let go, and no process polls it again.
pub fn finish(conn: &Connection, batch_id: i64, owner: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE batches SET results_stored_at = ?3, updated_at = ?3, ended_at = coalesce(ended_at, ?3),
                    succeeded = (SELECT count(*) FROM batch_requests WHERE batch_id = ?1 AND outcome = 'graded'),
                    failed = (SELECT count(*) FROM batch_requests WHERE batch_id = ?1 AND outcome IN ('waiting', 'refused')),
                    lease_owner = NULL, lease_expires_at = NULL
             WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute(params![batch_id, owner, now])?
        == 1)
}

/// Records that a request's result was taken but its answer had changed (re-cropped,
/// deleted, cancelled): nothing of it is stored.
pub fn mark_skipped(tx: &Connection, batch_id: i64, key: &str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE batch_requests SET outcome = 'skipped' WHERE batch_id = ?1 AND key = ?2",
    )?
    .execute(params![batch_id, key])?;
    Ok(())
}

/// Marks a batch that never reached Gemini as abandoned: its answers wait again.
pub fn abandon(tx: &Transaction, batch_id: i64, reason: &str, now: i64) -> Result<(), StoreError> {
    let keys: Vec<(String, i64)> = requests(tx, batch_id)?
        .into_iter()
        .filter(|r| r.outcome.is_none())
        .map(|r| (r.key, r.job_id))
        .collect();
    for (key, job_id) in keys {
        if take_result(tx, batch_id, &key, Outcome::Waiting, Some(reason))? {
            back_to_waiting(tx, batch_id, job_id, reason, now)?;
        }
    }
    tx.prepare_cached(
        "UPDATE batches SET state = 'abandoned', error = ?2, results_stored_at = ?3, ended_at = ?3,
                updated_at = ?3, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?1",
    )?
    .execute(params![batch_id, reason, now])?;
    Ok(())
}

/// A batch as `batch status` and the window's batch panel show it.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct BatchSummary {
    /// Gemini's name (`batches/…`); empty while it is being submitted.
    pub batch: String,
    pub exam_id: i64,
    /// `submitting`, `pending`, `running`, `succeeded`, `failed`, `cancelled`, `expired`,
    /// `abandoned`.
    pub state: String,
    pub answers: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub ended_at: Option<i64>,
    /// Every result is stored: nothing more will change.
    pub results_stored: bool,
    /// Estimated dollars at the batch price (None: the model has no price).
    pub cost_estimated: Option<f64>,
    /// What the stored grades of this batch cost at the batch price (from `usageMetadata`).
    pub cost_actual: Option<f64>,
    /// Why the batch ended without every grade, if it did.
    pub error: Option<String>,
}

/// Every batch, newest first.
pub fn list(conn: &Connection) -> Result<Vec<BatchSummary>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT coalesce(b.name, ''), b.exam_id, b.state, b.answers, b.succeeded, b.failed, b.created_at,
                    b.ended_at, b.results_stored_at IS NOT NULL, b.cost_estimated,
                    (SELECT sum(g.cost_usd) FROM batch_requests r JOIN grades g ON g.job_id = r.job_id
                     WHERE r.batch_id = b.id AND r.outcome = 'graded'),
                    b.error
             FROM batches b ORDER BY b.id DESC",
        )?
        .query_map([], |r| {
            Ok(BatchSummary {
                batch: r.get(0)?,
                exam_id: r.get(1)?,
                state: r.get(2)?,
                answers: r.get(3)?,
                succeeded: r.get(4)?,
                failed: r.get(5)?,
                created_at: r.get(6)?,
                ended_at: r.get(7)?,
                results_stored: r.get(8)?,
                cost_estimated: r.get(9)?,
                cost_actual: r.get(10)?,
                error: r.get(11)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A batch by Gemini's name.
pub fn by_name(conn: &Connection, name: &str) -> Result<Option<BatchRow>, StoreError> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM batches WHERE name = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([name], batch_from_row)
        .optional()?)
}

/// Asks for the next poll of a batch at once (after a cancel, or the teacher's "check now").
pub fn poll_soon(conn: &Connection, batch_id: i64, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE batches SET next_poll_at = min(next_poll_at, ?2) WHERE id = ?1")?
        .execute(params![batch_id, now])?;
    Ok(())
}

/// Makes every open batch due for a poll now (the key or the settings were just fixed:
/// a batch backed off to ten minutes need not wait them out).
pub fn poll_all_soon(conn: &Connection, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE batches SET next_poll_at = min(next_poll_at, ?1) WHERE results_stored_at IS NULL",
    )?
    .execute([now])?;
    Ok(())
}

/// How many batches have results still to be stored.
pub fn open_count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM batches WHERE results_stored_at IS NULL")?
        .query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{claim, enqueue, NewJob};
    use crate::store::Store;

    /// An exam with `n` answers, each with its grading job enqueued (the exam's mode first).
    fn exam_with_answers(
        n: usize,
        mode: GradingMode,
    ) -> (tempfile::TempDir, Store, Vec<(i64, i64)>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut out = Vec::new();
        {
            let mut conn = store.lock();
            let tx = conn.transaction().unwrap();
            tx.execute_batch(
                "INSERT INTO exams (id, name, created_at) VALUES (1, 'e', 0);
                 INSERT INTO questions (id, exam_id, position, label, prompt, max_points) VALUES (1, 1, 0, 'Q1', 'p', 2);
                 INSERT INTO submissions (id, exam_id, student, file_name, created_at) VALUES (1, 1, 's', 'f', 0);
                 INSERT INTO pages (id, submission_id, number, path, preview_path, width, height) VALUES (1, 1, 1, 'p', 'p', 10, 10);",
            )
            .unwrap();
            set_mode(&tx, 1, mode, 0).unwrap();
            for k in 0..n {
                tx.execute(
                    "INSERT INTO items (submission_id, page_id, question_id, x, y, w, h, crop_path, created_at, superseded_at)
                     VALUES (1, 1, 1, 0, 0, 1, 1, 'c', 0, CASE WHEN ?1 = 0 THEN NULL ELSE ?1 END)",
                    [k as i64],
                )
                .unwrap();
                let item = tx.last_insert_rowid();
                let job = enqueue(&tx, &NewJob::grade_item(item), 0).unwrap();
                out.push((job, item));
            }
            tx.commit().unwrap();
        }
        (dir, store, out)
    }

    fn request(job: i64, item: i64) -> NewRequest {
        NewRequest {
            key: format!("item-{item}-job-{job}"),
            job_id: job,
            item_id: item,
        }
    }

    fn new_batch(name: &str) -> NewBatch {
        NewBatch {
            exam_id: 1,
            display_name: name.into(),
            model: "gemini-2.5-flash".into(),
            input: "inline",
            input_tokens: 0,
            output_tokens: 0,
            cost_online: None,
            cost_estimated: None,
        }
    }

    #[test]
    fn answers_of_an_exam_graded_later_wait_for_a_batch_and_no_worker_claims_them() {
        let (_dir, store, jobs) = exam_with_answers(1, GradingMode::Later);
        let mut conn = store.lock();
        assert_eq!(claim(&conn, "w", 10, 1000).unwrap(), None);
        assert_eq!(crate::queue::counts(&conn).unwrap().batch, 1);
        assert_eq!(crate::queue::next_due(&conn, 10).unwrap(), None);
        assert_eq!(waiting(&conn, 1).unwrap().len(), 1);
        let tx = conn.transaction().unwrap();
        assert_eq!(set_mode(&tx, 1, GradingMode::Now, 10).unwrap(), Some(1));
        assert_eq!(set_mode(&tx, 99, GradingMode::Now, 10).unwrap(), None);
        tx.commit().unwrap();
        assert_eq!(claim(&conn, "w", 10, 1000).unwrap().unwrap().id, jobs[0].0);
    }

    #[test]
    fn a_second_reservation_of_the_same_answers_takes_nothing() {
        let (_dir, store, jobs) = exam_with_answers(2, GradingMode::Later);
        let mut conn = store.lock();
        let requests: Vec<_> = jobs.iter().map(|&(j, i)| request(j, i)).collect();
        let tx = conn.transaction().unwrap();
        let first = reserve(&tx, &new_batch("a"), &requests, "me", 0, 1000).unwrap();
        tx.commit().unwrap();
        assert!(first.is_some());
        let tx = conn.transaction().unwrap();
        assert_eq!(
            reserve(&tx, &new_batch("b"), &requests, "other", 0, 1000).unwrap(),
            None
        );
        drop(tx);
        assert!(waiting(&conn, 1).unwrap().is_empty());
        // The lease fences: another owner cannot take a held batch until it runs out.
        assert_eq!(claim_due(&conn, "other", 500, 1000).unwrap(), None);
        assert!(claim_due(&conn, "other", 1001, 1000).unwrap().is_some());
    }

    #[test]
    fn a_result_is_taken_once_and_a_job_goes_back_to_the_channel_its_exam_says() {
        let (_dir, store, jobs) = exam_with_answers(1, GradingMode::Later);
        let mut conn = store.lock();
        let (job, item) = jobs[0];
        let tx = conn.transaction().unwrap();
        let id = reserve(&tx, &new_batch("a"), &[request(job, item)], "me", 0, 1000)
            .unwrap()
            .unwrap();
        tx.commit().unwrap();
        let key = format!("item-{item}-job-{job}");
        assert!(take_result(&conn, id, &key, Outcome::Waiting, Some("busy")).unwrap());
        assert!(!take_result(&conn, id, &key, Outcome::Graded, None).unwrap());
        // Switched to now meanwhile: the answer goes online, not to the next batch.
        conn.execute("UPDATE exams SET grading_mode = 'now'", [])
            .unwrap();
        assert!(back_to_waiting(&conn, id, job, "busy", 5).unwrap());
        assert!(
            !back_to_waiting(&conn, id, job, "busy", 5).unwrap(),
            "fenced on its batch"
        );
        assert_eq!(claim(&conn, "w", 10, 1000).unwrap().unwrap().id, job);
        // A job that left the batch cannot be completed by it.
        assert!(!complete_job(&conn, id, job, 11).unwrap());
    }
}
