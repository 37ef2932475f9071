//! Opening the SQLite file every process shares, and keeping its schema current.
//!
//! One connection per process, behind a mutex: SQLite serialises writers anyway, and a single
//! connection keeps the prepared-statement cache warm. Callers run store work on a blocking
//! thread (`Store::run`), never on the async executor.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use rusqlite_migration::{Migrations, M};

/// Errors from the storage layer, worded for the person who has to fix them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the GradeDesk database could not be used: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the GradeDesk database could not be upgraded: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("the data folder {path} could not be used: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a background task stopped unexpectedly")]
    Join,
}

/// Forward-only migrations: append, never edit, so every data dir upgrades the same way.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_initial.sql")),
        M::up(include_str!("migrations/0002_queue_control.sql")),
        M::up(include_str!("migrations/0003_grading.sql")),
        M::up(include_str!("migrations/0004_imaging.sql")),
        M::up(include_str!("migrations/0005_overrides.sql")),
        M::up(include_str!("migrations/0006_templates.sql")),
        M::up(include_str!("migrations/0007_batches.sql")),
        M::up(include_str!("migrations/0008_split_review.sql")),
        // Rebuilds `jobs`: run with foreign keys off, checked before it commits.
        M::up(include_str!("migrations/0009_roster.sql")).foreign_key_check(),
        M::up(include_str!("migrations/0010_rubric_items.sql")),
    ])
}

/// The shared handle to one data dir's database.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    /// Transactions this process committed: tells a pool when the WAL has grown enough to
    /// be worth a checkpoint.
    commits: Arc<AtomicU64>,
}

/// Creates `dir` and any missing parents readable by the user only (0700 on Unix): the
/// data dir holds students' work and names, the logs what was graded, the config dir the
/// key file. A folder that already exists is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

impl Store {
    /// Opens (creating if needed, private to the user) `gradedesk.sqlite3` in `data_dir`
    /// and migrates it.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        create_private_dir(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join("gradedesk.sqlite3");
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        // Two processes may start on a fresh dir at once: migrate under a write lock.
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")?;
        // Foreign keys off while migrating: a migration that rebuilds a table others refer
        // to (SQLite's documented way to change a CHECK) must not cascade or fail on the
        // drop; each such migration checks the keys itself before it commits.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        migrations().to_latest(&mut conn)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        conn.commit_hook(Some(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        }));
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
            commits,
        })
    }

    /// Where the database file lives (tests and integrity checks use it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Locks the connection for synchronous work. Prefer [`Store::run`] from async code.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent (it rolls back
        // unfinished transactions), so a poisoned mutex is safe to keep using.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs blocking database work on tokio's blocking pool.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = store.lock();
            work(&mut conn)
        })
        .await
        .map_err(|_| E::from(StoreError::Join))?
    }

    /// Runs short work (one claim) on the calling thread when the connection is free this
    /// instant and SQLite would not make it wait; `None` means "take the slow path"
    /// ([`Store::run`]). Saves the hand-off to a blocking thread, which is most of the time
    /// between an enqueue and the job starting in an idle pool.
    pub fn try_now<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Option<Result<T, StoreError>> {
        let mut conn = match self.conn.try_lock() {
            Ok(conn) => conn,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        // Another process writing: fail at once instead of sleeping on this thread.
        conn.busy_timeout(Duration::ZERO).ok()?;
        let result = work(&mut conn);
        if let Err(e) = conn.busy_timeout(BUSY_TIMEOUT) {
            return Some(Err(e.into()));
        }
        match result {
            Err(StoreError::Sqlite(e))
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) =>
            {
                None
            }
            other => Some(other),
        }
    }

    /// How many transactions this process has committed since it opened the store.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// A second connection that only moves the WAL into the database file (see
    /// [`Checkpointer`]).
    pub fn checkpointer(&self) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(Checkpointer { conn })
    }

    /// SQLite's counter of commits made by *other* connections: lets a process notice work
    /// that another process (the CLI beside the window) added, without polling tables.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .lock()
            .query_row("PRAGMA data_version", [], |row| row.get(0))?)
    }
}

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// WAL pages after which a committing writer checkpoints by itself. SQLite's default (1000)
/// put a checkpoint — two fsyncs, ~10 ms here — inside every few hundred job commits; a pool
/// checkpoints from its own connection instead (see [`Checkpointer`]) and this only bounds
/// the WAL (~40 MB) for processes that run no pool.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// Moves committed pages from the WAL into the database file on its own connection, so the
/// fsyncs of a checkpoint never sit inside a job's commit. PASSIVE: it never blocks writers.
pub struct Checkpointer {
    conn: Connection,
}

impl Checkpointer {
    /// Checkpoints what it can without waiting; returns the WAL pages moved.
    pub fn passive(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(2))?)
    }
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL in WAL mode keeps every committed transaction across a process crash (SIGKILL);
    // only an OS crash or power loss can lose the last commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Milliseconds since the Unix epoch: the one time unit stored in the database.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data dir from before the roster (version 8) upgrades with its jobs, grades and
    /// batch requests intact: the jobs table is rebuilt under them.
    #[test]
    fn a_version_8_data_dir_keeps_its_jobs_through_the_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path()).unwrap();
        {
            let mut conn = Connection::open(dir.path().join("gradedesk.sqlite3")).unwrap();
            migrations().to_version(&mut conn, 8).unwrap();
            conn.execute_batch(
                "INSERT INTO exams (id, name, created_at) VALUES (1, 'E', 0);
                 INSERT INTO questions (id, exam_id, position, label, prompt, max_points) VALUES (1, 1, 0, 'Q1', 'p', 2);
                 INSERT INTO submissions (id, exam_id, student, file_name, created_at) VALUES (1, 1, 'S', 'f', 0);
                 INSERT INTO pages (id, submission_id, number, path, preview_path, width, height) VALUES (1, 1, 1, 'p', 'p', 10, 10);
                 INSERT INTO items (id, submission_id, page_id, question_id, x, y, w, h, crop_path, created_at)
                     VALUES (1, 1, 1, 1, 0, 0, 1, 1, 'c', 0);
                 INSERT INTO jobs (id, kind, item_id, exam_id, state, run_at, created_at, updated_at, finished_at)
                     VALUES (7, 'GRADE_ITEM', 1, 1, 'succeeded', 0, 0, 0, 5);
                 INSERT INTO grades (item_id, job_id, score, max_points, feedback, transcription, model, created_at)
                     VALUES (1, 7, 1.5, 2, 'f', 't', 'm', 0);",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let conn = store.lock();
        let (kind, state): (String, String) = conn
            .query_row("SELECT kind, state FROM jobs WHERE id = 7", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((kind.as_str(), state.as_str()), ("GRADE_ITEM", "succeeded"));
        let job: i64 = conn
            .query_row("SELECT job_id FROM grades WHERE item_id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(job, 7);
        let fk: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(fk, "foreign keys are on again after migrating");
        // The new kind is allowed, and one live reading per script.
        conn.execute(
            "INSERT INTO jobs (kind, submission_id, exam_id, state, run_at, created_at, updated_at)
             VALUES ('READ_NAME', 1, 1, 'queued', 0, 0, 0)",
            [],
        )
        .unwrap();
        assert!(conn
            .execute(
                "INSERT INTO jobs (kind, submission_id, exam_id, state, run_at, created_at, updated_at)
                 VALUES ('READ_NAME', 1, 1, 'queued', 0, 0, 0)",
                [],
            )
            .is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_new_data_dir_is_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new").join("data");
        Store::open(&data).unwrap();
        for d in [&data, &dir.path().join("new")] {
            let mode = std::fs::metadata(d).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", d.display());
        }
    }

    #[test]
    fn opens_twice_and_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(dir.path()).unwrap();
        let b = Store::open(dir.path()).unwrap();
        let mode: String = a
            .lock()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: i64 = b
            .lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        // One schema version per migration file, whichever branches added them.
        let files = std::fs::read_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src-tauri/src/migrations"
        ))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
        assert_eq!(version as usize, files);
    }
}
