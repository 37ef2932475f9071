//! Group commit of job outcomes. Every finished job must be written (its grade and its
//! `succeeded` in one transaction) before the worker takes the next one; with one commit per
//! job, eight workers on two cores spent most of their time queueing for the database. The
//! recorder writes every outcome that arrived while the previous commit ran in a single
//! transaction — each in its own savepoint, so one refused grade spoils nothing else — and
//! claims each worker's next job in that same transaction; idle workers ask it for a job
//! the same way, so the workers one enqueue wakes share one commit. A job is never reported
//! recorded before its commit, so durability is unchanged; only the number of commits falls.

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use crate::exams;
use crate::queue::{self, ClaimedJob};
use crate::store::{Store, StoreError};

/// The most outcomes written in one transaction: bounds how long one commit holds the
/// database when thousands of jobs finish at once.
const MAX_BATCH: usize = 256;

/// What a finished job leaves behind, written in the transaction that completes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    /// A grade for an answer: stored with the job's success, or not at all.
    Graded {
        item_id: i64,
        grade: Box<exams::NewGrade>,
    },
    /// What was read from a script's name and ID boxes: stored (and the class matched
    /// again) with the job's success, or not at all.
    NameRead {
        submission_id: i64,
        read: exams::NewNameRead,
    },
    /// The job's effects are already in place (an idempotent page upscale, a no-op).
    Done,
}

/// What happened to a held job, to be written fenced on its lease.
#[derive(Debug)]
pub enum Outcome {
    /// Succeeded, with what it leaves behind.
    Succeeded(Completion),
    /// Failed for now: back in the queue at `run_at` (or dead when out of attempts).
    RetryAt { run_at: i64, message: String },
    /// Handed back without spending the attempt (the provider is held, a pause began).
    Release { run_at: i64, message: String },
    /// Failed for good.
    Bury { message: String },
    /// Nothing to record: an idle worker only asks for a job.
    Idle,
}

/// One held job's outcome and whether its worker wants the next job.
#[derive(Debug)]
pub struct Entry {
    pub job_id: i64,
    pub owner: String,
    pub now: i64,
    pub outcome: Outcome,
    /// Claim the next due job for `owner` in the same transaction.
    pub claim_next: bool,
}

/// What the transaction did with one entry.
#[derive(Debug, Default)]
pub struct Recorded {
    /// `false` when the lease had been lost (cancelled or rescued) or the grade refused:
    /// nothing of this attempt was stored.
    pub stored: bool,
    pub next: Option<ClaimedJob>,
}

type Reply = oneshot::Sender<Result<Recorded, StoreError>>;

// Every message but the last is a Record: boxing it would only add an allocation per job.
#[allow(clippy::large_enum_variant)]
enum Message {
    Record(Entry, Reply),
    /// Write what is waiting, then end.
    Stop,
}

/// The handle workers send outcomes through.
#[derive(Clone)]
pub struct Recorder {
    sender: mpsc::UnboundedSender<Message>,
}

/// The writing side; it must be running ([`RecorderTask::spawn_thread`] or
/// [`RecorderTask::run_on_executor`]) for outcomes to be stored.
pub struct RecorderTask {
    receiver: mpsc::UnboundedReceiver<Message>,
    store: Store,
    lease_ms: i64,
}

/// A recorder and the writer-to-be.
pub fn recorder(store: Store, lease_ms: i64) -> (Recorder, RecorderTask) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (
        Recorder { sender },
        RecorderTask {
            receiver,
            store,
            lease_ms,
        },
    )
}

impl Recorder {
    /// Writes one outcome; returns once it is committed (or failed to be).
    pub async fn record(&self, entry: Entry) -> Result<Recorded, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Message::Record(entry, reply))
            .map_err(|_| StoreError::Join)?;
        answer.await.map_err(|_| StoreError::Join)?
    }

    /// Asks the writer to finish what is waiting and end.
    pub fn stop(&self) {
        let _ = self.sender.send(Message::Stop);
    }
}

impl RecorderTask {
    /// Writes on a thread of its own until [`Recorder::stop`]: it wakes straight on the
    /// first outcome, with no hand-off through the executor and the blocking pool.
    /// Outcomes that arrive while a batch is being written form the next batch.
    pub fn spawn_thread(mut self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("gradedesk-recorder".into())
            .spawn(move || {
                while let Some(first) = self.receiver.blocking_recv() {
                    let (batch, stop) = self.gather(first);
                    write_and_answer(&self.store, batch, self.lease_ms);
                    if stop {
                        return;
                    }
                }
            })
    }

    /// The same on the async executor, each batch on the blocking pool: for tokio's paused
    /// test clock, which must see every piece of work it waits on.
    pub async fn run_on_executor(mut self) {
        while let Some(first) = self.receiver.recv().await {
            let (batch, stop) = self.gather(first);
            let (store, lease_ms) = (self.store.clone(), self.lease_ms);
            let _ = tokio::task::spawn_blocking(move || write_and_answer(&store, batch, lease_ms))
                .await;
            if stop {
                return;
            }
        }
    }

    /// The first message and everything already waiting behind it.
    fn gather(&mut self, first: Message) -> (Vec<(Entry, Reply)>, bool) {
        let mut batch = Vec::new();
        let mut stop = false;
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Record(entry, reply) => batch.push((entry, reply)),
                Message::Stop => stop = true,
            }
            next = if batch.len() < MAX_BATCH {
                self.receiver.try_recv().ok()
            } else {
                None
            };
        }
        (batch, stop)
    }
}

/// Writes one batch and answers each worker.
fn write_and_answer(store: &Store, batch: Vec<(Entry, Reply)>, lease_ms: i64) {
    if batch.is_empty() {
        return;
    }
    let (entries, replies): (Vec<Entry>, Vec<Reply>) = batch.into_iter().unzip();
    let written = write_batch(&mut store.lock(), &entries, lease_ms);
    match written {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Err(e) => {
            warn!(error = %e, count = replies.len(), "could not record job outcomes; their leases will expire and they will run again");
            for reply in replies {
                let _ = reply.send(Err(StoreError::Join));
            }
        }
    }
}

/// Writes every entry in one transaction, each fenced on its lease inside a savepoint.
pub fn write_batch(
    conn: &mut Connection,
    entries: &[Entry],
    lease_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    let mut tx = conn.transaction()?;
    let mut results = Vec::with_capacity(entries.len());
    for entry in entries {
        let stored = if !matches!(
            entry.outcome,
            Outcome::Succeeded(Completion::Graded { .. } | Completion::NameRead { .. })
        ) {
            // One UPDATE: atomic by itself.
            write_one(&tx, entry).unwrap_or_else(|e| {
                warn!(job = entry.job_id, error = %e, "could not record this outcome");
                false
            })
        } else {
            let savepoint = tx.savepoint()?;
            // A failing statement spoils this entry only (its savepoint rolls back); its
            // lease then expires and the job runs again.
            let stored = write_one(&savepoint, entry).unwrap_or_else(|e| {
                warn!(job = entry.job_id, error = %e, "could not record this outcome");
                false
            });
            if stored {
                savepoint.commit()?;
            }
            stored
        };
        let next = if stored && entry.claim_next {
            queue::claim(&tx, &entry.owner, entry.now, lease_ms)?
        } else {
            None
        };
        results.push(Recorded { stored, next });
    }
    tx.commit()?;
    Ok(results)
}

fn write_one(conn: &Connection, entry: &Entry) -> Result<bool, StoreError> {
    let (id, owner, now) = (entry.job_id, entry.owner.as_str(), entry.now);
    match &entry.outcome {
        Outcome::Succeeded(completion) => {
            if !queue::complete(conn, id, owner, now)? {
                return Ok(false);
            }
            if let Completion::Graded { item_id, grade } = completion {
                if let Err(e) = exams::insert_grade(conn, *item_id, id, grade) {
                    warn!(job = id, error = %e, "grade refused by the database; not completing");
                    return Ok(false);
                }
            }
            if let Completion::NameRead {
                submission_id,
                read,
            } = completion
            {
                if let Err(e) = exams::store_name_read(conn, *submission_id, read) {
                    warn!(job = id, error = %e, "name reading refused by the database; not completing");
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Outcome::RetryAt { run_at, message } => {
            queue::retry_later(conn, id, owner, now, *run_at, message)
        }
        Outcome::Release { run_at, message } => {
            queue::release(conn, id, owner, now, *run_at, Some(message))
        }
        Outcome::Bury { message } => queue::bury(conn, id, owner, now, message),
        Outcome::Idle => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::{NewGrade, NewPage, QuestionInput};
    use crate::queue::{JobKind, NewJob};

    fn queue_with_jobs(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        {
            let mut conn = store.lock();
            let tx = conn.transaction().unwrap();
            let q = QuestionInput::plain("Q1", "p", 1.0);
            let exam = exams::create_exam(&tx, "e", &[q]).unwrap();
            let page = NewPage::new("p", "p", 1, 1);
            let sub = exams::insert_submission(&tx, exam, "s", "s", &[page]).unwrap();
            let job = NewJob {
                kind: JobKind::UpscaleSubmission,
                item_id: None,
                submission_id: Some(sub),
                priority: 0,
                max_attempts: 3,
            };
            queue::enqueue_many(&tx, &vec![job; n], 0).unwrap();
            tx.commit().unwrap();
        }
        (dir, store)
    }

    fn entry(job: &ClaimedJob, owner: &str, outcome: Outcome, claim_next: bool) -> Entry {
        Entry {
            job_id: job.id,
            owner: owner.into(),
            now: 10,
            outcome,
            claim_next,
        }
    }

    fn state(store: &Store, id: i64) -> String {
        store
            .lock()
            .query_row("SELECT state FROM jobs WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn one_bad_entry_spoils_nothing_else_in_the_batch() {
        let (_dir, store) = queue_with_jobs(5);
        let claim = |owner: &str| {
            queue::claim(&store.lock(), owner, 1, 60_000)
                .unwrap()
                .unwrap()
        };
        let (a, b, c) = (claim("a"), claim("b"), claim("c"));
        // b's lease was lost (cancelled elsewhere) before its outcome arrived.
        assert!(queue::cancel(&store.lock(), b.id, 2).unwrap());
        let grade = NewGrade {
            score: 1.0,
            max_points: 1.0,
            feedback: String::new(),
            transcription: String::new(),
            confidence: None,
            needs_review: false,
            review_reason: None,
            model: "m".into(),
            prompt_tokens: None,
            output_tokens: None,
            thoughts_tokens: None,
            ..NewGrade::default()
        };
        let entries = vec![
            entry(&a, "a", Outcome::Succeeded(Completion::Done), true),
            entry(&b, "b", Outcome::Succeeded(Completion::Done), true),
            // A grade the database refuses (no such answer): rolled back alone.
            entry(
                &c,
                "c",
                Outcome::Succeeded(Completion::Graded {
                    item_id: 999_999,
                    grade: Box::new(grade),
                }),
                true,
            ),
        ];
        let results = write_batch(&mut store.lock(), &entries, 60_000).unwrap();
        assert!(results[0].stored);
        assert!(!results[1].stored && results[1].next.is_none());
        assert!(!results[2].stored && results[2].next.is_none());
        assert_eq!(state(&store, a.id), "succeeded");
        assert_eq!(state(&store, b.id), "cancelled");
        assert_eq!(
            state(&store, c.id),
            "running",
            "c keeps its lease and will be rescued"
        );
        // a's worker got its next job in the same transaction, leased to it.
        let next = results[0].next.as_ref().expect("a claimed the next job");
        let owner: String = store
            .lock()
            .query_row(
                "SELECT lease_owner FROM jobs WHERE id = ?1",
                [next.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(owner, "a");
    }

    #[tokio::test]
    async fn outcomes_sent_together_are_committed_and_answered() {
        let (_dir, store) = queue_with_jobs(8);
        let jobs: Vec<ClaimedJob> = (0..8)
            .map(|i| {
                queue::claim(&store.lock(), &format!("w{i}"), 1, 60_000)
                    .unwrap()
                    .unwrap()
            })
            .collect();
        let (recorder, task) = recorder(store.clone(), 60_000);
        let running = task.spawn_thread().unwrap();
        let outcomes = jobs.iter().enumerate().map(|(i, job)| {
            let outcome = if i % 2 == 0 {
                Outcome::Succeeded(Completion::Done)
            } else {
                Outcome::RetryAt {
                    run_at: 1_000,
                    message: "busy".into(),
                }
            };
            recorder.record(entry(job, &format!("w{i}"), outcome, false))
        });
        let results = futures::future::join_all(outcomes).await;
        assert!(results.iter().all(|r| r.as_ref().unwrap().stored));
        for (i, job) in jobs.iter().enumerate() {
            let want = if i % 2 == 0 { "succeeded" } else { "queued" };
            assert_eq!(state(&store, job.id), want);
        }
        recorder.stop();
        tokio::task::spawn_blocking(move || running.join().unwrap())
            .await
            .unwrap();
        assert!(recorder
            .record(entry(
                &jobs[0],
                "w0",
                Outcome::Bury {
                    message: "x".into()
                },
                false
            ))
            .await
            .is_err());
    }
}
