//! The class workflow on a workspace: an exam's template (the blank exam), the regions drawn
//! on it once, and the class import — one scanner PDF (or several files, or a folder) for
//! the whole class, every page identified against the template, split into students,
//! aligned, and every region turned into an answer with its grading job.
//!
//! The class import reads one page at a time: the page is decoded, its files written, then
//! (still in memory) registered against every template page and its regions cut out,
//! upright, through the fitted transform. The split ([`crate::split`]) then groups the pages
//! into students, and everything — submissions, pages, alignment, answers, jobs, the pages
//! nobody got — is stored in one transaction: a class imports whole or not at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use image::DynamicImage;
use serde::Serialize;
use ts_rs::TS;

use super::{random_token, sanitize_name, Workspace};
use crate::error::CoreError;
use crate::events::{Changed, EventBody};
use crate::exams::{
    self, Bbox, ClassItem, ClassPage, LooseFiles, NewPage, NewTemplatePage, Region, RegionKind,
    SourcePage, UnassignedPage,
};
use crate::imaging::{self, ImportOptions, ImportedPage, ScanSource};
use crate::queue::{self, NewJob};
use crate::split::{self, Flag, PageMatch};
use crate::store::{now_ms, StoreError};
use crate::vision::outside::{writing_outside, PrintMask};
use crate::vision::register::MIN_SIMILARITY;
use crate::vision::warp::{region_quad, warp_region, RegionBox};
use crate::vision::{register_best, PreparedPage};

/// What `template set` did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TemplateSet {
    pub pages: usize,
}

/// One student of a class import.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ClassSubmission {
    pub submission_id: i64,
    pub student: String,
    /// The imported pages, in template page order (a missing page is left out, and flagged).
    pub source_pages: Vec<SourcePage>,
    pub flags: Vec<Flag>,
    /// Answers queued for grading.
    pub answers: usize,
}

/// What a class import did: the students, and every page none of them got.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ClassImport {
    pub submissions: Vec<ClassSubmission>,
    pub unassigned: Vec<UnassignedPage>,
    /// Sentences about the class as a whole (a template that seems too short, say).
    pub warnings: Vec<String>,
}

/// One scanned page, as the class import saw it.
struct ScannedPage {
    source: SourcePage,
    dir: PathBuf,
    imported: Option<ImportedPage>,
    found: PageMatch,
    /// Template pixels to this page's pixels, when matched.
    fit: Option<ClassPage>,
    /// (region id, crop file, quad on the page) for the regions of its template page.
    crops: Vec<(i64, PathBuf, [[f64; 2]; 4])>,
}

impl Workspace {
    /// Sets the exam's template from the blank exam's file(s) (a PDF from the word processor,
    /// or scans of a blank copy), pages in order across the files.
    pub async fn set_template(
        &self,
        exam_id: i64,
        files: Vec<PathBuf>,
    ) -> Result<TemplateSet, CoreError> {
        self.require_exam(exam_id).await?;
        if files.is_empty() {
            return Err(CoreError::Invalid("name the template's file(s)".into()));
        }
        let root = self.data_dir.join("templates").join(random_token());
        let dir = root.clone();
        let pages = tokio::task::spawn_blocking(move || -> Result<_, CoreError> {
            let mut pages = Vec::new();
            for (k, file) in files.iter().enumerate() {
                let name = sanitize_name(&super::drop::display_name(file));
                let imported = imaging::import_scan(
                    &name,
                    ScanSource::Path(file.clone()),
                    &dir.join(format!("file-{k}")),
                )?;
                pages.extend(imported.into_iter().map(|p| NewTemplatePage {
                    path: p.path.to_string_lossy().into_owned(),
                    preview_path: p.preview_path.to_string_lossy().into_owned(),
                    thumb_path: Some(p.thumb_path.to_string_lossy().into_owned()),
                    width: p.width,
                    height: p.height,
                }));
            }
            Ok(pages)
        })
        .await
        .map_err(|_| CoreError::Store(StoreError::Join))?;
        let pages = match pages {
            Ok(pages) => pages,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&root);
                return Err(e);
            }
        };
        let count = pages.len();
        let stored = self
            .store
            .run(move |conn| -> Result<(), CoreError> {
                let tx = conn.transaction()?;
                exams::replace_template(&tx, exam_id, &pages)?;
                tx.commit()?;
                Ok(())
            })
            .await;
        if let Err(e) = stored {
            let _ = std::fs::remove_dir_all(&root);
            return Err(e);
        }
        finish_dirs(&root);
        self.events.emit(EventBody::Changed {
            what: Changed::Exams,
        });
        Ok(TemplateSet { pages: count })
    }

    /// Makes one imported submission's pages the exam's template (a blank copy scanned with
    /// the class, or a student's script whose printed parts are the exam).
    pub async fn set_template_from_submission(
        &self,
        exam_id: i64,
        submission_id: i64,
    ) -> Result<TemplateSet, CoreError> {
        let store = self.store.clone();
        let count = store
            .run(move |conn| -> Result<usize, CoreError> {
                let summary = exams::submission(conn, submission_id)?;
                if summary.exam_id != exam_id {
                    return Err(CoreError::Invalid(format!(
                        "submission {submission_id} belongs to exam {}, not exam {exam_id}",
                        summary.exam_id
                    )));
                }
                let mut pages = Vec::new();
                for info in exams::pages(conn, submission_id)? {
                    let files = exams::page_by_id(conn, info.id)?;
                    pages.push(NewTemplatePage {
                        path: files.path,
                        preview_path: files.preview_path,
                        thumb_path: files.thumb_path,
                        width: files.width,
                        height: files.height,
                    });
                }
                let tx = conn.transaction()?;
                exams::replace_template(&tx, exam_id, &pages)?;
                tx.commit()?;
                Ok(pages.len())
            })
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Exams,
        });
        Ok(TemplateSet { pages: count })
    }

    /// Draws a region on template page `page`: an answer region of `question`, or the
    /// student's name or ID.
    pub async fn add_region(
        &self,
        exam_id: i64,
        page: u32,
        kind: RegionKind,
        question: Option<String>,
        bbox: Bbox,
    ) -> Result<i64, CoreError> {
        let (id, region) = self
            .store
            .run(move |conn| -> Result<(i64, Region), CoreError> {
                let id =
                    exams::insert_region(conn, exam_id, page, kind, question.as_deref(), bbox)?;
                Ok((id, exams::region(conn, id)?.1))
            })
            .await?;
        // Students imported before the region get its answer too.
        self.region_changed(exam_id, &region).await?;
        Ok(id)
    }

    /// The exam's regions.
    pub async fn regions(&self, exam_id: i64) -> Result<Vec<Region>, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::regions(conn, exam_id))
            .await?)
    }

    /// Every current answer of the exam with where it is on the imported page.
    pub async fn class_items(&self, exam_id: i64) -> Result<Vec<ClassItem>, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::class_items(conn, exam_id))
            .await?)
    }

    pub(super) async fn require_exam(&self, exam_id: i64) -> Result<(), CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::require_exam(conn, exam_id))
            .await?)
    }

    /// Imports a whole class: `files` (scanner PDFs, page images, folders of them) hold
    /// every student's pages in scan order. See the module comment.
    pub async fn import_class(
        &self,
        exam_id: i64,
        files: Vec<PathBuf>,
    ) -> Result<ClassImport, CoreError> {
        let store = self.store.clone();
        let (templates, regions) = store
            .run(move |conn| -> Result<_, CoreError> {
                Ok((
                    exams::template_pages(conn, exam_id)?,
                    exams::regions(conn, exam_id)?,
                ))
            })
            .await?;
        if templates.is_empty() {
            return Err(CoreError::Invalid(format!(
                "exam {exam_id} has no template: set one first (`gradedesk template set --exam {exam_id} FILE`)"
            )));
        }
        let expanded = super::expand_scan_paths(&files);
        if expanded.scans.is_empty() {
            let why = expanded
                .skipped
                .first()
                .map(|n| format!(" ({}: {})", n.file, n.reason))
                .unwrap_or_default();
            return Err(CoreError::Invalid(format!("no scans to import{why}")));
        }
        let (scans, crops) = (self.data_dir.join("scans"), self.data_dir.join("crops"));
        let template_count = templates.len() as u32;
        let started = std::time::Instant::now();
        let regions_by_page = regions.clone();
        let pages = tokio::task::spawn_blocking(move || {
            read_class(
                &expanded.scans,
                &templates,
                &regions_by_page,
                &scans,
                &crops,
            )
        })
        .await
        .map_err(|_| CoreError::Store(StoreError::Join))??;
        let page_count = pages.len();
        if pages.iter().all(|p| p.imported.is_none()) {
            // Every file failed or was empty: say why, for the first one; nothing is kept.
            let (file, reason) = match pages.first() {
                Some(ScannedPage {
                    source,
                    found: PageMatch::Unreadable(reason) | PageMatch::UnreadableFile(reason),
                    ..
                }) => (source.file.clone(), reason.clone()),
                _ => ("the class".to_string(), "has no pages".to_string()),
            };
            cleanup(&pages);
            return Err(CoreError::Imaging(imaging::ImagingError::BadInput {
                file,
                reason: format!("{reason}; no student could be imported"),
            }));
        }
        let matches: Vec<PageMatch> = pages.iter().map(|p| p.found.clone()).collect();
        let split = split::split(&matches, template_count);
        let warnings = warnings(&matches, template_count);
        let (pages, split) = (std::sync::Arc::new(pages), std::sync::Arc::new(split));
        let (shared_pages, shared_split) = (pages.clone(), split.clone());
        let result = self
            .store
            .run(move |conn| store_class(conn, exam_id, &shared_pages, &shared_split, &regions))
            .await;
        let submissions = match result {
            Ok(submissions) => submissions,
            Err(e) => {
                cleanup(&pages);
                return Err(e);
            }
        };
        for page in pages.iter() {
            imaging::import::finish(&page.dir);
        }
        let unassigned = split_unassigned(&pages, &split);
        tracing::info!(
            pages = page_count,
            students = submissions.len(),
            unassigned = unassigned.len(),
            ms = started.elapsed().as_millis() as u64,
            "class imported"
        );
        self.wake.notify_waiters();
        self.events.emit(EventBody::Changed {
            what: Changed::Submissions,
        });
        Ok(ClassImport {
            submissions,
            unassigned,
            warnings,
        })
    }
}

/// The unassigned pages as the teacher sees them.
fn split_unassigned(pages: &[ScannedPage], split: &split::Split) -> Vec<UnassignedPage> {
    split
        .unassigned
        .iter()
        .map(|(index, reason)| UnassignedPage {
            file: pages[*index].source.file.clone(),
            page: pages[*index].source.page,
            reason: reason.clone(),
        })
        .collect()
}

/// A sentence when many pages match no template page: most likely a template shorter than
/// the students' scripts.
fn warnings(matches: &[PageMatch], template_count: u32) -> Vec<String> {
    let foreign = matches
        .iter()
        .filter(|m| matches!(m, PageMatch::Foreign))
        .count();
    let matched = matches
        .iter()
        .filter(|m| matches!(m, PageMatch::Matched { .. }))
        .count();
    let mut out = Vec::new();
    if foreign > 0 && foreign * 4 >= matched {
        out.push(format!(
            "{foreign} of {} pages match no page of the {template_count}-page template: if every student has more pages than the template, set the complete blank exam as the template",
            matches.len()
        ));
    }
    out
}

/// Reads every page of every file: imported (files written), identified, aligned, and its
/// regions cut. A file that cannot be read at all is one unreadable entry; a damaged page
/// inside a PDF is one unreadable page, and the rest of the file goes on.
fn read_class(
    files: &[PathBuf],
    templates: &[exams::TemplatePageFiles],
    regions: &[Region],
    scans: &Path,
    crops: &Path,
) -> Result<Vec<ScannedPage>, CoreError> {
    imaging::import::sweep_abandoned(scans, std::time::Duration::from_secs(3600));
    std::fs::create_dir_all(crops)
        .map_err(|e| CoreError::Io(format!("could not create {}: {e}", crops.display())))?;
    // Each template page, prepared for registration and as the print writing is told from.
    let mut prepared: Vec<PreparedPage> = Vec::with_capacity(templates.len());
    let mut masks: Vec<PrintMask> = Vec::with_capacity(templates.len());
    for template in templates {
        let image = imaging::load_upright(Path::new(&template.path))?;
        prepared.push(PreparedPage::new(&image));
        masks.push(PrintMask::new(&image));
    }
    let options = ImportOptions {
        assess: false,
        keep_going: true,
    };
    // Decoding and writing a page (this thread) and identifying it (registration and the
    // warps, the dearer part) overlap: pages go to one identifying thread per core through
    // a channel that holds at most one page per thread, so memory stays a few pages.
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    type Job = (usize, u32, String, PathBuf, ImportedPage, DynamicImage);
    let (send, receive) = std::sync::mpsc::sync_channel::<Job>(threads);
    let receive = std::sync::Mutex::new(receive);
    // (file index, page in the file) → what the page is: sorted into scan order at the end.
    let found = std::sync::Mutex::new(Vec::<((usize, u32), Result<ScannedPage, CoreError>)>::new());
    let mut failed_files = Vec::new();
    let outcome = std::thread::scope(|scope| -> Result<(), CoreError> {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let job = receive.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok((file_index, number, name, dir, page, image)) = job else {
                    break;
                };
                let scanned = identify(
                    &name, &dir, &page, &image, templates, &prepared, &masks, regions, crops,
                )
                .map_err(CoreError::from);
                drop(image);
                found
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(((file_index, number), scanned));
            });
        }
        let send = send;
        for (file_index, file) in files.iter().enumerate() {
            let name = sanitize_name(&super::drop::display_name(file));
            let dir = scans.join(random_token());
            let mut on_page = |page: &ImportedPage, image: DynamicImage| {
                let job = (
                    file_index,
                    page.number,
                    name.clone(),
                    dir.clone(),
                    page.clone(),
                    image,
                );
                send.send(job)
                    .map_err(|_| imaging::ImagingError::Tool("the page reader stopped".into()))
            };
            let result = imaging::import_scan_with(
                &name,
                ScanSource::Path(file.clone()),
                &dir,
                options,
                &mut on_page,
            );
            let unreadable = |found: PageMatch, number: u32| ScannedPage {
                source: SourcePage {
                    file: name.clone(),
                    page: number,
                },
                dir: dir.clone(),
                imported: None,
                found,
                fit: None,
                crops: Vec::new(),
            };
            let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
            match result {
                Ok(scan) => {
                    for (number, reason) in scan.bad_pages {
                        found.push((
                            (file_index, number),
                            Ok(unreadable(PageMatch::Unreadable(reason), number)),
                        ));
                    }
                }
                Err(imaging::ImagingError::BadInput { reason, .. }) => {
                    // The file's pages read before it failed are dropped below.
                    failed_files.push(file_index);
                    found.push((
                        (file_index, 0),
                        Ok(unreadable(PageMatch::UnreadableFile(reason), 1)),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    });
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    found.sort_by_key(|(key, _)| *key);
    let mut pages = Vec::with_capacity(found.len());
    let mut first_error = outcome.err();
    for ((file_index, number), scanned) in found {
        match scanned {
            // A page of a file that failed later: its crops go, the file is one entry.
            Ok(page) if failed_files.contains(&file_index) && number > 0 => {
                for (_, crop, _) in page.crops {
                    let _ = std::fs::remove_file(crop);
                }
            }
            Ok(page) => pages.push(page),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        cleanup(&pages);
        return Err(e);
    }
    Ok(pages)
}

/// Identifies one page against the template and, when it is one of its pages, cuts that
/// template page's regions out of it.
#[allow(clippy::too_many_arguments)]
fn identify(
    name: &str,
    dir: &Path,
    page: &ImportedPage,
    image: &DynamicImage,
    templates: &[exams::TemplatePageFiles],
    prepared: &[PreparedPage],
    masks: &[PrintMask],
    regions: &[Region],
    crops: &Path,
) -> Result<ScannedPage, imaging::ImagingError> {
    let _span = tracing::debug_span!("identify", file = name, page = page.number).entered();
    let scan = PreparedPage::new(image);
    let source = SourcePage {
        file: name.to_string(),
        page: page.number,
    };
    let mut scanned = ScannedPage {
        source,
        dir: dir.to_path_buf(),
        imported: Some(page.clone()),
        found: PageMatch::Foreign,
        fit: None,
        crops: Vec::new(),
    };
    if scan.is_blank() {
        scanned.found = PageMatch::Blank;
        return Ok(scanned);
    }
    let Some((index, fit)) = register_best(prepared, &scan) else {
        return Ok(scanned);
    };
    if fit.similarity < MIN_SIMILARITY {
        return Ok(scanned);
    }
    let template = &templates[index];
    let quality = if fit.patches == 0 {
        0.0
    } else {
        fit.inliers as f64 / fit.patches as f64
    };
    let page_regions: Vec<RegionBox> = regions
        .iter()
        .filter(|r| r.page == template.number)
        .map(region_box)
        .collect();
    let outside_ink = writing_outside(&masks[index], image, &fit.homography, &page_regions);
    scanned.found = PageMatch::Matched {
        template_page: template.number,
        upside_down: fit.upside_down,
        flagged: fit.flagged,
        writing_outside: !outside_ink.is_empty(),
    };
    scanned.fit = Some(ClassPage {
        source_file: name.to_string(),
        source_page: page.number,
        template_page: template.number,
        homography: fit.homography.0,
        quality,
        residual_px: fit.residual_px,
        flagged: fit.flagged,
        upside_down: fit.upside_down,
        outside_ink: outside_ink.iter().map(|b| [b.x, b.y, b.w, b.h]).collect(),
    });
    let size = (template.width, template.height);
    // RGB once for all the page's regions (a grey scan would be converted per region).
    let converted;
    let rgb = match image {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => {
            converted = other.to_rgb8();
            &converted
        }
    };
    // Every region: the answers', and the name and ID boxes the name reading sends.
    for region in regions.iter().filter(|r| r.page == template.number) {
        let area = region_box(region);
        let Some(quad) = region_quad(area, size, &fit.homography) else {
            continue;
        };
        let crop = warp_region(rgb, &fit.homography, area, size);
        let path = crops.join(format!("r{}-{}.png", region.region_id, random_token()));
        imaging::pages::save(
            &DynamicImage::ImageRgb8(crop),
            &path,
            image::ImageFormat::Png,
        )?;
        scanned.crops.push((region.region_id, path, quad));
    }
    Ok(scanned)
}

/// A region's box as the vision code takes it.
pub(super) fn region_box(region: &Region) -> RegionBox {
    let Bbox { x, y, w, h } = region.bbox;
    RegionBox { x, y, w, h }
}

/// Removes what a failed class import wrote: page folders and crops.
fn cleanup(pages: &[ScannedPage]) {
    let mut dirs: Vec<&Path> = pages.iter().map(|p| p.dir.as_path()).collect();
    dirs.dedup();
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    for page in pages {
        for (_, crop, _) in &page.crops {
            let _ = std::fs::remove_file(crop);
        }
    }
}

/// Removes the import markers under a finished template folder.
fn finish_dirs(root: &Path) {
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            imaging::import::finish(&entry.path());
        }
    }
}

/// Stores the class in one transaction: a submission per student with its pages (numbered
/// by template page) and their alignment, an answer and a grading job per question that
/// has regions on the student's pages, and the unassigned pages.
fn store_class(
    conn: &mut rusqlite::Connection,
    exam_id: i64,
    pages: &[ScannedPage],
    split: &split::Split,
    regions: &[Region],
) -> Result<Vec<ClassSubmission>, CoreError> {
    let tx = conn.transaction()?;
    let now = now_ms();
    let questions = answer_questions(regions);
    let already = exams::submission_count(&tx, exam_id)?;
    let mut out = Vec::new();
    for (k, student) in split.students.iter().enumerate() {
        // The student's pages (a matched page was always imported), by template page.
        let present: Vec<(u32, &ScannedPage, &ImportedPage)> = student
            .pages
            .iter()
            .enumerate()
            .filter_map(|(slot, index)| {
                let page = &pages[(*index)?];
                Some((slot as u32 + 1, page, page.imported.as_ref()?))
            })
            .collect();
        let new_pages: Vec<(u32, NewPage)> = present
            .iter()
            .map(|&(number, _, imported)| {
                (
                    number,
                    NewPage {
                        path: imported.path.to_string_lossy().into_owned(),
                        preview_path: imported.preview_path.to_string_lossy().into_owned(),
                        thumb_path: Some(imported.thumb_path.to_string_lossy().into_owned()),
                        width: imported.width,
                        height: imported.height,
                        dpi: None,
                        skew_deg: None,
                        needs_enhancement: false,
                    },
                )
            })
            .collect();
        let numbered: Vec<(u32, &NewPage)> = new_pages.iter().map(|(n, p)| (*n, p)).collect();
        let first = &present[0].1.source;
        let student_name = format!("Student {}", already + k as i64 + 1);
        let file_label = format!("{} (p. {})", first.file, first.page);
        let (submission_id, ids) =
            exams::insert_submission_numbered(&tx, exam_id, &student_name, &file_label, &numbered)?;
        // The pages' ids by template page number, and their alignment.
        let mut page_ids: HashMap<u32, (i64, &ScannedPage, &ImportedPage)> = HashMap::new();
        for (&(number, page, imported), page_id) in present.iter().zip(ids) {
            if let Some(fit) = &page.fit {
                exams::set_class_page(&tx, page_id, fit)?;
            }
            page_ids.insert(number, (page_id, page, imported));
        }
        let mut answers = 0;
        for (question_id, list) in &questions {
            let parts: Vec<(i64, &ImportedPage, &PathBuf, &[[f64; 2]; 4])> = list
                .iter()
                .filter_map(|region| {
                    let &(page_id, page, imported) = page_ids.get(&region.page)?;
                    let (_, crop, quad) = page
                        .crops
                        .iter()
                        .find(|(id, _, _)| *id == region.region_id)?;
                    Some((page_id, imported, crop, quad))
                })
                .collect();
            let Some(&(page_id, imported, first_crop, quad)) = parts.first() else {
                continue;
            };
            let crop = if parts.len() == 1 {
                first_crop.clone()
            } else {
                stack_crops(
                    &parts.iter().map(|p| p.2.clone()).collect::<Vec<_>>(),
                    submission_id,
                )?
            };
            let bbox = quad_bounds(quad, imported.width, imported.height);
            let (item_id, _) = exams::insert_item(
                &tx,
                submission_id,
                page_id,
                *question_id,
                bbox,
                &crop.to_string_lossy(),
            )?;
            exams::set_item_quad(&tx, item_id, quad)?;
            queue::enqueue(&tx, &NewJob::grade_item(item_id), now)?;
            answers += 1;
        }
        store_name_crops(&tx, submission_id, regions, &page_ids, now)?;
        out.push(ClassSubmission {
            submission_id,
            student: student_name,
            source_pages: present.iter().map(|(_, p, _)| p.source.clone()).collect(),
            flags: student.flags.clone(),
            answers,
        });
    }
    for (index, reason) in &split.unassigned {
        let page = &pages[*index];
        let files = page.imported.as_ref().map(loose_files);
        exams::insert_unassigned(
            &tx,
            exam_id,
            &UnassignedPage {
                file: page.source.file.clone(),
                page: page.source.page,
                reason: reason.clone(),
            },
            files.as_ref(),
        )?;
    }
    tx.commit()?;
    Ok(out)
}

/// Keeps a student's name and ID crops and queues their reading, when the template has
/// such boxes on the student's pages.
fn store_name_crops(
    tx: &rusqlite::Transaction,
    submission_id: i64,
    regions: &[Region],
    page_ids: &HashMap<u32, (i64, &ScannedPage, &ImportedPage)>,
    now: i64,
) -> Result<(), CoreError> {
    let crop_of = |kind: RegionKind| -> Option<String> {
        regions
            .iter()
            .filter(|r| r.kind == kind)
            .find_map(|region| {
                let (_, page, _) = page_ids.get(&region.page)?;
                let (_, crop, _) = page
                    .crops
                    .iter()
                    .find(|(id, _, _)| *id == region.region_id)?;
                Some(crop.to_string_lossy().into_owned())
            })
    };
    let (name, id) = (crop_of(RegionKind::Name), crop_of(RegionKind::StudentId));
    if name.is_none() && id.is_none() {
        return Ok(());
    }
    exams::set_name_crops(tx, submission_id, name.as_deref(), id.as_deref())?;
    queue::requeue_read_name(tx, submission_id, now)?;
    Ok(())
}

/// The files import wrote for a page, as an unassigned page keeps them.
fn loose_files(imported: &ImportedPage) -> LooseFiles {
    LooseFiles {
        path: imported.path.to_string_lossy().into_owned(),
        preview_path: imported.preview_path.to_string_lossy().into_owned(),
        thumb_path: Some(imported.thumb_path.to_string_lossy().into_owned()),
        width: imported.width,
        height: imported.height,
    }
}

/// The questions with answer regions, in order of their first region, each with its
/// regions in order (a question's crops are joined in that order).
pub(super) fn answer_questions(regions: &[Region]) -> Vec<(i64, Vec<&Region>)> {
    let mut questions: Vec<(i64, Vec<&Region>)> = Vec::new();
    for region in regions.iter().filter(|r| r.kind == RegionKind::Answer) {
        let Some(question_id) = region.question_id else {
            continue;
        };
        match questions.iter_mut().find(|(q, _)| *q == question_id) {
            Some((_, list)) => list.push(region),
            None => questions.push((question_id, vec![region])),
        }
    }
    for (_, list) in &mut questions {
        list.sort_by_key(|r| r.position);
    }
    questions
}

/// One crop of a question's several regions, top to bottom in order.
fn stack_crops(parts: &[PathBuf], submission_id: i64) -> Result<PathBuf, CoreError> {
    let images: Vec<image::RgbImage> = parts
        .iter()
        .map(|p| imaging::load_upright(p).map(|i| i.to_rgb8()))
        .collect::<Result<_, _>>()?;
    let stacked = crate::vision::warp::stack(&images);
    let dir = parts[0].parent().unwrap_or(Path::new("."));
    let path = dir.join(format!("s{submission_id}-joined-{}.png", random_token()));
    imaging::pages::save(
        &DynamicImage::ImageRgb8(stacked),
        &path,
        image::ImageFormat::Png,
    )?;
    Ok(path)
}

/// The quad's bounding box as page fractions, clamped to the page (what the crop page draws).
pub(super) fn quad_bounds(quad: &[[f64; 2]; 4], width: u32, height: u32) -> Bbox {
    let (w, h) = (f64::from(width), f64::from(height));
    let xs = quad.iter().map(|p| (p[0] + 0.5) / w);
    let ys = quad.iter().map(|p| (p[1] + 0.5) / h);
    let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (y0, y1) = ys.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (x0, y0) = (x0.clamp(0.0, 1.0), y0.clamp(0.0, 1.0));
    let (x1, y1) = (x1.clamp(0.0, 1.0), y1.clamp(0.0, 1.0));
    Bbox {
        x: x0,
        y: y0,
        w: (x1 - x0).max(1e-4).min(1.0 - x0),
        h: (y1 - y0).max(1e-4).min(1.0 - y0),
    }
}
