//! Shared set-up for the integration tests: data dirs with exams, scans and answers made
//! in-process through the library (`scans` makes the scans), the CLI binary run as a real
//! process in an isolated environment (`cli`), and waiting on conditions with a limit (`wait`).
#![allow(dead_code)]

pub mod cli;
pub mod scans;
pub mod wait;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gradedesk::exams::{Bbox, QuestionInput};
use gradedesk::grading::gemini::{GeminiConfig, GeminiGrader};
use gradedesk::grading::ApiKey;
use gradedesk::jobs::GradingRunner;
use gradedesk::worker::{Pool, PoolConfig};
use gradedesk::workspace::Workspace;
use tokio_util::sync::CancellationToken;

// Each test file uses some of these.
#[allow(unused_imports)]
pub use cli::{assert_no_key_in, signal, stderr, stdout_json, Cli};
#[allow(unused_imports)]
pub use wait::{drained, wait_until};

/// `students` submissions × `questions` answers, all queued for grading. Returns the
/// workspace and the item ids.
pub async fn queued_answers(
    data: &Path,
    students: u32,
    questions: u32,
) -> (Arc<Workspace>, Vec<i64>) {
    let ws = Workspace::open(data).unwrap();
    let qs: Vec<QuestionInput> = (1..=questions)
        .map(|i| {
            QuestionInput::plain(
                &format!("Q{i}"),
                &format!("Question {i}"),
                2.0 + f64::from(i % 3),
            )
        })
        .collect();
    let exam = ws.create_exam("Load".into(), qs).await.unwrap();
    let mut items = Vec::new();
    for s in 0..students {
        let sub = ws
            .import_bytes(
                exam,
                &format!("student-{s}.png"),
                scans::level_page_png(s + 1, 1240, 1760),
            )
            .await
            .unwrap();
        for q in 0..questions {
            let y = f64::from(q) / f64::from(questions);
            let bbox = Bbox {
                x: 0.05,
                y,
                w: 0.9,
                h: 1.0 / f64::from(questions),
            };
            let crop = ws
                .create_item(sub.submission_id, 1, &format!("Q{}", q + 1), bbox)
                .await
                .unwrap();
            items.push(crop.item_id);
        }
    }
    (ws, items)
}

/// An in-process pool grading through Gemini's REST API at `base_url` with the test key.
pub fn gemini_pool(ws: &Arc<Workspace>, base_url: String, concurrency: usize) -> Arc<Pool> {
    let grader = GeminiGrader::new(GeminiConfig::new(
        base_url,
        "gemini-2.5-flash",
        ApiKey::new(Some("test-key".into())),
    ))
    .unwrap();
    let runner = GradingRunner::new(ws, Arc::new(grader));
    Pool::new(
        ws.clone(),
        Arc::new(runner),
        PoolConfig {
            concurrency,
            ..PoolConfig::default()
        },
    )
}

/// Runs an in-process pool on a data dir until its queue is drained, then stops it.
pub async fn run_until_drained(pool: Arc<Pool>, data: &Path, limit: Duration) {
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(pool.run(shutdown.clone()));
    drained(data, limit).await;
    shutdown.cancel();
    running.await.unwrap();
}

/// The database file of a data dir.
pub fn db(data: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(data.join("gradedesk.sqlite3")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    conn
}

/// A current answer: item id, crop file, question max, stored score and transcription.
pub type GradedRow = (i64, PathBuf, f64, Option<f64>, Option<String>);

/// Each current answer with its grade (None if ungraded).
pub fn graded(conn: &rusqlite::Connection) -> Vec<GradedRow> {
    let mut stmt = conn
        .prepare(
            "SELECT i.id, i.crop_path, q.max_points, g.score, g.transcription FROM items i
             JOIN questions q ON q.id = i.question_id LEFT JOIN grades g ON g.item_id = i.id
             WHERE i.superseded_at IS NULL ORDER BY i.id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            PathBuf::from(r.get::<_, String>(1)?),
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}
