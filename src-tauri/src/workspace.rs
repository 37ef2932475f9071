//! One opened data dir: its database, its files and its event hub. Every front end (the
//! window, the CLI, tests) works through this, so they all behave the same.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng;
use serde::Serialize;
use tokio::sync::Notify;

use crate::events::{EventBody, EventHub};
use crate::exams::{
    self, Bbox, Exam, ExamError, ItemView, PageFiles, PageInfo, QuestionInput, SubmissionSummary,
};
use crate::imaging::{self, ImagingError};
use crate::queue::{self, Counts, NewJob, PauseScope};
use crate::store::{now_ms, Store, StoreError};

/// Every error a front end may show, with a stable code for the UI.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Exam(#[from] ExamError),
    #[error(transparent)]
    Imaging(#[from] ImagingError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

impl From<rusqlite::Error> for DeskError {
    fn from(e: rusqlite::Error) -> Self {
        DeskError::Store(StoreError::Sqlite(e))
    }
}

impl DeskError {
    /// A short machine-readable kind, so the UI can react without parsing sentences.
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::Exam(ExamError::NotFound(_)) => "not_found",
            DeskError::Exam(ExamError::Invalid(_)) | DeskError::Invalid(_) => "invalid",
            DeskError::Imaging(ImagingError::BadInput { .. }) => "bad_file",
            DeskError::Imaging(ImagingError::BadBox(_)) => "bad_box",
            DeskError::Imaging(_) => "io",
            DeskError::Exam(ExamError::Store(_)) | DeskError::Store(_) => "storage",
        }
    }
}

/// What an import produced (the CLI prints it, the UI lists it).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportResult {
    pub submission_id: i64,
    pub file: String,
    pub pages: usize,
}

/// The answer region and its grading job, just created.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct CropResult {
    pub item_id: i64,
    pub job_id: i64,
}

/// Everything the UI shows, as of `seq`: events with a higher seq apply on top.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub seq: u64,
    pub exams: Vec<Exam>,
    pub submissions: Vec<SubmissionSummary>,
    pub items: Vec<ItemView>,
    pub counts: Counts,
}

/// One submission with its pages and answers, for the crop page.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionDetail {
    pub submission: SubmissionSummary,
    pub pages: Vec<PageInfo>,
    pub items: Vec<ItemView>,
}

/// An opened data dir.
pub struct Workspace {
    pub data_dir: PathBuf,
    pub store: Store,
    pub events: Arc<EventHub>,
    /// Wakes idle workers the moment a job is added.
    pub wake: Arc<Notify>,
}

impl Workspace {
    /// Opens or creates the data dir.
    pub fn open(data_dir: &Path) -> Result<Arc<Self>, DeskError> {
        let store = Store::open(data_dir)?;
        Ok(Arc::new(Self {
            data_dir: data_dir.to_path_buf(),
            store,
            events: EventHub::new(),
            wake: Arc::new(Notify::new()),
        }))
    }

    /// Where logs go: beside the data, so a teacher can send one folder.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// Stores an exam and its questions.
    pub async fn create_exam(
        &self,
        name: String,
        questions: Vec<QuestionInput>,
    ) -> Result<i64, DeskError> {
        let id = self
            .store
            .run(move |conn| -> Result<i64, DeskError> {
                let tx = conn.transaction()?;
                let id = exams::create_exam(&tx, &name, &questions)?;
                tx.commit()?;
                Ok(id)
            })
            .await?;
        self.events.emit(EventBody::Changed {
            what: "exams".into(),
        });
        Ok(id)
    }

    /// Imports one scan from disk (its size is checked before it is read).
    pub async fn import_path(&self, exam_id: i64, path: &Path) -> Result<ImportResult, DeskError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.import_source(
            exam_id,
            &name,
            imaging::ScanSource::Path(path.to_path_buf()),
        )
        .await
    }

    /// Imports one scan's bytes (from the window).
    pub async fn import_bytes(
        &self,
        exam_id: i64,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<ImportResult, DeskError> {
        self.import_source(exam_id, file_name, imaging::ScanSource::Bytes(bytes))
            .await
    }

    /// Checks and imports every page of a scan, one page in memory at a time, then stores
    /// the submission, its pages and (when a page is too coarse or skewed) its
    /// UPSCALE_SUBMISSION job in one transaction. On any failure nothing of it stays
    /// behind, on disk or in the database.
    async fn import_source(
        &self,
        exam_id: i64,
        file_name: &str,
        source: imaging::ScanSource,
    ) -> Result<ImportResult, DeskError> {
        {
            let conn_store = self.store.clone();
            conn_store
                .run(move |conn| exams::require_exam(conn, exam_id))
                .await?;
        }
        let file_name = sanitize_name(file_name);
        let scans = self.data_dir.join("scans");
        let dir = scans.join(random_token());
        let (name, target) = (file_name.clone(), dir.clone());
        let started = std::time::Instant::now();
        let imported = tokio::task::spawn_blocking(move || {
            imaging::import::sweep_abandoned(&scans, std::time::Duration::from_secs(3600));
            imaging::import_scan(&name, source, &target)
        })
        .await
        .map_err(|_| DeskError::Store(StoreError::Join))??;
        let student = student_from_file_name(&file_name);
        let (name, page_count) = (file_name.clone(), imported.len());
        let needs_enhancement = imported.iter().any(|p| p.assessment.needs_enhance());
        let new_pages: Vec<exams::NewPage> = imported
            .into_iter()
            .map(|p| exams::NewPage {
                path: p.path.to_string_lossy().into_owned(),
                preview_path: p.preview_path.to_string_lossy().into_owned(),
                thumb_path: Some(p.thumb_path.to_string_lossy().into_owned()),
                width: p.width,
                height: p.height,
                dpi: Some(p.assessment.dpi),
                skew_deg: Some(p.assessment.skew_deg),
                needs_enhancement: p.assessment.needs_enhance(),
            })
            .collect();
        let inserted = self
            .store
            .run(move |conn| -> Result<i64, DeskError> {
                let tx = conn.transaction()?;
                let id = exams::insert_submission(&tx, exam_id, &student, &name, &new_pages)?;
                if needs_enhancement {
                    let job = NewJob {
                        kind: queue::JobKind::UpscaleSubmission,
                        item_id: None,
                        submission_id: Some(id),
                        // Before grading: crops of these pages wait for it.
                        priority: 10,
                        max_attempts: queue::DEFAULT_MAX_ATTEMPTS,
                    };
                    queue::enqueue(&tx, &job, now_ms())?;
                }
                tx.commit()?;
                Ok(id)
            })
            .await;
        let submission_id = match inserted {
            Ok(id) => id,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        imaging::import::finish(&dir);
        tracing::info!(
            file = %file_name,
            pages = page_count,
            ms = started.elapsed().as_millis() as u64,
            needs_enhancement,
            "imported"
        );
        if needs_enhancement {
            self.wake.notify_waiters();
        }
        self.events.emit(EventBody::Changed {
            what: "submissions".into(),
        });
        Ok(ImportResult {
            submission_id,
            file: file_name,
            pages: page_count,
        })
    }

    /// Crops an answer region and queues its grading, in one transaction; wakes a worker.
    /// A second box for the same question supersedes the first and cancels its job.
    pub async fn create_item(
        &self,
        submission_id: i64,
        page_number: i64,
        question_label: &str,
        bbox: Bbox,
    ) -> Result<CropResult, DeskError> {
        let label = question_label.to_string();
        let (page, question) = self
            .store
            .run(
                move |conn| -> Result<(PageFiles, exams::Question), DeskError> {
                    let page = exams::page_by_number(conn, submission_id, page_number)?;
                    let question = exams::question_for_submission(conn, submission_id, &label)?;
                    Ok((page, question))
                },
            )
            .await?;
        // A page still waiting for its enhancement is enhanced now (the queued job then
        // finds nothing to do): a crop is always cut from the page the grader should see.
        let page = if page.enhancement_pending {
            let (store, page_id) = (self.store.clone(), page.id);
            tokio::task::spawn_blocking(move || imaging::enhance::enhance_page(&store, page_id))
                .await
                .map_err(|_| DeskError::Store(StoreError::Join))??;
            self.store
                .run(move |conn| exams::page_by_id(conn, page_id))
                .await?
        } else {
            page
        };
        imaging::pixel_rect(bbox, page.width, page.height)?;
        let clamped = imaging::clamp_bbox(bbox);
        let crop_path = self.data_dir.join("crops").join(format!(
            "s{submission_id}-p{page_number}-{}.png",
            random_token()
        ));
        let (source, target) = (PathBuf::from(&page.path), crop_path.clone());
        tokio::task::spawn_blocking(move || imaging::crop_to_file(&source, clamped, &target))
            .await
            .map_err(|_| DeskError::Store(StoreError::Join))??;
        let crop_str = crop_path.to_string_lossy().into_owned();
        let created = self
            .store
            .run(move |conn| -> Result<(CropResult, Vec<i64>), DeskError> {
                let tx = conn.transaction()?;
                let now = now_ms();
                let (item_id, superseded) = exams::insert_item(
                    &tx,
                    submission_id,
                    page.id,
                    question.id,
                    clamped,
                    &crop_str,
                )?;
                for old in &superseded {
                    queue::cancel_for_item(&tx, *old, now)?;
                }
                let job_id = queue::enqueue(&tx, &NewJob::grade_item(item_id), now)?;
                tx.commit()?;
                Ok((CropResult { item_id, job_id }, superseded))
            })
            .await;
        let (result, superseded) = match created {
            Ok(created) => created,
            Err(e) => {
                let _ = std::fs::remove_file(&crop_path);
                return Err(e);
            }
        };
        self.wake.notify_waiters();
        for old in superseded {
            self.emit_item(old).await;
        }
        self.emit_item(result.item_id).await;
        Ok(result)
    }

    /// Sends the current view of one answer to every front end.
    pub async fn emit_item(&self, item_id: i64) {
        let view = self
            .store
            .run(move |conn| exams::item_view(conn, item_id))
            .await;
        if let Ok(item) = view {
            self.events.emit(EventBody::Item { item });
        }
    }

    /// Tells front ends that another process changed the data (the CLI beside the window).
    pub fn note_external_change(&self) {
        self.events.emit(EventBody::Changed { what: "all".into() });
    }

    /// The whole state the UI shows, with the seq it is current to.
    pub async fn snapshot(&self) -> Result<Snapshot, DeskError> {
        // Read seq first: an event racing with the reads is then re-applied, never lost.
        let seq = self.events.current_seq();
        self.store
            .run(move |conn| -> Result<Snapshot, DeskError> {
                Ok(Snapshot {
                    seq,
                    exams: exams::list_exams(conn)?,
                    submissions: exams::list_submissions(conn)?,
                    items: exams::item_views(conn, None)?,
                    counts: queue::counts(conn)?,
                })
            })
            .await
    }

    /// The exams with their questions (without the rest of the snapshot).
    pub async fn exams(&self) -> Result<Vec<Exam>, DeskError> {
        Ok(self.store.run(|conn| exams::list_exams(conn)).await?)
    }

    /// One submission with its pages and answers.
    pub async fn submission_detail(
        &self,
        submission_id: i64,
    ) -> Result<SubmissionDetail, DeskError> {
        self.store
            .run(move |conn| -> Result<SubmissionDetail, DeskError> {
                Ok(SubmissionDetail {
                    submission: exams::submission(conn, submission_id)?,
                    pages: exams::pages(conn, submission_id)?,
                    items: exams::item_views(conn, Some(submission_id))?,
                })
            })
            .await
    }

    /// Stops new grading (all, or one exam's) in every process until resumed.
    pub async fn pause(&self, scope: PauseScope, reason: String) -> Result<(), DeskError> {
        self.store
            .run(move |conn| queue::pause(conn, scope, &reason, None, now_ms()))
            .await?;
        self.events.emit(EventBody::Changed {
            what: "queue".into(),
        });
        Ok(())
    }

    /// Lifts a pause; returns whether there was one.
    pub async fn resume(&self, scope: PauseScope) -> Result<bool, DeskError> {
        let was = self
            .store
            .run(move |conn| queue::resume(conn, scope))
            .await?;
        self.wake.notify_waiters();
        self.events.emit(EventBody::Changed {
            what: "queue".into(),
        });
        Ok(was)
    }

    /// The live job of an answer, or a clear error when it has none.
    pub async fn active_job(&self, item_id: i64) -> Result<i64, DeskError> {
        self.store
            .run(move |conn| queue::active_job_for_item(conn, item_id))
            .await?
            .ok_or_else(|| DeskError::Invalid(format!("answer {item_id} is not queued or grading")))
    }

    /// Cancels an answer's grading from a process without a pool (the CLI); a running
    /// worker elsewhere notices and aborts.
    pub async fn cancel_item(&self, item_id: i64) -> Result<(), DeskError> {
        let job = self.active_job(item_id).await?;
        self.store
            .run(move |conn| queue::cancel(conn, job, now_ms()))
            .await?;
        self.emit_item(item_id).await;
        Ok(())
    }

    /// "Grade this one now": the answer's job jumps the queue.
    pub async fn prioritize_item(&self, item_id: i64) -> Result<(), DeskError> {
        let job = self.active_job(item_id).await?;
        let moved = self
            .store
            .run(move |conn| queue::prioritize(conn, job, 100, now_ms()))
            .await?;
        if !moved {
            return Err(DeskError::Invalid(format!(
                "answer {item_id} is already being graded"
            )));
        }
        self.wake.notify_waiters();
        Ok(())
    }

    /// Jobs given up on, with their reasons.
    pub async fn dead_jobs(&self) -> Result<Vec<queue::DeadJob>, DeskError> {
        Ok(self.store.run(|conn| queue::dead_jobs(conn)).await?)
    }

    /// Gives failed jobs (one, or all when `job_id` is None) a fresh set of attempts;
    /// returns how many were queued again.
    pub async fn retry_dead(&self, job_id: Option<i64>) -> Result<usize, DeskError> {
        let retried = self
            .store
            .run(move |conn| -> Result<Vec<Option<i64>>, DeskError> {
                let jobs = queue::dead_jobs(conn)?;
                let mut items = Vec::new();
                for job in jobs
                    .iter()
                    .filter(|j| job_id.is_none_or(|id| id == j.job_id))
                {
                    if queue::retry_dead(conn, job.job_id, now_ms())? {
                        items.push(job.item_id);
                    }
                }
                Ok(items)
            })
            .await?;
        self.wake.notify_waiters();
        for item in retried.iter().flatten() {
            self.emit_item(*item).await;
        }
        Ok(retried.len())
    }

    /// Job counts by state.
    pub async fn counts(&self) -> Result<Counts, DeskError> {
        Ok(self.store.run(|conn| queue::counts(conn)).await?)
    }
}

/// A short random name for files, so concurrent processes never collide.
fn random_token() -> String {
    format!(
        "{:012x}",
        rand::thread_rng().gen::<u64>() & 0xffff_ffff_ffff
    )
}

/// Keeps a file name printable and short: it is shown in lists and written to CSV.
fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(200)
        .collect();
    if cleaned.is_empty() {
        "unnamed scan".into()
    } else {
        cleaned
    }
}

/// The student's name until the teacher types it: the file name without its extension.
fn student_from_file_name(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| name.to_string())
}
