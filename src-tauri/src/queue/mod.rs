//! The durable job queue: every grading request is a row that survives crashes.
//!
//! A job is `queued → running → succeeded | queued again (retry at run_at) | dead | cancelled`.
//! A claim takes a time-limited lease; every later change to a running job is fenced on
//! `(state = 'running', lease_owner = me)`, so a worker whose lease was rescued cannot
//! overwrite what happened since. The state invariants live in the schema's CHECKs too.
//!
//! How many attempts a job gets, how long it waits between them, how long a lease holds
//! and what a failed attempt leads to are the queue's policy, in [`policy`].

pub mod batches;
pub mod policy;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use ts_rs::TS;

use crate::store::StoreError;

/// The kinds of work the pool runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum JobKind {
    /// Grade one answer region through the model.
    #[serde(rename = "GRADE_ITEM")]
    GradeItem,
    /// Improve a submission's low-resolution pages before cropping.
    #[serde(rename = "UPSCALE_SUBMISSION")]
    UpscaleSubmission,
    /// Read a script's name and ID boxes through the model (for the roster matching).
    #[serde(rename = "READ_NAME")]
    ReadName,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::GradeItem => "GRADE_ITEM",
            JobKind::UpscaleSubmission => "UPSCALE_SUBMISSION",
            JobKind::ReadName => "READ_NAME",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "GRADE_ITEM" => Some(JobKind::GradeItem),
            "UPSCALE_SUBMISSION" => Some(JobKind::UpscaleSubmission),
            "READ_NAME" => Some(JobKind::ReadName),
            _ => None,
        }
    }
}

/// A job to add: what to do, to what, how urgently.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub item_id: Option<i64>,
    pub submission_id: Option<i64>,
    pub priority: i64,
    pub max_attempts: i64,
}

impl NewJob {
    /// The usual grading job for one answer.
    pub fn grade_item(item_id: i64) -> Self {
        Self {
            kind: JobKind::GradeItem,
            item_id: Some(item_id),
            submission_id: None,
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl NewJob {
    /// Reading a script's name and ID boxes: ahead of grading, so the class list fills in
    /// first and the teacher can match while answers are graded.
    pub fn read_name(submission_id: i64) -> Self {
        Self {
            kind: JobKind::ReadName,
            item_id: None,
            submission_id: Some(submission_id),
            priority: 1,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// Queues a script's name reading, replacing one still waiting (the crops changed).
pub fn requeue_read_name(
    tx: &Transaction,
    submission_id: i64,
    now: i64,
) -> Result<i64, StoreError> {
    // Cancels the script's reading that has not started or is under way.
    tx.prepare_cached(
        "UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL,
                finished_at = ?2, updated_at = ?2
         WHERE kind = 'READ_NAME' AND submission_id = ?1 AND state IN ('queued', 'running')",
    )?
    .execute(params![submission_id, now])?;
    enqueue(tx, &NewJob::read_name(submission_id), now)
}

/// How many times a job may start before it is given up as dead (the policy's
/// [`policy::MAX_ATTEMPTS`], under the name callers know).
pub const DEFAULT_MAX_ATTEMPTS: i64 = policy::MAX_ATTEMPTS;

/// A job this worker now holds the lease on.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: JobKind,
    pub item_id: Option<i64>,
    pub submission_id: Option<i64>,
    /// Starts including this one.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// How many answers' grading jobs are in each state.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, TS)]
pub struct Counts {
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub dead: i64,
    pub cancelled: i64,
    /// Grading jobs of the batch channel: waiting for a batch or in one (no worker runs
    /// them, so they are not `queued`).
    pub batch: i64,
}

impl Counts {
    /// Jobs that still need an online worker.
    pub fn active(&self) -> i64 {
        self.queued + self.running
    }
}

/// Adds a job inside the caller's transaction, so it commits with whatever it is for. A
/// grading job of an exam graded "later" goes to the batch channel: it waits for the next
/// batch and no online worker claims it (see [`batches`]).
pub fn enqueue(tx: &Transaction, job: &NewJob, now: i64) -> Result<i64, StoreError> {
    tx.prepare_cached(
        "INSERT INTO jobs (kind, item_id, submission_id, exam_id, channel, state, priority, max_attempts, run_at, created_at, updated_at)
         SELECT ?1, ?2, ?3, e.id,
                CASE WHEN ?1 = 'GRADE_ITEM' AND coalesce((SELECT grading_mode FROM exams WHERE id = e.id), 'now') = 'later'
                     THEN 'batch' ELSE 'online' END,
                'queued', ?4, ?5, ?6, ?6, ?6
         FROM (SELECT coalesce((SELECT s.exam_id FROM items i JOIN submissions s ON s.id = i.submission_id WHERE i.id = ?2),
                               (SELECT exam_id FROM submissions WHERE id = ?3)) AS id) e",
    )?
    .execute(params![job.kind.as_str(), job.item_id, job.submission_id, job.priority, job.max_attempts, now])?;
    Ok(tx.last_insert_rowid())
}

/// Adds many jobs in the caller's transaction: one commit for a whole batch (an import of
/// a class, a "regrade all").
pub fn enqueue_many(tx: &Transaction, jobs: &[NewJob], now: i64) -> Result<Vec<i64>, StoreError> {
    jobs.iter().map(|job| enqueue(tx, job, now)).collect()
}

/// Takes the most urgent due job, if any, with a lease until `now + lease_ms`.
pub fn claim(
    conn: &Connection,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<ClaimedJob>, StoreError> {
    let row = conn
        .prepare_cached(
            "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_expires_at = ?2 + ?3,
                    attempts = attempts + 1, updated_at = ?2
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND channel = 'online' AND run_at <= ?2
                           AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE scope = 'all' AND (until_ms IS NULL OR until_ms > ?2))
                           AND (exam_id IS NULL OR exam_id NOT IN
                                (SELECT exam_id FROM queue_pauses WHERE exam_id IS NOT NULL AND (until_ms IS NULL OR until_ms > ?2)))
                         ORDER BY priority DESC, run_at, id LIMIT 1)
             RETURNING id, kind, item_id, submission_id, attempts, max_attempts",
        )?
        .query_row(params![owner, now, lease_ms], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    Ok(row.and_then(
        |(id, kind, item_id, submission_id, attempts, max_attempts)| {
            JobKind::parse(&kind).map(|kind| ClaimedJob {
                id,
                kind,
                item_id,
                submission_id,
                attempts,
                max_attempts,
            })
        },
    ))
}

/// Extends a held lease; `false` means the lease was lost (rescued or cancelled).
pub fn renew(
    conn: &Connection,
    id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET lease_expires_at = ?3 + ?4, updated_at = ?3
             WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
        )?
        .execute(params![id, owner, now, lease_ms])?;
    Ok(n == 1)
}

/// Marks a held job succeeded inside the caller's transaction (with its result).
/// `false` means the lease was lost: the caller must roll back.
pub fn complete(tx: &Connection, id: i64, owner: &str, now: i64) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(
            "UPDATE jobs SET state = 'succeeded', lease_owner = NULL, lease_expires_at = NULL,
                    last_error = NULL, updated_at = ?3, finished_at = ?3
             WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
        )?
        .execute(params![id, owner, now])?;
    Ok(n == 1)
}

/// Puts a held job back for another try at `run_at`, keeping the reason for the UI; a job
/// that has used all its attempts is buried instead (the queue enforces the limit).
pub fn retry_later(
    conn: &Connection,
    id: i64,
    owner: &str,
    now: i64,
    run_at: i64,
    error: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                    finished_at = CASE WHEN attempts >= max_attempts THEN ?3 ELSE NULL END,
                    lease_owner = NULL, lease_expires_at = NULL,
                    run_at = ?4, last_error = ?5, updated_at = ?3
             WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
        )?
        .execute(params![id, owner, now, run_at, error])?;
    Ok(n == 1)
}

/// Hands a held job back without spending its attempt: shutdown, or grading cannot go on
/// until the teacher acts (no key, key rejected) — the job itself did nothing wrong.
pub fn release(
    conn: &Connection,
    id: i64,
    owner: &str,
    now: i64,
    run_at: i64,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                    attempts = max(attempts - 1, 0), run_at = ?4,
                    last_error = coalesce(?5, last_error), updated_at = ?3
             WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
        )?
        .execute(params![id, owner, now, run_at, reason])?;
    Ok(n == 1)
}

/// Gives a held job up for good, with the reason the teacher will read.
pub fn bury(
    conn: &Connection,
    id: i64,
    owner: &str,
    now: i64,
    error: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL,
                    last_error = ?4, updated_at = ?3, finished_at = ?3
             WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
        )?
        .execute(params![id, owner, now, error])?;
    Ok(n == 1)
}

/// Cancels an item's live grading job (re-crop, or the teacher's cancel); returns its id.
pub fn cancel_for_item(
    tx: &Transaction,
    item_id: i64,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(tx
        .prepare_cached(
            "UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL,
                    updated_at = ?2, finished_at = ?2
             WHERE item_id = ?1 AND kind = 'GRADE_ITEM' AND state IN ('queued', 'running')
             RETURNING id",
        )?
        .query_row(params![item_id, now], |r| r.get(0))
        .optional()?)
}

/// Returns jobs whose lease ran out (a crashed or frozen worker) to the queue, or to `dead`
/// when they have no attempts left; a rescued job keeps its place in line (its `run_at`).
/// Returns the affected job and item ids (items for events).
pub fn rescue_expired(conn: &Connection, now: i64) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
    let rescued = conn
        .prepare_cached(
            "UPDATE jobs SET
                 state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                 finished_at = CASE WHEN attempts >= max_attempts THEN ?1 ELSE NULL END,
                 last_error = CASE WHEN attempts >= max_attempts
                     THEN 'the worker grading this answer stopped unexpectedly too many times'
                     ELSE 'the worker grading this answer stopped unexpectedly; trying again' END,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1
             WHERE state = 'running' AND lease_expires_at < ?1
             RETURNING id, item_id",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rescued)
}

/// When a worker should look again: the next due job outside paused exams, or the end of
/// a timed pause. `None`: nothing will become due by itself (sleep until woken).
pub fn next_due(conn: &Connection, now: i64) -> Result<Option<i64>, StoreError> {
    let global: Option<Option<i64>> = conn
        .prepare_cached("SELECT until_ms FROM queue_pauses WHERE scope = 'all' AND (until_ms IS NULL OR until_ms > ?1)")?
        .query_row([now], |r| r.get(0))
        .optional()?;
    if let Some(until) = global {
        return Ok(until);
    }
    let job: Option<i64> = conn
        .prepare_cached(
            "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND channel = 'online'
               AND (exam_id IS NULL OR exam_id NOT IN
                    (SELECT exam_id FROM queue_pauses WHERE exam_id IS NOT NULL AND (until_ms IS NULL OR until_ms > ?1)))",
        )?
        .query_row([now], |r| r.get(0))?;
    let pause_end: Option<i64> = conn
        .prepare_cached("SELECT min(until_ms) FROM queue_pauses WHERE until_ms > ?1")?
        .query_row([now], |r| r.get(0))?;
    Ok(match (job, pause_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Why nothing can start although answers are queued: the pauses holding every queued job
/// (empty when some queued job may run, now or later by itself).
pub fn blocking_pauses(conn: &Connection, now: i64) -> Result<Vec<Pause>, StoreError> {
    let eligible: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM jobs WHERE state = 'queued' AND channel = 'online'
               AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE scope = 'all' AND (until_ms IS NULL OR until_ms > ?1))
               AND (exam_id IS NULL OR exam_id NOT IN
                    (SELECT exam_id FROM queue_pauses WHERE exam_id IS NOT NULL AND (until_ms IS NULL OR until_ms > ?1)))",
        )?
        .query_row([now], |r| r.get(0))?;
    if eligible > 0 {
        return Ok(Vec::new());
    }
    pauses(conn, now)
}

/// What a pause covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "scope", content = "exam_id", rename_all = "snake_case")]
pub enum PauseScope {
    All,
    Exam(i64),
}

impl PauseScope {
    fn key(self) -> String {
        match self {
            PauseScope::All => "all".into(),
            PauseScope::Exam(id) => format!("exam:{id}"),
        }
    }
}

/// A pause in force, as every process sees it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Pause {
    pub scope: PauseScope,
    pub reason: String,
    pub until_ms: Option<i64>,
}

/// Stops workers in every process from starting jobs of `scope` (running ones finish).
/// `until_ms` makes it lift by itself (a daily quota's reset).
pub fn pause(
    conn: &Connection,
    scope: PauseScope,
    reason: &str,
    until_ms: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let exam_id = match scope {
        PauseScope::All => None,
        PauseScope::Exam(id) => Some(id),
    };
    conn.prepare_cached(
        "INSERT INTO queue_pauses (scope, exam_id, reason, until_ms, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (scope) DO UPDATE SET reason = excluded.reason, until_ms = excluded.until_ms",
    )?
    .execute(params![scope.key(), exam_id, reason, until_ms, now])?;
    Ok(())
}

/// Lifts a pause; returns whether there was one.
pub fn resume(conn: &Connection, scope: PauseScope) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM queue_pauses WHERE scope = ?1")?
        .execute([scope.key()])?
        > 0)
}

/// Pauses in force now.
pub fn pauses(conn: &Connection, now: i64) -> Result<Vec<Pause>, StoreError> {
    let rows = conn
        .prepare_cached("SELECT exam_id, reason, until_ms FROM queue_pauses WHERE until_ms IS NULL OR until_ms > ?1 ORDER BY scope")?
        .query_map([now], |r| {
            let exam: Option<i64> = r.get(0)?;
            Ok(Pause {
                scope: exam.map_or(PauseScope::All, PauseScope::Exam),
                reason: r.get(1)?,
                until_ms: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Cancels a queued or running job; a running one's worker notices and aborts its call.
pub fn cancel(conn: &Connection, job_id: i64, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL,
                    last_error = 'cancelled by the teacher', updated_at = ?2, finished_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'running')",
        )?
        .execute(params![job_id, now])?
        == 1)
}

/// "Grade this one now": moves a queued job ahead of the others, and due at once; an answer
/// waiting for a batch goes to the online workers (one already sent in a batch stays there).
pub fn prioritize(
    conn: &Connection,
    job_id: i64,
    priority: i64,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET priority = ?2, run_at = min(run_at, ?3), updated_at = ?3,
                    channel = CASE WHEN batch_id IS NULL THEN 'online' ELSE channel END
             WHERE id = ?1 AND state = 'queued'",
        )?
        .execute(params![job_id, priority, now])?
        == 1)
}

/// The live job of an answer, if any (for cancel and "grade now" by item).
pub fn active_job_for_item(conn: &Connection, item_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM jobs WHERE item_id = ?1 AND kind = 'GRADE_ITEM' AND state IN ('queued', 'running')")?
        .query_row([item_id], |r| r.get(0))
        .optional()?)
}

/// A job given up on, with why.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DeadJob {
    pub job_id: i64,
    pub kind: JobKind,
    pub item_id: Option<i64>,
    pub submission_id: Option<i64>,
    pub attempts: i64,
    pub error: String,
    pub finished_at: Option<i64>,
}

/// Dead jobs whose answer is still current, newest first.
pub fn dead_jobs(conn: &Connection) -> Result<Vec<DeadJob>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT j.id, j.kind, j.item_id, j.submission_id, j.attempts, coalesce(j.last_error, ''), j.finished_at
             FROM jobs j LEFT JOIN items i ON i.id = j.item_id
             WHERE j.state = 'dead' AND (j.item_id IS NULL OR i.superseded_at IS NULL)
             ORDER BY j.finished_at DESC, j.id DESC",
        )?
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?
        .filter_map(|row| {
            row.map(|(job_id, kind, item_id, submission_id, attempts, error, finished_at)| {
                JobKind::parse(&kind).map(|kind| DeadJob { job_id, kind, item_id, submission_id, attempts, error, finished_at })
            })
            .transpose()
        })
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Gives a dead job a fresh set of attempts (the teacher's "Retry"): online, or waiting for
/// the next batch while its exam is graded later.
pub fn retry_dead(conn: &Connection, job_id: i64, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?2, finished_at = NULL, updated_at = ?2,
                    batch_id = NULL,
                    channel = CASE WHEN kind = 'GRADE_ITEM' AND (SELECT grading_mode FROM exams WHERE id = jobs.exam_id) = 'later'
                                   THEN 'batch' ELSE 'online' END
             WHERE id = ?1 AND state = 'dead'
               AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.item_id = jobs.item_id AND o.kind = 'GRADE_ITEM'
                               AND o.state IN ('queued', 'running') AND o.id <> jobs.id)",
        )?
        .execute(params![job_id, now])?
        == 1)
}

/// Which of the jobs this worker holds it no longer holds (cancelled, or rescued by another
/// process): their work must stop.
pub fn lost_leases(conn: &Connection, held: &[(i64, String)]) -> Result<Vec<i64>, StoreError> {
    let mut lost = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM jobs WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
    )?;
    for (id, owner) in held {
        if !stmt.exists(params![id, owner])? {
            lost.push(*id);
        }
    }
    Ok(lost)
}

/// Grading progress of one exam, or of everything (exam_id `None`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct Progress {
    pub exam_id: Option<i64>,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub queued: i64,
    pub running: i64,
    /// Answers finished per minute over the last five minutes.
    pub per_minute: f64,
    pub percent: f64,
    /// Seconds left at the current rate, when there is a rate.
    pub eta_seconds: Option<i64>,
}

/// Progress per exam plus the overall line, from the current answers' jobs.
pub fn progress(conn: &Connection, now: i64) -> Result<Vec<Progress>, StoreError> {
    let window_start = now - 300_000;
    let mut stmt = conn.prepare_cached(
        "SELECT j.exam_id,
                count(*),
                sum(j.state = 'succeeded'), sum(j.state = 'dead'), sum(j.state = 'queued' AND j.channel = 'online'), sum(j.state = 'running'),
                sum(j.state = 'succeeded' AND j.finished_at >= ?1)
         FROM jobs j JOIN items i ON i.id = j.item_id
         WHERE j.kind = 'GRADE_ITEM' AND j.state <> 'cancelled' AND i.superseded_at IS NULL
         GROUP BY j.exam_id ORDER BY j.exam_id",
    )?;
    let make = |exam_id, counts: [i64; 6]| {
        let [total, done, failed, queued, running, recent] = counts;
        let per_minute = recent as f64 / 5.0;
        let remaining = queued + running;
        Progress {
            exam_id,
            total,
            done,
            failed,
            queued,
            running,
            per_minute,
            percent: if total > 0 {
                100.0 * (done + failed) as f64 / total as f64
            } else {
                100.0
            },
            eta_seconds: (per_minute > 0.0 && remaining > 0)
                .then(|| (remaining as f64 / per_minute * 60.0).ceil() as i64),
        }
    };
    let rows: Vec<(Option<i64>, [i64; 6])> = stmt
        .query_map([window_start], |r| {
            Ok((
                r.get(0)?,
                [
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ],
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut all = [0i64; 6];
    let mut out: Vec<Progress> = Vec::with_capacity(rows.len() + 1);
    for (exam, counts) in rows {
        for (sum, n) in all.iter_mut().zip(counts) {
            *sum += n;
        }
        out.push(make(exam, counts));
    }
    out.insert(0, make(None, all));
    Ok(out)
}

/// The answers' grading jobs by state, for the header and `status`: page enhancement and
/// name readings are work for the teacher's scripts, not answers, so "graded" stays the
/// number of answers graded.
pub fn counts(conn: &Connection) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    let mut stmt = conn.prepare_cached(
        "SELECT CASE WHEN state = 'queued' AND channel = 'batch' THEN 'batch' ELSE state END AS s, count(*)
         FROM jobs WHERE kind = 'GRADE_ITEM' GROUP BY s",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        match state.as_str() {
            "queued" => counts.queued = n,
            "batch" => counts.batch = n,
            "running" => counts.running = n,
            "succeeded" => counts.succeeded = n,
            "dead" => counts.dead = n,
            "cancelled" => counts.cancelled = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// Jobs other than grading (name readings, page enhancement) still queued or running:
/// `grade --wait` waits for them too, so a script's name is read before it returns.
pub fn other_work(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            // Non-grading jobs a worker still has to run.
            "SELECT count(*) FROM jobs WHERE kind <> 'GRADE_ITEM' AND state IN ('queued', 'running')",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Everything the UI shows about the queue beyond the answers themselves.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct QueueStatus {
    pub progress: Vec<Progress>,
    pub pauses: Vec<Pause>,
    pub provider: crate::pacing::GateStatus,
    /// Why grading stopped until the teacher acts (no key, key rejected, model missing).
    pub halted: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store_with_jobs(n: usize) -> (tempfile::TempDir, Store, Vec<i64>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ids = {
            let mut conn = store.lock();
            let tx = conn.transaction().unwrap();
            let ids = (0..n)
                .map(|i| {
                    let job = NewJob {
                        kind: JobKind::UpscaleSubmission,
                        item_id: None,
                        submission_id: None,
                        priority: 0,
                        max_attempts: 2,
                    };
                    // UPSCALE jobs need a submission; insert a minimal exam + submission.
                    if i == 0 {
                        tx.execute_batch(
                            "INSERT INTO exams (id, name, created_at) VALUES (1, 'e', 0);
                             INSERT INTO submissions (id, exam_id, student, file_name, created_at)
                             VALUES (1, 1, 's', 'f', 0);",
                        )
                        .unwrap();
                    }
                    enqueue(
                        &tx,
                        &NewJob {
                            submission_id: Some(1),
                            ..job
                        },
                        100 + i as i64,
                    )
                    .unwrap()
                })
                .collect();
            tx.commit().unwrap();
            ids
        };
        (dir, store, ids)
    }

    /// A job's state (these jobs are page work, which `counts` leaves out).
    fn job_state(conn: &Connection, id: i64) -> String {
        conn.query_row("SELECT state FROM jobs WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn claims_in_order_and_fences_completion_on_the_lease() {
        let (_dir, store, ids) = store_with_jobs(2);
        let mut conn = store.lock();
        let a = claim(&conn, "w1", 1_000, 50).unwrap().unwrap();
        assert_eq!(a.id, ids[0]);
        assert_eq!(a.attempts, 1);
        // The lease expires; a rescue hands the job back; the old owner can no longer finish it.
        let rescued = rescue_expired(&conn, 1_100).unwrap();
        assert_eq!(rescued.len(), 1);
        let tx = conn.transaction().unwrap();
        assert!(!complete(&tx, a.id, "w1", 1_101).unwrap());
        tx.rollback().unwrap();
        let again = claim(&conn, "w2", 1_200, 50).unwrap().unwrap();
        assert_eq!(again.id, a.id);
        assert_eq!(again.attempts, 2);
        let tx = conn.transaction().unwrap();
        assert!(complete(&tx, a.id, "w2", 1_201).unwrap());
        tx.commit().unwrap();
        assert_eq!(job_state(&conn, a.id), "succeeded");
    }

    #[test]
    fn retry_waits_for_run_at_and_release_spends_no_attempt() {
        let (_dir, store, ids) = store_with_jobs(1);
        let conn = store.lock();
        let job = claim(&conn, "w", 1_000, 60_000).unwrap().unwrap();
        assert!(retry_later(&conn, job.id, "w", 1_001, 5_000, "busy").unwrap());
        assert_eq!(claim(&conn, "w", 4_999, 60_000).unwrap(), None);
        assert_eq!(next_due(&conn, 4_999).unwrap(), Some(5_000));
        let job = claim(&conn, "w", 5_000, 60_000).unwrap().unwrap();
        assert_eq!((job.id, job.attempts), (ids[0], 2));
        assert!(release(&conn, job.id, "w", 5_001, 5_001, Some("no key")).unwrap());
        let job = claim(&conn, "w", 5_002, 60_000).unwrap().unwrap();
        assert_eq!(job.attempts, 2);
        // Out of attempts: a crash now buries the job instead of looping forever.
        let rescued = rescue_expired(&conn, 1_000_000).unwrap();
        assert_eq!(rescued.len(), 1);
        assert_eq!(job_state(&conn, job.id), "dead");
    }

    #[test]
    fn schema_refuses_a_running_job_without_a_lease() {
        let (_dir, store, ids) = store_with_jobs(1);
        let conn = store.lock();
        let err = conn
            .execute("UPDATE jobs SET state = 'running' WHERE id = ?1", [ids[0]])
            .unwrap_err();
        assert!(err.to_string().contains("CHECK"), "{err}");
    }
}
