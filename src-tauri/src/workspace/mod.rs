//! One opened data dir: its database, its files and its event hub. Every front end (the
//! window, the CLI, tests) works through this, so they all behave the same.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng;
use serde::Serialize;
use tokio::sync::Notify;
use ts_rs::TS;

mod batches;
mod class;
mod drop;
mod grading;
mod handback;
mod layout;
mod roster;
mod rubric;
mod uploads;

pub use batches::{BatchOverview, ExamBatching};
pub use class::{ClassImport, ClassSubmission, TemplateSet};
pub use drop::{
    expand_scan_paths, DropReport, DroppedPaths, ExpandedPaths, FileNote, SCAN_EXTENSIONS,
};
pub use grading::{Estimate, SettingsView};
pub use handback::{default_export_dir, ExportDone};
pub use layout::{RegionImpact, SplitReview, SplitStudent, TemplateView, SPLIT_REVIEW_HOLD};
pub use roster::{MatchChoice, RosterImport, MAX_ROSTER_BYTES};
pub use rubric::{QuestionEdited, RubricEdit};

use crate::error::CoreError;
use crate::events::{Changed, EventBody, EventHub};
use crate::exams::{
    self, Bbox, Exam, ExamError, ItemView, PageFiles, PageInfo, Question, QuestionInput,
    SubmissionSummary,
};
use crate::imaging;
use crate::queue::{self, Counts, NewJob, PauseScope};
use crate::store::{now_ms, Store, StoreError};

/// A new exam's id (what `create_exam` answers, in the window and on the CLI).
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq)]
pub struct ExamCreated {
    pub exam_id: i64,
}

/// What an import produced (the CLI prints it, the UI lists it).
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct ImportResult {
    pub submission_id: i64,
    pub file: String,
    pub pages: usize,
}

/// The answer region and its grading job, just created.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, TS)]
pub struct CropResult {
    pub item_id: i64,
    pub job_id: i64,
}

/// Everything the UI shows, as of `seq`: events with a higher seq apply on top.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Snapshot {
    pub seq: u64,
    pub exams: Vec<Exam>,
    pub submissions: Vec<SubmissionView>,
    pub items: Vec<ItemView>,
    pub counts: Counts,
}

/// A submission in lists, with the revision of its first page's images (see [`PageView`]).
#[derive(Debug, Clone, Serialize, TS)]
pub struct SubmissionView {
    #[serde(flatten)]
    pub summary: SubmissionSummary,
    /// The first page's [`PageView::rev`]: part of its thumbnail's URL.
    pub first_page_rev: Option<String>,
}

/// A page as the crop page shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PageView {
    #[serde(flatten)]
    pub page: PageInfo,
    /// Changes whenever the page's preview and thumbnail are replaced (enhancement writes
    /// new ones under the same page id). The UI puts it in their `gdimg` URLs, so a
    /// replaced image is never shown from the webview's cache.
    pub rev: String,
}

/// One submission with its pages and answers, for the crop page.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SubmissionDetail {
    pub submission: SubmissionSummary,
    pub pages: Vec<PageView>,
    pub items: Vec<ItemView>,
}

/// An image file the window may show, found by id (never by a path from the page).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFile {
    pub path: PathBuf,
    pub mime_type: &'static str,
    /// The page's current [`PageView::rev`] (None for crops, which never change).
    pub rev: Option<String>,
}

/// The revision of a page's image files: a digest of their names, which enhancement
/// replaces (the names, not the contents, so nothing is read to compute it).
pub fn image_rev(files: &PageFiles) -> String {
    exams::files_rev(&files.preview_path, files.thumb_path.as_deref())
}

fn page_rev(conn: &rusqlite::Connection, page_id: i64) -> Result<String, ExamError> {
    Ok(image_rev(&exams::page_by_id(conn, page_id)?))
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
    pub fn open(data_dir: &Path) -> Result<Arc<Self>, CoreError> {
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
    ) -> Result<i64, CoreError> {
        let id = self
            .store
            .run(move |conn| -> Result<i64, CoreError> {
                let tx = conn.transaction()?;
                let id = exams::create_exam(&tx, &name, &questions)?;
                tx.commit()?;
                Ok(id)
            })
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Exams,
        });
        Ok(id)
    }

    /// Runs an edit of exams or questions in one transaction and tells every front end.
    async fn edit_exams<T: Send + 'static>(
        &self,
        edit: impl FnOnce(&rusqlite::Transaction) -> Result<T, ExamError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let out = self
            .store
            .run(move |conn| -> Result<T, CoreError> {
                let tx = conn.transaction()?;
                let out = edit(&tx)?;
                tx.commit()?;
                Ok(out)
            })
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Exams,
        });
        Ok(out)
    }

    /// Renames an exam.
    pub async fn update_exam(&self, exam_id: i64, name: String) -> Result<(), CoreError> {
        self.edit_exams(move |tx| exams::update_exam(tx, exam_id, &name))
            .await
    }

    /// Adds questions at the end of an exam (one from the editor, or a whole file), all or
    /// none.
    pub async fn add_questions(
        &self,
        exam_id: i64,
        questions: Vec<QuestionInput>,
    ) -> Result<Vec<Question>, CoreError> {
        self.edit_exams(move |tx| exams::add_questions(tx, exam_id, &questions))
            .await
    }

    /// Deletes a question nobody has answered (others are refused with the reason).
    pub async fn delete_question(&self, question_id: i64) -> Result<(), CoreError> {
        self.edit_exams(move |tx| exams::delete_question(tx, question_id))
            .await
    }

    /// Imports dropped files and folders: folders are expanded (see [`expand_scan_paths`]),
    /// then each scan is imported on its own, so one bad file never stops the others.
    pub async fn import_paths(&self, exam_id: i64, paths: Vec<PathBuf>) -> DropReport {
        let expanded = tokio::task::spawn_blocking(move || expand_scan_paths(&paths))
            .await
            .unwrap_or_default();
        let mut report = DropReport {
            imported: Vec::new(),
            skipped: expanded.skipped,
            failed: Vec::new(),
        };
        for path in expanded.scans {
            match self.import_path(exam_id, &path).await {
                Ok(done) => report.imported.push(done),
                Err(e) => report.failed.push(FileNote {
                    file: drop::display_name(&path),
                    reason: e.to_string(),
                }),
            }
        }
        report
    }

    /// Imports one scan from disk (its size is checked before it is read).
    pub async fn import_path(&self, exam_id: i64, path: &Path) -> Result<ImportResult, CoreError> {
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
    ) -> Result<ImportResult, CoreError> {
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
    ) -> Result<ImportResult, CoreError> {
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
        .map_err(|_| CoreError::Store(StoreError::Join))??;
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
            .run(move |conn| -> Result<i64, CoreError> {
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
            what: Changed::Submissions,
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
    ) -> Result<CropResult, CoreError> {
        self.crop_and_queue(submission_id, page_number, question_label, bbox, None)
            .await
    }

    /// The teacher moved, resized or reassigned an existing box: the new box is cut and
    /// queued and the old one removed (its job cancelled) in one transaction, so a failure
    /// leaves exactly the old box, never both or neither. The new box is on the old one's page.
    pub async fn recrop_item(
        &self,
        item_id: i64,
        question_label: &str,
        bbox: Bbox,
    ) -> Result<CropResult, CoreError> {
        // A box already removed is refused by `remove_item` inside the transaction.
        let old = self
            .store
            .run(move |conn| exams::item_view(conn, item_id))
            .await?;
        self.crop_and_queue(
            old.submission_id,
            old.page_number,
            question_label,
            bbox,
            Some(item_id),
        )
        .await
    }

    /// Cuts the box, then stores the item and its job, superseding the question's current
    /// answer and removing `replaces` (a re-crop), and announces every answer that changed.
    async fn crop_and_queue(
        &self,
        submission_id: i64,
        page_number: i64,
        question_label: &str,
        bbox: Bbox,
        replaces: Option<i64>,
    ) -> Result<CropResult, CoreError> {
        let label = question_label.to_string();
        let (page, question) = self
            .store
            .run(
                move |conn| -> Result<(PageFiles, exams::Question), CoreError> {
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
                .map_err(|_| CoreError::Store(StoreError::Join))??;
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
            .map_err(|_| CoreError::Store(StoreError::Join))??;
        let crop_str = crop_path.to_string_lossy().into_owned();
        let created = self
            .store
            .run(
                move |conn| -> Result<(CropResult, Vec<ItemView>), CoreError> {
                    let tx = conn.transaction()?;
                    let now = now_ms();
                    let (item_id, mut superseded) = exams::insert_item(
                        &tx,
                        submission_id,
                        page.id,
                        question.id,
                        clamped,
                        &crop_str,
                    )?;
                    // A box moved to another question was not superseded by the insert.
                    if let Some(old) = replaces.filter(|old| !superseded.contains(old)) {
                        exams::remove_item(&tx, old)?;
                        superseded.push(old);
                    }
                    for old in &superseded {
                        queue::cancel_for_item(&tx, *old, now)?;
                    }
                    let job_id = queue::enqueue(&tx, &NewJob::grade_item(item_id), now)?;
                    tx.commit()?;
                    // The views to announce, read under the same lock: no second trip.
                    let views = superseded
                        .iter()
                        .chain([&item_id])
                        .filter_map(|id| exams::item_view(conn, *id).ok())
                        .collect();
                    Ok((CropResult { item_id, job_id }, views))
                },
            )
            .await;
        let (result, views) = match created {
            Ok(created) => created,
            Err(e) => {
                let _ = std::fs::remove_file(&crop_path);
                return Err(e);
            }
        };
        self.wake.notify_waiters();
        for item in views {
            self.events.emit(EventBody::Item { item });
        }
        Ok(result)
    }

    /// Deletes an answer box the teacher no longer wants: its grading job is cancelled and the
    /// answer leaves the crop page, review and export, in one transaction; front ends get its
    /// last event (marked `removed`). A running worker finds its job cancelled and its
    /// result is refused by the fencing, as for a re-crop.
    pub async fn delete_item(&self, item_id: i64) -> Result<(), CoreError> {
        self.store
            .run(move |conn| -> Result<(), CoreError> {
                let tx = conn.transaction()?;
                exams::remove_item(&tx, item_id)?;
                queue::cancel_for_item(&tx, item_id, now_ms())?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        self.emit_item(item_id).await;
        Ok(())
    }

    /// Undoes a delete: the box comes back with its grade, or is queued again when the
    /// delete stopped its grading. Front ends get its view.
    pub async fn restore_item(&self, item_id: i64) -> Result<(), CoreError> {
        let requeued = self
            .store
            .run(move |conn| -> Result<bool, CoreError> {
                let tx = conn.transaction()?;
                let needs_grading = exams::restore_item(&tx, item_id)?;
                if needs_grading {
                    queue::enqueue(&tx, &NewJob::grade_item(item_id), now_ms())?;
                }
                tx.commit()?;
                Ok(needs_grading)
            })
            .await?;
        if requeued {
            self.wake.notify_waiters();
        }
        self.emit_item(item_id).await;
        Ok(())
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
        self.events.emit(EventBody::Changed { what: Changed::All });
    }

    /// The whole state the UI shows, with the seq it is current to.
    pub async fn snapshot(&self) -> Result<Snapshot, CoreError> {
        // Read seq first: an event racing with the reads is then re-applied, never lost.
        let seq = self.events.current_seq();
        self.store
            .run(move |conn| -> Result<Snapshot, CoreError> {
                Ok(Snapshot {
                    seq,
                    exams: exams::list_exams(conn)?,
                    submissions: exams::list_submissions(conn)?
                        .into_iter()
                        .map(|summary| {
                            let first_page_rev = summary
                                .first_page_id
                                .map(|id| page_rev(conn, id))
                                .transpose()?;
                            Ok(SubmissionView {
                                summary,
                                first_page_rev,
                            })
                        })
                        .collect::<Result<_, ExamError>>()?,
                    items: exams::item_views(conn, None)?,
                    counts: queue::counts(conn)?,
                })
            })
            .await
    }

    /// The exams with their questions (without the rest of the snapshot).
    pub async fn exams(&self) -> Result<Vec<Exam>, CoreError> {
        Ok(self.store.run(|conn| exams::list_exams(conn)).await?)
    }

    /// One submission with its pages and answers.
    pub async fn submission_detail(
        &self,
        submission_id: i64,
    ) -> Result<SubmissionDetail, CoreError> {
        self.store
            .run(move |conn| -> Result<SubmissionDetail, CoreError> {
                Ok(SubmissionDetail {
                    submission: exams::submission(conn, submission_id)?,
                    pages: exams::pages(conn, submission_id)?
                        .into_iter()
                        .map(|page| {
                            Ok(PageView {
                                rev: page_rev(conn, page.id)?,
                                page,
                            })
                        })
                        .collect::<Result<_, ExamError>>()?,
                    items: exams::item_views(conn, Some(submission_id))?,
                })
            })
            .await
    }

    /// Stops new grading (all, or one exam's) in every process until resumed.
    pub async fn pause(&self, scope: PauseScope, reason: String) -> Result<(), CoreError> {
        self.store
            .run(move |conn| queue::pause(conn, scope, &reason, None, now_ms()))
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Queue,
        });
        Ok(())
    }

    /// Lifts a pause; returns whether there was one.
    pub async fn resume(&self, scope: PauseScope) -> Result<bool, CoreError> {
        let was = self
            .store
            .run(move |conn| queue::resume(conn, scope))
            .await?;
        self.wake.notify_waiters();
        self.events.emit(EventBody::Changed {
            what: Changed::Queue,
        });
        Ok(was)
    }

    /// The live job of an answer, or a clear error when it has none.
    pub async fn active_job(&self, item_id: i64) -> Result<i64, CoreError> {
        self.store
            .run(move |conn| queue::active_job_for_item(conn, item_id))
            .await?
            .ok_or_else(|| CoreError::Invalid(format!("answer {item_id} is not queued or grading")))
    }

    /// Cancels an answer's grading from a process without a pool (the CLI); a running
    /// worker elsewhere notices and aborts.
    pub async fn cancel_item(&self, item_id: i64) -> Result<(), CoreError> {
        let job = self.active_job(item_id).await?;
        self.store
            .run(move |conn| queue::cancel(conn, job, now_ms()))
            .await?;
        self.emit_item(item_id).await;
        Ok(())
    }

    /// "Grade this one now": the answer's job jumps the queue.
    pub async fn prioritize_item(&self, item_id: i64) -> Result<(), CoreError> {
        let job = self.active_job(item_id).await?;
        let moved = self
            .store
            .run(move |conn| queue::prioritize(conn, job, 100, now_ms()))
            .await?;
        if !moved {
            return Err(CoreError::Invalid(format!(
                "answer {item_id} is already being graded"
            )));
        }
        self.wake.notify_waiters();
        Ok(())
    }

    /// Jobs given up on, with their reasons.
    pub async fn dead_jobs(&self) -> Result<Vec<queue::DeadJob>, CoreError> {
        Ok(self.store.run(|conn| queue::dead_jobs(conn)).await?)
    }

    /// Gives failed jobs (one, or all when `job_id` is None) a fresh set of attempts;
    /// returns how many were queued again.
    pub async fn retry_dead(&self, job_id: Option<i64>) -> Result<usize, CoreError> {
        let retried = self
            .store
            .run(move |conn| -> Result<Vec<Option<i64>>, CoreError> {
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

    /// The file behind an image the window shows by id: `page` (a preview), `thumb` (a
    /// thumbnail; the preview for pages imported before thumbnails existed), `crop` (an
    /// answer), `template` (a template page's preview), `loose` (an unassigned page's), `name` or
    /// `idbox` (a script's name or ID box, by submission). Blocking (one indexed lookup); None for an unknown kind or id.
    pub fn image_file(&self, kind: &str, id: i64) -> Option<ImageFile> {
        let conn = self.store.lock();
        let (path, mime_type, rev) = match kind {
            "page" => {
                let page = exams::page_by_id(&conn, id).ok()?;
                let rev = image_rev(&page);
                (page.preview_path, "image/jpeg", Some(rev))
            }
            "thumb" => {
                let page = exams::page_by_id(&conn, id).ok()?;
                let rev = image_rev(&page);
                (
                    page.thumb_path.unwrap_or(page.preview_path),
                    "image/jpeg",
                    Some(rev),
                )
            }
            "crop" => (exams::crop_path(&conn, id).ok()?, "image/png", None),
            // A template page (its id changes when the template is replaced).
            "template" => (exams::template_preview(&conn, id).ok()?, "image/jpeg", None),
            // A page no student got (its files never change under its id).
            "loose" => {
                let files = exams::loose_page(&conn, id).ok()?.2?;
                (files.preview_path, "image/jpeg", None)
            }
            // A script's name box and ID box (cut again under new names when pages move).
            "name" => (exams::name_crops(&conn, id).ok()?.0?, "image/png", None),
            "idbox" => (exams::name_crops(&conn, id).ok()?.1?, "image/png", None),
            _ => return None,
        };
        Some(ImageFile {
            path: PathBuf::from(path),
            mime_type,
            rev,
        })
    }

    /// The answers' grading jobs by state.
    pub async fn counts(&self) -> Result<Counts, CoreError> {
        Ok(self.store.run(|conn| queue::counts(conn)).await?)
    }

    /// How many jobs besides grading (name readings, page enhancement) are still to run.
    pub async fn other_work(&self) -> Result<i64, CoreError> {
        Ok(self.store.run(|conn| queue::other_work(conn)).await?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_drop_imports_each_scan_and_reports_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(&dir.path().join("data")).unwrap();
        let q = QuestionInput::plain("Q1", "p", 1.0);
        let exam = ws.create_exam("E".into(), vec![q]).await.unwrap();
        let drop = dir.path().join("drop");
        std::fs::create_dir_all(&drop).unwrap();
        image::RgbImage::from_pixel(800, 1100, image::Rgb([250, 250, 250]))
            .save(drop.join("ada.png"))
            .unwrap();
        std::fs::write(drop.join("broken.jpg"), b"not a jpeg").unwrap();
        std::fs::write(drop.join("readme.md"), b"hi").unwrap();
        let report = ws.import_paths(exam, vec![drop]).await;
        assert_eq!(report.imported.len(), 1, "{report:?}");
        assert_eq!(report.imported[0].file, "ada.png");
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.failed[0].file, "broken.jpg");
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].file, "readme.md");
    }

    /// A workspace with a two-question exam (Q1, Q2) and one imported one-page scan.
    async fn desk_with_one_scan() -> (tempfile::TempDir, Arc<Workspace>, i64, i64) {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(&dir.path().join("data")).unwrap();
        let questions = vec![
            QuestionInput::plain("Q1", "p", 1.0),
            QuestionInput::plain("Q2", "p", 1.0),
        ];
        let exam = ws.create_exam("E".into(), questions).await.unwrap();
        let scan = dir.path().join("ada.png");
        image::RgbImage::from_pixel(800, 1100, image::Rgb([250, 250, 250]))
            .save(&scan)
            .unwrap();
        let sub = ws.import_path(exam, &scan).await.unwrap().submission_id;
        (dir, ws, exam, sub)
    }

    #[tokio::test]
    async fn a_deleted_box_leaves_the_lists_its_job_is_cancelled_and_twice_is_refused() {
        let (_dir, ws, exam, sub) = desk_with_one_scan().await;
        let bbox = Bbox {
            x: 0.1,
            y: 0.1,
            w: 0.5,
            h: 0.2,
        };
        let gone = ws.create_item(sub, 1, "Q1", bbox).await.unwrap();
        let kept = ws.create_item(sub, 1, "Q2", bbox).await.unwrap();
        let sink = Arc::new(crate::events::CollectingSink::default());
        ws.events.add_sink(sink.clone());

        ws.delete_item(gone.item_id).await.unwrap();

        let ids = |views: Vec<ItemView>| views.iter().map(|v| v.item_id).collect::<Vec<_>>();
        let detail = ws.submission_detail(sub).await.unwrap();
        assert_eq!(ids(detail.items), [kept.item_id]);
        assert_eq!(ids(ws.snapshot().await.unwrap().items), [kept.item_id]);
        let book = ws
            .store
            .run(move |conn| exams::gradebook(conn, exam))
            .await
            .unwrap();
        assert_eq!(book.len(), 1);
        assert_eq!(book[0].question, "Q2");
        let (gone_id, gone_job) = (gone.item_id, gone.job_id);
        let (job_state, active) = ws
            .store
            .run(move |conn| -> Result<(String, Option<i64>), StoreError> {
                let state =
                    conn.query_row("SELECT state FROM jobs WHERE id = ?1", [gone_job], |r| {
                        r.get(0)
                    })?;
                Ok((state, queue::active_job_for_item(conn, gone_id)?))
            })
            .await
            .unwrap();
        assert_eq!(job_state, "cancelled");
        assert_eq!(active, None);
        let events = sink.events();
        assert_eq!(events.len(), 1, "{events:?}");
        match events[0].body.clone() {
            EventBody::Item { item } => {
                assert_eq!(item.item_id, gone.item_id);
                assert!(item.removed);
            }
            other => panic!("expected the item event, got {other:?}"),
        }

        let twice = ws.delete_item(gone.item_id).await.unwrap_err();
        assert_eq!(twice.code(), crate::error::ErrorCode::Invalid);
        assert!(twice.to_string().contains("already removed"), "{twice}");
        let missing = ws.delete_item(9999).await.unwrap_err();
        assert_eq!(missing.code(), crate::error::ErrorCode::NotFound);
        assert!(missing.to_string().contains("no answer number 9999"));
    }

    #[tokio::test]
    async fn a_recrop_replaces_the_box_in_one_step_and_a_failed_one_keeps_the_old_box() {
        let (_dir, ws, _, sub) = desk_with_one_scan().await;
        let bbox = |y: f64| Bbox {
            x: 0.1,
            y,
            w: 0.5,
            h: 0.2,
        };
        let q1 = ws.create_item(sub, 1, "Q1", bbox(0.1)).await.unwrap();
        let ids = |views: Vec<ItemView>| views.iter().map(|v| v.item_id).collect::<Vec<_>>();

        // Refused changes leave the old box exactly as it was.
        let empty = Bbox {
            w: 0.0,
            ..bbox(0.1)
        };
        let err = ws.recrop_item(q1.item_id, "Q1", empty).await.unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = ws
            .recrop_item(q1.item_id, "Q9", bbox(0.5))
            .await
            .unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::NotFound, "{err}");
        assert_eq!(
            ids(ws.submission_detail(sub).await.unwrap().items),
            [q1.item_id]
        );

        // Moved and resized, same question: the old box is superseded.
        let moved = ws.recrop_item(q1.item_id, "Q1", bbox(0.4)).await.unwrap();
        let detail = ws.submission_detail(sub).await.unwrap();
        assert_eq!(ids(detail.items.clone()), [moved.item_id]);
        assert!((detail.items[0].bbox.y - 0.4).abs() < 1e-9);

        // Reassigned to Q2, which already has a box: both old boxes go, in one call.
        let q2 = ws.create_item(sub, 1, "Q2", bbox(0.7)).await.unwrap();
        let sink = Arc::new(crate::events::CollectingSink::default());
        ws.events.add_sink(sink.clone());
        let now_q2 = ws
            .recrop_item(moved.item_id, "Q2", bbox(0.4))
            .await
            .unwrap();
        let detail = ws.submission_detail(sub).await.unwrap();
        assert_eq!(ids(detail.items.clone()), [now_q2.item_id]);
        assert_eq!(detail.items[0].question_label, "Q2");
        let mut removed: Vec<i64> = sink
            .events()
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::Item { item } if item.removed => Some(item.item_id),
                _ => None,
            })
            .collect();
        removed.sort_unstable();
        assert_eq!(removed, [moved.item_id, q2.item_id]);
        for job in [q1.job_id, moved.job_id, q2.job_id] {
            let state: String = ws
                .store
                .run(move |conn| {
                    conn.query_row("SELECT state FROM jobs WHERE id = ?1", [job], |r| r.get(0))
                        .map_err(StoreError::from)
                })
                .await
                .unwrap();
            assert_eq!(state, "cancelled", "job {job}");
        }

        // The replaced box cannot be re-cropped again.
        let stale = ws
            .recrop_item(moved.item_id, "Q1", bbox(0.1))
            .await
            .unwrap_err();
        assert_eq!(stale.code(), crate::error::ErrorCode::Invalid);
        assert!(stale.to_string().contains("already removed"), "{stale}");
    }

    #[tokio::test]
    async fn a_deleted_box_comes_back_with_undo_graded_or_queued_again() {
        use crate::exams::ItemState;
        let (_dir, ws, _, sub) = desk_with_one_scan().await;
        let bbox = Bbox {
            x: 0.1,
            y: 0.1,
            w: 0.5,
            h: 0.2,
        };
        let ids = |views: Vec<ItemView>| views.iter().map(|v| v.item_id).collect::<Vec<_>>();

        // Not graded yet: the delete cancelled its job, the undo queues it again.
        let q1 = ws.create_item(sub, 1, "Q1", bbox).await.unwrap();
        ws.delete_item(q1.item_id).await.unwrap();
        let sink = Arc::new(crate::events::CollectingSink::default());
        ws.events.add_sink(sink.clone());
        ws.restore_item(q1.item_id).await.unwrap();
        let detail = ws.submission_detail(sub).await.unwrap();
        assert_eq!(ids(detail.items.clone()), [q1.item_id]);
        assert_eq!(detail.items[0].state, ItemState::Queued);
        let item_id = q1.item_id;
        let active = ws
            .store
            .run(move |conn| queue::active_job_for_item(conn, item_id))
            .await
            .unwrap();
        assert!(active.is_some_and(|job| job != q1.job_id), "a new job");
        match &sink.events()[..] {
            [e] => assert!(matches!(&e.body, EventBody::Item { item } if !item.removed)),
            other => panic!("expected one item event, got {other:?}"),
        }

        // Twice, or over a newer box for the same question, is refused; nothing changes.
        let again = ws.restore_item(q1.item_id).await.unwrap_err();
        assert!(again.to_string().contains("still there"), "{again}");
        ws.delete_item(q1.item_id).await.unwrap();
        let newer = ws.create_item(sub, 1, "Q1", bbox).await.unwrap();
        let over = ws.restore_item(q1.item_id).await.unwrap_err();
        assert!(over.to_string().contains("newer box"), "{over}");
        assert_eq!(
            ids(ws.submission_detail(sub).await.unwrap().items),
            [newer.item_id]
        );
        assert_eq!(
            ws.restore_item(9999).await.unwrap_err().code(),
            crate::error::ErrorCode::NotFound
        );

        // Graded: the undo brings the grade back and queues nothing.
        let q2 = ws.create_item(sub, 1, "Q2", bbox).await.unwrap();
        let (q2_item, q2_job) = (q2.item_id, q2.job_id);
        ws.store
            .run(move |conn| -> Result<(), StoreError> {
                let tx = conn.transaction()?;
                tx.execute("UPDATE jobs SET state = 'succeeded', finished_at = 1 WHERE id = ?1", [q2_job])?;
                tx.execute(
                    "INSERT INTO grades (item_id, job_id, score, max_points, feedback, transcription, model, created_at)
                     VALUES (?1, ?2, 1.0, 1.0, 'ok', 't', 'm', 0)",
                    [q2_item, q2_job],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
            .unwrap();
        ws.delete_item(q2_item).await.unwrap();
        ws.restore_item(q2_item).await.unwrap();
        let back = ws
            .submission_detail(sub)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|i| i.item_id == q2_item)
            .expect("Q2 is back");
        assert_eq!(back.state, ItemState::Done);
        assert_eq!(back.score, Some(1.0));
        let active = ws
            .store
            .run(move |conn| queue::active_job_for_item(conn, q2_item))
            .await
            .unwrap();
        assert_eq!(active, None, "a graded answer is not graded again");
    }

    #[tokio::test]
    async fn an_override_and_a_rename_reach_the_live_view_from_the_core() {
        let (_dir, ws, _exam, sub) = desk_with_one_scan().await;
        let bbox = Bbox {
            x: 0.1,
            y: 0.1,
            w: 0.5,
            h: 0.2,
        };
        let item = ws.create_item(sub, 1, "Q1", bbox).await.unwrap().item_id;
        let sink = Arc::new(crate::events::CollectingSink::default());
        ws.events.add_sink(sink.clone());

        ws.override_score(item, 0.5, Some("units".into()))
            .await
            .unwrap();
        ws.rename_student(sub, "Ada Lovelace".into()).await.unwrap();

        let events = sink.events();
        let overridden = events.iter().find_map(|e| match &e.body {
            EventBody::Item { item: view } if view.item_id == item => Some(view.clone()),
            _ => None,
        });
        assert_eq!(
            overridden
                .expect("the override sent the answer's view")
                .teacher_score,
            Some(0.5)
        );
        assert!(
            events.iter().any(|e| e.body
                == EventBody::Changed {
                    what: Changed::Submissions
                }),
            "the rename told front ends to refetch the submissions: {events:?}"
        );
        let refused = ws.override_score(item, 7.0, None).await.unwrap_err();
        assert_eq!(refused.code(), crate::error::ErrorCode::Invalid);
        assert_eq!(
            sink.events().len(),
            events.len(),
            "a refused override sends nothing"
        );
    }
}
