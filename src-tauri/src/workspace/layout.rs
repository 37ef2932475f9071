//! The class's layout as the teacher corrects it, on a workspace: the Template page's view
//! and region edits (re-applied to every student), and the split review — each student's
//! pages in template order with what to look at, the pages nobody got, and the moves that
//! fix a split (move, set aside, split, merge) before the teacher confirms it.
//!
//! Every change ends the same way: the answers of the students it touched are cut again
//! from their aligned pages ([`Workspace::recut`]), each with its grading job, in one
//! transaction; an answer the teacher drew by hand is left alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use image::{DynamicImage, RgbImage};
use serde::Serialize;
use ts_rs::TS;

use super::class::{answer_questions, quad_bounds, region_box};
use super::{random_token, ClassImport, Workspace};
use crate::error::CoreError;
use crate::events::{Changed, EventBody};
use crate::exams::{
    self, AlignedPage, AnswerExtra, Bbox, ClassPage, LooseFiles, LoosePage, Region, RegionKind,
    SourcePage, SplitPage, TemplatePageFiles, TemplatePageView, UnassignedPage,
};
use crate::imaging;
use crate::queue::{self, NewJob, PauseScope};
use crate::split::{Flag, FlagKind};
use crate::store::{now_ms, StoreError};
use crate::vision::outside::{writing_outside, PrintMask};
use crate::vision::register::MIN_SIMILARITY;
use crate::vision::warp::{region_quad, stack, warp_region, RegionBox};
use crate::vision::{register, register_turned, Homography, PreparedPage};

/// Why the window holds a class's grading until the split is confirmed.
pub const SPLIT_REVIEW_HOLD: &str = "split review: confirm the class's pages to start grading";

/// What the Template page shows: the blank exam's pages and the regions drawn on them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TemplateView {
    pub pages: Vec<TemplatePageView>,
    pub regions: Vec<Region>,
    /// Students imported against this template (editing a region re-cuts theirs).
    pub students: usize,
}

/// What editing a region would do: the current answers cut from it, and how many of them
/// are graded (graded again after the edit).
#[derive(Debug, Clone, Serialize, TS)]
pub struct RegionImpact {
    pub answers: usize,
    pub graded: usize,
}

/// One student in the split review.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SplitStudent {
    pub submission_id: i64,
    pub student: String,
    /// The student's pages, in template page order.
    pub pages: Vec<SplitPage>,
    pub flags: Vec<Flag>,
}

/// The split review of an exam's class.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SplitReview {
    pub template_pages: u32,
    pub students: Vec<SplitStudent>,
    /// Pages no student has: listed, never dropped.
    pub unassigned: Vec<LoosePage>,
    /// Grading waits for the teacher's confirmation.
    pub held: bool,
}

/// One answer cut again: the student, the question, and its new crop (None: the student
/// has none of the question's regions any more).
struct Cut {
    submission_id: i64,
    question_id: i64,
    part: Option<(i64, Bbox, PathBuf, [[f64; 2]; 4])>,
}

impl Workspace {
    /// The exam's template pages, regions, and how many students were imported against it.
    pub async fn template_view(&self, exam_id: i64) -> Result<TemplateView, CoreError> {
        self.store
            .run(move |conn| -> Result<TemplateView, CoreError> {
                exams::require_exam(conn, exam_id)?;
                let pages = exams::template_pages(conn, exam_id)?
                    .into_iter()
                    .map(|p| TemplatePageView {
                        id: p.id,
                        number: p.number,
                        width: p.width,
                        height: p.height,
                    })
                    .collect();
                let mut students: Vec<i64> = exams::aligned_pages(conn, exam_id, None)?
                    .into_iter()
                    .map(|p| p.submission_id)
                    .collect();
                students.dedup();
                Ok(TemplateView {
                    pages,
                    regions: exams::regions(conn, exam_id)?,
                    students: students.len(),
                })
            })
            .await
    }

    /// What moving, resizing or deleting a region would grade again.
    pub async fn region_impact(&self, region_id: i64) -> Result<RegionImpact, CoreError> {
        self.store
            .run(move |conn| -> Result<RegionImpact, CoreError> {
                let (_, region) = exams::region(conn, region_id)?;
                let (answers, graded) = match region.question_id {
                    Some(question) => exams::template_answers(conn, question)?,
                    None => (0, 0),
                };
                Ok(RegionImpact { answers, graded })
            })
            .await
    }

    /// Moves or resizes a region and re-applies it: every student's answer to its question
    /// is cut again and graded again. Returns how many answers were re-cut.
    pub async fn move_region(&self, region_id: i64, bbox: Bbox) -> Result<usize, CoreError> {
        let (exam_id, region) = self
            .store
            .run(move |conn| -> Result<(i64, Region), CoreError> {
                let found = exams::region(conn, region_id)?;
                let tx = conn.transaction()?;
                exams::move_region(&tx, region_id, bbox)?;
                tx.commit()?;
                Ok(found)
            })
            .await?;
        self.region_changed(exam_id, &region).await
    }

    /// Deletes a region; its question's answers are cut again from the regions left (or
    /// removed when none is left). Returns how many answers changed.
    pub async fn delete_region(&self, region_id: i64) -> Result<usize, CoreError> {
        let (exam_id, region) = self
            .store
            .run(move |conn| -> Result<(i64, Region), CoreError> {
                let found = exams::region(conn, region_id)?;
                let tx = conn.transaction()?;
                exams::delete_region(&tx, region_id)?;
                tx.commit()?;
                Ok(found)
            })
            .await?;
        self.region_changed(exam_id, &region).await
    }

    /// After a region changed: its question is cut again for every student, and the
    /// window hears of the template.
    pub(super) async fn region_changed(
        &self,
        exam_id: i64,
        region: &Region,
    ) -> Result<usize, CoreError> {
        let recut = match (region.kind, region.question_id) {
            (RegionKind::Answer, Some(question)) => {
                self.recut(exam_id, None, Questions::One(question)).await?
            }
            _ => 0,
        };
        self.events.emit(EventBody::Changed {
            what: Changed::Exams,
        });
        Ok(recut)
    }

    /// The split review of an exam's class: its students' pages in template order with
    /// their flags, and the pages nobody got.
    pub async fn split_review(&self, exam_id: i64) -> Result<SplitReview, CoreError> {
        self.store
            .run(move |conn| -> Result<SplitReview, CoreError> {
                let template_pages = exams::template_pages(conn, exam_id)?.len() as u32;
                let students = exams::split_students(conn, exam_id)?
                    .into_iter()
                    .filter(|(_, _, pages)| pages.iter().any(|p| p.template_page.is_some()))
                    .map(|(submission_id, student, pages)| SplitStudent {
                        flags: page_flags(&pages, template_pages),
                        submission_id,
                        student,
                        pages,
                    })
                    .collect();
                let held = queue::pauses(conn, now_ms())?
                    .iter()
                    .any(|p| p.scope == PauseScope::Exam(exam_id) && p.reason == SPLIT_REVIEW_HOLD);
                Ok(SplitReview {
                    template_pages,
                    students,
                    unassigned: exams::loose_pages(conn, exam_id)?,
                    held,
                })
            })
            .await
    }

    /// Holds an exam's grading for the split review (the window's class import).
    pub async fn hold_for_split_review(&self, exam_id: i64) -> Result<(), CoreError> {
        self.pause(PauseScope::Exam(exam_id), SPLIT_REVIEW_HOLD.into())
            .await
    }

    /// The window's class import: the class is imported with its grading held, so the
    /// teacher reviews the split before anything is sent (the hold goes if it fails).
    pub async fn import_class_for_review(
        &self,
        exam_id: i64,
        files: Vec<PathBuf>,
    ) -> Result<ClassImport, CoreError> {
        self.require_exam(exam_id).await?;
        self.hold_for_split_review(exam_id).await?;
        let result = self.import_class(exam_id, files).await;
        if result.is_err() {
            self.resume(PauseScope::Exam(exam_id)).await?;
        }
        result
    }

    /// The teacher confirmed the split: grading of the exam starts.
    pub async fn confirm_split(&self, exam_id: i64) -> Result<(), CoreError> {
        self.require_exam(exam_id).await?;
        self.resume(PauseScope::Exam(exam_id)).await?;
        Ok(())
    }

    /// Sets a student's page aside: it leaves the student (its answers with it) and is
    /// listed with the pages nobody got. Refused for a page whose answers were graded.
    pub async fn set_page_aside(&self, page_id: i64) -> Result<(), CoreError> {
        let (exam_id, submission_id, slot) = self
            .store
            .run(move |conn| -> Result<(i64, i64, Option<u32>), CoreError> {
                let page = exams::placed_page(conn, page_id)?;
                refuse_graded(conn, &page)?;
                let tx = conn.transaction()?;
                take_page(&tx, &page)?;
                exams::insert_unassigned(
                    &tx,
                    page.exam_id,
                    &UnassignedPage {
                        file: page.source.file.clone(),
                        page: page.source.page,
                        reason: "set aside by the teacher".into(),
                    },
                    Some(&page.files),
                )?;
                exams::remove_student_if_empty(&tx, page.submission_id)?;
                tx.commit()?;
                Ok((page.exam_id, page.submission_id, page.template_page))
            })
            .await?;
        let pages = slot.into_iter().collect();
        self.recut(
            exam_id,
            Some(vec![submission_id]),
            Questions::OnPages(pages),
        )
        .await?;
        self.layout_changed();
        Ok(())
    }

    /// Places a page nobody got on a student (`submission_id`, or a new student when None)
    /// as template page `slot`: it is aligned to that page (turned as needed) and its
    /// regions become answers. Refused when the student already has that page, or when
    /// the page does not look like that template page.
    pub async fn place_page(
        &self,
        unassigned_id: i64,
        submission_id: Option<i64>,
        slot: u32,
    ) -> Result<i64, CoreError> {
        let (exam_id, source, files) = self
            .store
            .run(move |conn| exams::loose_page(conn, unassigned_id))
            .await?;
        let Some(files) = files else {
            return Err(CoreError::Invalid(format!(
                "page {} of {} could not be read, so it cannot be given to a student",
                source.page, source.file
            )));
        };
        let fit = self.fit_page(exam_id, &files, &source, slot, None).await?;
        let target = self
            .store
            .run(move |conn| -> Result<i64, CoreError> {
                let tx = conn.transaction()?;
                let target = target_student(&tx, exam_id, submission_id, slot, &source)?;
                let page_id = exams::add_page(&tx, target, slot, &files)?;
                exams::set_class_page(&tx, page_id, &fit)?;
                exams::take_loose_page(&tx, unassigned_id)?;
                tx.commit()?;
                Ok(target)
            })
            .await?;
        self.recut(exam_id, Some(vec![target]), Questions::OnPages(vec![slot]))
            .await?;
        self.layout_changed();
        Ok(target)
    }

    /// Moves a student's page to another student (`submission_id`, or a new student when
    /// None) as template page `slot` (aligned again when the slot changes). Both students'
    /// answers are cut again. Refused for a page whose answers were graded.
    pub async fn move_page(
        &self,
        page_id: i64,
        submission_id: Option<i64>,
        slot: u32,
    ) -> Result<i64, CoreError> {
        let page = self
            .store
            .run(move |conn| -> Result<exams::PlacedPage, CoreError> {
                let page = exams::placed_page(conn, page_id)?;
                refuse_graded(conn, &page)?;
                Ok(page)
            })
            .await?;
        let fit = self
            .fit_page(page.exam_id, &page.files, &page.source, slot, None)
            .await?;
        let (from, from_slot) = (page.submission_id, page.template_page);
        let target = self
            .store
            .run(move |conn| -> Result<i64, CoreError> {
                let tx = conn.transaction()?;
                take_page(&tx, &page)?;
                let target = target_student(&tx, page.exam_id, submission_id, slot, &page.source)?;
                let new_page = exams::add_page(&tx, target, slot, &page.files)?;
                exams::set_class_page(&tx, new_page, &fit)?;
                exams::remove_student_if_empty(&tx, from)?;
                tx.commit()?;
                Ok(target)
            })
            .await?;
        let exam_id = self
            .store
            .run(move |conn| exams::student_exam(conn, target))
            .await?;
        let pages = from_slot.into_iter().chain([slot]).collect();
        self.recut(exam_id, Some(vec![from, target]), Questions::OnPages(pages))
            .await?;
        self.layout_changed();
        Ok(target)
    }

    /// Splits a student in two: their pages from template page `from_slot` on become a new
    /// student's (answers cut again on both). Returns the new student's id.
    pub async fn split_student(
        &self,
        submission_id: i64,
        from_slot: u32,
    ) -> Result<i64, CoreError> {
        let (exam_id, new_id) = self
            .store
            .run(move |conn| -> Result<(i64, i64), CoreError> {
                let exam_id = exams::student_exam(conn, submission_id)?;
                let moving: Vec<i64> = exams::split_students(conn, exam_id)?
                    .into_iter()
                    .find(|(id, _, _)| *id == submission_id)
                    .map(|(_, _, pages)| pages)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.template_page.is_some_and(|t| t >= from_slot))
                    .map(|p| p.page_id)
                    .collect();
                let numbers = exams::page_numbers(conn, submission_id)?;
                if moving.is_empty() || moving.len() == numbers.len() {
                    return Err(CoreError::Invalid(format!(
                        "splitting at page {from_slot} would leave one of the two students with no pages"
                    )));
                }
                for page in &moving {
                    refuse_graded(conn, &exams::placed_page(conn, *page)?)?;
                }
                let first = exams::placed_page(conn, moving[0])?;
                let tx = conn.transaction()?;
                let count = exams::submission_count(&tx, exam_id)?;
                let new_id = exams::add_student(
                    &tx,
                    exam_id,
                    &format!("Student {}", count + 1),
                    &format!("{} (p. {})", first.source.file, first.source.page),
                )?;
                for page in &moving {
                    cancel_answers(&tx, *page)?;
                    exams::reassign_page(&tx, *page, new_id)?;
                }
                tx.commit()?;
                Ok((exam_id, new_id))
            })
            .await?;
        self.recut(exam_id, Some(vec![submission_id, new_id]), Questions::All)
            .await?;
        self.layout_changed();
        Ok(new_id)
    }

    /// Merges student `from` into student `into` (a student split in two by a missing or
    /// foreign page): `from`'s pages join `into`'s, and `from` goes. Refused when both have
    /// the same template page.
    pub async fn merge_students(&self, into: i64, from: i64) -> Result<(), CoreError> {
        if into == from {
            return Err(CoreError::Invalid(
                "choose two different students to merge".into(),
            ));
        }
        let exam_id = self
            .store
            .run(move |conn| -> Result<i64, CoreError> {
                let exam_id = exams::student_exam(conn, into)?;
                if exams::student_exam(conn, from)? != exam_id {
                    return Err(CoreError::Invalid(
                        "the two students belong to different exams".into(),
                    ));
                }
                let have = exams::page_numbers(conn, into)?;
                let theirs = exams::split_students(conn, exam_id)?
                    .into_iter()
                    .find(|(id, _, _)| *id == from)
                    .map(|(_, _, pages)| pages)
                    .unwrap_or_default();
                if let Some(both) = theirs
                    .iter()
                    .find(|p| have.contains(&p.template_page.unwrap_or(0)))
                {
                    return Err(CoreError::Invalid(format!(
                        "both students have page {}: set one of them aside first",
                        both.template_page.unwrap_or(0)
                    )));
                }
                for page in &theirs {
                    refuse_graded(conn, &exams::placed_page(conn, page.page_id)?)?;
                }
                let tx = conn.transaction()?;
                for page in &theirs {
                    cancel_answers(&tx, page.page_id)?;
                    exams::reassign_page(&tx, page.page_id, into)?;
                }
                exams::remove_student_if_empty(&tx, from)?;
                tx.commit()?;
                Ok(exam_id)
            })
            .await?;
        self.recut(exam_id, Some(vec![into]), Questions::All)
            .await?;
        self.layout_changed();
        Ok(())
    }

    /// The teacher dragged the mapped regions of a page by (`dx`, `dy`) page pixels to where
    /// the writing is: the page's transform is shifted so, its "check alignment" flag goes,
    /// and its student's answers are cut again. Returns how many answers were re-cut.
    pub async fn shift_alignment(
        &self,
        page_id: i64,
        dx: f64,
        dy: f64,
    ) -> Result<usize, CoreError> {
        if !dx.is_finite() || !dy.is_finite() || dx.abs() > 5000.0 || dy.abs() > 5000.0 {
            return Err(CoreError::Invalid(
                "the alignment can move by at most 5000 pixels".into(),
            ));
        }
        let (exam_id, submission_id, slot) = self
            .store
            .run(move |conn| -> Result<(i64, i64, Option<u32>), CoreError> {
                let page = exams::placed_page(conn, page_id)?;
                refuse_graded(conn, &page)?;
                let Some(current) = exams::page_homography(conn, page_id)? else {
                    return Err(CoreError::Invalid(
                        "this page was imported on its own, not lined up with a template: move its boxes on the crop page".into(),
                    ));
                };
                let shifted = Homography::translation(dx, dy).then_after(Homography(current));
                let tx = conn.transaction()?;
                exams::set_page_homography(&tx, page_id, &shifted.0)?;
                tx.commit()?;
                Ok((page.exam_id, page.submission_id, page.template_page))
            })
            .await?;
        let pages = slot.into_iter().collect();
        let recut = self
            .recut(
                exam_id,
                Some(vec![submission_id]),
                Questions::OnPages(pages),
            )
            .await?;
        self.layout_changed();
        Ok(recut)
    }

    /// Turns a student's page `quarters` quarter turns clockwise from the way it is read
    /// now and fits it again that way up only (for a page whose automatic fit chose the wrong
    /// way up); its answers are cut again. Refused, with nothing changed, when the page does
    /// not look like its template page turned so. Returns how many answers were re-cut.
    pub async fn turn_page(&self, page_id: i64, quarters: u32) -> Result<usize, CoreError> {
        if !(1..=3).contains(&quarters) {
            return Err(CoreError::Invalid(
                "turn a page by 1, 2 or 3 quarter turns".into(),
            ));
        }
        let (page, current) = self
            .store
            .run(move |conn| -> Result<_, CoreError> {
                let page = exams::placed_page(conn, page_id)?;
                refuse_graded(conn, &page)?;
                Ok((page, exams::page_homography(conn, page_id)?))
            })
            .await?;
        let (Some(current), Some(slot)) = (current, page.template_page) else {
            return Err(CoreError::Invalid(
                "this page was imported on its own, not lined up with a template".into(),
            ));
        };
        let turn = (quarter_of(&current) + quarters) % 4;
        let fit = self
            .fit_page(page.exam_id, &page.files, &page.source, slot, Some(turn))
            .await
            .map_err(|e| match e {
                CoreError::Invalid(_) => CoreError::Invalid(format!(
                    "page {} of {}, turned {} from how it is read now, does not look like page {slot} of the template; nothing changed",
                    page.source.page,
                    page.source.file,
                    turn_words(quarters)
                )),
                other => other,
            })?;
        let (exam_id, submission_id) = (page.exam_id, page.submission_id);
        self.store
            .run(move |conn| -> Result<(), CoreError> {
                let tx = conn.transaction()?;
                exams::set_class_page(&tx, page_id, &fit)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        let recut = self
            .recut(
                exam_id,
                Some(vec![submission_id]),
                Questions::OnPages(vec![slot]),
            )
            .await?;
        self.layout_changed();
        Ok(recut)
    }

    /// Adds a piece of writing found outside every region (`index` of the page's list) to an
    /// answer: the area, widened a little, is cut with the question's regions from then on
    /// (below them), and the answer is graded again. The page's flag goes once nothing is
    /// left outside. Returns how many answers were re-cut.
    pub async fn add_outside_writing(
        &self,
        item_id: i64,
        page_id: i64,
        index: usize,
    ) -> Result<usize, CoreError> {
        let (exam_id, submission_id, question_id) = self
            .store
            .run(move |conn| -> Result<(i64, i64, i64), CoreError> {
                let (submission_id, question_id, exam_id) = exams::answer_owner(conn, item_id)?;
                let page = exams::placed_page(conn, page_id)?;
                if page.submission_id != submission_id {
                    return Err(CoreError::Invalid(
                        "that writing is on another student's page".into(),
                    ));
                }
                let tx = conn.transaction()?;
                let (template_page, [x, y, w, h]) =
                    exams::take_outside_writing(&tx, page_id, index)?;
                // A margin around the strokes (1% of the page), on the page.
                let (x0, y0) = ((x - 0.01).max(0.0), (y - 0.01).max(0.0));
                let (x1, y1) = ((x + w + 0.01).min(1.0), (y + h + 0.01).min(1.0));
                let area = Bbox {
                    x: x0,
                    y: y0,
                    w: x1 - x0,
                    h: y1 - y0,
                };
                exams::add_answer_extra(&tx, submission_id, question_id, template_page, area)?;
                tx.commit()?;
                Ok((exam_id, submission_id, question_id))
            })
            .await?;
        self.recut(
            exam_id,
            Some(vec![submission_id]),
            Questions::One(question_id),
        )
        .await
    }

    /// The teacher says a piece of writing outside the boxes is no answer's (a date, a
    /// doodle): it leaves the page's list, and the flag goes once nothing is left.
    pub async fn dismiss_outside_writing(
        &self,
        page_id: i64,
        index: usize,
    ) -> Result<(), CoreError> {
        self.store
            .run(move |conn| -> Result<(), CoreError> {
                exams::placed_page(conn, page_id)?;
                let tx = conn.transaction()?;
                exams::take_outside_writing(&tx, page_id, index)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        self.layout_changed();
        Ok(())
    }

    /// Aligns a page's image to template page `slot`, trying it as it is and turned a
    /// quarter either way (a page scanned sideways); the transform maps onto the file's
    /// pixels as imported. Refused when no turn looks like that template page.
    async fn fit_page(
        &self,
        exam_id: i64,
        files: &LooseFiles,
        source: &SourcePage,
        slot: u32,
        turn: Option<u32>,
    ) -> Result<ClassPage, CoreError> {
        let (templates, regions) = self
            .store
            .run(move |conn| -> Result<_, CoreError> {
                Ok((
                    exams::template_pages(conn, exam_id)?,
                    exams::regions(conn, exam_id)?,
                ))
            })
            .await?;
        let Some(template) = templates.into_iter().find(|t| t.number == slot) else {
            return Err(CoreError::Invalid(format!(
                "the template has no page {slot}"
            )));
        };
        let (path, source) = (PathBuf::from(&files.path), source.clone());
        tokio::task::spawn_blocking(move || {
            fit_to_template(&path, &template, &regions, &source, turn)
        })
        .await
        .map_err(|_| CoreError::Store(StoreError::Join))?
    }

    /// Cuts again, from their aligned pages, the template answers of `students` (every
    /// student when None) to `questions`, each queued for
    /// grading, in one transaction; the old answers' jobs are cancelled. An answer the
    /// teacher drew by hand stays. Returns how many answers changed.
    pub(super) async fn recut(
        &self,
        exam_id: i64,
        students: Option<Vec<i64>>,
        questions: Questions,
    ) -> Result<usize, CoreError> {
        let only = students.clone();
        let names_of = students.clone();
        let (templates, regions, pages, extras) = self
            .store
            .run(move |conn| -> Result<_, CoreError> {
                Ok((
                    exams::template_pages(conn, exam_id)?,
                    exams::regions(conn, exam_id)?,
                    exams::aligned_pages(conn, exam_id, only.as_deref())?,
                    exams::answer_extras(conn, exam_id)?,
                ))
            })
            .await?;
        let crops = self.data_dir.join("crops");
        let wanted = questions.of(&regions);
        let asked = wanted.clone();
        let mut cuts = tokio::task::spawn_blocking(move || {
            cut_answers(&templates, &regions, &extras, &pages, &crops, &asked)
        })
        .await
        .map_err(|_| CoreError::Store(StoreError::Join))??;
        // A student left with no aligned page keeps no template answer.
        for student in students.unwrap_or_default() {
            if !cuts.iter().any(|c| c.submission_id == student) {
                cuts.extend(wanted.iter().map(|&question_id| Cut {
                    submission_id: student,
                    question_id,
                    part: None,
                }));
            }
        }
        let changed = self.store.run(move |conn| store_cuts(conn, &cuts)).await?;
        if matches!(questions, Questions::All | Questions::OnPages(_)) {
            // The pages moved: the name on them may be another student's.
            self.recut_names(exam_id, names_of).await?;
        }
        if changed > 0 {
            self.wake.notify_waiters();
            self.layout_changed();
        }
        Ok(changed)
    }

    /// The window hears that students, pages or answers changed.
    fn layout_changed(&self) {
        self.events.emit(EventBody::Changed {
            what: Changed::Submissions,
        });
    }
}

/// Which questions a re-cut covers.
pub(super) enum Questions {
    All,
    One(i64),
    /// Those with a region on one of these template pages (a page moved or re-aligned).
    OnPages(Vec<u32>),
}

impl Questions {
    /// The ids of the questions with answer regions this covers.
    fn of(&self, regions: &[Region]) -> Vec<i64> {
        answer_questions(regions)
            .into_iter()
            .filter(|(id, list)| match self {
                Questions::All => true,
                Questions::One(q) => q == id,
                Questions::OnPages(pages) => list.iter().any(|r| pages.contains(&r.page)),
            })
            .map(|(id, _)| id)
            .collect()
    }
}

/// What to look at in a student's pages, from what is stored: a missing template page,
/// pages scanned out of order, upside down, doubtful alignment, writing outside.
fn page_flags(pages: &[SplitPage], template_pages: u32) -> Vec<Flag> {
    let mut flags = Vec::new();
    for number in 1..=template_pages {
        if !pages.iter().any(|p| p.template_page == Some(number)) {
            flags.push(Flag {
                kind: FlagKind::MissingPage,
                page: Some(number),
                message: format!("page {number} is missing"),
            });
        }
    }
    let in_scan_order = pages
        .windows(2)
        .all(|w| w[0].source.file != w[1].source.file || w[0].source.page < w[1].source.page);
    if !in_scan_order {
        flags.push(Flag {
            kind: FlagKind::OutOfOrder,
            page: None,
            message: "the pages were scanned out of order (they are shown in the template's order)"
                .into(),
        });
    }
    for page in pages {
        let number = page.template_page;
        let n = number.unwrap_or(0);
        if page.upside_down {
            flags.push(Flag {
                kind: FlagKind::UpsideDown,
                page: number,
                message: format!("page {n} was scanned upside down (it is read turned back)"),
            });
        }
        if page.flagged {
            flags.push(Flag {
                kind: FlagKind::CheckAlignment,
                page: number,
                message: format!("check the alignment of page {n}"),
            });
        }
        if !page.outside_ink.is_empty() {
            flags.push(Flag {
                kind: FlagKind::WritingOutside,
                page: number,
                message: format!("writing outside the boxes on page {n}"),
            });
        }
    }
    flags
}

/// A page whose answers were graded stays where it is (moving it would throw the grades
/// away): the teacher is told so.
fn refuse_graded(conn: &rusqlite::Connection, page: &exams::PlacedPage) -> Result<(), CoreError> {
    if exams::page_has_grades(conn, page.page_id)? {
        return Err(CoreError::Invalid(format!(
            "page {} of {} has graded answers; it stays with its student (change a single answer's box on the crop page instead)",
            page.source.page, page.source.file
        )));
    }
    Ok(())
}

/// Retires a page's current answers (their grading stops): the page is moving, and its
/// students' answers are cut again.
fn cancel_answers(tx: &rusqlite::Transaction, page_id: i64) -> Result<(), CoreError> {
    let now = now_ms();
    for item in exams::answers_on_page(tx, page_id)? {
        queue::cancel_for_item(tx, item, now)?;
        exams::remove_item(tx, item)?;
    }
    Ok(())
}

/// Takes a page from its student: its answers' grading stops and the page row goes (its
/// files stay, for wherever it goes next).
fn take_page(tx: &rusqlite::Transaction, page: &exams::PlacedPage) -> Result<(), CoreError> {
    cancel_answers(tx, page.page_id)?;
    exams::remove_page(tx, page.page_id)?;
    Ok(())
}

/// The student a page goes to: the one named (who must not have that page yet), or a new
/// student named after the page.
fn target_student(
    tx: &rusqlite::Transaction,
    exam_id: i64,
    submission_id: Option<i64>,
    slot: u32,
    source: &SourcePage,
) -> Result<i64, CoreError> {
    match submission_id {
        Some(id) => {
            if exams::student_exam(tx, id)? != exam_id {
                return Err(CoreError::Invalid(
                    "that student belongs to another exam".into(),
                ));
            }
            if exams::page_numbers(tx, id)?.contains(&slot) {
                return Err(CoreError::Invalid(format!(
                    "that student already has page {slot}: set it aside or move it first"
                )));
            }
            Ok(id)
        }
        None => {
            let count = exams::submission_count(tx, exam_id)?;
            Ok(exams::add_student(
                tx,
                exam_id,
                &format!("Student {}", count + 1),
                &format!("{} (p. {})", source.file, source.page),
            )?)
        }
    }
}

/// Aligns the page at `path` to `template`, as it is and a quarter turn either way; the
/// best fit that looks like the template page wins. Blocking.
fn fit_to_template(
    path: &Path,
    template: &TemplatePageFiles,
    regions: &[Region],
    source: &SourcePage,
    turn: Option<u32>,
) -> Result<ClassPage, CoreError> {
    let template_image = imaging::load_upright(Path::new(&template.path))?;
    let prepared = PreparedPage::new(&template_image);
    let image = imaging::load_upright(path)?;
    // Automatically: as it is (either way up) and a quarter turn either way. As the
    // teacher says: only that turn, upright.
    let candidates: Vec<u32> = match turn {
        None => vec![0, 1, 3],
        Some(q) => vec![q % 4],
    };
    let best = candidates
        .into_iter()
        .filter_map(|q| {
            let (turned, back) = turned_back(&image, q);
            let scan = PreparedPage::new(&turned);
            let fit = match turn {
                None => register(&prepared, &scan)?,
                Some(_) => register_turned(&prepared, &scan, false)?,
            };
            Some((fit, back))
        })
        .max_by(|a, b| a.0.similarity.total_cmp(&b.0.similarity));
    let Some((fit, back)) = best.filter(|(fit, _)| fit.similarity >= MIN_SIMILARITY) else {
        let how = match turn {
            None => String::new(),
            Some(q) => format!(" turned {}", turn_words(q)),
        };
        return Err(CoreError::Invalid(format!(
            "page {} of {}{how} does not look like page {} of the template",
            source.page, source.file, template.number
        )));
    };
    let homography = back.then_after(fit.homography);
    let page_regions: Vec<_> = regions
        .iter()
        .filter(|r| r.page == template.number)
        .map(region_box)
        .collect();
    let outside = writing_outside(
        &PrintMask::new(&template_image),
        &image,
        &homography,
        &page_regions,
    );
    Ok(ClassPage {
        source_file: source.file.clone(),
        source_page: source.page,
        template_page: template.number,
        homography: homography.0,
        quality: if fit.patches == 0 {
            0.0
        } else {
            fit.inliers as f64 / fit.patches as f64
        },
        residual_px: fit.residual_px,
        flagged: fit.flagged,
        // Half a turn is "upside down"; a quarter is read turned too, but is not.
        upside_down: quarter_of(&homography.0) == 2,
        outside_ink: outside.iter().map(|b| [b.x, b.y, b.w, b.h]).collect(),
    })
}

/// One region cut from a student's page: (page id, its width and height, the crop, the
/// region's quad on the page).
type Part = (i64, u32, u32, RgbImage, [[f64; 2]; 4]);

/// The page's content turned `q` quarter turns clockwise, made upright (turned back
/// anticlockwise), with the map from the upright image's pixels back to the file's.
fn turned_back(image: &DynamicImage, q: u32) -> (DynamicImage, Homography) {
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    match q % 4 {
        // (x', y') = (y, w - x), so x = w - y', y = x'.
        1 => (
            image.rotate270(),
            Homography([[0.0, -1.0, w], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
        ),
        // (x', y') = (w - x, h - y), so x = w - x', y = h - y'.
        2 => (
            image.rotate180(),
            Homography([[-1.0, 0.0, w], [0.0, -1.0, h], [0.0, 0.0, 1.0]]),
        ),
        // (x', y') = (h - y, x), so x = y', y = h - x'.
        3 => (
            image.rotate90(),
            Homography([[0.0, 1.0, 0.0], [-1.0, 0.0, h], [0.0, 0.0, 1.0]]),
        ),
        _ => (
            image.clone(),
            Homography([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
        ),
    }
}

/// "a quarter clockwise", "half a turn", "a quarter anticlockwise".
fn turn_words(q: u32) -> &'static str {
    match q % 4 {
        1 => "a quarter clockwise",
        2 => "half a turn",
        3 => "a quarter anticlockwise",
        _ => "upright",
    }
}

/// How many quarter turns clockwise a fitted page's content is turned (the template's x
/// axis, mapped onto the page).
fn quarter_of(homography: &[[f64; 3]; 3]) -> u32 {
    let degrees = homography[1][0].atan2(homography[0][0]).to_degrees();
    ((degrees / 90.0).round() as i64).rem_euclid(4) as u32
}

/// Cuts the answers of the students whose aligned pages are given, for the `wanted`
/// questions. Blocking: decodes each page once.
fn cut_answers(
    templates: &[TemplatePageFiles],
    regions: &[Region],
    extras: &[AnswerExtra],
    pages: &[AlignedPage],
    crops: &Path,
    wanted: &[i64],
) -> Result<Vec<Cut>, CoreError> {
    std::fs::create_dir_all(crops)
        .map_err(|e| CoreError::Io(format!("could not create {}: {e}", crops.display())))?;
    let sizes: HashMap<u32, (u32, u32)> = templates
        .iter()
        .map(|t| (t.number, (t.width, t.height)))
        .collect();
    let questions: Vec<(i64, Vec<&Region>)> = answer_questions(regions)
        .into_iter()
        .filter(|(id, _)| wanted.contains(id))
        .collect();
    let mut by_student: Vec<(i64, Vec<&AlignedPage>)> = Vec::new();
    for page in pages {
        match by_student.last_mut() {
            Some((id, list)) if *id == page.submission_id => list.push(page),
            _ => by_student.push((page.submission_id, vec![page])),
        }
    }
    let mut cuts = Vec::new();
    for (submission_id, student_pages) in by_student {
        let mut decoded: HashMap<i64, RgbImage> = HashMap::new();
        for (question_id, list) in &questions {
            let mut parts: Vec<Part> = Vec::new();
            // The question's regions, then what the teacher added of this student's writing.
            let added = extras
                .iter()
                .filter(|e| e.submission_id == submission_id && e.question_id == *question_id)
                .map(|e| {
                    let Bbox { x, y, w, h } = e.bbox;
                    (e.template_page, RegionBox { x, y, w, h })
                });
            let areas = list.iter().map(|r| (r.page, region_box(r))).chain(added);
            for (template_page, area) in areas {
                let Some(page) = student_pages
                    .iter()
                    .find(|p| p.template_page == template_page)
                else {
                    continue;
                };
                let Some(&size) = sizes.get(&template_page) else {
                    continue;
                };
                let to_page = Homography(page.homography);
                let Some(quad) = region_quad(area, size, &to_page) else {
                    continue;
                };
                let rgb = match decoded.entry(page.page_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(imaging::load_upright(Path::new(&page.path))?.to_rgb8())
                    }
                };
                let crop = warp_region(&*rgb, &to_page, area, size);
                parts.push((page.page_id, page.width, page.height, crop, quad));
            }
            let part = match parts.first() {
                None => None,
                Some(&(page_id, width, height, _, quad)) => {
                    let image = if parts.len() == 1 {
                        parts.swap_remove(0).3
                    } else {
                        stack(&parts.iter().map(|p| p.3.clone()).collect::<Vec<_>>())
                    };
                    let path = crops.join(format!(
                        "q{question_id}-s{submission_id}-{}.png",
                        random_token()
                    ));
                    imaging::pages::save(
                        &DynamicImage::ImageRgb8(image),
                        &path,
                        image::ImageFormat::Png,
                    )?;
                    Some((page_id, quad_bounds(&quad, width, height), path, quad))
                }
            };
            cuts.push(Cut {
                submission_id,
                question_id: *question_id,
                part,
            });
        }
    }
    Ok(cuts)
}

/// Stores the cuts in one transaction: each replaces the student's template answer to
/// its question (whose job is cancelled) and is queued; a hand-drawn answer stays.
/// Returns how many answers changed.
fn store_cuts(conn: &mut rusqlite::Connection, cuts: &[Cut]) -> Result<usize, CoreError> {
    let tx = conn.transaction()?;
    let now = now_ms();
    let mut changed = 0;
    let mut unused = Vec::new();
    for cut in cuts {
        let current = exams::current_answer(&tx, cut.submission_id, cut.question_id)?;
        if let Some((_, false)) = current {
            // The teacher's own box for this student: theirs to change.
            if let Some((_, _, path, _)) = &cut.part {
                unused.push(path.clone());
            }
            continue;
        }
        if let Some((item_id, _)) = current {
            queue::cancel_for_item(&tx, item_id, now)?;
            if cut.part.is_none() {
                exams::remove_item(&tx, item_id)?;
                changed += 1;
            }
        }
        if let Some((page_id, bbox, path, quad)) = &cut.part {
            let (item_id, _) = exams::insert_item(
                &tx,
                cut.submission_id,
                *page_id,
                cut.question_id,
                *bbox,
                &path.to_string_lossy(),
            )?;
            exams::set_item_quad(&tx, item_id, quad)?;
            queue::enqueue(&tx, &NewJob::grade_item(item_id), now)?;
            changed += 1;
        }
    }
    tx.commit()?;
    for path in unused {
        let _ = std::fs::remove_file(path);
    }
    Ok(changed)
}
