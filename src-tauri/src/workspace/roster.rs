//! Who wrote each script, as both front ends ask it: the roster's import, the matching's
//! rows, the teacher's decisions, and cutting the name and ID boxes again when a script's
//! pages change.

use std::collections::HashMap;
use std::path::Path;

use image::DynamicImage;
use serde::Serialize;
use ts_rs::TS;

use super::class::region_box;
use super::{random_token, Workspace};
use crate::error::CoreError;
use crate::events::{Changed, EventBody};
use crate::exams::{
    self, AlignedPage, MatchRow, Region, RegionKind, RosterEntry, TemplatePageFiles,
};
use crate::imaging;
use crate::queue;
use crate::roster::{parse_roster, SkippedRow};
use crate::store::{now_ms, StoreError};
use crate::vision::warp::warp_region;
use crate::vision::Homography;

/// What `roster import` reports: the students stored and the lines left out.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct RosterImport {
    pub students: usize,
    pub skipped: Vec<SkippedRow>,
}

/// A teacher's decision on one script.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchChoice {
    /// The roster entry with this roster ID.
    Student(String),
    /// Nobody on the roster.
    Nobody,
}

/// The largest roster file taken (a class list is a few kilobytes; this is 10 000 students).
pub const MAX_ROSTER_BYTES: usize = 4 * 1024 * 1024;

impl Workspace {
    /// Reads a roster file into the exam's roster and matches its scripts again. A file
    /// that cannot be a roster is refused whole; rows that cannot be students are listed.
    pub async fn import_roster(
        &self,
        exam_id: i64,
        bytes: Vec<u8>,
    ) -> Result<RosterImport, CoreError> {
        if bytes.len() > MAX_ROSTER_BYTES {
            return Err(CoreError::BadFile(format!(
                "the roster file is {} MB; a class list is far smaller (at most {} MB)",
                bytes.len() / (1024 * 1024),
                MAX_ROSTER_BYTES / (1024 * 1024)
            )));
        }
        let parsed = parse_roster(&bytes).map_err(|e| CoreError::BadFile(e.to_string()))?;
        if parsed.rows.is_empty() {
            let why = parsed
                .skipped
                .first()
                .map(|s| format!(" (line {}: {})", s.line, s.reason))
                .unwrap_or_default();
            return Err(CoreError::BadFile(format!(
                "the roster file lists no student{why}"
            )));
        }
        let rows = parsed.rows;
        let students = self
            .store
            .run(move |conn| -> Result<usize, CoreError> {
                let tx = conn.transaction()?;
                let stored = exams::import_roster(&tx, exam_id, &rows)?;
                exams::rematch(&tx, exam_id)?;
                tx.commit()?;
                Ok(stored)
            })
            .await?;
        self.roster_changed();
        Ok(RosterImport {
            students,
            skipped: parsed.skipped,
        })
    }

    /// The exam's roster, each entry with the script given to it.
    pub async fn roster(&self, exam_id: i64) -> Result<Vec<RosterEntry>, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::roster_entries(conn, exam_id))
            .await?)
    }

    /// Every script of the exam with what was read and who it is.
    pub async fn match_rows(&self, exam_id: i64) -> Result<Vec<MatchRow>, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::match_rows(conn, exam_id))
            .await?)
    }

    /// The teacher decides one script: a roster entry, or nobody on the roster.
    pub async fn set_match(
        &self,
        exam_id: i64,
        submission_id: i64,
        choice: MatchChoice,
    ) -> Result<MatchRow, CoreError> {
        let row = self
            .store
            .run(move |conn| -> Result<MatchRow, CoreError> {
                let tx = conn.transaction()?;
                let script_exam = exams::submission_exam_id(&tx, submission_id)?;
                if script_exam != exam_id {
                    return Err(CoreError::NotFound(format!(
                        "script {submission_id} is not in exam {exam_id}"
                    )));
                }
                match &choice {
                    MatchChoice::Student(roster_id) => {
                        let entry = exams::entry_by_roster_id(&tx, exam_id, roster_id)?;
                        exams::confirm_match(&tx, submission_id, entry)?;
                    }
                    MatchChoice::Nobody => exams::set_no_student(&tx, submission_id)?,
                }
                tx.commit()?;
                exams::match_rows(conn, exam_id)?
                    .into_iter()
                    .find(|r| r.submission_id == submission_id)
                    .ok_or_else(|| CoreError::NotFound(format!("script {submission_id} is gone")))
            })
            .await?;
        self.roster_changed();
        Ok(row)
    }

    /// Every front end refetches who the scripts are.
    fn roster_changed(&self) {
        self.events.emit(EventBody::Changed {
            what: Changed::Roster,
        });
    }

    /// Cuts the name and ID boxes of `students` (every student when None) again from their
    /// aligned pages and reads them again: their pages moved, so their names may have.
    pub(super) async fn recut_names(
        &self,
        exam_id: i64,
        students: Option<Vec<i64>>,
    ) -> Result<(), CoreError> {
        let (templates, regions, pages) = self
            .store
            .run(move |conn| -> Result<_, CoreError> {
                Ok((
                    exams::template_pages(conn, exam_id)?,
                    exams::regions(conn, exam_id)?,
                    exams::aligned_pages(conn, exam_id, students.as_deref())?,
                ))
            })
            .await?;
        if !regions
            .iter()
            .any(|r| matches!(r.kind, RegionKind::Name | RegionKind::StudentId))
        {
            return Ok(());
        }
        let crops = self.data_dir.join("crops");
        let cuts =
            tokio::task::spawn_blocking(move || cut_names(&templates, &regions, &pages, &crops))
                .await
                .map_err(|_| CoreError::Store(StoreError::Join))??;
        if cuts.is_empty() {
            return Ok(());
        }
        self.store
            .run(move |conn| -> Result<(), CoreError> {
                let tx = conn.transaction()?;
                let now = now_ms();
                for (submission_id, name, id) in &cuts {
                    exams::set_name_crops(&tx, *submission_id, name.as_deref(), id.as_deref())?;
                    queue::requeue_read_name(&tx, *submission_id, now)?;
                }
                tx.commit()?;
                Ok(())
            })
            .await?;
        self.wake.notify_waiters();
        Ok(())
    }
}

/// A student's name and ID crops, cut from their aligned pages.
type NameCut = (i64, Option<String>, Option<String>);

fn cut_names(
    templates: &[TemplatePageFiles],
    regions: &[Region],
    pages: &[AlignedPage],
    crops: &Path,
) -> Result<Vec<NameCut>, CoreError> {
    std::fs::create_dir_all(crops)
        .map_err(|e| CoreError::Io(format!("could not create {}: {e}", crops.display())))?;
    let sizes: HashMap<u32, (u32, u32)> = templates
        .iter()
        .map(|t| (t.number, (t.width, t.height)))
        .collect();
    let mut students: Vec<i64> = pages.iter().map(|p| p.submission_id).collect();
    students.dedup();
    let mut out = Vec::new();
    for student in students {
        let cut = |kind: RegionKind| -> Result<Option<String>, CoreError> {
            for region in regions.iter().filter(|r| r.kind == kind) {
                let Some(page) = pages
                    .iter()
                    .find(|p| p.submission_id == student && p.template_page == region.page)
                else {
                    continue;
                };
                let Some(&size) = sizes.get(&region.page) else {
                    continue;
                };
                let rgb = imaging::load_upright(Path::new(&page.path))?.to_rgb8();
                let crop =
                    warp_region(&rgb, &Homography(page.homography), region_box(region), size);
                let path = crops.join(format!("n{student}-{}.png", random_token()));
                imaging::pages::save(
                    &DynamicImage::ImageRgb8(crop),
                    &path,
                    image::ImageFormat::Png,
                )?;
                return Ok(Some(path.to_string_lossy().into_owned()));
            }
            Ok(None)
        };
        let (name, id) = (cut(RegionKind::Name)?, cut(RegionKind::StudentId)?);
        if name.is_some() || id.is_some() {
            out.push((student, name, id));
        }
    }
    Ok(out)
}
