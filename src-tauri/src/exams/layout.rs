//! The class's layout after import, as the teacher corrects it: regions edited on the
//! template, pages moved between students or set aside, and what re-cutting a student's
//! answers from their pages needs. The SQL of the split review and the Template page; the
//! image work is the caller's.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use ts_rs::TS;

use super::{check_region_box, Bbox, ExamError, LooseFiles, Region, SourcePage};
use crate::store::now_ms;

/// A template page as the window shows it: its image comes by `id` through `gdimg`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TemplatePageView {
    pub id: i64,
    /// From 1.
    pub number: u32,
    pub width: u32,
    pub height: u32,
}

/// The preview file of a template page (what the Template page draws on).
pub fn template_preview(conn: &Connection, template_page_id: i64) -> Result<String, ExamError> {
    // The template page's preview.
    conn.query_row(
        "SELECT preview_path FROM template_pages WHERE id = ?1",
        [template_page_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no template page {template_page_id}")))
}

/// One region, by id.
pub fn region(conn: &Connection, region_id: i64) -> Result<(i64, Region), ExamError> {
    // The region's exam; its fields come from `regions`.
    let exam_id: i64 = conn
        .query_row(
            "SELECT exam_id FROM regions WHERE id = ?1",
            [region_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no region number {region_id}")))?;
    let found = super::regions(conn, exam_id)?
        .into_iter()
        .find(|r| r.region_id == region_id)
        .ok_or_else(|| ExamError::NotFound(format!("there is no region number {region_id}")))?;
    Ok((exam_id, found))
}

/// Moves or resizes a region (validated like a new one).
pub fn move_region(tx: &Transaction, region_id: i64, bbox: Bbox) -> Result<(), ExamError> {
    check_region_box(bbox)?;
    // Stores the region's new box.
    let changed = tx.execute(
        "UPDATE regions SET x = ?2, y = ?3, w = ?4, h = ?5 WHERE id = ?1",
        params![region_id, bbox.x, bbox.y, bbox.w, bbox.h],
    )?;
    if changed == 0 {
        return Err(ExamError::NotFound(format!(
            "there is no region number {region_id}"
        )));
    }
    Ok(())
}

/// Deletes a region.
pub fn delete_region(tx: &Transaction, region_id: i64) -> Result<(), ExamError> {
    // Removes the region.
    let changed = tx.execute("DELETE FROM regions WHERE id = ?1", [region_id])?;
    if changed == 0 {
        return Err(ExamError::NotFound(format!(
            "there is no region number {region_id}"
        )));
    }
    Ok(())
}

/// How many current answers to a question were cut from the template, and how many of
/// them have a grade or the teacher's score (what editing its regions would grade again).
pub fn template_answers(conn: &Connection, question_id: i64) -> Result<(usize, usize), ExamError> {
    // The question's current template answers, and those graded or scored.
    let (answers, graded): (i64, i64) = conn.query_row(
        "SELECT COUNT(*),
                COALESCE(SUM(EXISTS (SELECT 1 FROM grades g WHERE g.item_id = i.id)
                          OR EXISTS (SELECT 1 FROM overrides o WHERE o.item_id = i.id)), 0)
         FROM items i WHERE i.question_id = ?1 AND i.superseded_at IS NULL AND i.from_template = 1",
        [question_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((answers as usize, graded as usize))
}

/// A student's page that lines up with a template page: what cutting its regions needs.
#[derive(Debug, Clone)]
pub struct AlignedPage {
    pub page_id: i64,
    pub submission_id: i64,
    pub template_page: u32,
    pub path: String,
    pub width: u32,
    pub height: u32,
    /// Template pixels to this page's pixels.
    pub homography: [[f64; 3]; 3],
}

/// The aligned pages of the exam's students (all of them, or only `submissions`).
pub fn aligned_pages(
    conn: &Connection,
    exam_id: i64,
    submissions: Option<&[i64]>,
) -> Result<Vec<AlignedPage>, ExamError> {
    // Every page of the exam that has a fitted transform, by student and template page.
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.submission_id, p.template_page, p.path, p.width, p.height, p.homography
         FROM pages p JOIN submissions s ON s.id = p.submission_id
         WHERE s.exam_id = ?1 AND p.homography IS NOT NULL AND p.template_page IS NOT NULL
         ORDER BY p.submission_id, p.template_page",
    )?;
    let rows = stmt
        .query_map([exam_id], |r| {
            let homography: String = r.get(6)?;
            Ok((
                AlignedPage {
                    page_id: r.get(0)?,
                    submission_id: r.get(1)?,
                    template_page: r.get(2)?,
                    path: r.get(3)?,
                    width: r.get(4)?,
                    height: r.get(5)?,
                    homography: [[0.0; 3]; 3],
                },
                homography,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|(p, _)| submissions.is_none_or(|only| only.contains(&p.submission_id)))
        .filter_map(|(mut page, text)| {
            page.homography = serde_json::from_str(&text).ok()?;
            Some(page)
        })
        .collect())
}

/// A student's current answer to a question: whether the template made it (a box the
/// teacher drew by hand is left alone when regions are re-applied).
pub fn current_answer(
    conn: &Connection,
    submission_id: i64,
    question_id: i64,
) -> Result<Option<(i64, bool)>, ExamError> {
    // The current answer and whether it was cut from the regions.
    Ok(conn
        .query_row(
            "SELECT id, from_template FROM items
             WHERE submission_id = ?1 AND question_id = ?2 AND superseded_at IS NULL",
            params![submission_id, question_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// One page of a student in the split review.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SplitPage {
    pub page_id: i64,
    /// Which template page it is (None: a page imported one by one, no template).
    pub template_page: Option<u32>,
    pub source: SourcePage,
    /// The thumbnail's rev, for its `gdimg` URL.
    pub rev: String,
    pub width: u32,
    pub height: u32,
    pub quality: Option<f64>,
    pub residual_px: Option<f64>,
    pub flagged: bool,
    pub upside_down: bool,
    /// Writing outside every region: boxes [x, y, w, h] in template-page fractions.
    pub outside_ink: Vec<[f64; 4]>,
}

/// Every student of the exam with their pages in template order: (submission id, student,
/// pages).
pub fn split_students(
    conn: &Connection,
    exam_id: i64,
) -> Result<Vec<(i64, String, Vec<SplitPage>)>, ExamError> {
    super::require_exam(conn, exam_id)?;
    // The exam's pages with their origin and alignment, by student and page number.
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.student, p.id, p.template_page, COALESCE(p.source_file, s.file_name),
                COALESCE(p.source_page, p.number), p.width, p.height, p.align_quality,
                p.align_residual_px, p.align_flagged, p.upside_down, p.outside_ink, p.preview_path,
                p.thumb_path
         FROM submissions s JOIN pages p ON p.submission_id = s.id
         WHERE s.exam_id = ?1 ORDER BY s.id, p.number",
    )?;
    let rows = stmt
        .query_map([exam_id], |r| {
            let outside: Option<String> = r.get(12)?;
            let files: (String, Option<String>) = (r.get(13)?, r.get(14)?);
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                SplitPage {
                    page_id: r.get(2)?,
                    template_page: r.get(3)?,
                    source: SourcePage {
                        file: r.get(4)?,
                        page: r.get(5)?,
                    },
                    rev: super::files_rev(&files.0, files.1.as_deref()),
                    width: r.get(6)?,
                    height: r.get(7)?,
                    quality: r.get(8)?,
                    residual_px: r.get(9)?,
                    flagged: r.get(10)?,
                    upside_down: r.get(11)?,
                    outside_ink: outside
                        .and_then(|o| serde_json::from_str(&o).ok())
                        .unwrap_or_default(),
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out: Vec<(i64, String, Vec<SplitPage>)> = Vec::new();
    for (id, student, page) in rows {
        match out.last_mut() {
            Some((last, _, pages)) if *last == id => pages.push(page),
            _ => out.push((id, student, vec![page])),
        }
    }
    Ok(out)
}

/// A page of a class import that no student has, as the split review lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LoosePage {
    pub unassigned_id: i64,
    pub source: SourcePage,
    pub reason: String,
    /// Whether it could be read (an unreadable page has no image to show or place).
    pub readable: bool,
}

/// The exam's unassigned pages, in the order they were kept.
pub fn loose_pages(conn: &Connection, exam_id: i64) -> Result<Vec<LoosePage>, ExamError> {
    // The exam's unassigned pages.
    let rows = conn
        .prepare_cached(
            "SELECT id, source_file, source_page, reason, path IS NOT NULL AND preview_path IS NOT NULL
             FROM unassigned_pages WHERE exam_id = ?1 ORDER BY id",
        )?
        .query_map([exam_id], |r| {
            Ok(LoosePage {
                unassigned_id: r.get(0)?,
                source: SourcePage {
                    file: r.get(1)?,
                    page: r.get(2)?,
                },
                reason: r.get(3)?,
                readable: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// An unassigned page's exam, origin and files (None when it could not be read).
pub fn loose_page(
    conn: &Connection,
    unassigned_id: i64,
) -> Result<(i64, SourcePage, Option<LooseFiles>), ExamError> {
    // One unassigned page with its files.
    type Row = (
        i64,
        String,
        u32,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<u32>,
        Option<u32>,
    );
    let row: Option<Row> = conn
        .query_row(
            "SELECT exam_id, source_file, source_page, path, preview_path, thumb_path, width, height
             FROM unassigned_pages WHERE id = ?1",
            [unassigned_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )
        .optional()?;
    let Some((exam_id, file, page, path, preview, thumb, width, height)) = row else {
        return Err(ExamError::NotFound(format!(
            "there is no unassigned page {unassigned_id}"
        )));
    };
    let files = match (path, preview, width, height) {
        (Some(path), Some(preview_path), Some(width), Some(height)) => Some(LooseFiles {
            path,
            preview_path,
            thumb_path: thumb,
            width,
            height,
        }),
        _ => None,
    };
    Ok((exam_id, SourcePage { file, page }, files))
}

/// Removes an unassigned page from the list (it was placed on a student).
pub fn take_loose_page(tx: &Transaction, unassigned_id: i64) -> Result<(), ExamError> {
    // Removes the unassigned page's row (its files now belong to a student's page).
    tx.execute(
        "DELETE FROM unassigned_pages WHERE id = ?1",
        [unassigned_id],
    )?;
    Ok(())
}

/// A student's page with what moving it needs: its student, number, files and origin.
#[derive(Debug, Clone)]
pub struct PlacedPage {
    pub page_id: i64,
    pub exam_id: i64,
    pub submission_id: i64,
    pub number: u32,
    pub template_page: Option<u32>,
    pub source: SourcePage,
    pub files: LooseFiles,
}

/// One student's page, by id.
pub fn placed_page(conn: &Connection, page_id: i64) -> Result<PlacedPage, ExamError> {
    // The page, its student's exam and its files.
    conn.query_row(
        "SELECT p.id, s.exam_id, p.submission_id, p.number, p.template_page,
                COALESCE(p.source_file, s.file_name), COALESCE(p.source_page, p.number),
                p.path, p.preview_path, p.thumb_path, p.width, p.height
         FROM pages p JOIN submissions s ON s.id = p.submission_id WHERE p.id = ?1",
        [page_id],
        |r| {
            Ok(PlacedPage {
                page_id: r.get(0)?,
                exam_id: r.get(1)?,
                submission_id: r.get(2)?,
                number: r.get(3)?,
                template_page: r.get(4)?,
                source: SourcePage {
                    file: r.get(5)?,
                    page: r.get(6)?,
                },
                files: LooseFiles {
                    path: r.get(7)?,
                    preview_path: r.get(8)?,
                    thumb_path: r.get(9)?,
                    width: r.get(10)?,
                    height: r.get(11)?,
                },
            })
        },
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no page number {page_id}")))
}

/// The current answers on a page (what moving or setting it aside takes away).
pub fn answers_on_page(conn: &Connection, page_id: i64) -> Result<Vec<i64>, ExamError> {
    // The page's current answers.
    let ids = conn
        .prepare_cached("SELECT id FROM items WHERE page_id = ?1 AND superseded_at IS NULL")?
        .query_map([page_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Whether any answer ever cut from this page has a grade or the teacher's score.
pub fn page_has_grades(conn: &Connection, page_id: i64) -> Result<bool, ExamError> {
    // Grades or overrides on any of the page's answers, current or not.
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM items i WHERE i.page_id = ?1 AND
                        (EXISTS (SELECT 1 FROM grades g WHERE g.item_id = i.id)
                         OR EXISTS (SELECT 1 FROM overrides o WHERE o.item_id = i.id)))",
        [page_id],
        |r| r.get(0),
    )?)
}

/// Takes a page away from its student: its row (and the answers cut from it) go; the
/// caller keeps its files as an unassigned page or places them elsewhere.
pub fn remove_page(tx: &Transaction, page_id: i64) -> Result<(), ExamError> {
    // Removes the page; its answers go with it (ON DELETE CASCADE).
    tx.execute("DELETE FROM pages WHERE id = ?1", [page_id])?;
    Ok(())
}

/// The page numbers a student has.
pub fn page_numbers(conn: &Connection, submission_id: i64) -> Result<Vec<u32>, ExamError> {
    // The student's page numbers.
    let numbers = conn
        .prepare_cached("SELECT number FROM pages WHERE submission_id = ?1 ORDER BY number")?
        .query_map([submission_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(numbers)
}

/// Gives a student a page numbered `number` from these files; returns its id.
pub fn add_page(
    tx: &Transaction,
    submission_id: i64,
    number: u32,
    files: &LooseFiles,
) -> Result<i64, ExamError> {
    // Adds the page to the student.
    tx.execute(
        "INSERT INTO pages (submission_id, number, path, preview_path, width, height, thumb_path, enhancement)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'none')",
        params![
            submission_id,
            number,
            files.path,
            files.preview_path,
            files.width,
            files.height,
            files.thumb_path
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Moves a student's page to another student (same template page number); the caller
/// has retired its answers, which stay with the student they were cut for.
pub fn reassign_page(tx: &Transaction, page_id: i64, submission_id: i64) -> Result<(), ExamError> {
    // Moves the page to the other student.
    tx.execute(
        "UPDATE pages SET submission_id = ?2 WHERE id = ?1",
        params![page_id, submission_id],
    )?;
    Ok(())
}

/// Adds a student with no pages yet (a split); returns its id.
pub fn add_student(
    tx: &Transaction,
    exam_id: i64,
    student: &str,
    file_name: &str,
) -> Result<i64, ExamError> {
    // Adds the submission.
    tx.execute(
        "INSERT INTO submissions (exam_id, student, file_name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![exam_id, student, file_name, now_ms()],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Removes a student left with no pages (after a merge or a page set aside), with the
/// answers that were already superseded. Returns whether it was removed.
pub fn remove_student_if_empty(tx: &Transaction, submission_id: i64) -> Result<bool, ExamError> {
    // Removes the submission when no page is left.
    let changed = tx.execute(
        "DELETE FROM submissions WHERE id = ?1
           AND NOT EXISTS (SELECT 1 FROM pages WHERE submission_id = ?1)",
        [submission_id],
    )?;
    Ok(changed == 1)
}

/// The exam a student belongs to.
pub fn student_exam(conn: &Connection, submission_id: i64) -> Result<i64, ExamError> {
    // The submission's exam.
    conn.query_row(
        "SELECT exam_id FROM submissions WHERE id = ?1",
        [submission_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no submission number {submission_id}")))
}

/// The teacher corrected a page's alignment: its new transform, no longer flagged.
pub fn set_page_homography(
    tx: &Transaction,
    page_id: i64,
    homography: &[[f64; 3]; 3],
) -> Result<(), ExamError> {
    // Stores the corrected transform and clears the "check alignment" flag.
    let changed = tx.execute(
        "UPDATE pages SET homography = ?2, align_flagged = 0 WHERE id = ?1 AND homography IS NOT NULL",
        params![page_id, serde_json::to_string(homography).unwrap_or_default()],
    )?;
    if changed == 0 {
        return Err(ExamError::Invalid(format!(
            "page {page_id} was not lined up with a template page, so there is no alignment to correct"
        )));
    }
    Ok(())
}

/// A page's stored transform (template pixels to the page's), if it has one.
pub fn page_homography(
    conn: &Connection,
    page_id: i64,
) -> Result<Option<[[f64; 3]; 3]>, ExamError> {
    // The page's transform.
    let text: Option<String> = conn
        .query_row(
            "SELECT homography FROM pages WHERE id = ?1",
            [page_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no page number {page_id}")))?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// A page with writing outside: id, template page, preview, thumbnail, the pieces (JSON),
/// width, height, transform (JSON, or empty).
type OutsideRow = (i64, u32, String, Option<String>, String, u32, u32, String);

/// Every piece of writing outside the regions on a student's pages, page by page, each
/// mapped onto the stored page through its transform.
pub fn outside_writing(
    conn: &Connection,
    submission_id: i64,
) -> Result<Vec<super::OutsideWriting>, ExamError> {
    // The student's pages with writing outside, their transform and size.
    let rows: Vec<OutsideRow> = conn
        .prepare_cached(
            "SELECT p.id, COALESCE(p.template_page, p.number), p.preview_path, p.thumb_path, p.outside_ink,
                    p.width, p.height, COALESCE(p.homography, '')
             FROM pages p WHERE p.submission_id = ?1 AND p.outside_ink IS NOT NULL ORDER BY p.number",
        )?
        .query_map([submission_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let template_sizes = template_sizes_of(conn, submission_id)?;
    let mut out = Vec::new();
    for (page_id, template_page, preview, thumb, ink, width, height, homography) in rows {
        let blobs: Vec<[f64; 4]> = serde_json::from_str(&ink).unwrap_or_default();
        let h: Option<[[f64; 3]; 3]> = serde_json::from_str(&homography).ok();
        let size = template_sizes.iter().find(|(n, _, _)| *n == template_page);
        for (index, blob) in blobs.iter().enumerate() {
            let page_box = match (h, size) {
                (Some(h), Some(&(_, tw, th))) => map_box(&h, *blob, (tw, th), (width, height)),
                _ => Bbox {
                    x: blob[0],
                    y: blob[1],
                    w: blob[2],
                    h: blob[3],
                },
            };
            out.push(super::OutsideWriting {
                page_id,
                rev: super::files_rev(&preview, thumb.as_deref()),
                template_page,
                index,
                page_box,
            });
        }
    }
    Ok(out)
}

/// (number, width, height) of the template pages of a student's exam.
fn template_sizes_of(
    conn: &Connection,
    submission_id: i64,
) -> Result<Vec<(u32, u32, u32)>, ExamError> {
    // The template pages' sizes.
    let sizes = conn
        .prepare_cached(
            "SELECT t.number, t.width, t.height FROM template_pages t
             JOIN submissions s ON s.exam_id = t.exam_id WHERE s.id = ?1",
        )?
        .query_map([submission_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(sizes)
}

/// A template-fraction box mapped through `h` (template pixels to page pixels): its
/// bounding box in fractions of the page, clamped to it.
fn map_box(h: &[[f64; 3]; 3], b: [f64; 4], template: (u32, u32), page: (u32, u32)) -> Bbox {
    let (tw, th) = (f64::from(template.0), f64::from(template.1));
    let (pw, ph) = (f64::from(page.0), f64::from(page.1));
    let corners = [
        (b[0], b[1]),
        (b[0] + b[2], b[1]),
        (b[0], b[1] + b[3]),
        (b[0] + b[2], b[1] + b[3]),
    ];
    let mapped: Vec<(f64, f64)> = corners
        .iter()
        .map(|&(u, v)| {
            let (x, y) = (u * tw, v * th);
            let z = h[2][0] * x + h[2][1] * y + h[2][2];
            let z = if z.abs() < 1e-12 { 1.0 } else { z };
            (
                (h[0][0] * x + h[0][1] * y + h[0][2]) / z / pw,
                (h[1][0] * x + h[1][1] * y + h[1][2]) / z / ph,
            )
        })
        .collect();
    let span = |values: &mut dyn Iterator<Item = f64>| {
        values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let (x0, x1) = span(&mut mapped.iter().map(|p| p.0));
    let (y0, y1) = span(&mut mapped.iter().map(|p| p.1));
    let (x0, x1) = (x0.clamp(0.0, 1.0), x1.clamp(0.0, 1.0));
    let (y0, y1) = (y0.clamp(0.0, 1.0), y1.clamp(0.0, 1.0));
    Bbox {
        x: x0,
        y: y0,
        w: (x1 - x0).max(1e-4),
        h: (y1 - y0).max(1e-4),
    }
}

/// A piece of writing outside the regions, taken off its page's list: (template page, its
/// box in template-page fractions). The page's flag goes when none is left.
pub fn take_outside_writing(
    tx: &Transaction,
    page_id: i64,
    index: usize,
) -> Result<(u32, [f64; 4]), ExamError> {
    // The page's pieces of writing outside and its template page.
    let (ink, template_page): (Option<String>, Option<u32>) = tx.query_row(
        "SELECT outside_ink, template_page FROM pages WHERE id = ?1",
        [page_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut blobs: Vec<[f64; 4]> = ink
        .and_then(|i| serde_json::from_str(&i).ok())
        .unwrap_or_default();
    let (Some(template_page), true) = (template_page, index < blobs.len()) else {
        return Err(ExamError::Invalid(
            "that writing is no longer listed outside the boxes (it was added already?)".into(),
        ));
    };
    let blob = blobs.remove(index);
    let left = (!blobs.is_empty()).then(|| serde_json::to_string(&blobs).unwrap_or_default());
    // Stores what is left outside (NULL: nothing, and the flag goes).
    tx.execute(
        "UPDATE pages SET outside_ink = ?2 WHERE id = ?1",
        params![page_id, left],
    )?;
    Ok((template_page, blob))
}

/// Adds an area of a template page to one student's answer to a question.
pub fn add_answer_extra(
    tx: &Transaction,
    submission_id: i64,
    question_id: i64,
    template_page: u32,
    bbox: Bbox,
) -> Result<(), ExamError> {
    // Stores the extra area.
    tx.execute(
        "INSERT INTO answer_extras (submission_id, question_id, template_page, x, y, w, h, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![submission_id, question_id, template_page, bbox.x, bbox.y, bbox.w, bbox.h, now_ms()],
    )?;
    Ok(())
}

/// An extra area of one student's answer (writing outside the regions the teacher added).
#[derive(Debug, Clone)]
pub struct AnswerExtra {
    pub submission_id: i64,
    pub question_id: i64,
    pub template_page: u32,
    pub bbox: Bbox,
}

/// Every extra area of an exam's answers, in the order they were added.
pub fn answer_extras(conn: &Connection, exam_id: i64) -> Result<Vec<AnswerExtra>, ExamError> {
    // The exam's extra answer areas.
    let rows = conn
        .prepare_cached(
            "SELECT e.submission_id, e.question_id, e.template_page, e.x, e.y, e.w, e.h
             FROM answer_extras e JOIN submissions s ON s.id = e.submission_id
             WHERE s.exam_id = ?1 ORDER BY e.id",
        )?
        .query_map([exam_id], |r| {
            Ok(AnswerExtra {
                submission_id: r.get(0)?,
                question_id: r.get(1)?,
                template_page: r.get(2)?,
                bbox: Bbox::from_row(r, 3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// An answer's student and question (and its exam).
pub fn answer_owner(conn: &Connection, item_id: i64) -> Result<(i64, i64, i64), ExamError> {
    // The item's submission, question and exam.
    conn.query_row(
        "SELECT i.submission_id, i.question_id, s.exam_id FROM items i
         JOIN submissions s ON s.id = i.submission_id WHERE i.id = ?1",
        [item_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("there is no answer number {item_id}")))
}
