//! A randomized test of the queue's state machine against a model: random enqueue, re-crop,
//! claim, complete (by the right or a stale owner), retry, bury, release, cancel, pause,
//! resume, "grade now", retry of dead jobs and crashes (lease expiry + rescue), with the
//! invariants checked after every step, on a real SQLite file and a virtual clock.

use gradedesk::exams::{self, Bbox, NewGrade, NewPage, QuestionInput};
use gradedesk::queue::{self, NewJob, PauseScope};
use gradedesk::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;

#[derive(Debug, Clone, PartialEq)]
enum State {
    Queued,
    Running(String),
    Succeeded,
    Dead,
    Cancelled,
}

#[derive(Debug, Clone)]
struct Job {
    id: i64,
    item: i64,
    state: State,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    priority: i64,
    lease_until: i64,
}

struct World {
    conn: Connection,
    jobs: Vec<Job>,
    /// submission → current item
    current: Vec<(i64, i64)>,
    question: i64,
    exam: i64,
    now: i64,
    paused: bool,
}

const LEASE: i64 = 1_000;

impl World {
    fn new(store: &Store) -> Self {
        let mut conn = Connection::open(store.path()).unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        let tx = conn.transaction().unwrap();
        let exam =
            exams::create_exam(&tx, "Model", &[QuestionInput::plain("Q1", "p", 2.0)]).unwrap();
        tx.commit().unwrap();
        let question = conn
            .query_row("SELECT id FROM questions", [], |r| r.get(0))
            .unwrap();
        Self {
            conn,
            jobs: Vec::new(),
            current: Vec::new(),
            question,
            exam,
            now: 1_000_000,
            paused: false,
        }
    }

    fn new_answer(&mut self) {
        let tx = self.conn.transaction().unwrap();
        let page = NewPage::new("p.png", "p.jpg", 10, 10);
        let sub = exams::insert_submission(&tx, self.exam, "s", "s.png", &[page]).unwrap();
        let page_id: i64 = tx
            .query_row(
                "SELECT id FROM pages WHERE submission_id = ?1",
                [sub],
                |r| r.get(0),
            )
            .unwrap();
        let (item, _) = exams::insert_item(
            &tx,
            sub,
            page_id,
            self.question,
            Bbox {
                x: 0.0,
                y: 0.0,
                w: 1.0,
                h: 1.0,
            },
            "c.png",
        )
        .unwrap();
        let job = queue::enqueue(&tx, &NewJob::grade_item(item), self.now).unwrap();
        tx.commit().unwrap();
        self.current.push((sub, item));
        self.push_job(job, item);
    }

    fn push_job(&mut self, id: i64, item: i64) {
        self.jobs.push(Job {
            id,
            item,
            state: State::Queued,
            attempts: 0,
            max_attempts: queue::DEFAULT_MAX_ATTEMPTS,
            run_at: self.now,
            priority: 0,
            lease_until: 0,
        });
    }

    fn recrop(&mut self, rng: &mut StdRng) {
        if self.current.is_empty() {
            return;
        }
        let index = rng.gen_range(0..self.current.len());
        let (sub, old_item) = self.current[index];
        let tx = self.conn.transaction().unwrap();
        let page_id: i64 = tx
            .query_row(
                "SELECT id FROM pages WHERE submission_id = ?1",
                [sub],
                |r| r.get(0),
            )
            .unwrap();
        let (item, superseded) = exams::insert_item(
            &tx,
            sub,
            page_id,
            self.question,
            Bbox {
                x: 0.1,
                y: 0.1,
                w: 0.5,
                h: 0.5,
            },
            "c2.png",
        )
        .unwrap();
        assert_eq!(superseded, vec![old_item]);
        let cancelled = queue::cancel_for_item(&tx, old_item, self.now).unwrap();
        let job = queue::enqueue(&tx, &NewJob::grade_item(item), self.now).unwrap();
        tx.commit().unwrap();
        let expected = self
            .jobs
            .iter_mut()
            .find(|j| j.item == old_item && matches!(j.state, State::Queued | State::Running(_)));
        assert_eq!(cancelled, expected.as_ref().map(|j| j.id));
        if let Some(j) = expected {
            j.state = State::Cancelled;
        }
        self.current[index] = (sub, item);
        self.push_job(job, item);
    }

    fn claim(&mut self, worker: &str) {
        let got = queue::claim(&self.conn, worker, self.now, LEASE).unwrap();
        let expected = if self.paused {
            None
        } else {
            self.jobs
                .iter()
                .filter(|j| j.state == State::Queued && j.run_at <= self.now)
                .min_by_key(|j| (-j.priority, j.run_at, j.id))
                .map(|j| j.id)
        };
        assert_eq!(
            got.as_ref().map(|j| j.id),
            expected,
            "claim picks the most urgent due job"
        );
        if let Some(claimed) = got {
            let now = self.now;
            let job = self.job(claimed.id);
            job.attempts += 1;
            job.state = State::Running(worker.to_string());
            job.lease_until = now + LEASE;
            assert_eq!(claimed.attempts, job.attempts);
        }
    }

    fn job(&mut self, id: i64) -> &mut Job {
        self.jobs.iter_mut().find(|j| j.id == id).unwrap()
    }

    fn pick(&self, rng: &mut StdRng, want: impl Fn(&Job) -> bool) -> Option<i64> {
        let ids: Vec<i64> = self.jobs.iter().filter(|j| want(j)).map(|j| j.id).collect();
        (!ids.is_empty()).then(|| ids[rng.gen_range(0..ids.len())])
    }

    /// A finishing move on a running job, by its owner or (sometimes) by a stale one.
    fn finish(&mut self, rng: &mut StdRng) {
        let Some(id) = self
            .pick(rng, |j| matches!(j.state, State::Running(_)))
            .or_else(|| self.pick(rng, |_| true))
        else {
            return;
        };
        let (owner, running) = match &self.job(id).state {
            State::Running(owner) => (owner.clone(), true),
            _ => ("nobody".to_string(), false),
        };
        let stale = rng.gen_bool(0.2);
        let who = if stale {
            "stale-worker".to_string()
        } else {
            owner
        };
        let allowed = running && !stale;
        let now = self.now;
        match rng.gen_range(0..4) {
            0 => {
                let item = self.job(id).item;
                let tx = self.conn.transaction().unwrap();
                let ok = queue::complete(&tx, id, &who, now).unwrap();
                if ok {
                    let grade = NewGrade {
                        score: 1.0,
                        max_points: 2.0,
                        feedback: "f".into(),
                        transcription: "t".into(),
                        confidence: None,
                        needs_review: false,
                        review_reason: None,
                        model: "m".into(),
                        prompt_tokens: None,
                        output_tokens: None,
                        thoughts_tokens: None,
                        ..Default::default()
                    };
                    exams::insert_grade(&tx, item, id, &grade).unwrap();
                    tx.commit().unwrap();
                } else {
                    tx.rollback().unwrap();
                }
                assert_eq!(ok, allowed, "completion is fenced on the lease");
                if ok {
                    self.job(id).state = State::Succeeded;
                }
            }
            1 => {
                let at = now + rng.gen_range(0..3_000);
                assert_eq!(
                    queue::retry_later(&self.conn, id, &who, now, at, "busy").unwrap(),
                    allowed
                );
                if allowed {
                    let job = self.job(id);
                    job.state = if job.attempts >= job.max_attempts {
                        State::Dead
                    } else {
                        State::Queued
                    };
                    job.run_at = at;
                }
            }
            2 => {
                assert_eq!(
                    queue::bury(&self.conn, id, &who, now, "gave up").unwrap(),
                    allowed
                );
                if allowed {
                    self.job(id).state = State::Dead;
                }
            }
            _ => {
                assert_eq!(
                    queue::release(&self.conn, id, &who, now, now, Some("no key")).unwrap(),
                    allowed
                );
                if allowed {
                    let job = self.job(id);
                    job.state = State::Queued;
                    job.attempts = (job.attempts - 1).max(0);
                    job.run_at = now;
                }
            }
        }
    }

    fn cancel(&mut self, rng: &mut StdRng) {
        let Some(id) = self.pick(rng, |_| true) else {
            return;
        };
        let active = matches!(self.job(id).state, State::Queued | State::Running(_));
        assert_eq!(queue::cancel(&self.conn, id, self.now).unwrap(), active);
        if active {
            self.job(id).state = State::Cancelled;
        }
    }

    fn crash(&mut self, rng: &mut StdRng) {
        self.now += rng.gen_range(0..2 * LEASE);
        let now = self.now;
        let rescued = queue::rescue_expired(&self.conn, now).unwrap();
        let mut expected: Vec<i64> = Vec::new();
        for job in self.jobs.iter_mut() {
            if matches!(job.state, State::Running(_)) && job.lease_until < now {
                expected.push(job.id);
                job.state = if job.attempts >= job.max_attempts {
                    State::Dead
                } else {
                    State::Queued
                };
            }
        }
        let mut got: Vec<i64> = rescued.iter().map(|(id, _)| *id).collect();
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected, "exactly the expired leases are rescued");
    }

    fn prioritize(&mut self, rng: &mut StdRng) {
        let Some(id) = self.pick(rng, |_| true) else {
            return;
        };
        let queued = self.job(id).state == State::Queued;
        assert_eq!(
            queue::prioritize(&self.conn, id, 100, self.now).unwrap(),
            queued
        );
        if queued {
            let now = self.now;
            let job = self.job(id);
            job.priority = 100;
            job.run_at = job.run_at.min(now);
        }
    }

    fn retry_dead(&mut self, rng: &mut StdRng) {
        let Some(id) = self.pick(rng, |j| j.state == State::Dead) else {
            return;
        };
        let item = self.job(id).item;
        let other_active = self.jobs.iter().any(|j| {
            j.item == item && j.id != id && matches!(j.state, State::Queued | State::Running(_))
        });
        assert_eq!(
            queue::retry_dead(&self.conn, id, self.now).unwrap(),
            !other_active
        );
        if !other_active {
            let now = self.now;
            let job = self.job(id);
            job.state = State::Queued;
            job.attempts = 0;
            job.run_at = now;
        }
    }

    fn check(&self) {
        let mut stmt = self
            .conn
            .prepare("SELECT id, state, lease_owner, attempts FROM jobs ORDER BY id")
            .unwrap();
        let rows: Vec<(i64, String, Option<String>, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), self.jobs.len());
        for ((id, state, owner, attempts), job) in rows.iter().zip(&self.jobs) {
            assert_eq!(*id, job.id);
            let (want_state, want_owner) = match &job.state {
                State::Queued => ("queued", None),
                State::Running(o) => ("running", Some(o.clone())),
                State::Succeeded => ("succeeded", None),
                State::Dead => ("dead", None),
                State::Cancelled => ("cancelled", None),
            };
            assert_eq!(
                (state.as_str(), owner.clone(), *attempts),
                (want_state, want_owner, job.attempts),
                "job {id}"
            );
            assert!(*attempts <= job.max_attempts);
        }
        let invariants: (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT
                   (SELECT count(*) FROM (SELECT item_id FROM jobs WHERE state IN ('queued','running') GROUP BY item_id HAVING count(*) > 1)),
                   (SELECT count(*) FROM jobs j WHERE j.state = 'succeeded' AND NOT EXISTS (SELECT 1 FROM grades g WHERE g.job_id = j.id)),
                   (SELECT count(*) FROM grades g JOIN jobs j ON j.id = g.job_id WHERE j.state <> 'succeeded')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            invariants,
            (0, 0, 0),
            "one live job per answer; a grade for each success and only for successes"
        );
    }
}

#[test]
fn random_operation_sequences_keep_the_queue_invariants() {
    for seed in 0..60u64 {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut world = World::new(&store);
        let mut rng = StdRng::seed_from_u64(seed);
        for _step in 0..250 {
            match rng.gen_range(0..100) {
                0..=14 => world.new_answer(),
                15..=19 => world.recrop(&mut rng),
                20..=44 => {
                    let worker = format!("w{}", rng.gen_range(0..3));
                    world.claim(&worker);
                }
                45..=69 => world.finish(&mut rng),
                70..=74 => world.cancel(&mut rng),
                75..=79 => {
                    world.paused = !world.paused;
                    if world.paused {
                        queue::pause(&world.conn, PauseScope::All, "test", None, world.now)
                            .unwrap();
                    } else {
                        assert!(queue::resume(&world.conn, PauseScope::All).unwrap());
                    }
                }
                80..=87 => world.crash(&mut rng),
                88..=92 => world.prioritize(&mut rng),
                93..=96 => world.retry_dead(&mut rng),
                _ => world.now += rng.gen_range(0..1_500),
            }
            world.check();
        }
    }
}
